#!/usr/bin/env bash
# Make sure Debian's chromium (used headless by Playwright in tests/browser/) is installed.
# Playwright's own browser download cannot work here, so we use the distribution package.
#   - present      -> print its version, exit 0 (nothing else happens)
#   - missing+root -> apt-get install chromium + a font, re-check
#   - missing      -> clear error, exit 1
# Override the binary with CHROMIUM_PATH (same variable as tests/browser/support.py).
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

version() {
  # The Debian wrapper script may print shell noise on stderr; keep only the version line.
  "$CHROMIUM_PATH" --version 2>/dev/null | head -n 1
}

if [[ -x "$CHROMIUM_PATH" ]]; then
  version
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "ensure-chromium: $CHROMIUM_PATH not found and not running as root." >&2
  echo "ensure-chromium: install it with: sudo apt-get install -y chromium fonts-dejavu-core" >&2
  exit 1
fi

echo "ensure-chromium: $CHROMIUM_PATH not found; installing Debian's chromium..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-dejavu-core >/dev/null

if [[ -x "$CHROMIUM_PATH" ]]; then
  version
  exit 0
fi
echo "ensure-chromium: apt-get finished but $CHROMIUM_PATH is still missing." >&2
exit 1
