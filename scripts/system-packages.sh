#!/usr/bin/env bash
# Debian packages Citadel uses beside Python: Tesseract reads scanned pages and images.
# `--required` (CI) fails when they cannot be installed; otherwise a missing Tesseract only means
# scans fail with a sentence saying what to install, and everything else runs.
set -euo pipefail
required="${1:-}"
command -v tesseract >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  echo "bootstrap: installing Tesseract (tesseract-ocr, tesseract-ocr-eng) to read scans"
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; then
    exit 0
  fi
fi
if [ "$required" = "--required" ]; then
  echo "Tesseract could not be installed (apt-get install tesseract-ocr tesseract-ocr-eng)." >&2
  exit 1
fi
echo "bootstrap: Tesseract is not installed; scanned PDFs and images will fail until it is (apt-get install tesseract-ocr tesseract-ocr-eng, or brew install tesseract)." >&2
