"""A facilitator's corrections: validated, audited, and kept by every later refit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation import corrections, sorting
from deliberation.errors import InputError, PermissionDenied
from deliberation.extensions import db
from deliberation.models import AuditEvent, Cluster

from .debate import build


@pytest.fixture
def debate(congress):
    return build(congress)


def _refit_and_reload(debate):
    sorting.refit(debate.congress.id)
    db.session.expire_all()


def _audit(action: str) -> list[dict]:
    return [e.payload for e in db.session.scalars(select(AuditEvent).filter_by(action=action))]


def test_move_to_a_theme_is_confirmed_and_kept(debate):
    staff = debate.people["facilitator"]
    outcome = corrections.move(debate.congress, staff, debate.ideas[9], theme="formation")
    db.session.commit()
    assert outcome.change == "moved" and outcome.result["theme"] == "formation"
    _refit_and_reload(debate)
    idea = debate.idea(9)
    assert idea.theme.code == "formation" and idea.confirmed and idea.review_rank is None
    [entry] = _audit("correction.move")
    assert entry["before"]["theme"] == "donnees" and entry["after"]["theme"] == "formation"


def test_move_to_hors_theme_and_into_a_point(debate):
    corrections.move(debate.congress, None, debate.ideas[11], theme="hors_theme")
    db.session.commit()
    _refit_and_reload(debate)
    assert debate.idea(11).theme is None and debate.idea(11).off_topic
    target = debate.point("rgpd")
    corrections.move(debate.congress, None, debate.ideas[11], cluster=target.key)
    db.session.commit()
    _refit_and_reload(debate)
    idea = debate.idea(11)
    assert idea.cluster_id == target.id and idea.cluster_locked and idea.theme.code == "donnees"
    assert idea.map_x is not None


def test_move_refuses_a_point_of_another_theme(debate):
    with pytest.raises(InputError, match="autre thème"):
        corrections.move(debate.congress, None, debate.ideas[0], theme="donnees",
                         cluster=debate.point("fibre").key)
    with pytest.raises(InputError, match="Choisissez"):
        corrections.move(debate.congress, None, debate.ideas[0])


def test_rename_merge_and_split_survive_refits(debate):
    fibre, antenne = debate.point("fibre"), debate.point("antenne")
    corrections.rename_point(debate.congress, None, fibre.key, "Le très haut débit partout")
    corrections.merge_points(debate.congress, None, fibre.key, [antenne.key])
    db.session.commit()
    _refit_and_reload(debate)
    merged = db.session.scalar(select(Cluster).filter_by(key=fibre.key))
    assert merged.display_label == "Le très haut débit partout."  # a normalised statement
    assert {c.cluster_id for c in map(debate.idea, range(5))} == {merged.id}
    outcome = corrections.split_point(debate.congress, None, fibre.key, debate.ideas[3:5],
                                      "Zones blanches")
    db.session.commit()
    _refit_and_reload(debate)
    new = db.session.scalar(select(Cluster).filter_by(key=outcome.result["new"]))
    assert new.display_label == "Zones blanches." and new.theme.code == "acces"
    assert {debate.idea(i).cluster_id for i in (3, 4)} == {new.id}
    assert {debate.idea(i).cluster_id for i in (0, 1, 2)} == {merged.id}
    corrections.rename_point(debate.congress, None, fibre.key, "")
    db.session.commit()
    assert db.session.get(Cluster, merged.id).custom_label is None
    assert [e["label"] for e in _audit("correction.rename")] == [
        "Le très haut débit partout.", None]
    assert _audit("correction.merge")[0]["sources"] == [antenne.key]
    assert _audit("correction.split")[0]["new"] == new.key


def test_split_keeps_at_least_one_idea_and_only_members(debate):
    fibre = debate.point("fibre")
    with pytest.raises(InputError, match="au moins une"):
        corrections.split_point(debate.congress, None, fibre.key, debate.ideas[0:3])
    with pytest.raises(InputError, match="ne font pas partie"):
        corrections.split_point(debate.congress, None, fibre.key, [debate.ideas[8]])
    with pytest.raises(InputError, match="lui-même"):
        corrections.merge_points(debate.congress, None, fibre.key, [fibre.key])


def test_hide_duplicate_and_unhide_survive_refits(debate):
    corrections.hide(debate.congress, None, debate.ideas[11])
    corrections.mark_duplicate(debate.congress, None, debate.ideas[1], debate.ideas[0])
    db.session.commit()
    _refit_and_reload(debate)
    assert debate.idea(11).status == "hidden"
    assert debate.idea(1).status == "duplicate" and debate.idea(1).duplicate_of_id == \
        debate.ideas[0]
    # A duplicate of a duplicate points at the original (no chains).
    corrections.mark_duplicate(debate.congress, None, debate.ideas[2], debate.ideas[1])
    assert debate.idea(2).duplicate_of_id == debate.ideas[0]
    with pytest.raises(InputError, match="déjà masquée"):
        corrections.hide(debate.congress, None, debate.ideas[11])
    with pytest.raises(InputError, match="masquée"):
        corrections.mark_duplicate(debate.congress, None, debate.ideas[3], debate.ideas[11])
    corrections.unhide(debate.congress, None, debate.ideas[11])
    db.session.commit()
    assert debate.idea(11).status == "visible"
    with pytest.raises(InputError, match="ni masquée"):
        corrections.unhide(debate.congress, None, debate.ideas[11])


def test_confirm_takes_the_idea_out_of_the_review_queue(debate):
    idea = debate.idea(5)
    idea.review_rank = 0
    db.session.commit()
    outcome = corrections.confirm(debate.congress, None, idea.id)
    db.session.commit()
    assert outcome.result == {"id": idea.id, "theme": "formation"}
    _refit_and_reload(debate)
    assert debate.idea(5).confirmed and debate.idea(5).review_rank is None


def test_lookups_refuse_what_is_not_in_this_congress(debate):
    for bad in (None, True, -1, "abc", 0, 2**60):
        with pytest.raises(InputError):
            corrections.parse_id(bad)
    assert corrections.parse_id(" 42 ") == 42
    with pytest.raises(InputError, match="n'existe pas"):
        corrections.get_contribution(debate.congress, 99999)
    with pytest.raises(InputError, match="n'existe pas"):
        corrections.get_theme(debate.congress, "cuisine")
    with pytest.raises(InputError, match="n'existe pas"):
        corrections.get_cluster(debate.congress, "p000")


def test_support_rules(debate):
    official = debate.people["participant"]
    assert corrections.add_support(debate.congress, official, debate.ideas[0]) == 1
    with pytest.raises(InputError, match="déjà"):
        corrections.add_support(debate.congress, official, debate.ideas[0])
    with pytest.raises(PermissionDenied):
        corrections.add_support(debate.congress, debate.people["observer"], debate.ideas[0])
    corrections.hide(debate.congress, None, debate.ideas[1])
    with pytest.raises(InputError, match="plus affichée"):
        corrections.add_support(debate.congress, official, debate.ideas[1])
    own = debate.idea(2)
    own.author_id = official.id
    with pytest.raises(InputError, match="propre idée"):
        corrections.add_support(debate.congress, official, own.id)


def test_projector_mode_rules(debate):
    with pytest.raises(InputError, match="inconnu"):
        corrections.set_projector_mode(debate.congress, None, "cinema")
    with pytest.raises(InputError, match="Choisissez"):
        corrections.set_projector_mode(debate.congress, None, "theme", "hors_theme")
    outcome = corrections.set_projector_mode(debate.congress, None, "theme", "donnees")
    assert outcome.result["theme_label"] == "Données"
    assert debate.congress.projector_mode == "theme"
    db.session.commit()  # audit entries are written as the transaction commits
    assert _audit("projector.mode") == [{"mode": "theme", "theme": "donnees"}]
