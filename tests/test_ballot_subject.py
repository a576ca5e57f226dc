"""What is voted is shown (issue 14): the phone and both projectors name the article
(« Article n — titre ») and show its text during its ballot; an amendment shows as a
visible change to its article; the ballot events carry the same subject."""

from __future__ import annotations

import re

from deliberation import ballots, drafting
from deliberation.extensions import db
from deliberation.models import Article

from .conftest import login


def _article(congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    theme = congress.themes[0]
    article = db.session.query(Article).filter_by(congress_id=congress.id,
                                                   theme_id=theme.id).one_or_none()
    if article is None:
        drafting.articles(congress)  # creates the motion's articles on first read
        article = db.session.query(Article).filter_by(congress_id=congress.id,
                                                       theme_id=theme.id).one()
    drafting.save_version(article, "La fibre partout",
                          "Le très haut débit doit atteindre chaque hameau avant 2030.",
                          facilitator)
    db.session.commit()
    return article


def test_the_phone_and_projectors_show_the_article_voted(client, congress, official,
                                                         facilitator):
    article = _article(congress, facilitator)
    ballot = ballots.create(congress, "Vote sur l'article", article=article)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    subject = ballots.subject(ballot)
    assert re.match(r"Article \d+ — La fibre partout$", subject["label"]), subject
    assert "chaque hameau" in subject["html"]
    assert ballots.payload(ballot)["subject"] == subject  # what ballot.* events carry
    for path in (f"/projecteur/{congress.join_code}/vote",):
        page = client.get(path).get_data(as_text=True)
        assert subject["label"] in page and "chaque hameau" in page
    ballots.set_present(official, True, None)
    login(client, official)
    page = client.get(f"/c/{congress.join_code}/vote").get_data(as_text=True)
    assert subject["label"] in page and "chaque hameau" in page


def test_an_amendment_is_shown_as_a_change_to_its_article(congress, official, facilitator):
    article = _article(congress, facilitator)
    drafting.set_amendments_open(congress, True, facilitator)
    congress.phase = "drafting"
    db.session.commit()
    amendment, _ = drafting.propose_amendment(
        congress, article.id, official,
        "Le très haut débit doit atteindre chaque hameau avant 2028.", "Plus tôt.")
    db.session.commit()
    ballot = ballots.put_to_vote(amendment, facilitator)
    db.session.commit()
    subject = ballots.subject(ballot)
    assert subject["label"].startswith(f"Amendement n° {amendment.id} à l'article")
    assert "<del>" in subject["html"] and "<ins>" in subject["html"]
    assert "2030" in subject["html"] and "2028" in subject["html"]


def test_the_whole_text_is_named_as_such(congress):
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    assert ballots.subject(ballot) == {"label": "Ensemble de la motion", "html": ""}


def test_a_ballot_titled_as_its_subject_names_it_once(client, congress, official,
                                                      facilitator):
    congress.phase = "vote"
    db.session.commit()
    preamble = drafting.articles(congress)[0]
    drafting.save_version(preamble, preamble.title, "Les élus réunis à Aurillac.",
                          facilitator)
    db.session.commit()
    ballot = ballots.create(congress, "préambule", article=preamble)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    subject = ballots.subject(ballot)
    assert subject["label"] == "" and "réunis à Aurillac" in subject["html"]
    projector = client.get(f"/projecteur/{congress.join_code}/vote").get_data(as_text=True)
    assert "pv-subject-label" not in projector and "réunis à Aurillac" in projector
    ballots.set_present(official, True, None)
    login(client, official)
    phone = client.get(f"/c/{congress.join_code}/vote").get_data(as_text=True)
    start = phone.index('<section class="card ballot"')
    heading = phone[start:phone.index('class="meta"', start)]
    assert "ballot-subject-label" not in phone and heading.count("réambule") == 1
