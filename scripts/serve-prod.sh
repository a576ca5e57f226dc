#!/usr/bin/env bash
# `make serve-prod`: Motion as in production, on this machine.
#
#   two gunicorn processes (gevent-websocket worker, one each) on 127.0.0.1:5101/5102,
#   PostgreSQL (DATABASE_URL), Redis as the Socket.IO message queue (REDIS_URL),
#   nginx in front on 127.0.0.1:8080 with sticky sessions (deploy/nginx.conf).
#
# Ctrl-C stops everything. Environment: DATABASE_URL and REDIS_URL (required),
# MOTION_PORTS ("5101 5102"), MOTION_LISTEN (8080), SECRET_KEY (else instance/secret_key),
# SESSION_COOKIE_SECURE=1 behind TLS, PUBLIC_URL (https://motion.example.fr; by default
# the local nginx's http://127.0.0.1:$MOTION_LISTEN, the only address it listens on).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}

: "${DATABASE_URL:?DATABASE_URL manquant (ex. postgresql://motion@127.0.0.1:5432/motion)}"
: "${REDIS_URL:?REDIS_URL manquant (ex. redis://127.0.0.1:6379/0)}"
command -v nginx >/dev/null || { echo "nginx est introuvable : apt-get install -y nginx" >&2; exit 1; }

read -r -a PORTS <<<"${MOTION_PORTS:-5101 5102}"
LISTEN=${MOTION_LISTEN:-8080}
# wsgi.py refuses to start without PUBLIC_URL (absolute links never come from Host).
export PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:${LISTEN}}
PREFIX=$ROOT/build/nginx
mkdir -p "$PREFIX/logs" "$PREFIX/tmp"

export LOG_FORMAT=json MOTION_BEHIND_PROXY=1

# Schema (Alembic) and the shared secret key, once, before any server starts.
"$PY" -m deliberation init-db
"$PY" -c "from deliberation.config import Config; assert Config.SECRET_KEY"

# nginx configuration for these ports (deploy/nginx.conf is written for the defaults).
"$PY" deploy/render_nginx.py --listen "$LISTEN" "${PORTS[@]}" >"$PREFIX/nginx.conf"
nginx -q -t -p "$PREFIX/" -c "$PREFIX/nginx.conf"

pids=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for port in "${PORTS[@]}"; do
    PORT=$port "$ROOT/.venv/bin/gunicorn" -c deploy/gunicorn.conf.py wsgi:app &
    pids+=($!)
done
nginx -p "$PREFIX/" -c "$PREFIX/nginx.conf" -g "daemon off;" &
pids+=($!)

echo "Motion (production) : http://127.0.0.1:${LISTEN}/  —  santé : http://127.0.0.1:${LISTEN}/sante"
# Stop everything as soon as one part stops.
wait -n
