"""Procurations in bulk (issue 18): a CSV of (donneur, porteur), under the rules of the
one-at-a-time form, all or nothing, French errors with the line number."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from deliberation import ballots, proxy_import
from deliberation.csv_io import CsvError
from deliberation.extensions import db
from deliberation.models import AuditEvent, Participant

from .conftest import login, make_person, text_of


@pytest.fixture
def room(congress):
    """Three present officials, four absent ones (two share a name), an observer."""
    present = [make_person(congress, f"Présent {n}", present=True, email=f"p{n}@ex.fr")
               for n in range(3)]
    absent = [make_person(congress, f"Absent {n}", email=f"a{n}@ex.fr") for n in range(2)]
    absent += [make_person(congress, "Jean Martin", commune="Vic-sur-Cère"),
               make_person(congress, "Jean Martin", commune="Murat")]
    observer = make_person(congress, "Olga", role="observer")
    return {"present": present, "absent": absent, "observer": observer}


def _csv(*lines: str) -> bytes:
    return ("donneur,porteur\n" + "\n".join(lines) + "\n").encode()


def _proxies(congress) -> dict[int, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(Participant.id, Participant.proxy_for_id).filter_by(
        congress_id=congress.id).where(Participant.proxy_for_id.is_not(None))).all())


def test_every_way_of_naming_a_person(congress, room):
    p, a = room["present"], room["absent"]
    congress.max_proxies = 2
    n = proxy_import.import_proxies(congress, _csv(
        f"{a[0].id},{p[0].id}",
        "A1@EX.FR,p1@ex.fr",
        "Jean Martin (Murat),présent 2",
        "Jean Martin (Vic-sur-Cère),Présent 0"), None)
    db.session.commit()
    assert n == 4
    assert _proxies(congress) == {a[0].id: p[0].id, a[1].id: p[1].id, a[3].id: p[2].id,
                                  a[2].id: p[0].id}
    entries = db.session.scalars(select(AuditEvent).filter_by(action="proxy.granted")).all()
    assert len(entries) == 4 and all(e.payload["via"] == "import" for e in entries)


@pytest.mark.parametrize("lines, line, message", [
    (("{a0},{p0}", "{a1},{p0}"), 3, "déjà 1 procuration"),  # the limit (1)
    (("{a0},{p0}", "{p0},{p1}"), 3, "présente vote elle-même"),
    (("{a0},{p0}", "{a1},{a0}"), 3, "a elle-même donné"),  # no chain: holder gave
    (("{a0},{p0}", "{a0},{p1}"), 3, "à la ligne 2"),  # twice the same giver
    (("{a0},{a0}",), 2, "soi-même"),
    (("{a0},{obs}",), 2, "observateur"),
    (("Jean Martin,{p0}",), 2, "ajoutez la commune"),
    (("Inconnu,{p0}",), 2, "personne ne s'appelle"),
    (("99999,{p0}",), 2, "n° 99999"),
    (("x@y.fr,{p0}",), 2, "aucune personne du congrès"),
])
def test_a_wrong_line_imports_nothing_and_is_named(congress, room, lines, line, message):
    p, a = room["present"], room["absent"]
    names = {"p0": p[0].id, "p1": p[1].id, "a0": a[0].id, "a1": a[1].id,
             "obs": room["observer"].id}
    data = _csv(*(row.format(**names) for row in lines))
    with pytest.raises(CsvError) as caught:
        proxy_import.import_proxies(congress, data, None)
    db.session.rollback()
    assert caught.value.line == line and message in caught.value.message
    assert caught.value.message.startswith(f"Ligne {line} : ")
    assert _proxies(congress) == {}


def test_a_giver_who_carries_a_procuration_cannot_give_hers(congress, room):
    p, a = room["present"], room["absent"]
    ballots.grant_proxy(a[0], a[1], None)  # a1, absent, carries a0's vote
    with pytest.raises(CsvError, match="porte elle-même des procurations"):
        proxy_import.import_proxies(congress, _csv(f"{a[1].id},{p[0].id}"), None)
    db.session.rollback()
    assert _proxies(congress) == {a[0].id: a[1].id}


def test_the_limit_counts_the_procurations_already_given(congress, room):
    p, a = room["present"], room["absent"]
    ballots.grant_proxy(a[0], p[0], None)
    with pytest.raises(CsvError, match="Ligne 2 .*maximum"):
        proxy_import.import_proxies(congress, _csv(f"{a[1].id},{p[0].id}"), None)
    db.session.rollback()
    congress.max_proxies = 2
    db.session.commit()
    # moving a0 to another holder frees p0's place, as the one-at-a-time form does
    assert proxy_import.import_proxies(congress, _csv(f"{a[0].id},{p[1].id}",
                                                      f"{a[1].id},{p[0].id}"), None) == 2
    db.session.commit()
    assert _proxies(congress) == {a[0].id: p[1].id, a[1].id: p[0].id}


def test_the_presence_page_imports_or_refuses_the_whole_file(client, congress, room,
                                                              facilitator):
    p, a = room["present"], room["absent"]
    login(client, facilitator)
    page = client.get("/animation/presence")
    assert "Importer des procurations" in text_of(page)
    bad = client.post("/animation/procurations/import", data={
        "file": (io.BytesIO(_csv(f"{a[0].id},{p[0].id}", f"{a[1].id},{p[0].id}")),
                 "procurations.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "aucune procuration n'a été enregistrée. Ligne 3 :" in text_of(bad)
    assert _proxies(congress) == {}
    empty = client.post("/animation/procurations/import", data={},
                        content_type="multipart/form-data")
    assert empty.status_code == 422 and "aucun fichier choisi" in text_of(empty)
    good = client.post("/animation/procurations/import", data={
        "file": (io.BytesIO(_csv(f"{a[0].id},{p[0].id}", f"{a[1].id},{p[1].id}")),
                 "procurations.csv")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert good.status_code == 200 and "2 procurations importées" in text_of(good)
    assert _proxies(congress) == {a[0].id: p[0].id, a[1].id: p[1].id}
