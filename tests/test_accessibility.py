"""RGAA 4.1 (issue 14): the accessibility statement, form errors summarised at the top and
tied to their fields, and unique ids. The browser side (focus, tap targets, the board by
keyboard) is in tests/browser/test_accessibility.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from deliberation.web.privacy import ACCESSIBILITY_STATEMENT_DATE

from .conftest import login, text_of

MANIFEST = Path(__file__).resolve().parents[1] / "static" / "vendor" / "MANIFEST.json"


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


def by_id(html: str) -> dict[str, tuple[str, dict]]:
    return {attrs["id"]: (tag, attrs) for tag, attrs in elements(html) if attrs.get("id")}


# -- the statement ------------------------------------------------------------------------

def test_the_statement_is_public_and_in_the_rgaa_format(client, congress):
    response = client.get("/accessibilite")
    assert response.status_code == 200
    page = text_of(response)
    for heading in ("Déclaration d'accessibilité", "État de conformité", "Résultats des tests",
                    "Contenus non accessibles", "Dérogations pour charge disproportionnée",
                    "Technologies utilisées", "Retour d'information et contact",
                    "Voies de recours"):
        assert heading in page, heading
    assert "partiellement conforme" in page and "RGAA" in page and "4.1" in page
    assert "Défenseur des droits" in page and "Libre réponse 71120" in page
    # how it was tested: the real axe-core version, keyboard, phone and projector sizes
    axe = next(f["version"] for f in json.loads(MANIFEST.read_text())["files"]
               if f["package"] == "axe-core")
    assert f"axe-core (version {axe})" in " ".join(page.split())
    assert "clavier seul" in page and "360" in page and "1280" in page
    # the date it was established, in French
    assert f"établie le {ACCESSIBILITY_STATEMENT_DATE.day} décembre" in page


def test_the_statement_names_the_configured_contact(app, client):
    assert "équipe d'animation de votre congrès" in text_of(client.get("/accessibilite"))
    app.config["ACCESSIBILITY_CONTACT"] = "accessibilite@example.org"
    assert 'href="mailto:accessibilite@example.org"' in client.get(
        "/accessibilite").get_data(as_text=True)
    app.config["ACCESSIBILITY_CONTACT"] = "https://example.org/contact"
    assert 'href="https://example.org/contact"' in client.get(
        "/accessibilite").get_data(as_text=True)


def test_every_page_links_to_the_statement_in_its_footer(client, congress, official):
    for url in ("/", "/rejoindre", "/donnees-personnelles", "/accessibilite"):
        html = client.get(url).get_data(as_text=True)
        footer = html[html.index("<footer"):]
        assert 'href="/accessibilite"' in footer, url
        assert "Accessibilité&nbsp;: partiellement conforme" in footer, url
    login(client, official)
    html = client.get(f"/congres/{congress.join_code}").get_data(as_text=True)
    assert 'href="/accessibilite"' in html[html.index("<footer"):]


# -- unique ids ---------------------------------------------------------------------------

def duplicated_ids(html: str) -> list[str]:
    ids = [attrs["id"] for _, attrs in elements(html) if attrs.get("id")]
    return sorted({i for i in ids if ids.count(i) > 1})


def test_the_presence_page_has_unique_ids(client, congress, facilitator):
    congress.phase = "vote"
    login(client, facilitator)
    html = client.get("/animation/presence").get_data(as_text=True)
    assert "Procurations" in html
    assert duplicated_ids(html) == []
    # and what its section is labelled by is its heading
    ids = by_id(html)
    section = next(attrs for tag, attrs in elements(html)
                   if tag == "section" and attrs.get("id") == "procurations")
    assert ids[section["aria-labelledby"]][0] == "h2"


# -- form errors --------------------------------------------------------------------------

def summary_links(html: str) -> dict[str, str]:
    """The error summary's links: target field id -> message."""
    box = re.search(r'<div class="error-box error-summary"(.*?)</div>', html, re.S)
    assert box, "a refused form shows its error summary"
    return {href: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for href, text in
            re.findall(r'<a href="#([^"]+)">(.*?)</a>', box.group(1), re.S)}


def test_the_join_form_lists_every_error_each_tied_to_its_field(client, congress):
    response = client.post("/rejoindre", data={
        "code": "", "display_name": "  ", "commune": "Lauzerte", "department_code": "15",
        "population": "deux mille"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    links = summary_links(html)
    assert list(links) == ["code", "display_name", "population"]  # all, in the form's order
    assert "code du congrès est obligatoire" in links["code"]
    assert "Votre nom est obligatoire" in links["display_name"]
    assert "nombre entier" in links["population"]
    ids = by_id(html)
    tag, summary = ids["erreur"]
    assert summary["tabindex"] == "-1" and "data-error-summary" in summary
    assert ids[summary["aria-labelledby"]][0] == "h2"
    for field in links:
        attrs = ids[field][1]
        assert attrs.get("aria-invalid") == "true", field
        described = attrs["aria-describedby"].split()
        assert f"{field}-erreur" in described and all(d in ids for d in described), field
        assert links[field] in " ".join(re.sub(r"<[^>]+>", " ", html.split(
            f'id="{field}-erreur"', 1)[1].split("</li>", 1)[0]).split())
    # the fields that were right are not marked, and nothing typed is lost
    assert "aria-invalid" not in ids["commune"][1]
    assert ids["commune"][1]["value"] == "Lauzerte"
    assert ids["population"][1]["value"] == "deux mille"
    assert ids["code"][1]["aria-describedby"].startswith("code-aide")


def test_an_unknown_code_is_an_error_on_the_code_field(client, congress):
    html = client.post("/rejoindre", data={
        "code": "NOPE", "display_name": "Marie", "commune": "Aurillac"}).get_data(as_text=True)
    assert list(summary_links(html)) == ["code"]
    assert "Aucun congrès ne porte le code « NOPE »" in summary_links(html)["code"]


def test_an_empty_contribution_links_to_the_text_field(client, congress, official):
    login(client, official)
    response = client.post(f"/c/{congress.join_code}/contribuer", data={"text": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert list(summary_links(html)) == ["text"]
    attrs = by_id(html)["text"][1]
    assert attrs["aria-invalid"] == "true"
    assert attrs["aria-describedby"].split() == ["text-aide", "text-erreur"]


def test_every_page_loads_the_focus_script_from_a_file(client, congress):
    html = client.get("/rejoindre").get_data(as_text=True)
    assert '<script src="/static/js/error_summary.js" defer></script>' in html
    with client.get("/static/js/error_summary.js") as script:
        assert script.status_code == 200
    assert "script-src 'self'" in client.get("/rejoindre").headers["Content-Security-Policy"]


def test_adding_a_person_lists_every_error_of_the_staff_form(client, congress, facilitator):
    login(client, facilitator)
    response = client.post("/animation/participants", data={
        "display_name": "", "population": "-3", "role": "scribe", "email": "pas une adresse",
        "password": "court", "commune": "Figeac"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert list(summary_links(html)) == ["display_name", "population", "email", "password"]
    ids = by_id(html)
    for field in ("display_name", "population", "email", "password"):
        assert ids[field][1].get("aria-invalid") == "true", field
    assert ids["email"][1]["aria-describedby"].split() == ["staff-aide", "email-erreur"]
    assert ids["commune"][1]["value"] == "Figeac"


def test_a_new_ballot_lists_every_error_of_its_form(client, congress, facilitator):
    congress.phase = "vote"
    login(client, facilitator)
    response = client.post("/animation/scrutins", data={
        "article": "999999", "quorum": "beaucoup", "title": "Article 9"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert list(summary_links(html)) == ["article", "quorum"]
    ids = by_id(html)
    assert ids["quorum"][1]["aria-invalid"] == "true"
    assert ids["quorum"][1]["value"] == "beaucoup"
    assert ids["article"][1]["aria-describedby"] == "article-erreur"
