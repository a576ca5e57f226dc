"""The integrity rules live in the database: each constraint is checked by a raw insert."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from deliberation.extensions import db
from deliberation.models import Ballot, Congress, Contribution, Participant, Theme, Vote

from .conftest import make_person


def _fails(statement: str, **params):
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement), params)
        db.session.flush()
    db.session.rollback()


def test_duplicate_vote_row_is_refused_by_the_database(congress, official):
    ballot = Ballot(congress_id=congress.id, title="Texte entier", state="open")
    db.session.add(ballot)
    db.session.commit()
    db.session.add(Vote(ballot_id=ballot.id, voter_id=official.id, choice="pour"))
    db.session.commit()
    db.session.add(Vote(ballot_id=ballot.id, voter_id=official.id, choice="contre"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Vote)) == 1


def test_vote_choice_must_be_pour_contre_or_abstention(congress, official):
    ballot = Ballot(congress_id=congress.id, title="Article 1")
    db.session.add(ballot)
    db.session.commit()
    _fails("INSERT INTO vote (ballot_id, voter_id, choice, cast_at) "
           "VALUES (:b, :v, 'peut-être', CURRENT_TIMESTAMP)", b=ballot.id, v=official.id)


def test_congress_phase_and_join_code_are_checked(app):
    _fails("INSERT INTO congress (title, place, description, join_code, phase, projector_mode, "
           "created_at) VALUES ('x', '', '', 'ABCD', 'fiesta', 'overview', CURRENT_TIMESTAMP)")
    _fails("INSERT INTO congress (title, place, description, join_code, phase, projector_mode, "
           "created_at) VALUES ('x', '', '', 'AB', 'debate', 'overview', CURRENT_TIMESTAMP)")
    db.session.add(Congress(title="a", join_code="SAME1"))
    db.session.commit()
    db.session.add(Congress(title="b", join_code="SAME1"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_congress_dates_must_be_in_order(app):
    _fails("INSERT INTO congress (title, place, description, join_code, phase, projector_mode, "
           "created_at, starts_on, ends_on) VALUES ('x', '', '', 'DATE1', 'debate', 'overview', "
           "CURRENT_TIMESTAMP, '2026-12-11', '2026-12-10')")


def test_theme_codes_unique_per_congress_and_hors_theme_reserved(congress):
    db.session.add(Theme(congress_id=congress.id, code="acces", title="t", short_title="t"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Theme(congress_id=congress.id, code="hors_theme", title="t", short_title="t"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_participant_role_is_checked(congress):
    db.session.add(Participant(congress_id=congress.id, display_name="X", role="roi"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_invite_tokens_are_unique_and_unguessable(congress):
    people = [make_person(congress, f"Élu {i}") for i in range(20)]
    tokens = {p.invite_token for p in people}
    assert len(tokens) == 20
    assert all(len(t) >= 32 for t in tokens)


def test_contribution_needs_an_author_or_a_speaker(congress):
    db.session.add(Contribution(congress_id=congress.id, text="Une idée", channel="live"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_contribution_status_channel_and_duplicate_rules(congress, official):
    first = Contribution(congress_id=congress.id, author_id=official.id, text="Fibre partout")
    db.session.add(first)
    db.session.commit()
    for bad in (
        Contribution(congress_id=congress.id, author_id=official.id, text="a", status="perdu"),
        Contribution(congress_id=congress.id, author_id=official.id, text="a", channel="fax"),
        Contribution(congress_id=congress.id, author_id=official.id, text="a",
                     status="duplicate"),
        Contribution(congress_id=congress.id, author_id=official.id, text="a",
                     duplicate_of_id=first.id),
        Contribution(congress_id=congress.id, author_id=official.id, text="", ),
        Contribution(congress_id=congress.id, author_id=official.id, text="a", confidence=1.5),
    ):
        db.session.add(bad)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    ok = Contribution(congress_id=congress.id, author_id=official.id, text="Fibre partout !",
                      status="duplicate", duplicate_of_id=first.id)
    db.session.add(ok)
    db.session.commit()


def test_foreign_keys_are_enforced_on_sqlite(congress):
    _fails("INSERT INTO contribution (congress_id, author_id, channel, text, created_at, "
           "updated_at, off_topic, confirmed, cluster_locked, status, supports) VALUES "
           "(:c, 999999, 'online', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, FALSE, FALSE, "
           "FALSE, 'visible', 0)", c=congress.id)


def test_article_one_per_theme_plus_preamble(congress):
    from deliberation.models import Article

    articles = list(db.session.scalars(db.select(Article).filter_by(congress_id=congress.id)))
    assert sorted(a.kind for a in articles) == ["preamble"] + ["theme"] * len(congress.themes)
    db.session.add(Article(congress_id=congress.id, kind="theme",
                           theme_id=congress.themes[0].id, title="Doublon"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Article(congress_id=congress.id, kind="preamble",
                           theme_id=congress.themes[0].id, title="Incohérent"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_migrations_match_the_models(tmp_path):
    """The Alembic history builds exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from deliberation import create_app
    from deliberation.config import TestConfig

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrated = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                           "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert diff == []
