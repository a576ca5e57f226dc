"""Articles nobody drafted (issue 14): the ballots page warns before the whole text is put
to the vote, and the published motion leaves them out, keeping the voted numbering."""

from __future__ import annotations

from deliberation import ballots, drafting, publishing
from deliberation.extensions import db

from .conftest import login, make_person, text_of


def _draft_one(congress, facilitator):
    """The preamble and the second theme's article written; the first theme's left empty."""
    items = drafting.articles(congress)
    preamble, first, second = items[0], items[1], items[2]
    drafting.save_version(preamble, preamble.title, "Les élus réunis à Aurillac.", facilitator)
    drafting.save_version(second, "Les usages", "Former les secrétaires de mairie.",
                          facilitator)
    db.session.commit()
    return first, second, len(items)


def test_the_ballots_page_names_the_empty_articles_before_the_whole_text_vote(
        client, congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    _, _, count = _draft_one(congress, facilitator)
    login(client, facilitator)
    page = text_of(client.get("/animation/scrutins"))
    empty = count - 2
    assert f"{empty}\u00a0articles vides" in page or f"{empty} articles vides" in page
    assert "Article 1" in page and "Article 2," not in page
    assert "ne figureront pas dans la motion publiée" in page
    whole = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(whole.id)
    # Once the text is put to the vote it is frozen: no more advice to draft.
    assert "articles vides" not in text_of(client.get("/animation/scrutins"))


def test_the_published_motion_leaves_empty_articles_out_with_the_voted_numbers(
        client, congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    first, second, _ = _draft_one(congress, facilitator)
    whole = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(whole.id)
    voter = make_person(congress, "Élu votant")
    ballots.set_present(voter, True, None)
    ballots.cast_vote(whole.id, voter.id, "pour")
    ballots.close_ballot(whole.id)
    _, version = publishing.publish(whole.id, facilitator.id)
    labels = [a["label"] for a in version.document["articles"]]
    assert labels == ["Préambule", "Article 2"]  # numbered as voted, not renumbered
    assert version.document["omitted"][0] == "Article 1"
    code = congress.join_code
    page = client.get(f"/motion/{code}").get_data(as_text=True)
    assert "(vide)" not in page and f'id="article-{first.id}"' not in page
    assert f'id="article-{second.id}"' in page
    assert "Sans texte, non repris dans la motion" in text_of(client.get(f"/motion/{code}"))
    markdown = client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    assert "_(vide)_" not in markdown and "## Article 1 " not in markdown
    assert "## Article 2 — Les usages" in markdown
    assert "Sans texte, non repris dans la motion" in markdown
