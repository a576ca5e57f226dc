"""An idea says something (issue 14): « ok », « +1 » or « oui » are refused with a French
message, on every way in (phone form, API, the scribe's capture, an edit)."""

from __future__ import annotations

import pytest

from deliberation import contributions as contrib
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import Contribution

from .conftest import login


@pytest.mark.parametrize("text", ["ok", "+1", "oui", "OK !!!", "12345", "ok ok"])
def test_a_word_of_assent_is_not_an_idea(congress, official, text):
    with pytest.raises(InputError, match="ne dit pas encore quelle idée"):
        contrib.create(congress, text, author=official)


@pytest.mark.parametrize("text", ["Fibre", "La fibre", "Wifi public", "Haut débit partout."])
def test_a_few_words_make_an_idea(congress, official, text):
    contribution, created = contrib.create(congress, text, author=official)
    assert created and contribution.text == text


def test_the_phone_form_says_why_and_keeps_nothing(client, congress, official):
    login(client, official)
    response = client.post(f"/c/{congress.join_code}/contribuer", data={"text": "ok"})
    assert response.status_code == 422
    assert "ne dit pas encore quelle idée vous proposez" in response.get_data(as_text=True)
    assert db.session.query(Contribution).count() == 0
