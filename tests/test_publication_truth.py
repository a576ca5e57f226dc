"""Publication that stays true (issue 14): once the whole text is put to the vote nothing
can change it any more, and a rejected text is published as rejected, on every copy."""

from __future__ import annotations

import pytest

from deliberation import ballots, drafting, publishing
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import Article

from .conftest import make_person, text_of


def _article(congress, facilitator):
    drafting.articles(congress)
    article = db.session.query(Article).filter_by(congress_id=congress.id,
                                                   kind="theme").first()
    drafting.save_version(article, "La fibre partout", "Le très haut débit partout.",
                          facilitator)
    db.session.commit()
    return article


def _whole_text_voted(congress, choices):
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    for n, choice in enumerate(choices):
        voter = make_person(congress, f"Élu n° {n}")
        ballots.set_present(voter, True, None)
        ballots.cast_vote(ballot.id, voter.id, choice)
    return ballot


def test_no_article_or_amendment_ballot_once_the_whole_text_is_put_to_the_vote(
        congress, facilitator, official):
    congress.phase = "vote"
    db.session.commit()
    article = _article(congress, facilitator)
    late = ballots.create(congress, "Article, avant", article=article)
    db.session.commit()
    whole = _whole_text_voted(congress, ["pour"])
    with pytest.raises(InputError, match="le texte est figé"):
        ballots.open_ballot(late.id)  # created before, opened after: refused too
    with pytest.raises(InputError, match="le texte est figé"):
        ballots.create(congress, "Article, après", article=article)
    ballots.close_ballot(whole.id)
    with pytest.raises(InputError, match="le texte est figé"):
        ballots.create(congress, "Article, après la clôture", article=article)


def test_the_whole_text_waits_for_the_votes_on_its_parts(congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    article = _article(congress, facilitator)
    part = ballots.create(congress, "Article", article=article)
    whole = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(part.id)
    with pytest.raises(InputError, match="encore ouvert"):
        ballots.open_ballot(whole.id)
    ballots.close_ballot(part.id)
    assert ballots.open_ballot(whole.id).state == "open"


def test_a_rejected_text_is_published_as_rejected_on_every_copy(client, congress,
                                                                 facilitator):
    congress.phase = "vote"
    db.session.commit()
    _article(congress, facilitator)
    ballot = _whole_text_voted(congress, ["contre", "contre", "pour"])
    ballots.close_ballot(ballot.id)
    ballots.publish_ballot(ballot.id)
    code = congress.join_code
    # Published without the facilitator's choice: nothing public yet (publishing.py).
    waiting = client.get(f"/motion/{code}")
    assert waiting.status_code == 404 and "pas encore choisi" in text_of(waiting)
    publishing.publish(ballot.id, facilitator.id, "publier")
    page = client.get(f"/motion/{code}").get_data(as_text=True)
    assert "<title>Texte rejeté —" in page and 'class="rejected-notice"' in page
    assert "pas une motion adoptée" in page
    markdown = client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    assert markdown.startswith("# Texte rejeté — ") and "pas une motion adoptée" in markdown
    standalone = client.get(f"/motion/{code}/motion.html").get_data(as_text=True)
    assert "Texte rejeté —" in standalone and "pas une motion adoptée" in standalone


def test_an_adopted_text_carries_no_rejection_notice(client, congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    _article(congress, facilitator)
    ballot = _whole_text_voted(congress, ["pour", "pour", "contre"])
    ballots.close_ballot(ballot.id)
    ballots.publish_ballot(ballot.id)
    page = client.get(f"/motion/{congress.join_code}").get_data(as_text=True)
    assert "Texte rejeté" not in page and "rejected-notice" not in page
