"""Get a server process ready before its first visitor (`python app.py`, `wsgi.py`).

Three costs otherwise land on the first live contribution or on a live broadcast:

- importing the sorting engine (NLTK and scikit-learn: about 1.5 s here) and loading
  each congress's trained theme model from the disk cache;
- the fitted model that places a live idea: each congress taking ideas is refit in
  the background at start, so its first idea is placed at once (a request never
  refits: `sorting._model_for`);
- Python's full garbage collections, which walk every object alive. The theme
  model's vocabularies are hundreds of thousands of small objects; a full pass over
  them took 110–200 ms on this machine, during which no socket is written. Freezing
  the start-up heap moves it out of the collector's sight (`gc.freeze`, Python ≥ 3.7);
  it is still freed normally by reference counting.
"""

from __future__ import annotations

import gc

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import sorting
from .clustering import pipeline  # noqa: F401 - the import itself is the warm-up
from .clustering.themes import get_theme_model
from .extensions import db
from .models import Congress
from .refit_process import process

#: Congresses whose theme model is loaded at start (the most recent ones).
WARM_CONGRESSES = 10


def prepare_process(app: Flask) -> int:
    """Load the engine and the recent congresses' theme models, then freeze the heap.

    Returns how many theme models were loaded. Never fails the start: a database
    not reachable yet only means the first request pays the load instead.
    """
    loaded, taking_ideas = 0, []
    with app.app_context():
        try:
            congresses = db.session.scalars(select(Congress).order_by(Congress.id.desc())
                                            .limit(WARM_CONGRESSES)).all()
            for congress in congresses:
                themes = sorting.congress_themes(congress)
                if themes:
                    get_theme_model(themes)
                    loaded += 1
                    if congress.accepts_contributions:
                        taking_ideas.append(congress.id)
        except (SQLAlchemyError, OSError, ValueError):
            app.logger.warning("warm-up skipped: database or model cache unavailable")
        finally:
            db.session.remove()
    if app.config.get("SORT_IN_BACKGROUND"):
        if app.config.get("SORT_WORKER_PROCESS"):
            process.start(app)  # its imports (1.5 s) happen now, not on the first refit
        for congress_id in taking_ideas:
            sorting.schedule_refit(app, congress_id)
    gc.collect()
    gc.freeze()
    return loaded

