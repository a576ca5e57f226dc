"""Live counts keep their words in agreement (issue 14): one voter present, the
facilitator's ballot page and the vote projector read « 0 vote sur 1 votant·e », and after
the phone votes, pushed live, « 1 vote sur 1 votant·e », never a fixed « votant·es ». The
facilitator's page shows presence, quorum and progress as the phone does, live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from deliberation import ballots, drafting
from deliberation.extensions import db
from deliberation.models import Article, Participant

from .conftest import demo_in_vote_phase, start_server, stop_server
from .support import check_axe, phone_context, projector_context, staff_login

pytestmark = pytest.mark.browser

CODE = "RURAL26"


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The demo congress voting on an article, one official present, nobody voted."""
    server = start_server(tmp_path_factory.mktemp("live-counts"))
    with demo_in_vote_phase(server, CODE) as congress:
        facilitator = db.session.scalar(select(Participant).filter_by(
            congress_id=congress.id, role="facilitator"))
        drafting.articles(congress)
        article = db.session.scalar(select(Article).where(
            Article.congress_id == congress.id, Article.theme_id.is_not(None))
            .order_by(Article.position))
        drafting.save_version(article, "La fibre partout", "Le très haut débit partout.",
                              facilitator)
        db.session.commit()
        for person in db.session.scalars(select(Participant).filter_by(
                congress_id=congress.id, role="participant")):
            if person.present:
                ballots.set_present(person, False, None)
        voter = db.session.scalar(select(Participant).filter_by(
            congress_id=congress.id, role="participant").order_by(Participant.id))
        ballots.set_present(voter, True, None)
        ballot = ballots.create(congress, "Article sur la fibre", article=article)
        db.session.commit()
        ballots.open_ballot(ballot.id)
        server.token, server.ballot = voter.invite_token, ballot.id
        db.session.remove()
        db.engine.dispose()
    yield server
    stop_server(server)


def test_a_live_count_agrees_with_its_number(room, browser):
    staff, board = staff_login(browser, room.url)
    with projector_context(browser) as screen_context, phone_context(browser) as phone:
        board.goto(f"{room.url}/animation/scrutins")
        stats = board.locator(f"#scrutin-{room.ballot} .vote-stats")
        line = stats.locator(".vote-progress")
        expect(line).to_have_text(re.compile(r"^0 vote sur 1 votant·e attendu·e"))
        expect(stats.locator(".vote-presence")).to_have_text(re.compile(r"^1 élu·e présent·e"))
        expect(stats.get_by_role("progressbar", name="Votes exprimés")).to_have_attribute(
            "aria-valuenow", "0")
        screen = screen_context.new_page()
        screen.goto(f"{room.url}/projecteur/{CODE}/vote")
        expect(screen.locator(".pv-count")).to_have_text(
            re.compile(r"^0 vote sur 1 votant·e$"), timeout=15_000)
        page = phone.new_page()
        page.goto(f"{room.url}/i/{room.token}")
        page.goto(f"{room.url}/c/{CODE}/vote")
        page.get_by_label("Pour", exact=True).focus()
        page.keyboard.press("Space")
        page.keyboard.press("Enter")
        expect(page.locator(".vote-done")).to_contain_text("Votre vote est enregistré")
        # The facilitator's page hears the same progress as the projector, live.
        expect(line).to_have_text(re.compile(r"^1 vote sur 1 votant·e attendu·e"),
                                  timeout=5_000)
        expect(stats.get_by_role("progressbar", name="Votes exprimés")).to_have_attribute(
            "aria-valuenow", "100")
        expect(screen.locator(".pv-count")).to_have_text(
            re.compile(r"^1 vote sur 1 votant·e$"), timeout=5_000)
        check_axe(board, "facilitator's ballots, live")
    staff.close()
    assert "Traceback" not in room.log.read_text()
