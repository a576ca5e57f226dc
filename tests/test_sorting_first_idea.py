"""A server process without a fitted model (just restarted, or another process) never
refits inside a request: the idea is saved at once and placed by a background refit,
which the warm-up starts for every congress taking ideas."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import func, select

from deliberation import contributions, push, sorting
from deliberation.extensions import db
from deliberation.models import SortRun
from deliberation.warmup import prepare_process

from .conftest import new_congress
from .debate import build


@pytest.fixture
def server_like(app):
    """The test app configured as a server is: refits in the background, after a pause
    long enough that none starts during the test (the scheduler is settled after it)."""
    app.config.update(SORT_IN_BACKGROUND=True, SORT_WORKER_PROCESS=False,
                      SORT_DEBOUNCE_S=600.0, SORT_MAX_WAIT_S=600.0)
    yield app
    push.scheduler.settle()


def test_a_first_idea_after_a_restart_is_saved_at_once_and_placed_in_the_background(
        congress, server_like):
    build(congress)
    runs = db.session.scalar(select(func.count(SortRun.id)))
    sorting._models.clear()  # a restarted process: no fitted model in memory

    idea, _ = contributions.create(congress, "Une antenne 4G dans chaque vallée du Cantal.",
                                   speaker_name="Orateur", channel="live")
    db.session.commit()

    assert db.session.scalar(select(func.count(SortRun.id))) == runs  # no refit in here
    assert idea.theme_id is None and idea.status == "visible"
    assert congress.id in push.scheduler.pending(sorting.REFIT_CHANNEL)

    # The background refit then places it, and the next idea is placed at once.
    sorting._refit_due(congress.id)
    db.session.expire_all()
    assert db.session.get(type(idea), idea.id).theme_id is not None
    later, _ = contributions.create(congress, "Le RGPD dans les petites mairies rurales.",
                                    speaker_name="Oratrice", channel="live")
    assert later.theme_id is not None


def test_the_warm_up_refits_in_the_background_the_congresses_that_take_ideas(
        congress, server_like):
    build(congress)  # in the debate phase
    closed = new_congress("Congrès clos", "CLOS26", phase="closed")
    db.session.commit()
    push.scheduler.forget()
    try:
        prepare_process(server_like)
    finally:
        gc.unfreeze()
    waiting = push.scheduler.pending(sorting.REFIT_CHANNEL)
    assert congress.id in waiting and closed.id not in waiting
