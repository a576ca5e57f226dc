"""Presence, quorum and progress on screen during a ballot (issue 14): both projectors and
the phone show who is present, the quorum and whether it is met, and the votes cast as
text and as a progress bar with a text equivalent; a vote from a phone updates them live.
Every screen fits its viewport (1280×720 and 1920×1080; 360 px for the phone) and passes
axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from deliberation import ballots, drafting
from deliberation.extensions import db
from deliberation.models import Article, Congress, Participant

from .conftest import demo_in_vote_phase, start_server, stop_server
from .support import check_axe, phone_context, projector_context, screenshot

pytestmark = pytest.mark.browser

CODE = "RURAL26"
SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
PRESENT = 6  # officials marked present; the first carries one procuration
QUORUM = 4


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The demo congress voting on an article with a quorum of 4: six officials present,
    one procuration, two votes cast; the phone's official has not voted yet."""
    server = start_server(tmp_path_factory.mktemp("vote-presence"))
    with demo_in_vote_phase(server, CODE) as congress:
        facilitator = db.session.scalar(select(Participant).filter_by(
            congress_id=congress.id, role="facilitator"))
        drafting.articles(congress)  # the motion's articles, made on first read
        article = db.session.scalar(select(Article).where(
            Article.congress_id == congress.id, Article.theme_id.is_not(None))
            .order_by(Article.position))
        drafting.save_version(article, "La fibre partout", (
            "Le très haut débit doit atteindre chaque hameau avant 2030, avec un guichet "
            "numérique dans chaque mairie et une médiation pour celles et ceux qui en ont "
            "besoin. ") * 3, facilitator)
        db.session.commit()
        people = list(db.session.scalars(select(Participant).filter_by(
            congress_id=congress.id, role="participant").order_by(Participant.id)))
        for person in people[:PRESENT]:
            ballots.set_present(person, True, None)
        ballots.grant_proxy(people[PRESENT], people[0], None)
        ballot = ballots.create(congress, "Article sur la fibre", article=article,
                                quorum=QUORUM)
        db.session.commit()
        ballots.open_ballot(ballot.id)
        ballots.cast_vote(ballot.id, people[1].id, "pour")
        ballots.cast_vote(ballot.id, people[PRESENT].id, "contre", holder_id=people[0].id)
        congress = db.session.get(Congress, congress.id)
        congress.projector_mode = "vote"
        db.session.commit()
        server.token = people[2].invite_token  # present, has not voted
        db.session.remove()
        db.engine.dispose()
    yield server
    stop_server(server)


FITS = """() => {
  const out = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  for (const el of document.querySelectorAll(
      '.pv-title, .pv-count, .pv-meter-box, .pv-facts, .pv-presence, .pv-quorum, .pv-hint')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.top < 0 || r.left < 0 || r.bottom > vh + 1 || r.right > vw + 1)
      out.push(el.className + ' ' + JSON.stringify([r.top, r.bottom, r.right, vw, vh]));
  }
  if (document.documentElement.scrollHeight > vh + 1)
    out.push('page scrolls: ' + document.documentElement.scrollHeight + ' > ' + vh);
  return out;
}"""


@pytest.mark.parametrize("path", [f"/projecteur/{CODE}", f"/projecteur/{CODE}/vote"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_projectors_show_presence_quorum_and_progress_within_the_screen(
        room, browser, path, size):
    with projector_context(browser, viewport=size) as context:
        page = context.new_page()
        page.goto(room.url + path)
        expect(page.locator(".pv-presence")).to_have_text(re.compile(
            rf"^{PRESENT} élu·es présent·es, 1 procuration\s: {PRESENT + 1} votant·es "
            r"attendu·es\.$"), timeout=15_000)
        expect(page.locator(".pv-quorum")).to_have_text(re.compile(
            rf"Quorum\s: {QUORUM} votes requis — non atteint, il manque 2 votes\."))
        expect(page.locator(".pv-quorum")).to_have_class(re.compile("pv-quorum-unmet"))
        bar = page.get_by_role("progressbar", name="Votes exprimés")
        expect(bar).to_have_attribute("aria-valuetext", re.compile(
            rf"^2 votes sur {PRESENT + 1} votant·es attendu·es \(28,6\s%\)\.$"))
        assert page.evaluate(FITS) == [], path
        name = "screen" if path.endswith(CODE) else "vote"
        screenshot(page, f"vote-presence-{name}-{size['width']}x{size['height']}",
                   directory=room.log.parent)
        check_axe(page, f"{path} {size['width']}x{size['height']}")


def test_the_phone_shows_them_and_a_vote_updates_every_screen(room, browser):
    with projector_context(browser, viewport=dict(SIZES[0])) as screen_context, \
            phone_context(browser) as phone:
        screen = screen_context.new_page()
        screen.goto(f"{room.url}/projecteur/{CODE}/vote")
        expect(screen.locator(".pv-cast")).to_have_text("2", timeout=15_000)
        page = phone.new_page()
        page.goto(f"{room.url}/i/{room.token}")
        page.goto(f"{room.url}/c/{CODE}/vote")
        stats = page.locator(".vote-stats")
        expect(stats.locator(".vote-presence")).to_contain_text(
            f"{PRESENT} élu·es présent·es, 1 procuration")
        expect(stats.locator(".vote-quorum")).to_contain_text("il manque 2 votes")
        expect(stats.locator(".vote-progress")).to_contain_text(
            f"2 votes sur {PRESENT + 1} votant·es attendu·es")
        expect(page.get_by_role("progressbar", name="Votes exprimés")).to_have_attribute(
            "aria-valuenow", "28.6")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"horizontal scroll at 360 px: {width}"
        check_axe(page, "phone vote page")
        screenshot(page, "vote-presence-phone", directory=room.log.parent)
        # Keyboard: the choice, then « Voter ».
        page.get_by_label("Pour", exact=True).focus()
        page.keyboard.press("Space")
        page.keyboard.press("Enter")
        expect(page.locator(".vote-done")).to_contain_text("Votre vote est enregistré")
        # The projector and the phone hear the coalesced progress: 3 votes, quorum short by 1.
        expect(screen.locator(".pv-cast")).to_have_text("3", timeout=5_000)
        expect(screen.locator(".pv-quorum")).to_contain_text("il manque 1 vote.")
        expect(screen.get_by_role("progressbar")).to_have_attribute(
            "aria-valuetext", re.compile(rf"^3 votes sur {PRESENT + 1} votant·es"))
        expect(stats.locator(".vote-progress")).to_contain_text(
            f"3 votes sur {PRESENT + 1} votant·es attendu·es", timeout=5_000)
        expect(stats.locator(".vote-quorum")).to_contain_text("il manque 1 vote.")
        check_axe(page, "phone after the vote")
    assert "Traceback" not in room.log.read_text()
