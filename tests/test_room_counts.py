"""Votes counted in the room (deliberation/room_counts.py, web/room_counts.py): two-person
rule, no voter counted twice, results summed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from deliberation import ballots, drafting, publication, publishing, room_counts
from deliberation.csv_io import TOOLS
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import AuditEvent, Ballot, RoomCount

from .conftest import make_person, staff_login, text_of


@pytest.fixture
def room(congress):
    """Vote phase: six present officials, one proxy, a facilitator and a scribe."""
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu {i}", present=True) for i in range(6)]
    giver = make_person(congress, "Élue absente")
    ballots.grant_proxy(giver, people[0], None)
    facilitator = make_person(congress, "Animation", role="facilitator",
                              email="anim@example.org", password="motdepasse-solide")
    scribe = make_person(congress, "Relevé", role="scribe", email="scribe@example.org",
                         password="motdepasse-solide")
    return {"congress": congress, "people": people, "facilitator": facilitator,
            "scribe": scribe}


def closed_ballot(room, votes=("pour", "contre"), **options) -> Ballot:
    """A ballot on which the first officials voted electronically, then closed."""
    ballot = ballots.create(room["congress"], "Article 1", **options)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    for person, choice in zip(room["people"], votes, strict=False):
        ballots.cast_vote(ballot.id, person.id, choice)
    return ballots.close_ballot(ballot.id)


def refused(call) -> str:
    with pytest.raises(InputError) as err:
        call()
    db.session.rollback()
    return err.value.message


def test_a_room_count_that_would_double_a_voter_is_refused(room):
    ballot = closed_ballot(room)
    eligible, electronic = ballot.results["eligible"], ballot.results["voters"]
    assert room_counts.room_capacity(ballot) == eligible - electronic
    message = refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="hands", people=eligible - electronic + 1,
        pour=1))
    assert "ne peut pas être comptée une seconde fois" in message
    assert db.session.scalar(select(RoomCount.id)) is None
    # exactly the room left is accepted
    room_counts.record(ballot, room["facilitator"], method="hands",
                       people=eligible - electronic, pour=2, contre=1, abstention=1)


def test_totals_must_fit_the_people_counted_and_the_input_must_be_numbers(room):
    ballot = closed_ballot(room)
    assert "dépassent" in refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="paper", people=2, pour=2, contre=1))
    assert "nombre entier" in refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="paper", people="deux", pour=1))
    assert "méthode" in refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="fax", people=2, pour=1))
    assert "nombre entier" in refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="paper", people=3, pour=-1))


def test_only_a_closed_ballot_takes_a_room_count(room):
    ballot = ballots.create(room["congress"], "Brouillon")
    db.session.commit()
    assert "clos" in refused(lambda: room_counts.record(
        ballot, room["facilitator"], method="hands", people=1, pour=1))


def test_confirmation_by_a_second_staff_member_and_the_sums(room):
    ballot = closed_ballot(room, votes=("pour", "contre", "contre"))
    electronic = dict(ballot.results["counts"])
    room_counts.record(ballot, room["facilitator"], method="hands", people=4,
                       pour=3, contre=0, abstention=0)
    # pending: not in the results, not publishable
    assert ballots.results(ballot)["counts"] == electronic
    assert "en attente de confirmation" in refused(
        lambda: ballots.publish_ballot(ballot.id))
    # the same person cannot confirm their own entry
    assert "autre personne" in refused(
        lambda: room_counts.confirm(ballot, room["facilitator"]))
    # an official cannot confirm either
    assert "équipe" in refused(lambda: room_counts.confirm(ballot, room["people"][3]))
    ballot = room_counts.confirm(ballot, room["scribe"])
    r = ballots.results(ballot)
    assert r["electronic"]["counts"] == electronic
    assert r["room"]["counts"] == {"pour": 3, "contre": 0, "abstention": 0}
    assert r["room"]["without_vote"] == 1
    assert r["counts"] == {c: electronic[c] + r["room"]["counts"][c] for c in electronic}
    assert r["cast"] == sum(r["counts"].values())
    assert r["adopted"]  # 4 pour against 2 contre: the majority applies to the sum
    assert r["voters"] == 3 + 3
    assert "déjà confirmé" in refused(lambda: room_counts.confirm(ballot, room["facilitator"]))
    ballots.publish_ballot(ballot.id)
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "room_count.recorded" in actions and "room_count.confirmed" in actions
    # the chain and the recount agree with the summed results
    lines, problems = ballots.verify_report()
    assert problems == []
    row = publication.ballot_rows(room["congress"])[0]
    assert row["counts"] == r["counts"] and row["electronic"] == electronic
    assert row["room"]["people"] == 4
    table = publication.results_csv(publication.document(room["congress"]), TOOLS)
    assert table.splitlines()[1].endswith("3,0,0,4,à main levée")


def test_quorum_applies_to_the_sum(room):
    ballot = closed_ballot(room, votes=("pour",), quorum=4)
    assert not ballot.results["quorum_reached"]
    room_counts.record(ballot, room["scribe"], method="paper", people=3, pour=2, abstention=1)
    ballot = room_counts.confirm(ballot, room["facilitator"])
    assert ballot.results["quorum_reached"] and ballot.results["adopted"]


def test_a_pending_count_can_be_discarded_and_entered_again(room):
    ballot = closed_ballot(room)
    room_counts.record(ballot, room["facilitator"], method="hands", people=2, pour=2)
    assert "existe déjà" in refused(lambda: room_counts.record(
        ballot, room["scribe"], method="hands", people=1, pour=1))
    room_counts.discard(ballot, room["scribe"])
    room_counts.record(ballot, room["scribe"], method="hands", people=1, pour=1)
    assert room_counts.of_ballot(ballot.id).people == 1


def test_the_database_refuses_a_self_confirmation(room):
    ballot = closed_ballot(room)
    count = room_counts.record(ballot, room["facilitator"], method="hands", people=1, pour=1)
    count.confirmed_by_id = room["facilitator"].id
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, whatever the driver
        db.session.commit()
    db.session.rollback()


def test_the_page_two_staff_members_and_a_french_refusal(app, room):
    ballot = closed_ballot(room)
    first, second = app.test_client(), app.test_client()
    staff_login(first, "anim@example.org")
    g.pop("_login_user", None)
    staff_login(second, "scribe@example.org")
    g.pop("_login_user", None)
    page = first.get("/animation/decomptes-salle")
    assert page.status_code == 200 and "Article 1" in text_of(page)
    token = _csrf(page)
    too_many = first.post(f"/animation/decomptes-salle/{ballot.id}", data={
        "csrf_token": token, "method": "hands", "people": "99", "pour": "1"})
    assert too_many.status_code == 422
    assert "seconde fois" in text_of(too_many)
    assert 'value="99"' in too_many.get_data(as_text=True)  # nothing lost
    done = first.post(f"/animation/decomptes-salle/{ballot.id}", data={
        "csrf_token": token, "method": "paper", "people": "2", "pour": "1", "contre": "1"})
    assert done.status_code == 302
    assert "en attente de confirmation" in text_of(first.get("/animation/decomptes-salle"))
    self_confirm = first.post(f"/animation/decomptes-salle/{ballot.id}/confirmer",
                              data={"csrf_token": token})
    assert self_confirm.status_code == 422 and "autre personne" in text_of(self_confirm)
    g.pop("_login_user", None)  # the test's app context outlives each request
    page = second.get("/animation/decomptes-salle")
    confirmed = second.post(f"/animation/decomptes-salle/{ballot.id}/confirmer",
                            data={"csrf_token": _csrf(page)})
    assert confirmed.status_code == 302, text_of(confirmed)
    g.pop("_login_user", None)
    listing = text_of(first.get("/animation/scrutins"))
    assert "décompte de la salle (bulletins papier" in listing


def _csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"',
                     response.get_data(as_text=True)).group(1)


def test_phones_and_the_published_page_show_both_parts(app, room):
    from .conftest import login

    ballot = closed_ballot(room, votes=("pour", "contre"))
    room_counts.record(ballot, room["scribe"], method="paper", people=3, contre=2)
    room_counts.confirm(ballot, room["facilitator"])
    phone = app.test_client()
    login(phone, room["people"][5])
    page = text_of(phone.get("/c/TEST26/vote"))
    assert "Dont votes électroniques : pour 1, contre 1, abstention 0" in page
    assert "bulletins papier, 3 personnes comptées, dont 1 sans vote" in page
    assert "Contre : 3" in page


def test_a_pending_room_count_on_an_article_publishes_nothing_of_the_text(room):
    """Publishing the whole text publishes its articles' results too: one of them still
    waiting for its second person refuses the whole publication, and nothing of it is
    published (it once published the ballots before the one waiting)."""
    congress = room["congress"]
    one, two = [a for a in drafting.articles(congress) if a.kind == "theme"][:2]
    first, on_article = (ballots.create(congress, f"Article {n}", article=article)
                         for n, article in ((1, one), (2, two)))
    db.session.commit()
    for ballot in (first, on_article):
        ballots.open_ballot(ballot.id)
        for person in room["people"][:2]:
            ballots.cast_vote(ballot.id, person.id, "pour")
        ballots.close_ballot(ballot.id)
    room_counts.record(db.session.get(Ballot, on_article.id), room["facilitator"],
                       method="hands", people=3, pour=3)
    db.session.commit()
    whole = ballots.create(congress, "Ensemble du texte")
    db.session.commit()
    ballots.open_ballot(whole.id)
    for person in room["people"][:3]:
        ballots.cast_vote(whole.id, person.id, "pour")
    ballots.close_ballot(whole.id)

    message = refused(lambda: publishing.publish(whole.id, room["facilitator"].id))
    assert "« Article 2 »" in message and "Rien n'a été publié" in message
    states = {b.id: b.state for b in db.session.scalars(select(Ballot))}
    assert states[first.id] == states[on_article.id] == states[whole.id] == "closed"
    assert publishing.latest(congress) is None

    room_counts.confirm(db.session.get(Ballot, on_article.id), room["scribe"])
    db.session.commit()
    published, version = publishing.publish(whole.id, room["facilitator"].id)
    assert version.number == 1 and len(published) == 3
