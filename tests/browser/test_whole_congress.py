"""A whole congress in real browsers, by clicking only (issue 14's acceptance).

Two addresses are given, as in life: the facilitator's dashboard (after the staff login
form) and one official's personal invite link, printed on the invitations sheet. Every
other page is reached from a link or a button on a page already open. When a page opens
on another device (the projectors, the phones of officials who join in the room), that
device follows the address shown on a page — the menu's link, the projector's vote
address — exactly as someone would click or scan it; the test never builds a URL.

The congress runs from consultation to publication: an official contributes; in the
debate the scribe captures an idea and the projector shows it; the facilitator drafts
an article and the official amends it; three phones vote article by article and on the
whole text while both projectors show the article's text and then the results; the
motion is published and its HTML and PDF are checked.

Along the way: axe-core on every page (`Journey.seen` lists them), the projectors never
overflow their viewport, and screenshots at 360 px, 1280×720 and 1920×1080 are saved
under docs/screenshots/ (the README's).
"""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect
from pypdf import PdfReader

from .conftest import start_server, stop_server
from .support import check_axe, phone_context, screenshot, staff_login

pytestmark = pytest.mark.browser

PROJECTOR_SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
IDEA = "Un point d'accueil numérique itinérant qui passe chaque semaine dans les hameaux."
SAID = "Former les secrétaires de mairie aux démarches en ligne, sur leur temps de travail."
DRAFT = ("Le congrès demande un **point d'accueil numérique** itinérant dans chaque "
         "intercommunalité rurale.")
AMENDED = ("Le congrès demande un **point d'accueil numérique** itinérant dans chaque "
           "intercommunalité rurale, financé par l'État.")

# The projector fits its screen: nothing scrolls and no element leaves the viewport (the
# content of a box that clips is judged by that box; tests/browser/test_projector_layout.py
# checks that no text is cut).
_OVERFLOW_JS = """() => {
  const d = document.documentElement;
  const out = [];
  // An element inside a box that clips (a ticker's window) is seen through that box.
  const clipped = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') return true;
    }
    return false;
  };
  if (d.scrollWidth > innerWidth + 1) out.push(`page ${d.scrollWidth} px wide`);
  if (d.scrollHeight > innerHeight + 1) out.push(`page ${d.scrollHeight} px tall`);
  for (const e of document.body.querySelectorAll('*')) {
    if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1 || r.left < -1 || r.top < -1) {
      if (e.closest('.visually-hidden, [aria-hidden="true"]') || clipped(e)) continue;
      out.push(`${e.tagName.toLowerCase()}.${e.className} at ${Math.round(r.left)},` +
               `${Math.round(r.top)} ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  }
  return out;
}"""


class Journey:
    """The pages of one congress: every page reached is checked with axe once."""

    def __init__(self, browser: Browser, server) -> None:
        self.browser = browser
        self.server = server
        self.seen: set[str] = set()
        self.contexts = []

    def check(self, page: Page) -> None:
        """axe on this page (once per path shape: ids are folded)."""
        page.wait_for_load_state("load")
        shape = re.sub(r"/\d+", "/<n>", urlsplit(page.url).path)
        if (shape, page.viewport_size["width"]) not in self.seen:
            check_axe(page)
            self.seen.add((shape, page.viewport_size["width"]))

    def click(self, page: Page, target: Locator) -> Page:
        """Click a link or button that loads a page, then check the page."""
        with page.expect_navigation():
            target.click()
        self.check(page)
        return page

    def menu(self, page: Page, label: str) -> Page:
        """The staff menu's link named ``label``."""
        return self.click(page, page.locator("nav").get_by_role("link", name=label, exact=True))

    def follow(self, source: Page, link: Locator, **context_options) -> Page:
        """Open the address of ``link`` (on ``source``) on another device."""
        context = self.browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                           **context_options)
        self.contexts.append(context)
        page = context.new_page()
        page.goto(urljoin(source.url, link.get_attribute("href")))
        self.check(page)
        return page

    def phone(self, source: Page, link: Locator | str) -> Page:
        """A 360-px phone that opens ``link`` (the projector's vote address) or an address
        shown on ``source`` (the official's invite link, given to them on paper)."""
        context = phone_context(self.browser)
        self.contexts.append(context)
        page = context.new_page()
        address = link if isinstance(link, str) else link.get_attribute("href")
        page.goto(urljoin(source.url, address))
        self.check(page)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def set_phase(journey: Journey, desk: Page, label: str) -> None:
    journey.menu(desk, "Tableau de bord")
    desk.get_by_label(label, exact=True).check()
    journey.click(desk, desk.get_by_role("button", name="Appliquer"))
    expect(desk.locator("#phase-courante")).to_have_text(label)


def assert_fits(page: Page) -> None:
    problems = page.evaluate(_OVERFLOW_JS)
    assert not problems, f"{page.url} at {page.viewport_size}: " + "; ".join(problems[:8])


def projector_shots(page: Page, name: str) -> None:
    """The projector at both sizes: it fits, and the screenshots are saved."""
    for size in PROJECTOR_SIZES:
        page.set_viewport_size(size)
        page.wait_for_timeout(300)  # type scales with the viewport
        assert_fits(page)
        screenshot(page, f"congress-{name}-{size['width']}x{size['height']}")


@pytest.fixture(scope="module")
def congress_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("whole-congress"))
    yield server
    stop_server(server)


def test_whole_congress_by_clicking(congress_server, browser):
    server = congress_server
    journey = Journey(browser, server)
    staff, desk = staff_login(browser, server.url, viewport={"width": 1280, "height": 720})
    journey.contexts.append(staff)
    journey.check(desk)
    screenshot(desk, "congress-dashboard-1280x720")

    # --- 1. Consultation: the official opens the invite link and contributes. ---
    set_phase(journey, desk, "Consultation en ligne")
    journey.menu(desk, "Participants")
    official = journey.phone(desk, desk.locator("input.invite-link").first.input_value())
    expect(official.locator("h1")).to_be_visible()
    official.get_by_label("Votre idée").fill(IDEA)
    journey.click(official, official.get_by_role("button", name="Envoyer ma contribution"))
    expect(official.locator("#mes-contributions")).to_contain_text(IDEA)
    screenshot(official, "congress-official-phone-360")

    # --- 2. Debate: the scribe captures an idea; the projector shows it live. ---
    set_phase(journey, desk, "Débat en séance")
    projector = journey.follow(desk, desk.locator("nav").get_by_role("link", name="Projecteur"),
                               viewport=PROJECTOR_SIZES[1])
    journey.menu(desk, "Relevé en séance")
    desk.get_by_label("Orateur·rice", exact=True).fill("Mme Odile Marchal")
    desk.get_by_label("Commune", exact=True).fill("Saint-Flour")
    desk.get_by_label("Idée", exact=True).fill(SAID)
    desk.get_by_role("button", name="Enregistrer l'idée").click()
    expect(desk.locator(".scribe-recent")).to_contain_text(SAID)
    expect(projector.locator("body")).to_contain_text(SAID[:40], timeout=15_000)
    projector_shots(projector, "projector")
    # The heading's « Projecteur — » is for screen readers, never painted on the screen.
    assert projector.locator(".bar-title .visually-hidden").bounding_box()["width"] <= 1
    expect(projector.locator(".bar-title")).to_contain_text("Projecteur")

    # --- 3. Drafting: draft an article, the official amends it. ---
    set_phase(journey, desk, "Rédaction de la motion")
    journey.menu(desk, "Rédaction de la motion")
    journey.click(desk, desk.get_by_role("link", name="Rédiger : Article 1", exact=True))
    article_id = re.search(r"/article/(\d+)", desk.url).group(1)
    desk.get_by_label("Texte (Markdown)").fill(DRAFT)
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Enregistrer")).first)
    expect(desk.get_by_label("Texte (Markdown)")).to_have_value(DRAFT)
    journey.menu(desk, "Rédaction de la motion")
    if desk.get_by_role("button", name="Ouvrir le texte aux amendements").count():
        journey.click(desk, desk.get_by_role("button", name="Ouvrir le texte aux amendements"))
    screenshot(desk, "congress-drafting-1280x720")

    official.reload()
    journey.click(official, official.get_by_role(
        "link", name="Lire le texte et proposer un amendement"))
    first = official.locator(f"#article-{article_id}")
    expect(first.locator("h3")).to_contain_text("Article 1")
    first.locator("summary").click()
    first.get_by_label(re.compile("^Texte proposé")).fill(AMENDED)
    journey.click(official, first.get_by_role("button", name=re.compile("^Envoyer l'amendement")))
    expect(official.locator("#mes-amendements")).to_contain_text("Amendement n°")
    screenshot(official, "congress-amendment-phone-360")

    journey.menu(desk, "Amendements")
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Accepter")).first)
    journey.menu(desk, "Aperçu de la motion")
    expect(desk.locator("main")).to_contain_text("financé par l'État")

    # --- 4. Vote: three phones, per-article and whole-text ballots, both projectors. ---
    set_phase(journey, desk, "Vote")
    vote_projector = journey.follow(desk, desk.locator("nav").get_by_role("link",
                                                                          name="Scrutins"),
                                    viewport=PROJECTOR_SIZES[0])
    # (the staff page is only for staff: the projector follows its « Projection du vote »)
    journey.menu(desk, "Scrutins")
    vote_projector.goto(urljoin(desk.url, desk.get_by_role(
        "link", name="Projection du vote").get_attribute("href")))
    journey.check(vote_projector)
    projector.reload()
    journey.check(projector)

    # Two more officials scan the address the projector shows, and join in the room.
    # (what people type from the screen; the QR code beside it holds the same address)
    shown = projector.locator(".join-url").filter(visible=True).first.inner_text()
    address = f"{urlsplit(projector.url).scheme}://{shown}"
    phones = [official]
    for name in ("Jeanne Roubaud", "Paul Estève"):
        phone = journey.phone(projector, address)
        if not phone.get_by_label("Code du congrès").input_value():  # typed from the screen
            phone.get_by_label("Code du congrès").fill(projector.locator(
                ".join-code").filter(visible=True).first.inner_text())
        phone.get_by_label("Votre nom").fill(name)
        phone.get_by_label("Votre commune").fill("Murat")
        journey.click(phone, phone.get_by_role("button", name="Rejoindre"))
        expect(phone.locator("#inscription-en-attente")).to_be_visible()
        phones.append(phone)
    journey.menu(desk, "Participants")
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Tout accepter")))
    journey.menu(desk, "Présence et procurations")
    journey.click(desk, desk.get_by_role("button", name="Ouvrir le signalement de présence"))
    journey.click(official, official.get_by_role("link", name="← Retour au congrès"))
    for phone in phones:
        phone.reload()
        if "/vote" not in phone.url:
            journey.click(phone, phone.get_by_role("link", name="Aller à l'espace de vote"))
        journey.click(phone, phone.get_by_role("button", name="Je suis présent·e"))
        expect(phone.get_by_text("Vous êtes présent·e.")).to_be_visible()

    journey.menu(desk, "Scrutins")
    desk.get_by_label("Objet du vote").select_option(article_id)
    journey.click(desk, desk.get_by_role("button", name="Créer le scrutin"))
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Ouvrir le vote")).first)

    # The article's text is on every phone and both projectors during its ballot.
    for page in (projector, vote_projector):
        expect(page.locator(".pv-subject")).to_contain_text("Article 1 —", timeout=10_000)
        expect(page.locator(".pv-subject")).to_contain_text("financé par l'État")
    projector_shots(projector, "projector-vote")
    projector_shots(vote_projector, "vote-projector")
    for i, (phone, choice) in enumerate(zip(phones, ("Pour", "Pour", "Contre"), strict=True)):
        phone.reload()
        if "/vote" not in phone.url:
            journey.click(phone, phone.get_by_role("link", name="Voter maintenant"))
        expect(phone.locator(".ballot-subject")).to_contain_text("Article 1 —")
        expect(phone.locator(".ballot-subject")).to_contain_text("financé par l'État")
        phone.get_by_text(choice, exact=True).click()
        phone.get_by_role("button", name="Voter", exact=True).click()
        expect(phone.locator(".vote-done")).to_contain_text(f"Choix : {choice}")
        journey.check(phone)
        if i == 0:
            screenshot(phone, "congress-vote-phone-360")
    expect(vote_projector.locator(".pv-cast")).to_have_text("3", timeout=10_000)
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Clore le vote")).first)
    expect(vote_projector.locator(".pv-outcome")).to_have_text("ADOPTÉ", timeout=10_000)

    desk.get_by_label("Intitulé").fill("Ensemble de la motion")
    journey.click(desk, desk.get_by_role("button", name="Créer le scrutin"))
    journey.click(desk, desk.get_by_role("button",
                                         name="Ouvrir le vote « Ensemble de la motion »"))
    for phone in phones:
        phone.reload()
        phone.get_by_text("Pour", exact=True).click()
        phone.get_by_role("button", name="Voter", exact=True).click()
        expect(phone.locator(".vote-done")).to_contain_text("Choix : Pour")
    expect(vote_projector.locator(".pv-cast")).to_have_text("3", timeout=10_000)
    journey.click(desk, desk.get_by_role("button",
                                         name="Clore le vote « Ensemble de la motion »"))
    for page in (projector, vote_projector):
        expect(page.locator(".pv-outcome").first).to_have_text("ADOPTÉ", timeout=10_000)
    projector_shots(projector, "projector-results")
    projector_shots(vote_projector, "vote-projector-results")

    # --- 5. Publication: the results, then the motion in HTML and PDF. ---
    journey.click(desk, desk.get_by_role("button", name=re.compile("^Publier les résultats"))
                  .last)
    set_phase(journey, desk, "Clos")
    motion = journey.follow(desk, desk.locator("nav").get_by_role("link", name="Motion publiée"),
                            viewport=PROJECTOR_SIZES[0])
    expect(motion.locator("main")).to_contain_text("financé par l'État")
    expect(motion.locator("main")).to_contain_text("Adopté")
    screenshot(motion, "congress-motion-1280x720")
    motion.set_viewport_size({"width": 360, "height": 740})  # a journalist's phone
    journey.check(motion)
    assert motion.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(motion, "congress-motion-360")
    pdf_link = motion.get_by_role("link", name=re.compile("PDF"))
    pdf = requests.get(urljoin(motion.url, pdf_link.first.get_attribute("href")), timeout=60)
    assert pdf.headers["Content-Type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "financé par l" in text

    journey.close()
    assert "Traceback" not in server.log.read_text()
