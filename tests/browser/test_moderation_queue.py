"""Pre-moderation by keyboard (issue 14): the facilitator switches it on from the
dashboard, an official's idea appears live in the queue (reached from the staff menu),
is rejected with a reason or approved with one key, and its author's phone shows the
outcome by itself. axe-core on the queue at 1280×720 and at 360 px, 44-px targets."""

from __future__ import annotations

import re

import pytest

from .support import check_axe, phone_context, staff_login

pytestmark = pytest.mark.browser

PROJECTOR_720 = {"width": 1280, "height": 720}
FIRST = "Une idée à modérer : des bornes de recharge dans chaque bourg."
SECOND = "Une idée à approuver : un atelier numérique mensuel à la médiathèque."


def plain(text: str) -> str:
    """Text as the tests wrote it: pages set French no-break spaces (web/typesetting.py)."""
    return text.replace("&nbsp;", " ").replace("\xa0", " ").replace("\u202f", " ")


def _switch(page, on: bool) -> None:
    """Set « Modération avant affichage » on the dashboard, by keyboard."""
    page.goto(page.url.split("/animation/")[0] + "/animation/")
    box = page.locator("#premoderation")
    if box.is_checked() != on:
        box.focus()
        page.keyboard.press("Space")
    box.focus()
    page.keyboard.press("Tab")  # the form's one button
    assert page.evaluate("document.activeElement.textContent") == "Enregistrer le réglage"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/animation/#moderation$"))
    assert ("activée" if on else "désactivée") in page.inner_text("#moderation-etat")


def _post(phone, text: str) -> None:
    phone.get_by_label("Votre idée").fill(text)
    phone.get_by_role("button", name="Envoyer ma contribution").click()
    phone.wait_for_selector("#mes-contributions")


def test_the_moderation_queue_by_keyboard(server, browser):
    context, staff = staff_login(browser, server.url, viewport=PROJECTOR_720)
    try:
        with context, phone_context(browser) as phone_ctx:
            _switch(staff, True)
            staff.get_by_role("navigation", name="Animation") \
                .get_by_role("link", name="Modération des idées").click()
            staff.wait_for_url(re.compile(r"/animation/moderation$"))
            staff.wait_for_selector("body[data-live=on]", state="attached", timeout=15000)

            phone = phone_ctx.new_page()
            phone.goto(server.url + "/rejoindre?code=RURAL26")
            phone.get_by_label("Votre nom").fill("Mireille Modérée")
            phone.get_by_label("Votre commune").fill("Vic-sur-Cère")
            phone.get_by_role("button", name="Rejoindre").click()
            phone.wait_for_url(re.compile(r"/c/RURAL26"))
            _post(phone, FIRST)
            assert "attend la validation de l'animation" in phone.inner_text(".flashes")
            mine = phone.inner_text("#mes-contributions")
            assert "En attente de modération" in mine
            check_axe(phone)
            _post(phone, SECOND)

            # Both arrive in the open queue without a reload.
            queue = staff.locator("#file-idees")
            queue.locator("li", has_text=SECOND).wait_for(timeout=15000)
            assert FIRST in plain(queue.inner_text())
            check_axe(staff)
            assert staff.evaluate("document.documentElement.scrollWidth") <= 1280

            first = queue.locator("li", has_text=FIRST)
            ident = first.get_attribute("data-id")
            staff.focus(f"#motif-{ident}")
            staff.keyboard.type("Déjà proposée")
            staff.keyboard.press("Tab")
            assert staff.evaluate("document.activeElement.id") == f"rejeter-{ident}"
            staff.keyboard.press("Enter")
            staff.wait_for_url(re.compile(r"#file-moderation$"))
            assert FIRST in plain(staff.inner_text("#non-retenues"))
            assert FIRST not in plain(staff.inner_text("#file-moderation"))

            # The author's page hears the outcome by itself.
            phone.wait_for_selector(f"#moderation-{ident}[data-moderation=rejected]",
                                    timeout=15000)
            assert "Non retenue par l'animation\u00a0: Déjà proposée" in \
                phone.inner_text(f"#moderation-{ident}")
            card = phone.locator("#mes-contributions li", has_text=FIRST)
            assert card.get_by_role("link", name=re.compile("Modifier")).count() == 0
            assert card.get_by_role("button", name=re.compile("Retirer")).count() == 1

            second = staff.locator("#file-idees li", has_text=SECOND)
            other = second.get_attribute("data-id")
            staff.focus(f"#approuver-{other}")
            # The page is already at #file-moderation: wait for the new one, not the URL.
            with staff.expect_navigation(url=re.compile(r"#file-moderation$")):
                staff.keyboard.press("Enter")
            assert SECOND not in plain(staff.inner_text("#file-moderation"))
            phone.wait_for_selector(f"#moderation-{other}[data-moderation=visible]",
                                    timeout=15000)
            live = phone_ctx.new_page()
            live.goto(server.url + "/c/RURAL26/direct")
            assert SECOND in plain(live.content()) and FIRST not in plain(live.content())

            # The queue on a 360-px phone: no horizontal scroll, 44-px targets, axe.
            staff.set_viewport_size({"width": 360, "height": 740})
            _post(phone, "Une troisième idée : du wifi public sur la place du marché.")
            staff.goto(server.url + "/animation/moderation")
            # Connected, and the queue re-read once (its first snapshot): nothing moves now.
            staff.wait_for_selector("#file-moderation[data-refreshed]", state="attached",
                                    timeout=15000)
            check_axe(staff)
            assert staff.evaluate("document.documentElement.scrollWidth") <= 360
            for target in staff.locator("#file-idees button, #file-idees input[name=reason]").all():
                box = target.bounding_box()
                assert box, target.evaluate("e => e.outerHTML + ' ' + getComputedStyle(e).display")
                assert box["height"] >= 44 and box["width"] >= 44, box
    finally:
        with browser.new_context(locale="fr-FR") as cleanup:
            again = cleanup.new_page()
            again.goto(server.url + "/animation/connexion")
            again.get_by_label("Adresse électronique").fill("animation@motion.local")
            again.get_by_label("Mot de passe").fill("motion-demo")
            again.get_by_role("button", name="Se connecter").click()
            again.wait_for_url(re.compile(r"/animation/$"))
            _switch(again, False)  # the shared server's other tests post ideas
