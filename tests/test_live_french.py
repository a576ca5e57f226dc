"""Live screens in French (issue 14): an idea pushed over Socket.IO is set as the
server-rendered ones are (no-break space before « ? », « ! », « : »), and a count
refreshed live keeps its word in agreement with its number."""

from __future__ import annotations

from deliberation import contributions
from deliberation.extensions import db
from deliberation.screens import contribution_payload
from deliberation.web.filters import excerpt


def test_a_pushed_idea_is_set_in_french_typography_like_the_page(congress, official):
    contribution, _ = contributions.create(
        congress, "La fibre pour tous : quand ? Maintenant !", author=official)
    db.session.commit()
    payload = contribution_payload(contribution)
    assert payload["shown"] == excerpt(contribution.text, 280)
    assert "\u202f?" in payload["shown"] and "\u00a0:" in payload["shown"]
    assert payload["text"] == "La fibre pour tous : quand ? Maintenant !"  # API: as typed

