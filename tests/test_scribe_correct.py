"""The scribe's « Corriger » (issue 14): an idea just captured in the room can have its
text and its speaker corrected, over the socket and over plain HTTP; a bad correction is
refused in French and loses nothing; a good one reaches the projector and the board like
any edit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation import contributions as contrib
from deliberation.extensions import db
from deliberation.models import AuditEvent

from .conftest import text_of
from .debate import build, connect, emit, http_client, received


@pytest.fixture
def debate(congress):
    return build(congress)


def _stored(debate, index: int) -> tuple[str, str, str | None]:
    db.session.expire_all()
    idea = debate.idea(index)
    return idea.text, idea.speaker_name, idea.speaker_commune


def test_a_correction_reaches_every_screen(app, debate):
    projector = connect(app, audience="projector")
    board = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    received(projector), received(board)
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    received(scribe)
    ack = emit(scribe, "contribution.correct", {
        "id": debate.ideas[0], "key": "corriger-0001", "speaker": "Mme Inès Martin",
        "commune": "Thiézac",
        "text": "La fibre optique doit arriver dans tous les villages du Cantal avant 2030."})
    assert ack["ok"] and ack["changed"] == ["text", "speaker", "commune"], ack
    assert ack["speaker"] == "Mme Inès Martin" and ack["commune"] == "Thiézac"
    assert _stored(debate, 0) == (
        "La fibre optique doit arriver dans tous les villages du Cantal avant 2030.",
        "Mme Inès Martin", "Thiézac")
    for sock in (projector, board):
        [update] = [p for name, p in received(sock) if name == "contribution.updated"]
        assert update["change"] == "edited" and update["speaker"] == "Mme Inès Martin"
        assert update["text"].endswith("avant 2030.")
    audit = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "contribution.corrected").order_by(AuditEvent.id.desc()))
    assert audit.payload["fields"] == ["text", "speaker", "commune"]
    # The same key again: answered the same, applied once.
    again = emit(scribe, "contribution.correct", {
        "id": debate.ideas[0], "key": "corriger-0001", "speaker": "Autre", "text": "Autre idée"})
    assert again == ack


def test_a_registered_speaker_brings_their_name_and_commune(app, debate):
    official = debate.people["participant"]
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    ack = emit(scribe, "contribution.correct", {
        "id": debate.ideas[1], "key": "corriger-0002", "participant_id": official.id,
        "speaker": "", "text": debate.idea(1).text})
    assert ack["ok"] and ack["changed"] == ["speaker", "commune"]
    assert _stored(debate, 1)[1:] == ("Paul Participant", "Vic-sur-Cère")


def test_nothing_changed_pushes_nothing(app, debate):
    projector = connect(app, audience="projector")
    received(projector)
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    idea = debate.idea(2)
    ack = emit(scribe, "contribution.correct", {
        "id": idea.id, "key": "corriger-0003", "speaker": idea.speaker_name,
        "commune": idea.speaker_commune, "text": idea.text})
    assert ack["ok"] and ack["changed"] == []
    assert received(projector) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"text": "ok"}, "ne dit pas encore quelle idée"),
    ({"text": "   "}, "est vide"),
    ({"text": None}, "est vide"),
    ({"text": "x" * 2001}, "la limite est de 2"),
    ({"speaker": ""}, "Le nom de l'orateur est obligatoire"),
    ({"speaker": "N" * 121}, "Le nom de l'orateur dépasse 120 caractères"),
    ({"speaker": ["liste"]}, "Le nom de l'orateur doit être un texte"),
    ({"commune": "C" * 121}, "La commune dépasse 120 caractères"),
    ({"participant_id": 999_999}, "n'est pas inscrit à ce congrès"),
    ({"id": 999_999}, "n'existe pas dans ce congrès"),
    ({"id": "abc"}, "nombre entier positif"),
])
def test_bad_input_is_refused_in_french_and_changes_nothing(app, debate, change, message):
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    before = _stored(debate, 3)
    data = {"id": debate.ideas[3], "key": "corriger-bad-1", "speaker": "Orateur 3",
            "commune": "Aurillac", "text": "Une antenne 4G dans chaque commune du Cantal."}
    data.update(change)
    ack = emit(scribe, "contribution.correct", data)
    assert ack["ok"] is False and message in ack["error"], ack
    assert _stored(debate, 3) == before


def test_an_officials_own_idea_and_closed_phases_are_refused(app, debate):
    official = debate.people["participant"]
    own, _ = contrib.create(debate.congress, "Un guichet numérique dans chaque mairie.",
                            author=official)
    db.session.commit()
    scribe = connect(app, http_client(app, debate, "scribe"), "facilitator")
    ack = emit(scribe, "contribution.correct", {
        "id": own.id, "key": "corriger-0004", "speaker": "Quelqu'un",
        "text": "Un guichet numérique dans chaque école."})
    assert not ack["ok"] and "ne se modifie que par son auteur·rice" in ack["error"]
    debate.congress.phase = "vote"
    db.session.commit()
    ack = emit(scribe, "contribution.correct", {
        "id": debate.ideas[4], "key": "corriger-0005", "speaker": "Orateur 4",
        "text": "Une idée corrigée trop tard, pendant le vote."})
    assert not ack["ok"] and "Les contributions ne sont ouvertes" in ack["error"]


def test_without_javascript_a_refusal_keeps_what_was_typed(app, debate):
    scribe = http_client(app, debate, "scribe")
    idea = debate.ideas[5]
    page = scribe.get("/animation/releve")
    assert f'action="/animation/releve/{idea}/corriger"' in page.get_data(as_text=True)
    assert "Corriger le texte ou l'orateur·rice de l'idée n° " in text_of(page)
    refused = scribe.post(f"/animation/releve/{idea}/corriger", data={
        "speaker": "", "commune": "Murat", "text": "Mon texte corrigé à garder.",
        "key": "corriger-http-1"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Le nom de l'orateur est obligatoire" in text_of(refused)
    assert '<details class="recent-edit" open>' in html
    assert "Mon texte corrigé à garder.</textarea>" in html and 'value="Murat"' in html
    assert 'aria-invalid="true"' in html
    done = scribe.post(f"/animation/releve/{idea}/corriger", data={
        "speaker": "M. Jean Roux", "commune": "Murat", "text": "Mon texte corrigé à garder.",
        "key": "corriger-http-2"})
    assert done.status_code == 302 and done.location.endswith(f"/animation/releve#idee-{idea}")
    assert _stored(debate, 5) == ("Mon texte corrigé à garder.", "M. Jean Roux", "Murat")
    assert f"Idée n° {idea} corrigée." in text_of(scribe.get("/animation/releve"))


def test_an_older_idea_refused_over_http_comes_back_with_its_form(app, debate):
    for n in range(12):  # the first ideas leave the recent list
        contrib.create(debate.congress, f"Une idée relevée de plus, numéro {n}.",
                       speaker_name="Orateur", channel="live")
    db.session.commit()
    scribe = http_client(app, debate, "scribe")
    oldest = debate.ideas[0]
    assert f'id="idee-{oldest}"' not in scribe.get("/animation/releve").get_data(as_text=True)
    refused = scribe.post(f"/animation/releve/{oldest}/corriger", data={
        "speaker": "Orateur 0", "text": "ok", "key": "corriger-http-3"})
    assert refused.status_code == 422 and "ok</textarea>" in refused.get_data(as_text=True)
    unknown = scribe.post("/animation/releve/999999/corriger", data={
        "speaker": "Orateur 0", "text": "Une idée pour personne.", "key": "corriger-http-4"})
    assert unknown.status_code == 422
    assert "Correction impossible" in text_of(unknown) and "n'existe pas" in text_of(unknown)
    assert http_client(app, debate, "participant").post(
        f"/animation/releve/{oldest}/corriger", data={"text": "x"}).status_code == 403
