"""The facilitator's back office: login, roles, phase control, counts, participants, CSV."""

from __future__ import annotations

import io

import pytest

from deliberation.extensions import db
from deliberation.models import AuditEvent, Contribution, Participant

from .conftest import login, staff_login, text_of


def test_login_with_password_and_wrong_password(client, facilitator):
    bad = client.post("/animation/connexion", data={"email": "anim@example.org",
                                                    "password": "faux"})
    assert bad.status_code == 401 and "incorrect" in text_of(bad)
    staff_login(client, "anim@example.org")
    page = client.get("/animation/")
    assert page.status_code == 200 and "Congrès de test" in text_of(page)


def test_login_redirects_only_to_local_pages(client, facilitator):
    response = client.post("/animation/connexion?next=//evil.example/x",
                           data={"email": "anim@example.org", "password": "motdepasse-solide"})
    assert response.headers["Location"] == "/animation/"


@pytest.mark.parametrize("url, method", [
    ("/animation/", "get"), ("/animation/participants", "get"), ("/animation/invitations", "get"),
    ("/animation/export/contributions.csv", "get"), ("/animation/phase", "post"),
    ("/animation/contributions/import", "get"),
])
def test_participants_and_visitors_are_kept_out(client, official, url, method):
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and "/animation/connexion" in anonymous.headers["Location"]
    login(client, official)
    forbidden = getattr(client, method)(url)
    assert forbidden.status_code == 403


def test_scribe_sees_dashboard_but_cannot_change_phase(client, congress, scribe):
    staff_login(client, "scribe@example.org")
    assert client.get("/animation/").status_code == 200
    assert client.post("/animation/phase", data={"phase": "closed"}).status_code == 403
    assert client.get("/animation/participants").status_code == 403


def test_phase_change_is_audited(client, congress, facilitator):
    staff_login(client, "anim@example.org")
    client.post("/animation/phase", data={"phase": "debate"})
    db.session.refresh(congress)
    assert congress.phase == "debate"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="congress.phase"))
    assert event.payload == {"previous": "consultation", "phase": "debate"}
    client.post("/animation/phase", data={"phase": "n'importe"})
    db.session.refresh(congress)
    assert congress.phase == "debate"


def test_dashboard_counts(client, congress, facilitator, official):
    acces = congress.themes[0]
    db.session.add_all([
        Contribution(congress_id=congress.id, author_id=official.id, text="a", theme_id=acces.id),
        Contribution(congress_id=congress.id, speaker_name="Orateur", text="b", channel="live",
                     theme_id=acces.id),
        Contribution(congress_id=congress.id, author_id=official.id, text="c"),
    ])
    db.session.commit()
    staff_login(client, "anim@example.org")
    html = client.get("/animation/").get_data(as_text=True)
    assert 'data-stat="contributions">3<' in html
    assert 'data-stat="live">1<' in html and 'data-stat="online">2<' in html
    assert 'data-theme-count="acces">2<' in html
    assert 'data-theme-count="non_classe">1<' in html


def test_dashboard_shows_the_stored_sorting_run(client, congress, facilitator, official):
    """Theme counts, the « à vérifier » queue and recurring points come from the stored run."""
    from deliberation import sorting

    texts = ["La fibre optique doit arriver dans tous les hameaux de la commune.",
             "Fibre optique pour tous les hameaux : on attend toujours.",
             "Former les seniors au numérique dans des ateliers à la médiathèque.",
             "Des ateliers de formation au numérique pour les seniors.",
             "Le marché du dimanche manque de places de stationnement."]
    for text in texts:
        db.session.add(Contribution(congress_id=congress.id, author_id=official.id, text=text))
    db.session.commit()
    sorting.refit(congress.id)
    staff_login(client, "anim@example.org")
    page = text_of(client.get("/animation/"))
    assert "Tri automatique" in page and "Dernier tri : 5 contributions" in page
    assert "Premier tri de ce congrès" in page
    assert "À vérifier (" in page
    assert "Points récurrents par thème" in page
    summary = sorting.dashboard_summary(congress)
    assert summary["run"].n_contributions == 5
    ranks = [c.review_rank for c in summary["review"]]
    assert ranks == sorted(ranks)  # most uncertain first
    largest = [p for pts in summary["points"].values() for p in pts]
    assert all(p.size > 1 for p in largest)
    for point in largest:
        assert point.display_label in page
    sorting.refit(congress.id)
    assert "Changements depuis le tri précédent" in text_of(client.get("/animation/"))


def test_add_revoke_and_reissue_participant(client, congress, facilitator):
    staff_login(client, "anim@example.org")
    bad = client.post("/animation/participants", data={"display_name": "", "role": "participant"})
    assert bad.status_code == 422 and "obligatoire" in text_of(bad)
    client.post("/animation/participants", data={"display_name": "Nina Payet", "commune": "Cilaos",
                                                 "department_code": "974", "role": "participant"})
    nina = db.session.scalar(db.select(Participant).filter_by(display_name="Nina Payet"))
    old_token = nina.invite_token
    assert old_token in client.get("/animation/participants").get_data(as_text=True)
    assert old_token in client.get("/animation/invitations").get_data(as_text=True)
    client.post(f"/animation/participants/{nina.id}/revoquer")
    db.session.refresh(nina)
    assert not nina.is_active
    other = client.application.test_client()
    assert other.get(f"/i/{old_token}").status_code == 404
    client.post(f"/animation/participants/{nina.id}/nouveau-lien")
    db.session.refresh(nina)
    assert nina.is_active and nina.invite_token != old_token
    assert other.get(f"/i/{nina.invite_token}").status_code == 302
    assert other.get(f"/i/{old_token}").status_code == 404


def test_facilitator_cannot_revoke_self(client, congress, facilitator):
    staff_login(client, "anim@example.org")
    client.post(f"/animation/participants/{facilitator.id}/revoquer")
    db.session.refresh(facilitator)
    assert facilitator.is_active


def test_import_participants_via_web_all_or_nothing(client, congress, facilitator):
    staff_login(client, "anim@example.org")
    bad = io.BytesIO(b"nom,commune\nAnne,Murat\n,Ussel\n")
    page = client.post("/animation/participants/import", data={"file": (bad, "p.csv")},
                       follow_redirects=True)
    assert "Import refusé, rien n'a été ajouté. Ligne 3" in text_of(page)
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 1
    good = io.BytesIO(b"nom,commune\nAnne,Murat\nBruno,Ussel\n")
    page = client.post("/animation/participants/import", data={"file": (good, "p.csv")},
                       follow_redirects=True)
    assert "2 participant·es importé·es" in text_of(page)
    page = client.post("/animation/participants/import", data={}, follow_redirects=True)
    assert "aucun fichier choisi" in text_of(page)


def test_import_contributions_via_web(client, congress, facilitator):
    staff_login(client, "anim@example.org")
    data = io.BytesIO("texte,auteur\nLa 5G dans les vallées,Anne\n".encode())
    page = client.post("/animation/contributions/import", data={"file": (data, "c.csv")},
                       follow_redirects=True)
    assert "1 contributions importées" in text_of(page)
    bad = io.BytesIO(b"texte;auteur\nLa 5G;Anne\n")
    page = client.post("/animation/contributions/import", data={"file": (bad, "c.csv")},
                       follow_redirects=True)
    assert "séparateur" in text_of(page)


def test_exports(client, congress, facilitator, official):
    db.session.add(Contribution(congress_id=congress.id, author_id=official.id,
                                text="=1+1 fibre"))
    db.session.commit()
    staff_login(client, "anim@example.org")
    response = client.get("/animation/export/contributions.csv")
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "'=1+1 fibre" in body and "Marie Durand" in body
    people = client.get("/animation/export/participants.csv").get_data(as_text=True)
    assert official.invite_token in people
    assert client.get("/animation/export/secrets.csv").status_code == 404
