"""French formats (issue 14): decimal commas, narrow no-break spaces between thousands,
real plurals and date ranges, on screens and in messages."""

from __future__ import annotations

from datetime import date

import pytest

from deliberation import formats
from deliberation.extensions import db
from deliberation.models import SortRun
from deliberation.web.typesetting import typeset

from .conftest import login

NNBSP = "\u202f"


@pytest.mark.parametrize("value, decimals, expected", [
    (0.21, 2, "0,21"), (51.5, None, "51,5"), (5000, None, f"5{NNBSP}000"),
    (1234567.891, 1, f"1{NNBSP}234{NNBSP}567,9"), (3.0, None, "3"), (None, None, ""),
])
def test_numbers_take_a_decimal_comma_and_narrow_spaces(value, decimals, expected):
    assert formats.number(value, decimals) == expected


@pytest.mark.parametrize("count, expected", [
    (0, "0 idée"), (1, "1 idée"), (2, "2 idées"), (1000, f"1{NNBSP}000 idées")])
def test_zero_and_one_are_singular(count, expected):
    assert formats.plural(count, "idée") == expected


def test_irregular_plurals():
    assert formats.plural(3, "point principal", "points principaux") == "3 points principaux"
    assert formats.plural(1, "nouveau", "nouveaux") == "1 nouveau"


@pytest.mark.parametrize("start, end, expected", [
    (date(2026, 12, 10), date(2026, 12, 11), "10 et 11 décembre 2026"),
    (date(2026, 12, 10), date(2026, 12, 12), "du 10 au 12 décembre 2026"),
    (date(2026, 11, 30), date(2026, 12, 2), "du 30 novembre au 2 décembre 2026"),
    (date(2026, 12, 31), date(2027, 1, 1), "du 31 décembre 2026 au 1er janvier 2027"),
    (date(2026, 12, 10), None, "10 décembre 2026"),
    (date(2026, 12, 10), date(2026, 12, 10), "10 décembre 2026"),
])
def test_date_ranges_read_as_french_prose(start, end, expected):
    assert formats.date_range(start, end) == expected


def test_the_congress_page_gives_its_dates_as_prose(client, congress):
    page = client.get(f"/c/{congress.join_code}").get_data(as_text=True)
    assert "10 et 11 décembre 2026" in page and " au 11 décembre" not in page


def test_the_sorting_summary_has_no_decimal_point_and_no_parenthesised_plural(
        client, congress, facilitator):
    db.session.add(SortRun(congress_id=congress.id, n_contributions=1, params={},
                           timings={"total_s": 0.2134}, quality={"groups": 1, "singletons": 1},
                           changes={"new_contributions": 1, "groups_kept": 2}, state={}))
    db.session.commit()
    login(client, facilitator)
    page = client.get("/animation/").get_data(as_text=True)
    assert "1 contribution en 0,21 s" in page
    assert "(s)" not in page and "(x)" not in page and "0.21" not in page
    assert "1 nouvelle contribution" in page and "1 point récurrent" in page


# --- the templates' own words (deliberation/web/typesetting.py) ------------------------

NBSP = "\u00a0"


@pytest.mark.parametrize("written, set_as", [
    ("Phase : débat", f"Phase{NBSP}: débat"),
    ("Retirer ?  Vraiment !", f"Retirer{NNBSP}?  Vraiment{NNBSP}!"),
    ("« Voter »", f"«{NBSP}Voter{NBSP}»"),
    ("Quelques phrases (2 000 caractères) ; 57 %", f"Quelques phrases (2{NNBSP}000 "
                                                    f"caractères){NNBSP}; 57{NBSP}%"),
    ('<a href="/x?y=1" class="a">Lien</a>', '<a href="/x?y=1" class="a">Lien</a>'),
    ("14:30, 1,5 — 12 345", f"14:30, 1,5 — 12{NNBSP}345"),
])
def test_template_text_gets_french_spacing(written, set_as):
    assert typeset(written) == set_as


def test_every_html_template_is_set_when_compiled_and_values_are_left_alone(app):
    template = app.jinja_env.from_string("Thème : {{ value }} !")
    assert template.render(value="a : b") == "Thème : a : b !"  # not an .html template
    rendered = app.jinja_env.get_template("_errors.html").render(error="Texte : vide")
    assert f"enregistrer{NBSP}:" in rendered and "Texte : vide" in rendered
