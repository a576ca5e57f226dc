"""The staff menu: every screen of the congress's current phase and of the next one.

A facilitator in front of 200 people must never type a URL. The menu is one list here,
read by `templates/facilitator/_nav.html` on every staff page; a screen shows when its
phases include the current phase or the next one (the facilitator prepares the next step
before switching), and the page being shown is marked `aria-current`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from sqlalchemy import select

from ..drafting import amendments_open
from ..extensions import db
from ..models import PHASES, Ballot
from ..publishing import is_public, is_withheld

ALL = PHASES
STAFF = ("facilitator", "scribe")
FACILITATOR = ("facilitator",)


@dataclass(frozen=True)
class Screen:
    label: str
    endpoint: str
    phases: tuple[str, ...] = ALL
    roles: tuple[str, ...] = FACILITATOR
    #: The screen takes the congress's code in its URL.
    by_code: bool = False
    #: Shown only once the motion is published (before, the page answers 404).
    published: bool = False


SCREENS = (
    Screen("Tableau de bord", "facilitator.dashboard", roles=STAFF),
    Screen("Participants", "facilitator.participants"),
    Screen("Importer des contributions", "facilitator.import_contributions",
           ("preparation", "consultation", "debate")),
    Screen("Tableau du débat", "board.board", ("consultation", "debate", "drafting")),
    # issue 14: the pre-moderation queue, while ideas can arrive (and until each is decided)
    Screen("Modération des idées", "facilitator.moderation_queue",
           ("consultation", "debate", "drafting")),
    Screen("Relevé en séance", "board.scribe", ("consultation", "debate", "drafting"),
           roles=STAFF),
    Screen("Rédaction de la motion", "drafting.index", ("debate", "drafting", "vote")),
    Screen("Amendements", "drafting.amendments", ("drafting", "vote")),
    Screen("Aperçu de la motion", "drafting.preview_motion", ("drafting", "vote")),
    Screen("Présence et procurations", "vote.presence", ("drafting", "vote")),
    Screen("Scrutins", "vote.ballot_list", ("drafting", "vote", "closed")),
    Screen("Qualité du tri", "sorting_report.page", ("debate", "drafting", "vote", "closed")),
    # issue 18: votes counted in the room, entered by one staff member, confirmed by another
    Screen("Décomptes de la salle", "room.room_list", ("vote", "closed"), roles=STAFF),
    Screen("Relevé des idées", "publication.report_page", ("debate", "drafting", "vote", "closed"),
           roles=STAFF, by_code=True),
    Screen("Motion publiée", "publication.motion_page", ("vote", "closed"), roles=STAFF,
           by_code=True, published=True),
    Screen("Corriger la motion", "publication.correct", ("vote", "closed"), published=True),
    Screen("Projecteur", "projector.screen", roles=STAFF, by_code=True),
    # issue 18: bearer tokens of the staff API (docs/api.md)
    Screen("Jetons d'API", "staff_tokens.tokens"),
    Screen("Toutes les contributions", "participant.contributions", roles=STAFF, by_code=True),
)


def next_phase(phase: str) -> str | None:
    index = PHASES.index(phase) if phase in PHASES else -1
    return PHASES[index + 1] if 0 <= index < len(PHASES) - 1 else None


def staff_menu(congress, role: str) -> list[dict]:
    """The screens a staff member reaches now: label, URL, and whether it is this page."""
    shown = {congress.phase, next_phase(congress.phase)}
    published = is_public(congress)
    items = []
    for screen in SCREENS:
        if role not in screen.roles or not shown.intersection(screen.phases):
            continue
        if screen.published and not published:
            continue
        url = url_for(screen.endpoint, **({"code": congress.join_code} if screen.by_code else {}))
        items.append({"label": screen.label, "url": url,
                      "current": request.endpoint == screen.endpoint})
    return items


#: What the dashboard tells the facilitator to do next, phase by phase: a sentence, and
#: the screen that does it.
NEXT_STEPS = {
    "preparation": ("Inscrivez ou importez les participant·es, puis ouvrez la consultation "
                    "en ligne.", "facilitator.participants"),
    "consultation": ("Les élu·es déposent leurs idées. Vérifiez le classement sur le tableau "
                     "du débat, puis passez au débat en séance.", "board.board"),
    "debate": ("Le relevé en séance capte les idées dites dans la salle ; le projecteur "
               "montre les points récurrents. Ensuite : rédiger la motion.", "board.scribe"),
    "drafting": ("Rédigez les articles à partir des points récurrents, ouvrez les "
                 "amendements, puis préparez les scrutins.", "drafting.index"),
    "vote": ("Marquez les présences, ouvrez les scrutins article par article puis sur "
             "l'ensemble du texte.", "vote.ballot_list"),
    "closed": ("Le congrès est clos : publiez le résultat du scrutin sur l'ensemble du "
               "texte pour publier la motion.", "vote.ballot_list"),
}
WITHHELD_STEP = ("Le texte a été rejeté et, comme vous l'avez choisi, aucune motion n'est "
                 "publiée : la page publique le dit.", "publication.motion_page")
PUBLISHED_STEP = ("La motion est publiée : partagez son adresse, son PDF et ses résultats.",
                  "publication.motion_page")


def next_step(congress) -> dict | None:
    """The dashboard's « Prochaine étape »: what to do now, with a link to the screen."""
    found = NEXT_STEPS.get(congress.phase)
    if congress.phase == "closed" and is_public(congress):
        found = WITHHELD_STEP if is_withheld(congress) else PUBLISHED_STEP
    if found is None:
        return None
    sentence, endpoint = found
    screen = next(s for s in SCREENS if s.endpoint == endpoint)
    url = url_for(endpoint, **({"code": congress.join_code} if screen.by_code else {}))
    return {"sentence": sentence, "label": screen.label, "url": url}


def official_now(congress) -> dict:
    """What an official can do right now besides contributing: vote (a ballot is open)
    or propose amendments (the facilitator opened them). The page shows it at once, and
    `static/js/congress.js` reveals « Voter maintenant » live when a ballot opens."""
    vote_open = db.session.scalar(select(Ballot.id).filter_by(
        congress_id=congress.id, state="open").limit(1)) is not None
    return {"vote_open": vote_open, "amendments_open": amendments_open(congress)}
