"""A vote cast with the keyboard alone, as a screen-reader user would (issue 13, item 6):
Tab reaches the choices, the arrows move within the group, Enter votes. With JavaScript the
vote goes over the socket; without it, the plain form posts. axe finds nothing to block.

Runs on its own server: the ballot opened here would get in the way of the other tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .conftest import start_server, stop_server
from .support import REPO_ROOT, check_axe, phone_context

pytestmark = pytest.mark.browser

TITLE = "Article 1 : Égalité d'accès au numérique"

# The room as the facilitator leaves it before a vote: the phase, a ballot open, two
# officials marked present. Done through the domain, in a process of its own, so this test
# does not depend on the facilitator's pages (tested elsewhere).
SETUP = """
import json, sys
from sqlalchemy import select
from deliberation import ballots, create_app
from deliberation.extensions import db
from deliberation.models import Congress, Participant

app = create_app({"SORT_IN_BACKGROUND": False})
with app.app_context():
    congress = db.session.scalar(select(Congress).order_by(Congress.id))
    congress.phase = "vote"
    db.session.commit()
    people = list(db.session.scalars(select(Participant).where(
        Participant.congress_id == congress.id, Participant.role == "participant",
        Participant.token_revoked_at.is_(None)).order_by(Participant.id).limit(2)))
    for person in people:
        ballots.set_present(person, True, None)
    ballot = ballots.create(congress, sys.argv[1])
    db.session.commit()
    ballots.open_ballot(ballot.id)
    print(json.dumps({"code": congress.join_code, "ballot": ballot.id,
                      "tokens": [p.invite_token for p in people]}))
"""


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("vote-keyboard"))
    run = subprocess.run([sys.executable, "-c", SETUP, TITLE], cwd=REPO_ROOT, env=server.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    yield server, json.loads(run.stdout.strip().splitlines()[-1])
    stop_server(server)


def _open_vote_page(context, server, data, token):
    page = context.new_page()
    page.goto(f"{server.url}/i/{token}")
    page.goto(f"{server.url}/c/{data['code']}/vote")
    return page


def _tab_to_the_choices(page) -> None:
    """Keyboard only: Tab from the top of the page until a choice has the focus."""
    focused = page.locator("input[name=choice]:focus")
    for _ in range(60):
        page.keyboard.press("Tab")
        if focused.count():
            return
    raise AssertionError("Tab never reached the choices")


def _check_targets(page) -> None:
    """44 px targets at 360 px, within the screen, and each radio lies where its label is
    drawn (a screen reader's finger finds the radio on the choice)."""
    options = page.locator(".choice-option")
    expect(options).to_have_count(3)
    for i in range(3):
        radio = options.nth(i).locator("input").bounding_box()
        label = options.nth(i).locator("label").bounding_box()
        assert label["width"] >= 44 and label["height"] >= 44, label
        assert label["x"] >= 0 and label["x"] + label["width"] <= 360, label
        assert {k: round(v) for k, v in radio.items()} == \
            {k: round(v) for k, v in label.items()}, (radio, label)
    button = page.get_by_role("button", name="Voter").bounding_box()
    assert button["width"] >= 44 and button["height"] >= 44
    assert button["x"] >= 0 and button["x"] + button["width"] <= 360


def test_keyboard_vote_over_the_socket(room, browser):
    server, data = room
    with phone_context(browser) as context:
        page = _open_vote_page(context, server, data, data["tokens"][0])
        group = page.get_by_role("group", name=f"Mon vote sur « {TITLE} »")
        expect(group).to_be_visible()
        for name in ("Pour", "Contre", "Abstention"):
            expect(group.get_by_role("radio", name=name, exact=True)).to_be_visible()
        _check_targets(page)
        check_axe(page)
        posts = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        expect(page.locator('#vote-app[data-live="1"]')).to_have_count(1)  # socket up

        _tab_to_the_choices(page)
        pour = group.get_by_role("radio", name="Pour", exact=True)
        contre = group.get_by_role("radio", name="Contre", exact=True)
        abstention = group.get_by_role("radio", name="Abstention", exact=True)
        expect(pour).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(contre).to_be_checked()
        expect(contre).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(abstention).to_be_checked()
        page.keyboard.press("ArrowUp")
        expect(contre).to_be_checked()
        expect(pour).not_to_be_checked()
        check_axe(page)
        page.keyboard.press("Enter")

        done = page.locator(".vote-done")
        expect(done).to_contain_text("Votre vote est enregistré")
        expect(done).to_contain_text(re.compile(r"Choix\s:\sContre"))
        expect(done).to_contain_text(re.compile(r"Reçu\s:\s[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}"))
        expect(done).to_be_focused()  # the screen reader reads the outcome
        assert posts == [], f"the vote went over HTTP, not the socket: {posts}"
        check_axe(page)
        # The server agrees: after a reload the vote is there and the group is gone.
        page.reload()
        expect(page.locator(".vote-done")).to_contain_text(re.compile(r"Contre"))
        expect(page.get_by_role("radio")).to_have_count(0)
    assert "Traceback" not in server.log.read_text()


def test_keyboard_vote_without_javascript(room, browser):
    server, data = room
    with phone_context(browser, java_script_enabled=False) as context:
        page = _open_vote_page(context, server, data, data["tokens"][1])
        group = page.get_by_role("group", name=f"Mon vote sur « {TITLE} »")
        expect(group).to_be_visible()
        _check_targets(page)
        _tab_to_the_choices(page)
        page.keyboard.press("ArrowDown")
        expect(group.get_by_role("radio", name="Contre", exact=True)).to_be_checked()
        page.keyboard.press("ArrowUp")
        pour = group.get_by_role("radio", name="Pour", exact=True)
        expect(pour).to_be_checked()
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the browser's own implicit submission
        expect(page.get_by_text(re.compile(r"Votre vote est enregistré\. Choix\s:\sPour\."))
               ).to_be_visible()
        expect(page.get_by_role("radio")).to_have_count(0)
    assert "Traceback" not in server.log.read_text()
