"""An official on a 360-px phone: join, read, contribute, edit; the facilitator's dashboard.

Every screen is checked with axe-core (no serious or critical violation) and
photographed for the README.
"""

from __future__ import annotations

import re

import pytest

from .support import check_axe, phone_context, screenshot

pytestmark = pytest.mark.browser


def _invite_url(server) -> str:
    return re.search(r"(http://\S+/i/\S+)", server.cli("demo-info")).group(1)


def test_official_joins_by_code_and_contributes_on_a_phone(server, browser):
    with phone_context(browser) as context:
        page = context.new_page()
        page.goto(server.url + "/")
        check_axe(page)
        page.get_by_role("link", name="J'ai un code de congrès").click()
        check_axe(page)
        page.get_by_label("Code du congrès").fill("rural26")
        page.get_by_label("Votre nom").fill("Odile Testeuse")
        page.get_by_label("Votre commune").fill("Polminhac")
        page.get_by_label("Département (numéro, facultatif)").fill("15")
        page.get_by_role("button", name="Rejoindre").click()
        page.wait_for_url(re.compile(r"/c/RURAL26"))
        assert "Bienvenue, Odile Testeuse" in page.content()
        page.get_by_label("Votre idée").fill(
            "Un **médiateur numérique** itinérant pour les hameaux du Cantal.")
        page.get_by_role("button", name="Envoyer ma contribution").click()
        page.wait_for_selector("#mes-contributions")
        assert "médiateur numérique" in page.inner_text("#mes-contributions")
        check_axe(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"horizontal scroll at 360 px: {width}"
        screenshot(page, "participant")

        page.get_by_role("link", name=re.compile("Voir les \\d+ contributions")).click()
        items = page.locator("li.contribution")
        assert items.count() >= 400
        check_axe(page)


def test_empty_contribution_gets_a_clear_message_without_javascript(server, browser):
    with phone_context(browser, java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(_invite_url(server))
        page.get_by_label("Votre idée").fill("   ")
        page.get_by_role("button", name="Envoyer ma contribution").click()
        assert "est vide" in page.inner_text("#erreur")


def test_keyboard_only_contribution(server, browser):
    with phone_context(browser) as context:
        page = context.new_page()
        page.goto(_invite_url(server))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.get_by_label("Votre idée").focus()
        page.keyboard.type("Des ateliers pour les seniors le samedi matin.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector("#mes-contributions")
        assert "ateliers pour les seniors" in page.inner_text("#mes-contributions")


def test_facilitator_dashboard(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(server.url + "/animation/connexion")
    check_axe(page)
    page.get_by_label("Adresse électronique").fill("animation@motion.local")
    page.get_by_label("Mot de passe").fill("motion-demo")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/animation/$"))
    assert int(page.inner_text('[data-stat="contributions"]')) >= 400
    check_axe(page)
    screenshot(page, "dashboard")
    page.goto(server.url + "/animation/participants")
    check_axe(page)
    context.close()
