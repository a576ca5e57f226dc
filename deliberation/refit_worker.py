"""The refit child process (`python -m deliberation.refit_worker`), started by the
server's `refit_process` beside it.

A program of its own, on the top floor: it builds the app (its own database
connection), runs the very same `sorting.refit` at the lowest CPU priority and answers
with the fitted model over the pipes `refit_process` opened. See `refit_process` for why.
"""

from __future__ import annotations

import os
import pickle
import sys

from . import create_app, sorting
from .extensions import db
from .refit_process import dump_model, read_frame, write_frame


def serve(requests_fd: int, answers_fd: int) -> int:
    """The child's loop: one congress id in, one (run id, model) out, until the pipe closes."""
    try:
        os.nice(19)  # the live pushes of the server come first
    except OSError:
        pass
    app = create_app({"SORT_IN_BACKGROUND": False, "SORT_WORKER_PROCESS": False,
                      "REDIS_URL": None})
    while True:
        try:
            request = pickle.loads(read_frame(requests_fd))
        except EOFError:
            return 0
        with app.app_context():
            try:
                run = sorting.refit(int(request["congress_id"]), record=False, exclusive=True)
                model = sorting.cached_model(run.congress_id)
                answer = {"ok": True, "run_id": run.id, "model": dump_model(model)}
            except sorting.RefitBusy:
                answer = {"ok": False, "busy": True}
            except Exception as exc:  # the server refits in process instead
                db.session.rollback()
                app.logger.exception("refit in the child process failed")
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            finally:
                db.session.remove()
        write_frame(answers_fd, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), int(sys.argv[2])))
