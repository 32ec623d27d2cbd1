"""The outcome instruments, read once per process from seed_data/instruments/."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from api.domain.instruments import Instrument
from api.services.seed import DEFAULT_SEED_DIR

INSTRUMENTS_DIR = DEFAULT_SEED_DIR / "instruments"
# Which instrument a deployer's licensed text file fills in (Settings.odi_text_file).
LICENSED = "odi"


class InstrumentFileError(Exception):
    """An instrument file (or the deployer's licensed text) is unreadable or invalid."""


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InstrumentFileError(f"{path}: {exc}") from exc


@lru_cache(maxsize=8)
def load_instruments(
    folder: Path = INSTRUMENTS_DIR, licensed_text: Path | None = None
) -> Mapping[str, Instrument]:
    """Every instrument in `folder`, by name, in name order; the licensed instrument's
    text filled in from `licensed_text` when given. Raises InstrumentFileError, naming
    the file, on anything it cannot use: the server refuses to start on it."""
    found: dict[str, Instrument] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            instrument = Instrument.model_validate(_read(path))
        except ValidationError as exc:
            raise InstrumentFileError(f"{path}: {exc}") from exc
        if instrument.instrument != path.stem:
            raise InstrumentFileError(f"{path}: names {instrument.instrument!r}, not its file")
        found[instrument.instrument] = instrument
    if licensed_text is not None:
        text = _read(licensed_text)
        if LICENSED not in found or not isinstance(text, dict):
            raise InstrumentFileError(
                f"{licensed_text}: expected {{section id: {{text, options}}}} for {LICENSED}"
            )
        unknown = set(text) - {i.id for i in found[LICENSED].items}
        if unknown:
            raise InstrumentFileError(f"{licensed_text}: unknown sections {sorted(unknown)}")
        found[LICENSED] = found[LICENSED].with_text(text)
    return dict(sorted(found.items()))
