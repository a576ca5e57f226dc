"""The app side of the sorting engine: stored runs, the live path and the debounced refit.

The engine itself (deliberation/clustering) is pure and knows nothing of the
database. Here we feed it a congress, honour the facilitator's corrections
(confirmed themes, pinned points, renamed points), store each run with its
timings, quality figures and what changed, and push the new picture.

A fitted model is kept in memory per congress only as a cache: everything it
needs can be rebuilt from the database and the last stored run, so a restart or
a second server process gives the same picture.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from flask import Flask, current_app
from sqlalchemy import select, text

from . import audit, pictures, refit_process
from .clustering import pipeline as engine
from .clustering.points import stable_id
from .clustering.themes import get_theme_model
from .coalesce import Pace
from .extensions import db, socketio
from .models import SORTED_STATUSES, Ballot, Cluster, Congress, Contribution, SortRun, Theme, utcnow
from .push import scheduler
from .queries import review_count, review_queue


@dataclass
class _Cached:
    run_id: int
    model: object


_models: dict[int, _Cached] = {}
_models_lock = threading.Lock()


def congress_themes(congress: Congress) -> list[dict]:
    """A congress's themes as the engine reads them (themes are data)."""
    return [{"code": t.code, "title": t.title, "short_title": t.short_title,
             "description": t.description, "subpoints": t.subpoints, "keywords": t.keywords,
             "order": t.position} for t in congress.themes]


def _items(congress_id: int) -> list[Contribution]:
    return list(db.session.scalars(
        select(Contribution).filter_by(congress_id=congress_id)
        .where(Contribution.status.in_(SORTED_STATUSES)).order_by(Contribution.id)))


def _sort_and_serialise(themes, items, *, locks, previous):
    """The engine's fit and its stored form, both pure: they run off the event loop
    (serialising the state alone took 45 ms for the demo congress)."""
    result = engine.sort_congress(themes, items, locks=locks, previous=previous,
                                  random_state=0)
    return result, result.to_dict()


def off_loop(function, *args, **kwargs):
    """Run CPU-bound work on a real OS thread when serving with gevent; a plain call otherwise.

    Under gevent every request and socket is a greenlet of one thread: a refit run
    inline would freeze them all for its duration. gevent's thread pool runs the
    pure engine beside the event loop, and only the calling greenlet waits; the
    database reads and writes stay on the loop.
    """
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is pinned
        return function(*args, **kwargs)
    if not monkey.is_module_patched("threading"):
        return function(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args, kwargs)


class RefitBusy(Exception):
    """Another server process is refitting this congress right now (PostgreSQL)."""


#: PostgreSQL advisory lock space of the refits (the audit chain uses 7410001).
REFIT_LOCK = 7410002


def refit(congress_id: int, *, record: bool = True, exclusive: bool = False,
          run_engine: Callable[..., Any] = off_loop) -> SortRun:
    """Sort a whole congress now (CLI, tests, the background worker) and store the run.

    run_engine(function, *args, **kwargs) runs the pure engine (`off_loop` by default);
    the refit child gives its own, which runs it at the lowest CPU priority while the
    reads and writes around it keep the normal one.

    exclusive: on PostgreSQL, raise RefitBusy instead of refitting when another process
    already is (two processes of one congress did the same work at the same moment).
    record: write the audit entry here; the refit child leaves it to the server, so
    that a child at the lowest CPU priority never holds the audit chain's lock, which
    every contribution and vote of the room waits for.
    """
    if exclusive and db.session.get_bind().dialect.name == "postgresql":
        if not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:space, :id)"),
                                 {"space": REFIT_LOCK, "id": congress_id}):
            db.session.rollback()
            raise RefitBusy(congress_id)
    congress = db.session.get(Congress, congress_id)
    started = time.perf_counter()
    items = _items(congress_id)
    themes_by_code = {t.code: t for t in congress.themes}
    clusters_by_id = {c.id: c for c in db.session.scalars(
        select(Cluster).filter_by(congress_id=congress_id))}
    previous = db.session.scalar(select(SortRun).filter_by(congress_id=congress_id)
                                 .order_by(SortRun.id.desc()).limit(1))
    locks = engine.Locks(
        # A confirmed "hors thème" (theme NULL, off_topic) is a correction too.
        themes={str(c.id): (c.theme.code if c.theme else engine.HORS_THEME) for c in items
                if c.confirmed and (c.theme or c.off_topic)},
        memberships={str(c.id): clusters_by_id[c.cluster_id].key for c in items
                     if c.cluster_locked and c.cluster_id in clusters_by_id},
        labels={c.key: c.custom_label for c in clusters_by_id.values() if c.custom_label},
        granularity={t.code: t.granularity for t in congress.themes if t.granularity},
    )
    socketio.sleep(0)  # let pending socket writes go out between the blocking phases
    result, state = run_engine(
        _sort_and_serialise, congress_themes(congress), [(str(c.id), c.text) for c in items],
        locks=locks, previous=previous.state if previous else None)
    model = result.model
    # A facilitator may have confirmed or pinned an idea while the engine ran (in
    # another process, or another greenlet): read those flags again, and leave them be.
    corrected = {str(cid): (confirmed, locked) for cid, confirmed, locked in
                 db.session.execute(select(Contribution.id, Contribution.confirmed,
                                           Contribution.cluster_locked)
                                    .filter_by(congress_id=congress_id))}

    by_key = {c.key: c for c in clusters_by_id.values()}
    for point in result.clusters:
        cluster = by_key.get(point.id)
        if cluster is None:
            cluster = Cluster(congress_id=congress_id, key=point.id)
            db.session.add(cluster)
            by_key[point.id] = cluster
        theme = themes_by_code.get(point.theme)
        cluster.theme_id = theme.id if theme else None
        cluster.label = point.label[:200]
        cluster.statement = (point.statement or "")[:400]
        cluster.size = point.size
    db.session.flush()
    kept = {point.id for point in result.clusters}
    for cluster in by_key.values():
        if cluster.key not in kept:
            cluster.size = 0
    contributions = {str(c.id): c for c in items}
    review_rank = {item_id: rank for rank, item_id in enumerate(result.review)}
    for row in result.items:
        c = contributions[row.id]
        confirmed_now, locked_now = corrected.get(row.id, (c.confirmed, c.cluster_locked))
        if not (c.confirmed or confirmed_now):
            theme = themes_by_code.get(row.theme)
            c.theme_id = theme.id if theme else None
            c.off_topic = row.theme == engine.HORS_THEME
            c.confidence = round(float(row.confidence), 4)
            remember_proposal(c, row.theme, review_rank.get(row.id) is not None)
        alt = themes_by_code.get(row.alt_theme) if row.alt_theme else None
        c.alt_theme_id = alt.id if alt else None
        c.review_rank = None if (c.confirmed or confirmed_now) else review_rank.get(row.id)
        if not (c.cluster_locked or locked_now):
            c.cluster_id = by_key[row.cluster].id if row.cluster in by_key else None
        c.map_x, c.map_y = float(row.x), float(row.y)
    for point in result.clusters:
        medoid = contributions.get(point.medoid)
        by_key[point.id].medoid_id = medoid.id if medoid else None

    # No yield to the event loop from the first write to the commit: on SQLite under
    # gevent, a request writing meanwhile would wait in SQLite's busy loop, which blocks
    # the loop, so this transaction could never finish (« database is locked »).
    db.session.flush()
    run = SortRun(congress_id=congress_id, n_contributions=len(items), params=result.params,
                  timings={**result.timings, "total_s": round(time.perf_counter() - started, 4)},
                  quality=result.quality, changes=result.changes, state=state,
                  finished_at=utcnow())
    db.session.add(run)
    if record:
        audit.record("sort.run", congress_id, None, contributions=len(items),
                     points=len(result.clusters))
    db.session.commit()
    with _models_lock:
        _models[congress_id] = _Cached(run.id, model)
    return run


def assign_live(contribution: Contribution) -> None:
    """Give a new contribution its theme, point and map position at once (no refit)."""
    model = _model_for(contribution.congress_id)
    if model is None:
        return
    guess = model.assign_one(contribution.text, str(contribution.id))
    # Theme objects, not two columns (issue 17): the payload that announces the idea
    # reads contribution.theme, .alt_theme and .cluster; held by the relationships
    # (the identity map alone holds them weakly), they cost no more query each on
    # every live capture. The ids are set too, readable before the flush.
    themes = {theme.code: theme for theme in db.session.scalars(
        select(Theme).filter_by(congress_id=contribution.congress_id))}
    theme = themes.get(guess.theme)
    alt_theme = themes.get(guess.alt_theme) if guess.alt_theme else None
    contribution.theme, contribution.theme_id = theme, theme.id if theme else None
    contribution.off_topic = guess.theme == engine.HORS_THEME
    contribution.alt_theme = alt_theme
    contribution.alt_theme_id = alt_theme.id if alt_theme else None
    contribution.confidence = round(float(guess.confidence), 4)
    contribution.review_rank = 0 if guess.review else None
    remember_proposal(contribution, guess.theme, bool(guess.review))
    cluster = db.session.scalar(select(Cluster).filter_by(
        congress_id=contribution.congress_id, key=guess.cluster)) if guess.cluster else None
    contribution.cluster, contribution.cluster_id = cluster, cluster.id if cluster else None
    contribution.map_x, contribution.map_y = float(guess.x), float(guess.y)


def remember_proposal(contribution: Contribution, theme_code: str | None,
                      review: bool) -> None:
    """Keep the engine's first theme for an idea nobody checked yet, and whether the
    « à vérifier » queue ever showed it: the sorting report compares them with the
    facilitator's decision, which overwrites `theme_id` (sorting_report.py)."""
    if contribution.machine_theme is None and theme_code:
        contribution.machine_theme = theme_code
    if review:
        contribution.machine_review = True


def _model_for(congress_id: int):
    """The fitted model of the congress's last run. When this process has none yet (the
    first live idea after a restart, or on another server process), a server asks for a
    background refit and this idea is placed by it, seconds later; only the tests and
    the command line, with no background, refit here.

    Never a refit inside the request: it ran in the caller's write transaction, and on
    SQLite under gevent, while the engine's thread worked, any other request that wrote
    froze the event loop in SQLite's busy wait, then failed « database is locked ».
    """
    model = cached_model(congress_id)
    if model is not None:
        # Even when another server process (issue 6) refit since: its result is in the
        # database, and this process's model still places one new contribution well
        # enough until the next debounced refit. Refitting inline here made every
        # contribution after the other process's refit refit again, and two processes
        # doing so at once collided on uq_cluster_key (a 500, the contribution rolled
        # back). So no query here either: this runs on every live contribution.
        return model
    app = current_app._get_current_object()
    if app.config.get("SORT_IN_BACKGROUND", True):
        schedule_refit(app, congress_id)
        return None
    refit(congress_id)
    return cached_model(congress_id)


REFIT_CHANNEL = "sorting.refit"


def schedule_refit(app: Flask, congress_id: int) -> None:
    """Ask for a refit once submissions pause for SORT_DEBOUNCE_S, and at the latest
    SORT_MAX_WAIT_S after the first change: a burst of ideas makes one refit. It runs
    in the background, never in the request or handler that asked."""
    if not app.config.get("SORT_IN_BACKGROUND", True):
        return
    scheduler.offer(app, REFIT_CHANNEL, congress_id)


def _refit_pace(config) -> Pace:
    quiet = float(config.get("SORT_DEBOUNCE_S", 0.0))
    return Pace(delay=float(config.get("SORT_MAX_WAIT_S", quiet)), quiet=quiet, leading=False)


def _refit_due(congress_id: int, _value=None) -> None:
    """The refit channel's send: one refit, then the new picture on every screen; while a
    ballot is open it waits for the close (see `voting_now`)."""
    app = current_app._get_current_object()
    if voting_now(congress_id):
        schedule_refit(app, congress_id)  # after the ballot closes
        return
    run = _background_refit(app, congress_id)
    if run is not None:
        pictures.points_updated(congress_id, run)


scheduler.channel(REFIT_CHANNEL, _refit_due, pace=_refit_pace)


def voting_now(congress_id: int) -> bool:
    """Whether a ballot of the congress is open: its background refit then waits.

    While the room votes the projector shows the vote, and nobody reads the recurring
    points; a refit then only competed with the ballot for the servers (under
    `make load`, a refit landing in the burst of 500 votes took their p95 from
    120-150 ms to 230-710 ms). New ideas still get their theme and point at once
    (`assign_live`); the points are re-sorted once the ballot closes.
    """
    return db.session.scalar(select(Ballot.id).filter_by(congress_id=congress_id,
                                                         state="open").limit(1)) is not None


@dataclass
class RunSummary:
    """What the push after a refit needs of the stored run (not its large state)."""
    id: int
    n_contributions: int
    changes: dict


def _background_refit(app: Flask, congress_id: int) -> RunSummary | None:
    """The refit in the child process when it runs, in this process otherwise; None when
    another server process is refitting the congress (this one asks again later)."""
    if app.config.get("SORT_WORKER_PROCESS"):
        try:
            run_id, data = refit_process.process.refit(app, congress_id)
        except refit_process.Busy:
            schedule_refit(app, congress_id)
            return None
        except Exception:
            app.logger.exception("refit process unavailable: refitting in process")
        else:
            congress = db.session.get(Congress, congress_id)
            model = refit_process.load_model(data, get_theme_model(congress_themes(congress)))
            with _models_lock:
                _models[congress_id] = _Cached(run_id, model)
            row = db.session.execute(select(SortRun.id, SortRun.n_contributions,
                                            SortRun.changes).filter_by(id=run_id)).one()
            audit.record("sort.run", congress_id, None, contributions=row.n_contributions,
                         points=len(model.clusters_), run=run_id)
            db.session.commit()
            return RunSummary(row.id, row.n_contributions, row.changes or {})
    try:
        run = refit(congress_id, exclusive=True)
    except RefitBusy:
        schedule_refit(app, congress_id)
        return None
    return RunSummary(run.id, run.n_contributions, run.changes or {})


def cached_model(congress_id: int):
    """The fitted model this process holds for a congress (None before its first refit)."""
    with _models_lock:
        cached = _models.get(congress_id)
    return cached.model if cached else None


# -- Live debate (issue 4): placing corrected ideas, similar ideas ------------------------

def place(contribution: Contribution, theme_code: str | None,
          cluster: Cluster | None = None) -> None:
    """Map position for a contribution a facilitator moved, without a refit: next to its
    point when it has one, else on a spot of its theme's sector (same layout as the engine)."""
    codes = list(db.session.scalars(select(Theme.code).filter_by(
        congress_id=contribution.congress_id).order_by(Theme.position, Theme.code)))
    code = theme_code or engine.HORS_THEME
    if cluster is not None:
        centre = engine.cluster_position(cluster.key, code, codes, 0)
        x, y = engine.item_position(str(contribution.id), centre, max(cluster.size, 1) + 1, 0)
    else:
        x, y = engine.cluster_position(stable_id("p", [str(contribution.id)]), code, codes, 0)
    contribution.map_x, contribution.map_y = round(float(x), 5), round(float(y), 5)


def similar(congress_id: int, text: str, limit: int = 5,
            min_similarity: float = 0.2) -> list[tuple[int, float]]:
    """Ids of the existing contributions closest to `text` (best first), from the fitted
    model of the last run: a few sparse dot products, never a refit. Empty when this
    process holds no model of the last run yet (one is scheduled)."""
    last_id = db.session.scalar(select(SortRun.id).filter_by(congress_id=congress_id)
                                .order_by(SortRun.id.desc()).limit(1))
    with _models_lock:
        cached = _models.get(congress_id)
    if cached is None or cached.run_id != last_id:
        if last_id is not None:
            schedule_refit(current_app._get_current_object(), congress_id)
        return []
    model = cached.model
    X = getattr(model, "X_", None)
    if X is None or not X.shape[0] or not (text or "").strip():
        return []
    doc = model.analyser_.analyse(text)
    q = model.vectorizer_.transform_analysed([doc])
    scores = q @ X.T
    scores = scores.toarray().ravel() if sp.issparse(scores) else np.asarray(scores).ravel()
    order = np.argsort(-scores, kind="stable")[: max(limit * 3, limit)]
    ids = model.ids_
    found = [(int(ids[i]), round(float(scores[i]), 4)) for i in order
             if scores[i] >= min_similarity]
    return found[: limit * 3]


def dashboard_summary(congress: Congress, points_per_theme: int = 5,
                      review_limit: int = 12) -> dict:
    """What the facilitator's dashboard shows of the sorting: last run, queue, points."""
    run = db.session.scalar(select(SortRun).filter_by(congress_id=congress.id)
                            .order_by(SortRun.id.desc()).limit(1))
    review = review_queue(congress, review_limit)
    review_total = review_count(congress)
    points: dict[int, list[Cluster]] = {}
    for theme in congress.themes:
        points[theme.id] = list(db.session.scalars(
            select(Cluster).filter_by(congress_id=congress.id, theme_id=theme.id)
            .where(Cluster.size > 1).order_by(Cluster.size.desc(), Cluster.id)
            .limit(points_per_theme)))
    return {"run": run, "review": review, "review_total": review_total, "points": points}
