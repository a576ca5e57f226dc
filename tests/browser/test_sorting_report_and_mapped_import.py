"""The facilitator's tools of issue 18 in a real browser: the sorting report (reached from
the menu, its table by keyboard) and a CSV from another platform, previewed, mapped and
imported. axe finds nothing to block at 1280×720 (the projector) and at 360 px, where
nothing spills sideways.

Runs on its own server: the corrections and the import change the demo congress.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .conftest import start_server, stop_server
from .support import REPO_ROOT, check_axe, phone_context, staff_login

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}

# The facilitator's checks, made through the corrections functions in a process of its
# own: two ideas confirmed, two moved to another theme.
SETUP = """
import json
from sqlalchemy import select
from deliberation import corrections, create_app
from deliberation.extensions import db
from deliberation.models import Congress, Contribution

app = create_app({"SORT_IN_BACKGROUND": False})
with app.app_context():
    congress = db.session.scalar(select(Congress).order_by(Congress.id))
    codes = [t.code for t in congress.themes]
    ideas = list(db.session.scalars(select(Contribution).filter_by(congress_id=congress.id)
                 .where(Contribution.theme_id.is_not(None)).order_by(Contribution.id).limit(4)))
    for idea in ideas[:2]:
        corrections.confirm(congress, None, idea.id)
    for idea in ideas[2:]:
        other = next(c for c in codes if c != idea.theme.code)
        corrections.move(congress, None, idea.id, theme=other)
    db.session.commit()
    print(json.dumps({"code": congress.join_code}))
"""

# A Decidim-like export: Windows-1252, « ; », its own column names.
EXPORT = ("Identifiant;Proposition;Auteur;Ville\n"
          "1;Une antenne 4G dans chaque commune rurale du département;Hélène Brun;Riom\n"
          "2;Des ateliers numériques pour les secrétaires de mairie;Marc Léger;Vic\n"
          "3;Un hébergement des données communales en France;Zoé Faure;Murat\n"
          ).encode("cp1252")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("sorting-report"))
    run = subprocess.run([sys.executable, "-c", SETUP], cwd=REPO_ROOT, env=server.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    yield server, json.loads(run.stdout.strip().splitlines()[-1])
    stop_server(server)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_sorting_report_from_the_menu_by_keyboard(browser, room):
    server, _ = room
    context, page = staff_login(browser, server.url, viewport=PROJECTOR)
    try:
        page.get_by_role("link", name="Qualité du tri").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Qualité du tri")
        expect(page.locator('[data-report="checked"]')).to_have_text("4")
        expect(page.locator('[data-report="wrong"]')).to_have_text("2")
        region = page.get_by_role("region", name="Thème proposé par la machine et thème retenu")
        region.focus()  # the wide table scrolls by keyboard
        expect(region).to_be_focused()
        check_axe(page)
        _no_sideways_scroll(page)
        url = page.url
    finally:
        context.close()
    phone = phone_context(browser)
    try:
        page = phone.new_page()
        page.goto(server.url + "/animation/connexion")
        page.get_by_label("Adresse électronique").fill("animation@motion.local")
        page.get_by_label("Mot de passe").fill("motion-demo")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/animation/")
        page.goto(url)
        expect(page.get_by_role("link", name="Télécharger (CSV)")).to_be_visible()
        check_axe(page)
        _no_sideways_scroll(page)
    finally:
        phone.close()


def test_a_csv_of_another_platform_previewed_mapped_and_imported(browser, room, tmp_path):
    server, _ = room
    export = tmp_path / "decidim.csv"
    export.write_bytes(EXPORT)
    context, page = staff_login(browser, server.url, viewport=PROJECTOR)
    try:
        page.get_by_role("link", name="Importer des contributions").click()
        page.get_by_label("Fichier à prévisualiser").set_input_files(str(export))
        page.get_by_role("button", name="Voir l'aperçu").click()
        expect(page.locator("#fichier-lu")).to_contain_text("Windows-1252")
        expect(page.locator("#fichier-lu")).to_contain_text("point-virgule")
        expect(page.get_by_role("cell", name="Hélène Brun")).to_be_visible()
        check_axe(page)
        _no_sideways_scroll(page)
        # « Auteur » matched by name; « Proposition » chosen for the text, by keyboard
        expect(page.get_by_label("Auteur (obligatoire)")).to_have_value("2")
        text = page.get_by_label("Texte (obligatoire)")
        text.focus()
        text.select_option(label="Proposition")
        page.get_by_label("Commune").select_option(label="Ville")
        page.get_by_role("button", name="Importer").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/animation/")
        expect(page.get_by_text("3 contributions importées")).to_be_visible()
    finally:
        context.close()
    phone = phone_context(browser)
    try:  # the same file again at 360 px: the columns come chosen this time
        page = phone.new_page()
        page.goto(server.url + "/animation/connexion")
        page.get_by_label("Adresse électronique").fill("animation@motion.local")
        page.get_by_label("Mot de passe").fill("motion-demo")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/animation/")
        page.goto(server.url + "/animation/contributions/import")
        page.get_by_label("Fichier à prévisualiser").set_input_files(str(export))
        page.get_by_role("button", name="Voir l'aperçu").click()
        expect(page.get_by_label("Texte (obligatoire)")).to_have_value("1")
        expect(page.locator("#fichier-lu")).to_contain_text("sont reprises")
        check_axe(page)
        _no_sideways_scroll(page)
    finally:
        phone.close()
