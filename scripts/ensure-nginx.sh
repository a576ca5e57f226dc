#!/usr/bin/env bash
# Make sure nginx is installed (tests/integration runs deploy/nginx.conf in front of the
# two-process stack). Same contract as ensure-chromium.sh:
#   - present      -> print its version, exit 0
#   - missing+root -> apt-get install nginx-light, re-check
#   - missing      -> clear error; exit 1 when MOTION_REQUIRE_SERVICES=1 (CI), else 0
#                     (the integration tests then skip on a machine without services)
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | head -n 1
  exit 0
fi

missing() {
  echo "ensure-nginx: $1" >&2
  if [[ "${MOTION_REQUIRE_SERVICES:-0}" == "1" ]]; then exit 1; fi
  exit 0
}

if [[ "$(id -u)" -ne 0 ]]; then
  missing "nginx not found and not running as root; install it with: sudo apt-get install -y nginx-light"
fi

echo "ensure-nginx: nginx not found; installing Debian's nginx-light..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx-light >/dev/null || \
  missing "apt-get could not install nginx-light"
# Debian starts the packaged service on port 80; Motion runs its own nginx (serve-prod).
if command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1 || true; fi

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | head -n 1
  exit 0
fi
missing "apt-get finished but nginx is still missing"
