"""Serve Motion: `python app.py` (what `make run` does).

gevent must patch the standard library before anything else is imported, so
that every client connection is a cheap greenlet instead of an OS thread.
"""

from gevent import monkey

monkey.patch_all()

from deliberation import create_app  # noqa: E402
from deliberation.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from deliberation.warmup import prepare_process

    prepare_process(app)  # engine imported, theme models loaded, start-up heap frozen
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"],
                 allow_unsafe_werkzeug=True)
