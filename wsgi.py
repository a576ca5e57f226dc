"""Production entry point: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

gevent patches the standard library before anything else is imported, so every
client connection (HTTP or websocket) is a cheap greenlet and psycopg and redis
wait cooperatively. Flask-SocketIO's documented production setup: gunicorn with
the gevent-websocket worker, one worker per process, several processes behind
nginx with sticky sessions, and Redis as the message queue between them
(`REDIS_URL`; `create_app` passes it to Socket.IO).
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.links import require_public_url  # noqa: E402

# Production builds absolute links (invitations, the join QR code, exports) from
# PUBLIC_URL only, never from a request's Host header: no PUBLIC_URL, no server.
require_public_url(os.environ)


def _settings_from_environment() -> dict:
    """Settings that config.py does not read, for operators and the test/bench stack."""
    settings: dict = {}
    for name in ("SOCKETIO_CHANNEL", "RATELIMIT_KEY_PREFIX", "RATELIMIT_STORAGE_URI"):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    for name in ("RATELIMIT_ENABLED", "SORT_IN_BACKGROUND"):
        if os.environ.get(name):
            settings[name] = os.environ[name].lower() in ("1", "true", "yes", "oui")
    # Served over HTTPS (PUBLIC_URL): cookies never travel in clear, whatever
    # SESSION_COOKIE_SECURE says (it stays the switch for plain-HTTP setups).
    if (os.environ.get("PUBLIC_URL") or "").startswith("https://"):
        settings["SESSION_COOKIE_SECURE"] = True
        settings["REMEMBER_COOKIE_SECURE"] = True
    elif os.environ.get("SESSION_COOKIE_SECURE") == "1":
        settings["REMEMBER_COOKIE_SECURE"] = True
    return settings


app = create_app(_settings_from_environment())

# Behind nginx (deploy/nginx.conf): trust one proxy hop for the client address,
# scheme and host, so rate limits, logs and the same-origin socket check see the
# visitor and not nginx. Set MOTION_BEHIND_PROXY=0 when serving without a proxy.
if os.environ.get("MOTION_BEHIND_PROXY", "1") == "1":
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

# Each gunicorn worker imports this module: get it ready before its first visitor.
from deliberation.warmup import prepare_process  # noqa: E402

prepare_process(app)
