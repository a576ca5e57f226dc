"""Socket.IO layer of the live debate: rooms, every event, every permission, snapshots on
(re)connection, idempotent retries, and pushes that follow the database commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation import actions, announce, corrections, pictures, push, screens, sorting
from deliberation.coalesce import Pace
from deliberation.extensions import db
from deliberation.models import AppliedAction, AuditEvent, Congress, Contribution, Support

from .debate import ROLES, build, connect, emit, http_client, received


@pytest.fixture
def debate(congress):
    return build(congress)


def _count(model, **filters) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**filters))


# -- which action each role may send, with a valid message for it -------------------------

def _valid(debate, event: str) -> dict:
    """A message that succeeds for an allowed sender (and sets up what it needs)."""
    if event == "contribution.move":
        return {"id": debate.ideas[0], "theme": "formation"}
    if event == "contribution.confirm":
        return {"id": debate.ideas[0]}
    if event == "contribution.hide":
        return {"id": debate.ideas[11]}
    if event == "contribution.unhide":
        corrections.hide(debate.congress, None, debate.ideas[11])
        db.session.commit()
        return {"id": debate.ideas[11]}
    if event == "contribution.duplicate":
        return {"id": debate.ideas[1], "of": debate.ideas[0]}
    if event == "point.merge":
        return {"into": debate.point("fibre").key, "from": [debate.point("antenne").key]}
    if event == "point.split":
        return {"cluster": debate.point("fibre").key, "ids": [debate.ideas[2]],
                "label": "La fibre avant 2030"}
    if event == "point.rename":
        return {"cluster": debate.point("fibre").key, "label": "La fibre partout"}
    if event == "theme.granularity":
        return {"theme": "acces", "step": 1}
    if event == "projector.mode":
        return {"mode": "theme", "theme": "acces"}
    if event == "scribe.capture":
        return {"speaker": "Jean Dupont", "commune": "Aurillac",
                "text": "Un conseiller numérique par canton pour aider les habitants."}
    if event == "contribution.correct":
        return {"id": debate.ideas[0], "speaker": "Orateur 0", "commune": "Aurillac",
                "text": "La fibre optique dans chaque hameau, corrigée par le relevé."}
    if event == "support":
        return {"id": debate.ideas[0]}
    raise AssertionError(event)


ALLOWED = {
    "contribution.move": {"scribe", "facilitator"},
    "contribution.confirm": {"scribe", "facilitator"},
    "scribe.capture": {"scribe", "facilitator"},
    "contribution.correct": {"scribe", "facilitator"},
    "contribution.hide": {"facilitator"},
    "contribution.unhide": {"facilitator"},
    "contribution.duplicate": {"facilitator"},
    "point.merge": {"facilitator"},
    "point.split": {"facilitator"},
    "point.rename": {"facilitator"},
    "theme.granularity": {"facilitator"},
    "projector.mode": {"facilitator"},
    "support": {"participant"},
}

#: The push every allowed action makes (heard by the projector).
PUSHED = {
    "contribution.move": "contribution.updated",
    "contribution.confirm": "contribution.updated",
    "contribution.hide": "contribution.updated",
    "contribution.unhide": "contribution.updated",
    "contribution.duplicate": "contribution.updated",
    "point.merge": "points.updated",
    "point.split": "points.updated",
    "point.rename": "points.updated",
    "theme.granularity": "points.updated",
    "projector.mode": "projector.mode",
    "scribe.capture": "contribution.created",
    "contribution.correct": "contribution.updated",
    "support": "points.updated",
}


def test_every_action_is_registered_and_documented():
    assert set(ALLOWED) == set(actions.ACTIONS)
    for name, (roles, _) in actions.ACTIONS.items():
        assert set(roles) == ALLOWED[name], name
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    for name in [*actions.ACTIONS, "snapshot", "contribution.created", "contribution.updated",
                 "points.updated", "phase.changed", "projector.mode"]:
        assert f"`{name}`" in doc, f"{name} missing from docs/api.md"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("event", sorted(ALLOWED))
def test_each_event_checks_the_senders_role(app, debate, event, role):
    projector = connect(app, audience="projector")
    data = _valid(debate, event)
    client = http_client(app, debate, role)
    sock = connect(app, client, "participants")
    assert sock.is_connected()
    received(projector)
    actions_before = _count(AppliedAction)
    audit_before = _count(AuditEvent)
    ack = emit(sock, event, {**data, "key": f"cle-{event}-{role}"})
    if role in ALLOWED[event]:
        assert ack["ok"] is True, ack
        assert _count(AppliedAction) == actions_before + 1
        assert PUSHED[event] in [name for name, _ in received(projector)]
    else:
        assert ack["ok"] is False
        assert ("rôle" in ack["error"] or "Connectez-vous" in ack["error"]
                or "élu·es participant·es" in ack["error"]), ack
        assert _count(AppliedAction) == actions_before
        assert _count(AuditEvent) == audit_before
        assert received(projector) == []  # nothing changed, nothing pushed
    sock.disconnect()
    projector.disconnect()


# -- rooms and snapshots ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_staff_join_the_facilitator_room(app, debate, role):
    client = http_client(app, debate, role)
    for audience in ("projector", "participants"):
        sock = connect(app, client, audience)
        assert sock.is_connected(), audience
        sock.disconnect()
    sock = connect(app, client, "facilitator")
    assert sock.is_connected() is (role in ("scribe", "facilitator"))
    if sock.is_connected():
        sock.disconnect()


def test_unknown_congress_or_audience_is_refused(app, debate):
    assert not connect(app, audience="projector", code="NOPE99").is_connected()
    assert not connect(app, audience="backstage").is_connected()


def test_connection_gets_a_snapshot_of_the_current_state(app, debate):
    projector = connect(app, audience="projector")
    [(name, snap)] = received(projector)
    assert name == "snapshot"
    assert snap["congress"]["code"] == "TEST26" and snap["congress"]["phase"] == "debate"
    assert snap["picture"]["total"] == 12
    counts = {t["code"]: t["count"] for t in snap["picture"]["themes"]}
    assert counts == {"acces": 5, "formation": 4, "donnees": 3}
    acces = next(t for t in snap["picture"]["themes"] if t["code"] == "acces")
    assert acces["points"][0]["size"] == 3 and "fibre" in acces["points"][0]["label"]
    assert len(snap["map"]) == 12 and snap["projector"] == {"mode": "overview", "theme": None}
    assert snap["latest"][0]["id"] == debate.ideas[-1]
    phone = connect(app, audience="participants")
    [(_, light)] = received(phone)
    assert "map" not in light and "focus" not in light  # light on bandwidth


def test_reconnection_snapshot_loses_nothing(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    projector.disconnect()
    # While the projector is away: a capture, a move and a hidden idea.
    staff = http_client(app, debate, "facilitator")
    sock = connect(app, staff, "facilitator")
    ack = emit(sock, "scribe.capture", {"speaker": "Ana", "text": "Une antenne 4G de plus à "
                                        "Thiézac pour les zones blanches.", "key": "capture-001"})
    assert ack["ok"]
    assert emit(sock, "contribution.move", {"id": debate.ideas[11], "theme": "formation",
                                            "key": "move-0001"})["ok"]
    assert emit(sock, "contribution.hide", {"id": debate.ideas[10], "key": "hide-0001"})["ok"]
    sock.disconnect()
    projector = connect(app, audience="projector")
    [(name, snap)] = received(projector)
    assert name == "snapshot"
    assert snap["latest"][0]["id"] == ack["id"]
    assert debate.ideas[10] not in [c["id"] for c in snap["latest"]]
    assert debate.ideas[10] not in [p[0] for p in snap["map"]]
    counts = {t["code"]: t["count"] for t in snap["picture"]["themes"]}
    assert counts["donnees"] == 1 and counts["formation"] == 5 and snap["picture"]["total"] == 12
    # A client can also ask for a snapshot at any time.
    answer = emit(projector, "snapshot", {})
    assert answer["ok"] and answer["snapshot"]["picture"] == snap["picture"]


def test_phones_share_a_snapshot_until_the_congress_hears_a_push(app, debate):
    """Issue 17: a room of phones connecting reads one snapshot, not one each; any push
    to the congress (here a capture) makes the next phone read a fresh one."""
    app.config["SNAPSHOT_CACHE_S"] = 60
    try:
        first = connect(app, audience="participants")
        [(_, snap)] = received(first)
        title = db.session.get(Congress, debate.congress.id)
        title.title = "Titre changé sans rien pousser"
        db.session.commit()
        second = connect(app, audience="participants")
        [(_, again)] = received(second)
        assert again == snap  # read once for the room
        staff = http_client(app, debate, "facilitator")
        sock = connect(app, staff, "facilitator")
        ack = emit(sock, "scribe.capture", {"speaker": "Ana", "key": "capture-cache",
                                            "text": "Un relais de téléphonie pour Thiézac."})
        assert ack["ok"]
        third = connect(app, audience="participants")
        fresh = next(payload for name, payload in received(third) if name == "snapshot")
        assert fresh["latest"][0]["id"] == ack["id"]
        assert fresh["congress"]["title"] == "Titre changé sans rien pousser"
    finally:
        app.config.pop("SNAPSHOT_CACHE_S")


def test_snapshot_event_answers_only_the_sender(app, debate):
    asking, other = connect(app, audience="projector"), connect(app, audience="projector")
    received(asking), received(other)
    answer = emit(asking, "snapshot")
    assert answer["ok"] and "map" in answer["snapshot"]
    assert received(other) == []


# -- idempotency -------------------------------------------------------------------------------

def test_a_retried_action_is_applied_once(app, debate):
    projector = connect(app, audience="projector")
    staff = http_client(app, debate, "scribe")
    sock = connect(app, staff, "facilitator")
    received(projector)
    message = {"speaker": "Jean", "text": "Des bornes wifi gratuites sur les places de "
               "village.", "key": "retry-capture-1"}
    first = emit(sock, "scribe.capture", message)
    again = emit(sock, "scribe.capture", message)
    assert first["ok"] and again == first
    assert _count(Contribution, congress_id=debate.congress.id) == 13
    created = [p for name, p in received(projector) if name == "contribution.created"]
    assert len(created) == 1  # the retry pushes nothing
    # A retry after a reconnection (new socket, same session) is still applied once.
    sock.disconnect()
    sock = connect(app, staff, "facilitator")
    assert emit(sock, "scribe.capture", message) == first
    move = {"id": first["id"], "theme": "donnees", "key": "retry-move-01"}
    assert emit(sock, "contribution.move", move) == emit(sock, "contribution.move", move)
    assert _count(AuditEvent, action="correction.move") == 1


def test_action_keys_are_checked(app, debate):
    sock = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    for bad in (None, "", "court", "x" * 65, "espace interdit", 12345678):
        ack = emit(sock, "contribution.confirm", {"id": debate.ideas[0], "key": bad})
        assert ack == {"ok": False, "error": ack["error"]} and "Clé" in ack["error"], bad
    assert emit(sock, "contribution.confirm", {"id": debate.ideas[0], "key": "cle-unique-1"})["ok"]
    reused = emit(sock, "contribution.hide", {"id": debate.ideas[0], "key": "cle-unique-1"})
    assert not reused["ok"] and "déjà servi" in reused["error"]
    assert db.session.get(Contribution, debate.ideas[0]).status == "visible"


def test_malformed_messages_get_a_french_answer(app, debate):
    sock = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    for event, data in (("contribution.move", None), ("contribution.move", "texte"),
                        ("contribution.move", [1, 2]),
                        ("contribution.move", {"id": "abc", "theme": "acces", "key": "k-000001"}),
                        ("contribution.move", {"id": 99999, "theme": "acces", "key": "k-000002"}),
                        ("contribution.move", {"id": debate.ideas[0], "theme": "inconnu",
                                               "key": "k-000003"}),
                        ("contribution.move", {"id": debate.ideas[0], "key": "k-000004"}),
                        ("point.rename", {"cluster": "nope", "label": "x", "key": "k-000005"}),
                        ("point.merge", {"into": debate.point("fibre").key, "from": "x",
                                         "key": "k-000006"}),
                        ("projector.mode", {"mode": "cinema", "key": "k-000007"}),
                        ("scribe.capture", {"speaker": "Jean", "text": "  ", "key": "k-000008"}),
                        ("scribe.capture", {"text": "Une idée sans orateur.", "key": "k-000009"}),
                        ("contribution.hide", {"id": debate.ideas[0], "key": "k-000010",
                                               "pad": "x" * 20000})):
        ack = emit(sock, event, data)
        assert ack["ok"] is False and ack["error"], (event, data)
        assert ack["error"][0].isupper()
    assert _count(AppliedAction) == 0
    assert _count(Contribution) == 12


# -- each event's effect and push ------------------------------------------------------------

def test_scribe_capture_is_sorted_stored_and_pushed_to_every_screen(app, debate):
    screens = {a: connect(app, http_client(app, debate, "facilitator") if a == "facilitator"
                          else None, a) for a in push.AUDIENCES}
    for sock in screens.values():
        received(sock)
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    received(scribe)
    official = debate.people["participant"]
    ack = emit(scribe, "scribe.capture", {
        "participant_id": official.id, "text": "La fibre optique dans tous les villages "
        "du Cantal, vite.", "key": "capture-xyz-1"})
    assert ack["ok"] and ack["theme"] == "acces" and ack["theme_label"] == "Égalité d'accès"
    assert ack["speaker"] == "Paul Participant" and ack["commune"] == "Vic-sur-Cère"
    stored = db.session.get(Contribution, ack["id"])
    assert stored.channel == "live" and stored.author_id is None
    assert stored.speaker_name == "Paul Participant" and stored.cluster is not None
    for audience, sock in screens.items():
        created = [p for name, p in received(sock) if name == "contribution.created"]
        assert len(created) == 1, audience
        assert created[0]["id"] == ack["id"] and created[0]["theme"] == "acces"
        assert created[0]["cluster"] == stored.cluster.key
    assert _count(AuditEvent, action="contribution.created") == 13


def _phone_and_projector(app, monkeypatch, window: str, channel: str):
    """A phone and a projector, drained, with a 60 s phone `window` on a fresh `channel`
    of the push scheduler; the test flushes by hand (no background task is started)."""
    app.config[window] = 60.0
    push.scheduler.forget(channel)
    monkeypatch.setattr(push.scheduler.channels[channel], "started", True)
    phone = connect(app, None, "participants")
    projector = connect(app, None, "projector")
    received(phone), received(projector)
    return phone, projector


def test_a_burst_of_ideas_reaches_phones_as_one_batch_and_screens_one_by_one(
        app, debate, monkeypatch):
    # In a burst, 500 ideas x 500 phones was 250,000 messages: phones get the first idea
    # at once and the rest of the burst as one `contributions.created` batch.
    phone, projector = _phone_and_projector(app, monkeypatch, "LIVE_PHONE_BATCH_S",
                                            announce.PHONE_IDEAS_CHANNEL)
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    received(scribe)
    ids = [emit(scribe, "scribe.capture", {"speaker": "Jean Dupont", "key": f"burst-{n:04d}",
                                           "text": f"Idée numéro {n} sur la fibre."})["id"]
           for n in range(3)]
    on_projector = [p["id"] for name, p in received(projector) if name == "contribution.created"]
    assert on_projector == ids
    heard = received(phone)
    assert [p["id"] for name, p in heard if name == "contribution.created"] == ids[:1]
    assert not [name for name, _ in heard if name == "contributions.created"]
    push.scheduler.run_due(announce.PHONE_IDEAS_CHANNEL, pace=Pace())  # window passed
    batches = [p for name, p in received(phone) if name == "contributions.created"]
    assert len(batches) == 1
    assert [c["id"] for c in batches[0]["items"]] == ids[1:] and batches[0]["more"] == 0
    push.scheduler.run_due(announce.PHONE_IDEAS_CHANNEL, pace=Pace())  # nothing queued
    assert not received(phone)


def test_phones_get_the_picture_at_most_every_window_and_always_the_last_one(
        app, debate, monkeypatch):
    # Each process flushed a picture to every phone 4 times a second during a burst: the
    # largest share of the servers' CPU under `make load`. Screens still get each one.
    phone, projector = _phone_and_projector(app, monkeypatch, "LIVE_PHONE_PICTURE_S",
                                            pictures.PHONES_CHANNEL)
    congress_id = debate.congress.id
    first = debate.idea(0)
    for n in range(3):
        pictures.flush_picture(congress_id, {first.id} if n == 1 else None)
    assert len([1 for name, _ in received(projector) if name == "points.updated"]) == 3
    assert len([1 for name, _ in received(phone) if name == "points.updated"]) == 1

    push.scheduler.run_due(pictures.PHONES_CHANNEL)  # the window has not passed: held back
    assert not received(phone)
    push.scheduler.run_due(pictures.PHONES_CHANNEL, pace=Pace())  # the window has passed
    held = [p for name, p in received(phone) if name == "points.updated"]
    assert len(held) == 1 and held[0]["picture"]["total"] == screens.picture(congress_id)["total"]
    assert held[0]["supports"] == {str(first.id): first.supports}  # the +1 counts carried
    push.scheduler.run_due(pictures.PHONES_CHANNEL, pace=Pace())  # nothing pending
    assert not received(phone)


def test_capture_from_another_congress_participant_is_refused(app, debate):
    from .conftest import make_person

    other = Congress(title="Autre", join_code="AUTRE1", phase="debate")
    db.session.add(other)
    db.session.commit()
    stranger = make_person(other, "Personne Ailleurs")
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    ack = emit(scribe, "scribe.capture", {"participant_id": stranger.id, "text": "Une idée.",
                                          "key": "capture-other"})
    assert not ack["ok"] and "pas inscrit" in ack["error"]


def test_capture_is_refused_outside_the_debate_and_consultation(app, debate):
    debate.congress.phase = "vote"
    db.session.commit()
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    ack = emit(scribe, "scribe.capture", {"speaker": "Jean", "text": "Trop tard ?",
                                          "key": "capture-late"})
    assert not ack["ok"] and "phase" in ack["error"]


def test_move_is_pushed_and_survives_a_refit(app, debate):
    projector = connect(app, audience="projector")
    phone = connect(app, audience="participants")
    received(projector), received(phone)
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    target = debate.point("élus")
    ack = emit(staff, "contribution.move", {"id": debate.ideas[0], "cluster": target.key,
                                            "key": "move-to-point"})
    assert ack == {"ok": True, "id": debate.ideas[0], "theme": "formation",
                   "cluster": target.key}
    for sock in (projector, phone):
        [update] = [p for n, p in received(sock) if n == "contribution.updated"]
        assert update["change"] == "moved" and update["theme"] == "formation"
        assert update["cluster"] == target.key and update["confirmed"] is True
    sorting.refit(debate.congress.id)
    moved = debate.idea(0)
    assert moved.theme.code == "formation" and moved.cluster_id == target.id


def test_hidden_idea_reaches_public_screens_without_its_text(app, debate):
    projector = connect(app, audience="projector")
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    received(projector), received(staff)
    assert emit(staff, "contribution.hide", {"id": debate.ideas[3], "key": "hide-abuse"})["ok"]
    [public] = [p for n, p in received(projector) if n == "contribution.updated"]
    assert public == {"id": debate.ideas[3], "status": "hidden", "change": "hidden"}
    [private] = [p for n, p in received(staff) if n == "contribution.updated"]
    assert private["text"] and private["status"] == "hidden"
    assert emit(staff, "contribution.unhide", {"id": debate.ideas[3], "key": "unhide-ok"})["ok"]
    [back] = [p for n, p in received(projector) if n == "contribution.updated"]
    assert back["status"] == "visible" and back["text"]


def test_point_corrections_push_the_new_picture(app, debate):
    projector = connect(app, audience="projector")
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    received(projector)
    fibre, antenne = debate.point("fibre"), debate.point("antenne")
    ack = emit(staff, "point.rename", {"cluster": fibre.key, "label": "La fibre partout",
                                       "key": "rename-01"})
    assert ack["ok"] and ack["label"] == "La fibre partout."  # a normalised statement
    [(name, pushed)] = received(projector)
    assert name == "points.updated" and pushed["reason"] == "renamed"
    acces = next(t for t in pushed["picture"]["themes"] if t["code"] == "acces")
    assert acces["points"][0]["label"] == "La fibre partout."
    ack = emit(staff, "point.merge", {"into": fibre.key, "from": [antenne.key],
                                      "key": "merge-01"})
    assert ack["ok"] and ack["size"] == 5 and sorted(ack["ids"]) == debate.ideas[3:5]
    [(name, pushed)] = received(projector)
    assert pushed["reason"] == "merged" and {c["id"] for c in pushed["changed"]} == set(
        debate.ideas[3:5])
    acces = next(t for t in pushed["picture"]["themes"] if t["code"] == "acces")
    assert [(p["key"], p["label"], p["size"]) for p in acces["points"]] == [
        (fibre.key, "La fibre partout.", 5)]
    ack = emit(staff, "point.split", {"cluster": fibre.key, "ids": debate.ideas[3:5],
                                      "label": "Zones blanches", "key": "split-01"})
    assert ack["ok"]
    [(name, pushed)] = received(projector)
    acces = next(t for t in pushed["picture"]["themes"] if t["code"] == "acces")
    assert [(p["label"], p["size"]) for p in acces["points"]] == [
        ("La fibre partout.", 3), ("Zones blanches.", 2)]


def test_projector_mode_is_pushed_and_in_the_next_snapshot(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    ack = emit(staff, "projector.mode", {"mode": "theme", "theme": "formation",
                                         "key": "mode-theme-1"})
    assert ack == {"ok": True, "mode": "theme", "theme": "formation",
                   "theme_label": "Formation", "label": "Un thème en détail"}
    [(name, pushed)] = received(projector)
    assert name == "projector.mode" and pushed["theme"] == "formation"
    snap = screens.snapshot(db.session.get(Congress, debate.congress.id), "projector")
    assert snap["projector"] == {"mode": "theme", "theme": "formation"}
    assert snap["focus"]["count"] == 4 and len(snap["focus"]["points"]) == 2
    assert not emit(staff, "projector.mode", {"mode": "theme", "key": "mode-theme-2"})["ok"]
    assert emit(staff, "projector.mode", {"mode": "vote", "key": "mode-vote-1"})["ok"]


def test_support_is_counted_once_in_the_database_and_pushed(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    phone = connect(app, http_client(app, debate, "participant"), "participants")
    ack = emit(phone, "support", {"id": debate.ideas[0], "key": "plus-un-01"})
    assert ack == {"ok": True, "id": debate.ideas[0], "supports": 1}
    [(name, pushed)] = received(projector)
    assert name == "points.updated" and pushed["supports"] == {str(debate.ideas[0]): 1}
    again = emit(phone, "support", {"id": debate.ideas[0], "key": "plus-un-02"})
    assert not again["ok"] and "déjà" in again["error"]
    assert debate.idea(0).supports == 1 and _count(Support) == 1


def test_phase_change_and_refit_are_pushed(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    staff = http_client(app, debate, "facilitator")
    assert staff.post("/animation/phase", data={"phase": "drafting"}).status_code == 302
    pushed = dict(received(projector))
    assert pushed["phase.changed"]["phase"] == "drafting"
    run = sorting.refit(debate.congress.id)
    pictures.points_updated(debate.congress.id, run)
    pushed = dict(received(projector))
    assert pushed["points.updated"]["reason"] == "refit"
    assert pushed["points.updated"]["picture"]["total"] == 12


def test_nothing_is_pushed_when_the_action_fails(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    ack = emit(staff, "contribution.duplicate", {"id": debate.ideas[0],
                                                 "of": debate.ideas[0], "key": "self-dup"})
    assert not ack["ok"] and "elle-même" in ack["error"]
    assert received(projector) == []
    assert debate.idea(0).status == "visible"
