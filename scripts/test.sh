#!/usr/bin/env bash
# make test: the whole suite against the embedded PostgreSQL (started if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-packages.sh
bash scripts/bootstrap.sh --dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python -m pytest "$@"
