#!/usr/bin/env bash
# Debian packages the test suite uses beside Python: Chromium for the browser tests, npm for the
# axe-core they run (scripts/bootstrap.sh --dev installs it), and Dovecot as the IMAP server
# mailbox sources are tested against. `--required` (CI) fails when they cannot be
# installed; otherwise the tests that need a missing one are skipped with a sentence saying so.
set -euo pipefail
required="${1:-}"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  echo "test: installing ${missing[*]} for the browser and mailbox tests"
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
    exit 0
  fi
fi
if [ "$required" = "--required" ]; then
  echo "${missing[*]} could not be installed (apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "test: ${missing[*]} not installed; the tests needing them are skipped (apt-get install ${missing[*]})." >&2
