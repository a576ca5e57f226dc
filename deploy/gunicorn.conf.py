"""gunicorn settings for one Motion server process (see scripts/serve-prod.sh).

Run several of these on different ports (`PORT=5101`, `PORT=5102`) behind nginx:
one worker each, because a Socket.IO client must always reach the process that
holds its session (nginx's `hash $remote_addr consistent` keeps it there).
"""

import json
import logging
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5101')}"
# Flask-SocketIO with gevent: the gevent-websocket worker, exactly one per process.
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = 1
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
# Long-lived websockets: a request timeout would kill healthy connections, and the
# gevent worker heartbeats on its own; a stuck process is restarted after this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 5
# Refuse oversized request lines and headers early (bodies: MAX_CONTENT_LENGTH).
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
# No access log: it would hold full paths (invite tokens) and client addresses.
# The app logs each request as JSON by route pattern, IP truncated (logging_setup.py).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = f"motion-{os.environ.get('PORT', '5101')}"
# gunicorn's control socket has one default path per user: several Motion processes on
# one machine would fight over it, and nothing here uses it.
control_socket_disable = True
raw_env = ["LOG_FORMAT=json"]


class GunicornJsonFormatter(logging.Formatter):
    """gunicorn's own messages (boot, worker exits) as JSON lines, like the app's.

    Defined here rather than imported from the app so that gunicorn's master never
    imports the application before the worker has monkey-patched.
    """

    def format(self, record):
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level":
                 record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
                 "pid": record.process}
        return json.dumps(entry, ensure_ascii=False)


logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": GunicornJsonFormatter}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "stream": "ext://sys.stdout"}},
    "root": {"level": loglevel.upper(), "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["console"],
                           "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
