"""The demo congress as its users meet it, for tests that read whole pages (issue 14):
an app on a throwaway SQLite file, the demo loaded and sorted once per module, logged-in
clients for each role, and the visible text of a page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask import Flask, g
from sqlalchemy import select

from deliberation import corpus, create_app, sorting
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.models import Congress, Participant


def demo_app(path) -> Flask:
    """A fresh app on a SQLite file at `path`."""
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def load_sorted_demo() -> Congress:
    """The demo congress, sorted once as `make run` leaves it (inside an app context)."""
    db.create_all()
    demo = corpus.load_demo()
    db.session.commit()
    sorting.refit(demo.id)
    return demo


def staff(congress: Congress, role: str = "facilitator") -> Participant:
    email = (corpus.DEMO_FACILITATOR if role == "facilitator" else corpus.DEMO_SCRIBE)[0]
    return db.session.scalar(select(Participant).filter_by(congress_id=congress.id,
                                                           email=email))


def clients(app: Flask, congress: Congress) -> dict:
    """A logged-in test client per role, and one for a visitor."""
    found = {}
    for role, (email, password) in (("facilitator", corpus.DEMO_FACILITATOR),
                                    ("scribe", corpus.DEMO_SCRIBE)):
        client = app.test_client()
        get(client, "/animation/connexion")
        g.pop("_login_user", None)
        response = client.post("/animation/connexion",
                               data={"email": email, "password": password})
        assert response.status_code == 302, role
        found[role] = client
    official = db.session.scalar(select(Participant).filter_by(
        congress_id=congress.id, role="participant").order_by(Participant.id))
    found["official"] = app.test_client()
    assert get(found["official"], f"/i/{official.invite_token}").status_code == 302
    found["visitor"] = app.test_client()
    return found


def get(client, url: str):
    """GET as this client's own user: the tests run inside one app context, where Flask-
    Login would otherwise reuse the user of the previous request (`g._login_user`)."""
    g.pop("_login_user", None)
    return client.get(url)


class _Visible(HTMLParser):
    HIDDEN = {"script", "style", "template", "textarea"}

    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in ("br", "p", "li", "div", "td", "th", "h1", "h2", "h3", "option"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a reader sees of a page: its text, without scripts, styles and templates."""
    parser = _Visible()
    parser.feed(html)
    return "".join(parser.parts)


#: A space a browser may break at where French typography forbids it: before « : ; ! ? »
#: and a closing guillemet, after an opening one, between the digit groups of a number.
BREAKABLE = re.compile(r"(?<=\S)[ \t\r\n]+(?=[:;!?»])|«[ \t\r\n]+|\d[ \t]+\d{3}(?!\d)")


def breakable_spaces(html: str) -> list[str]:
    """Each place of the page's visible text where a line may break wrongly, in context."""
    text = visible_text(html)
    return [re.sub(r"\s+", " ", text[max(0, m.start() - 30): m.end() + 10])
            for m in BREAKABLE.finditer(text)]
