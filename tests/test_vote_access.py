"""A vote that screen-reader users can cast (issue 13, item 6): on the phone, the choices
are a radio group named by what is voted on, each radio with its own label, one « Voter »
button, and the plain form works without JavaScript."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from deliberation import ballots
from deliberation.extensions import db

from .conftest import login, make_person, text_of

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
TITLE = "Article 2 : « Former les élus & les agents »"


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The text, ASCII whitespace collapsed (non-breaking spaces kept: typography)."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"[ \t\r\n\f]+", " ", "".join(parts)).strip()

    def find_all(self, tag: str, **attrs) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and all(child.attrs.get(k) == v for k, v in attrs.items()):
                    found.append(child)
                found += child.find_all(tag, **attrs)
        return found


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_endtag(self, tag):
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    return tree.root


@pytest.fixture
def open_ballot(congress):
    ballot = ballots.create(congress, TITLE)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    return ballot


def _forms(app, person):
    client = app.test_client()
    login(client, person)
    response = client.get(f"/c/{person.congress.join_code}/vote")
    assert response.status_code == 200
    return client, parse(response.get_data(as_text=True)).find_all("form", **{
        "class": "vote-form"})


def test_choices_are_a_radio_group_named_by_the_ballot_title(app, congress, open_ballot):
    voter = make_person(congress, "Élue votante", present=True)
    _, forms = _forms(app, voter)
    assert len(forms) == 1
    form = forms[0]
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/c/{congress.join_code}/vote/{open_ballot.id}"
    (fieldset,) = form.find_all("fieldset")
    legends = fieldset.find_all("legend")
    first = next(child for child in fieldset.children if isinstance(child, Node))
    assert legends == [first]  # the group's name comes first, and only once
    assert legends[0].text() == f"Mon vote sur «\u00a0{TITLE}\u00a0»"
    radios = fieldset.find_all("input", type="radio")
    assert [r.attrs["value"] for r in radios] == ["pour", "contre", "abstention"]
    assert {r.attrs["name"] for r in radios} == {"choice"}
    assert all("required" in r.attrs for r in radios)
    labels = {label.attrs["for"]: label.text() for label in fieldset.find_all("label")}
    assert [labels[r.attrs["id"]] for r in radios] == ["Pour", "Contre", "Abstention"]
    assert len({r.attrs["id"] for r in radios}) == 3
    buttons = form.find_all("button")
    assert [(b.attrs.get("type"), b.text()) for b in buttons] == [("submit", "Voter")]
    # The button's description is the legend: « Voter » says on what.
    assert buttons[0].attrs["aria-describedby"] == legends[0].attrs["id"]


def test_a_proxy_form_names_the_person_and_the_ballot(app, congress, open_ballot):
    holder = make_person(congress, "Élu porteur", present=True)
    make_person(congress, "Élue absente", proxy_for_id=holder.id)
    _, forms = _forms(app, holder)
    legends = [form.find_all("legend")[0].text() for form in forms]
    assert legends == [f"Mon vote sur «\u00a0{TITLE}\u00a0»",
                       f"Vote de Élue absente sur «\u00a0{TITLE}\u00a0»"]
    ids = [r.attrs["id"] for form in forms for r in form.find_all("input", type="radio")]
    assert len(set(ids)) == 6  # each label points at its own radio


def test_the_plain_form_votes_without_javascript(app, congress, open_ballot):
    voter = make_person(congress, "Élu sans script", present=True)
    client, forms = _forms(app, voter)
    hidden = {i.attrs["name"]: i.attrs.get("value", "")
              for i in forms[0].find_all("input", type="hidden")}
    response = client.post(forms[0].attrs["action"], data={**hidden, "choice": "contre"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Votre vote est enregistré. Choix : Contre." in text_of(response)
    # Changing is not allowed on this ballot: the group is gone, the receipt shown.
    page = parse(response.get_data(as_text=True))
    assert page.find_all("form", **{"class": "vote-form"}) == []
    assert "Reçu" in text_of(response)
