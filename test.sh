#!/usr/bin/env bash
# One command on a fresh machine: install (incl. Debian chromium) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --browser
exec .venv/bin/python -m pytest -q "$@"
