#!/usr/bin/env bash
# Generate a Python and a TypeScript client from this checkout's OpenAPI document, as an
# app team would (issue 17): openapi-python-client (PyPI) and openapi-typescript (npm),
# each installed into OUT, nothing into the project. Any warning either prints fails it.
#   scripts/generate_clients.sh [OUT]      (default: ./build/clients)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/build/clients}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
"$ROOT/.venv/bin/python" -c 'import json; from api.main import create_app; print(json.dumps(create_app().openapi()))' >"$OUT/openapi.json"

python3 -m venv "$OUT/venv"
"$OUT/venv/bin/pip" install -q "openapi-python-client>=0.29,<0.30"
rm -rf "$OUT/python"
# Its post-generation hook formats with ruff: the project's own.
PATH="$ROOT/.venv/bin:$PATH" "$OUT/venv/bin/openapi-python-client" generate \
  --path "$OUT/openapi.json" --output-path "$OUT/python" --meta none 2>&1 | tee "$OUT/python.log"
if grep -qi "warning" "$OUT/python.log"; then echo "openapi-python-client warned" >&2; exit 1; fi

(cd "$OUT" && [ -f package.json ] || npm init -y >/dev/null)
(cd "$OUT" && npm install --silent "openapi-typescript@^7" "typescript@^5")
(cd "$OUT" && npx openapi-typescript openapi.json -o schema.d.ts 2>&1 | tee typescript.log)
if grep -qi "warn" "$OUT/typescript.log"; then echo "openapi-typescript warned" >&2; exit 1; fi
(cd "$OUT" && npx tsc --noEmit --strict schema.d.ts)
echo "clients in $OUT: python/ ($(ls "$OUT/python/models" | wc -l) model files) and schema.d.ts"
