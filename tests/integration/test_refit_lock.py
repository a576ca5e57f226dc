"""On PostgreSQL, two server processes never refit one congress at the same moment."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from .conftest import seed


def test_a_refit_already_running_elsewhere_is_skipped_then_runs(db_app, database_url):
    from deliberation import contributions as contrib
    from deliberation import sorting
    from deliberation.config import normalise_database_url
    from deliberation.extensions import db
    from deliberation.models import Congress, SortRun

    data = seed(db_app, phase="debate")
    with db_app.app_context():
        congress = db.session.get(Congress, data["congress_id"])
        for n in range(4):
            contrib.create(congress, f"La fibre optique au hameau numéro {n}, enfin.",
                           speaker_name=f"Orateur {n}", channel="live")
        db.session.commit()
        other = create_engine(normalise_database_url(database_url))
        try:
            with other.connect() as elsewhere:  # another process, mid-refit
                elsewhere.execute(text("SELECT pg_advisory_lock(:s, :id)"),
                                  {"s": sorting.REFIT_LOCK, "id": congress.id})
                with pytest.raises(sorting.RefitBusy):
                    sorting.refit(congress.id, exclusive=True)
                assert sorting.refit(congress.id).n_contributions == 4  # not exclusive
                elsewhere.execute(text("SELECT pg_advisory_unlock(:s, :id)"),
                                  {"s": sorting.REFIT_LOCK, "id": congress.id})
            run = sorting.refit(congress.id, exclusive=True)
        finally:
            other.dispose()
        runs = db.session.scalars(select(SortRun.id).filter_by(congress_id=congress.id)).all()
        assert run.id == max(runs)
        db.session.remove()
