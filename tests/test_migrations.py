"""Migrations keep an existing congress: 0001 → 0002 rebuilds tables on SQLite."""

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db

ROWS = [
    "INSERT INTO congress (id, title, place, description, join_code, phase, projector_mode,"
    " created_at, max_proxies, presence_open, keep_contributions_on_erasure, retention_days)"
    " VALUES (1, 'Congrès existant', 'Aurillac', '', 'EXIST26', 'debate', 'overview',"
    " CURRENT_TIMESTAMP, 1, false, true, 365)",
    "INSERT INTO theme (id, congress_id, code, title, short_title, description, subpoints,"
    " keywords, position) VALUES (1, 1, 'acces', 'Accès', 'Accès', '', '[]', '[]', 1)",
    "INSERT INTO participant (id, congress_id, display_name, commune, department_code,"
    " mandate, role, invite_token, present, created_at, session_epoch)"
    " VALUES (1, 1, 'Anne', 'Murat', '15', 'Maire', 'participant', 'jeton-anne', false,"
    " CURRENT_TIMESTAMP, 0)",
    "INSERT INTO cluster (id, congress_id, theme_id, key, label, custom_label, size,"
    " created_at) VALUES (1, 1, 1, 'p1', 'fibre', 'La fibre partout.', 1, CURRENT_TIMESTAMP)",
    "INSERT INTO contribution (id, congress_id, author_id, channel, text, created_at,"
    " updated_at, theme_id, off_topic, confirmed, cluster_id, cluster_locked, status,"
    " supports) VALUES (1, 1, 1, 'online', 'La fibre', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
    " 1, false, false, 1, false, 'visible', 0)",
]


def test_the_synthesis_migration_keeps_every_row(database):
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row))

        def state():
            with db.engine.connect() as connection:
                return (connection.execute(text("SELECT count(*) FROM participant")).scalar(),
                        connection.execute(text("SELECT cluster_id FROM contribution")).scalar(),
                        connection.execute(text("SELECT custom_label FROM cluster")).scalar())

        for step in (lambda: upgrade(revision="0002"), lambda: downgrade(revision="0001"),
                     lambda: upgrade(revision="0002")):
            step()
            assert state() == (1, 1, "La fibre partout.")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT granularity FROM theme")).scalar() == 0
        db.engine.dispose()


ROSTER_ROWS = [
    "INSERT INTO participant (id, congress_id, display_name, commune, department_code,"
    " mandate, role, invite_token, present, created_at, session_epoch)"
    " VALUES (2, 1, 'Paul', 'Vic', '15', 'Adjoint', 'participant', 'jeton-paul', true,"
    " CURRENT_TIMESTAMP, 0)",
    "INSERT INTO support (id, contribution_id, participant_id, created_at)"
    " VALUES (1, 1, 2, CURRENT_TIMESTAMP)",
    "INSERT INTO ballot (id, congress_id, title, state, secret, allow_change, majority,"
    " created_at) VALUES (1, 1, 'Texte entier', 'open', false, false, 'simple',"
    " CURRENT_TIMESTAMP)",
    "INSERT INTO vote (id, ballot_id, voter_id, choice, cast_at)"
    " VALUES (1, 1, 2, 'pour', CURRENT_TIMESTAMP)",
]


def test_the_roster_migration_keeps_every_row_and_accepts_existing_people(database):
    """0004 rebuilds `participant` on SQLite (its new check constraint): the votes and
    supports pointing at it survive, existing people are on the roster, existing
    congresses stay listed (as they were) and closed to registration, new ones are
    unlisted; downgrade and upgrade again."""
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as connection:
            for row in ROWS + ROSTER_ROWS:
                connection.execute(text(row))

        def count(table: str) -> int:
            with db.engine.connect() as connection:
                return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()

        def kept() -> tuple[int, ...]:
            return tuple(count(t) for t in ("participant", "support", "vote", "contribution"))

        def columns(table: str) -> set[str]:
            return {c["name"] for c in inspect(db.engine).get_columns(table)}

        for step in (lambda: upgrade(revision="0004"), lambda: downgrade(revision="0003"),
                     lambda: upgrade(revision="0004")):
            step()
            assert kept() == (2, 1, 1, 1)
        with db.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT roster_status FROM participant ORDER BY id")).scalars().all() \
                == ["accepted", "accepted"]
            assert connection.execute(text(
                "SELECT listed, registration_open FROM congress")).one() == (True, False)
        with db.engine.begin() as connection:  # a congress created after the upgrade
            connection.execute(text(ROWS[0].replace("(1, 'Congrès existant'", "(2, 'Nouveau'")
                                    .replace("'EXIST26'", "'NOUV26'")))
            assert connection.execute(text(
                "SELECT listed, registration_open FROM congress WHERE id = 2")).one() \
                == (False, False)
        # The new check holds, and the table's earlier checks survived the rebuild.
        for bad in ("UPDATE participant SET roster_status = 'maybe' WHERE id = 1",
                    "UPDATE participant SET role = 'king' WHERE id = 1"):
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text(bad))
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE participant SET roster_status = 'pending'"
                                    " WHERE id = 1"))
        downgrade(revision="0003")
        assert "roster_status" not in columns("participant")
        assert not {"listed", "registration_open"} & columns("congress")
        assert kept() == (2, 1, 1, 1)
        db.engine.dispose()


def test_the_publication_versions_migration_adds_a_table_no_one_can_rewrite(database):
    """0005 adds `publication` and the trigger that refuses to change a version; earlier
    rows stay; downgrade and upgrade again."""
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    insert = ("INSERT INTO publication (id, congress_id, number, kind, reason, actor_id,"
              " published_at, document, digest) VALUES (1, 1, 1, 'published', '', 1,"
              " CURRENT_TIMESTAMP, '{\"title\": \"Motion\"}', 'abc')")
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row))
        for step in (lambda: upgrade(revision="0005"), lambda: downgrade(revision="0004"),
                     lambda: upgrade(revision="0005")):
            step()
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM participant")).scalar() == 1
        with db.engine.begin() as connection:
            connection.execute(text(insert))
        for bad in ("UPDATE publication SET document = '{}'",
                    "UPDATE publication SET reason = 'autre'"):
            with pytest.raises(DBAPIError), db.engine.begin() as connection:
                connection.execute(text(bad))
        with pytest.raises(IntegrityError), db.engine.begin() as connection:  # no reason
            connection.execute(text(insert.replace("(1, 1, 1,", "(2, 1, 2,")))
        with db.engine.begin() as connection:  # erasing the person who published
            connection.execute(text("DELETE FROM contribution"))
            connection.execute(text("DELETE FROM participant WHERE id = 1"))
            assert connection.execute(text("SELECT actor_id FROM publication")).scalar() is None
        downgrade(revision="0004")
        assert "publication" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_the_premoderation_migration_keeps_every_row_and_queues_nothing(database):
    """0006 rebuilds `contribution` on SQLite (its status check gains « pending » and
    « rejected »): supports pointing at it survive, no congress moderates and no idea waits;
    downgrade hides what was waiting or rejected (the old check knows neither)."""
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            for row in ROWS + ROSTER_ROWS:
                connection.execute(text(row))

        def read(sql: str):
            with db.engine.connect() as connection:
                return connection.execute(text(sql)).all()

        for step in (lambda: upgrade(revision="0006"), lambda: downgrade(revision="0005"),
                     lambda: upgrade(revision="0006")):
            step()
            assert read("SELECT count(*) FROM support") == [(1,)]
            assert read("SELECT status FROM contribution") == [("visible",)]
        assert read("SELECT premoderation FROM congress") == [(False,)]
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE contribution SET status = 'rejected',"
                                    " moderation_reason = 'Hors sujet' WHERE id = 1"))
        for bad in ("UPDATE contribution SET status = 'maybe' WHERE id = 1",
                    "UPDATE contribution SET channel = 'fax' WHERE id = 1"):
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text(bad))
        downgrade(revision="0005")
        assert read("SELECT status FROM contribution") == [("hidden",)]
        assert read("SELECT count(*) FROM support") == [(1,)]
        db.engine.dispose()


def test_the_sorting_report_migration_keeps_every_row(database):
    """0009 adds the engine's first proposal to `contribution` and the remembered CSV
    mappings to `congress` (issue 18): existing ideas keep their rows and links, with no
    proposal known; downgrade and upgrade again."""
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            for row in ROWS + ROSTER_ROWS:
                connection.execute(text(row))

        def kept() -> tuple:
            with db.engine.connect() as connection:
                return (connection.execute(text("SELECT count(*) FROM support")).scalar(),
                        connection.execute(text("SELECT cluster_id, theme_id FROM contribution"))
                        .one())

        for step in (lambda: upgrade(revision="0009"), lambda: downgrade(revision="0006"),
                     lambda: upgrade(revision="0009")):
            step()
            assert kept() == (1, (1, 1))
        with db.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT machine_theme, machine_review FROM contribution")).one() == (None, False)
            assert connection.execute(text("SELECT import_mappings FROM congress")).scalar() \
                is None  # no mapping remembered yet
        downgrade(revision="0006")
        columns = {c["name"] for c in inspect(db.engine).get_columns("contribution")}
        assert not {"machine_theme", "machine_review"} & columns
        assert "import_mappings" not in {c["name"] for c in
                                         inspect(db.engine).get_columns("congress")}
        assert kept() == (1, (1, 1))
        db.engine.dispose()


def test_the_room_counts_and_staff_tokens_migration_adds_two_tables(database):
    """0010 adds `room_count` and `staff_token` and touches nothing else; the database
    refuses a room count confirmed by the person who entered it."""
    from flask_migrate import downgrade, upgrade

    uri, options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            for row in ROWS + ROSTER_ROWS:
                connection.execute(text(row))
        for step in (lambda: upgrade(revision="0010"), lambda: downgrade(revision="0009"),
                     lambda: upgrade(revision="0010")):
            step()
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM support")).all() == [(1,)]
        tables = set(inspect(db.engine).get_table_names())
        assert {"room_count", "staff_token"} <= tables
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO ballot (id, congress_id, title, state, secret, allow_change,"
                " majority, created_at) VALUES (2, 1, 'Texte', 'draft', false, false,"
                " 'simple', CURRENT_TIMESTAMP)"))
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO room_count (ballot_id, congress_id, method, people, pour, contre,"
                " abstention, recorded_by_id, recorded_at, confirmed_by_id, confirmed_at)"
                " VALUES (2, 1, 'hands', 2, 1, 0, 0, 1, CURRENT_TIMESTAMP, 1,"
                " CURRENT_TIMESTAMP)"))
        downgrade(revision="0009")
        assert not {"room_count", "staff_token"} & set(inspect(db.engine).get_table_names())
        db.engine.dispose()
