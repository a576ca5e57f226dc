"""The refit child process (`python -m deliberation.refit_worker`), started by the
server's `refit_process` beside it.

A program of its own, on the top floor: it builds the app (its own database
connection), runs the very same `sorting.refit` and answers with the fitted model over
the pipes `refit_process` opened. See `refit_process` for why.

Only the engine runs at the lowest CPU priority, on a thread of its own (Linux gives
each thread its own nice value). The whole child once ran at nice 19: on a busy machine
its write transaction, starved of CPU between the first row and the commit, held
SQLite's one write lock past every request's busy timeout (a staff login answered 503,
« database is locked »). The reads and the writes keep the normal priority.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import create_app, sorting
from .extensions import db
from .refit_process import dump_model, read_frame, write_frame

LOWEST = 19


def lowest_priority(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `function` on a thread at nice 19 and return (or raise) what it did: the
    server's live pushes and requests come first. Where a thread cannot have its own
    priority (not Linux), it runs at the child's."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
        except (OSError, AttributeError):
            pass
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="refit-engine", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def serve(requests_fd: int, answers_fd: int) -> int:
    """The child's loop: one congress id in, one (run id, model) out, until the pipe closes."""
    app = create_app({"SORT_IN_BACKGROUND": False, "SORT_WORKER_PROCESS": False,
                      "REDIS_URL": None})
    while True:
        try:
            request = pickle.loads(read_frame(requests_fd))
        except EOFError:
            return 0
        with app.app_context():
            try:
                run = sorting.refit(int(request["congress_id"]), record=False, exclusive=True,
                                    run_engine=lowest_priority)
                model = sorting.cached_model(run.congress_id)
                answer = {"ok": True, "run_id": run.id,
                          "model": lowest_priority(dump_model, model)}
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
