"""A small sorted debate shared by the live-debate tests (live, board, corrections, projector).

Twelve ideas on the three test themes, sorted by the real engine, so that each theme
has recurring points; helpers to open Socket.IO test clients as each role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from deliberation import contributions as contrib
from deliberation import sorting
from deliberation.extensions import db, socketio
from deliberation.models import Cluster, Congress, Contribution, Participant

from .conftest import login, make_person, staff_login

TEXTS = [
    "La fibre optique doit arriver dans tous les villages du Cantal.",
    "Il faut la fibre optique dans tous les villages, même les hameaux.",
    "La fibre optique pour tous les villages avant 2030.",
    "Des zones blanches de réseau mobile subsistent : une antenne 4G par commune.",
    "Supprimer les zones blanches du réseau mobile avec des antennes 4G.",
    "Former les élus au numérique dès le début du mandat.",
    "Une formation au numérique pour les élus dès le début du mandat.",
    "Des ateliers à l'école pour apprendre le numérique aux élèves.",
    "Des ateliers numériques à l'école pour les élèves de primaire.",
    "Protéger les données personnelles des habitants selon le RGPD.",
    "Le RGPD et la protection des données personnelles dans les mairies.",
    "Ouvrir les données publiques en open data.",
]

ROLES = ("anonymous", "participant", "observer", "scribe", "facilitator")


@dataclass
class Debate:
    congress: Congress
    ideas: list[int]
    people: dict[str, Participant] = field(default_factory=dict)

    def point(self, word: str) -> Cluster:
        """The recurring point whose label contains `word` (labels keep acronyms' case)."""
        return next(c for c in db.session.scalars(select(Cluster).filter_by(
            congress_id=self.congress.id)) if word.lower() in c.display_label.lower())

    def idea(self, index: int) -> Contribution:
        return db.session.get(Contribution, self.ideas[index])


def build(congress: Congress) -> Debate:
    """Put the test congress in the debate phase with twelve sorted ideas and one of each role."""
    congress.phase = "debate"
    ids = []
    for i, text in enumerate(TEXTS):
        c, _ = contrib.create(congress, text, speaker_name=f"Orateur {i}",
                              speaker_commune="Aurillac", channel="live")
        ids.append(c.id)
    db.session.commit()
    sorting.refit(congress.id)
    people = {
        "participant": make_person(congress, "Paul Participant", commune="Vic-sur-Cère"),
        "observer": make_person(congress, "Olga Observatrice", role="observer"),
        "scribe": make_person(congress, "Sam Scribe", role="scribe", email="scribe@example.org",
                              password="motdepasse-solide"),
        "facilitator": make_person(congress, "Fanny Animatrice", role="facilitator",
                                   email="anim@example.org", password="motdepasse-solide"),
    }
    return Debate(congress, ids, people)


class FreshClient(FlaskClient):
    """A test client that forgets the user Flask-Login cached in `g` by another client
    (the tests' app context outlives each request)."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def http_client(app, debate: Debate, role: str):
    """A Flask test client logged in as `role` (anonymous: not logged in)."""
    client = FreshClient(app, app.response_class, use_cookies=True)
    if role in ("participant", "observer"):
        login(client, debate.people[role])
    elif role in ("scribe", "facilitator"):
        staff_login(client, debate.people[role].email)
    return client


def connect(app, client=None, audience: str = "participants", code: str = "TEST26"):
    """A Socket.IO test client on the HTTP client's session (the login is shared)."""
    g.pop("_login_user", None)  # the test's app context outlives each request
    return socketio.test_client(app, flask_test_client=client,
                                auth={"congress": code, "audience": audience})


def emit(sock, event: str, data=None):
    """Send a client action and return its ack."""
    g.pop("_login_user", None)
    return sock.emit(event, data, callback=True)


def received(sock) -> list[tuple[str, object]]:
    """(event name, payload) of the messages received since the last call."""
    return [(m["name"], m["args"][0] if m["args"] else None) for m in sock.get_received()]
