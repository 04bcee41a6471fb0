#!/usr/bin/env bash
# make run: embedded PostgreSQL, migrations, demo data, a worker and the web server on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=config.settings HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

$PY manage.py migrate --no-input
$PY manage.py createcachetable
$PY manage.py seed_demo

$PY manage.py worker &
worker=$!
# The worker leads a session of its own (it nices that session's scheduling group), so a closed
# terminal's hangup reaches it only through this trap.
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM HUP
echo "Citadel: http://127.0.0.1:8000  (log in as acme-member / acme-member-pass; Ctrl+C stops)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
