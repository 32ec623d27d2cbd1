"""The mutation score of `make mutation`: how many of mutmut's mutants the tests killed.

Run after `mutmut run` and `mutmut export-cicd-stats`; exits non-zero below the goal.
A mutant that made the tests time out counts as killed (the tests noticed it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stats", default="mutants/mutmut-cicd-stats.json")
    parser.add_argument("--goal", type=float, default=90.0, help="percent killed required")
    args = parser.parse_args()
    stats = json.loads(Path(args.stats).read_text())
    judged = stats["total"] - stats["skipped"]
    caught = stats["killed"] + stats["timeout"]
    score = 100.0 * caught / max(judged, 1)
    print(
        f"mutation score: {caught}/{judged} killed ({score:.1f}%), {stats['survived']} "
        f"survived, {stats['no_tests']} not reached by any test; goal {args.goal:g}%"
    )
    return 0 if score >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
