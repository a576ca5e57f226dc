"""Downloads say their charset once, and motion.md hands out no raw HTML nor script
links from the articles' Markdown (issue 13, minor items)."""

from __future__ import annotations

from deliberation import ballots, drafting
from deliberation.extensions import db
from deliberation.models import Article
from deliberation.rendering import export_markdown

from .conftest import login, make_person


def _published(congress, facilitator, body):
    congress.phase = "vote"
    db.session.commit()
    drafting.articles(congress)
    article = db.session.query(Article).filter_by(congress_id=congress.id, kind="theme").first()
    drafting.save_version(article, "Titre", body, facilitator)
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    voter = make_person(congress, "Élue présente")
    ballots.set_present(voter, True, None)
    ballots.cast_vote(ballot.id, voter.id, "pour")
    ballots.close_ballot(ballot.id)
    ballots.publish_ballot(ballot.id)


def test_every_download_states_its_charset_once(client, congress, facilitator):
    _published(congress, facilitator, "Le très haut débit partout.")
    code = congress.join_code
    for path in (f"/motion/{code}/motion.md", f"/motion/{code}/motion.html",
                 f"/motion/{code}/resultats.csv"):
        kind = client.get(path).headers["Content-Type"]
        assert kind.count("charset") == 1, (path, kind)
    login(client, facilitator)
    kind = client.get("/animation/export/contributions.csv").headers["Content-Type"]
    assert kind.startswith("text/csv") and kind.count("charset") == 1, kind


def test_motion_md_carries_no_raw_html_nor_script_links(client, congress, facilitator):
    _published(congress, facilitator,
               "Voir [le site](https://villes-internet.net) ou [ici](javascript:alert(1)).\n\n"
               "<script>alert(2)</script> <img src=x onerror=alert(3)>\n\n[r]: javascript:evil")
    text = client.get(f"/motion/{congress.join_code}/motion.md").get_data(as_text=True)
    assert "javascript:" not in text.replace("\\<", "")  # the words stay, the link goes
    assert "<script" not in text.replace("\\<", "") and "\\<script>" in text
    assert "[le site](https://villes-internet.net)" in text and "ou ici." in text


def test_export_markdown_keeps_safe_links_and_words():
    assert export_markdown("[a](/motion/X) [b](mailto:x@y.fr) [c](vbscript:x)") == \
        "[a](/motion/X) [b](mailto:x@y.fr) c"
