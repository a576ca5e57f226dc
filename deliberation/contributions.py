"""Creating, editing and withdrawing contributions: validation and phase rules.

Everything that writes a contribution goes through here (web form, JSON API,
scribe capture, CSV import) so the rules are the same whatever the channel.
"""

from __future__ import annotations

import re
import unicodedata

from . import audit, sorting
from .errors import InputError, PhaseError
from .extensions import db
from .models import Congress, Contribution, Participant, utcnow

MAX_TEXT = 2000
MAX_KEY = 64  # Contribution.client_key
POPULATION_MAX = 999_999_999  # Participant.population: nine digits fit every INTEGER
# Removed from every name and text: C0/C1 control characters (tab and line breaks aside),
# bidirectional controls (U+202E « right-to-left override » turns a name or an idea
# around on every screen that shows it, U+2066–U+2069 isolates, U+200E/U+200F and
# U+061C marks) and lone surrogates, which no database can store as UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                      "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Spaces people type inside a number (« 12 500 », French thousands separators).
_NUMBER_SPACES = re.compile("[ \u00a0\u202f]")


#: An idea has at least a few letters: « ok », « +1 » or « oui » say nothing yet (issue 14).
MIN_LETTERS = 5
_LETTER = re.compile(r"[^\W\d_]")


def clean_idea(raw: str | None) -> str:
    """`clean_text` for an idea (posted, edited, captured, imported): a few words at least."""
    text = clean_text(raw)
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        raise InputError(f"« {text[:20]} » ne dit pas encore quelle idée vous proposez : "
                         "écrivez-la en quelques mots.", field="text")
    return text


def clean_text(raw: str | None, *, limit: int = MAX_TEXT, what: str = "La contribution") -> str:
    """Normalise a submitted text or explain, in French, why it cannot be accepted."""
    text = unicodedata.normalize("NFC", raw or "")
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InputError(f"{what} est vide : écrivez au moins quelques mots.", field="text")
    if len(text) > limit:
        raise InputError(
            f"{what} fait {len(text):,} caractères ; la limite est de {limit:,}.".replace(",", " "),
            field="text",
        )
    return text


def clean_line(raw: str | None, *, limit: int, what: str, required: bool = False) -> str:
    """A one-line field (name, commune): control characters removed, length bounded."""
    text = " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", raw or "")).split())
    if required and not text:
        raise InputError(f"{what} est obligatoire.", field=what)
    if len(text) > limit:
        raise InputError(f"{what} dépasse {limit} caractères.", field=what)
    return text


def clean_int(raw: str | None, *, what: str, maximum: int) -> int | None:
    """A whole number typed in a form (None when left empty), or a French refusal.

    Only the digits 0–9 count: `str.isdigit` also accepts « ² » (which `int` then
    rejects) and other scripts' digits (« ٣ »), and a number beyond 64 bits reaches
    no column; both are refused here rather than deep in the database.
    """
    text = _NUMBER_SPACES.sub("", raw or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)) \
            or int(text) > maximum:
        raise InputError(f"{what} doit être un nombre entier entre 0 et "
                         f"{maximum:,}.".replace(",", "\u202f"), field=what)
    return int(text)


def require_open(congress: Congress) -> None:
    if not congress.accepts_contributions:
        raise PhaseError(
            "Les contributions ne sont ouvertes que pendant la consultation et le débat "
            f"(phase actuelle : {congress.phase_label.lower()})."
        )


def is_held(congress: Congress, author: Participant | None) -> bool:
    """Whether a new idea waits in the facilitator's pre-moderation queue: an official's,
    while the congress moderates. Staff captures (the scribe's, a facilitator's) and
    imports are staff-authored and go straight to the screens."""
    return bool(congress.premoderation) and author is not None and not author.is_staff


def create(congress: Congress, text: str, *, author: Participant | None = None,
           speaker_name: str | None = None, speaker_commune: str | None = None,
           channel: str = "online", client_key: str | None = None,
           check_phase: bool = True) -> tuple[Contribution, bool]:
    """Store a new contribution; returns (contribution, created).

    Held for pre-moderation (`is_held`), it is stored `pending`, unsorted: the
    facilitator's approval sorts it and announces it as a new idea (moderation.py).
    A retried submission carrying the same `client_key` returns the first one
    instead of storing it twice. A key is its author's in this congress (the database's
    unique constraint says so too): another person's key finds nothing of theirs.
    """
    if client_key is not None and (not isinstance(client_key, str)
                                   or not 0 < len(client_key) <= MAX_KEY
                                   or _CONTROL.search(client_key)):  # NUL: PostgreSQL's 500
        raise InputError("Clé de renvoi invalide : rechargez la page puis renvoyez votre "
                         "texte.", field="client_key")
    if client_key:
        existing = db.session.scalar(db.select(Contribution).filter_by(
            client_key=client_key, congress_id=congress.id,
            author_id=author.id if author else None))
        if existing is not None:
            return existing, False
    if check_phase:
        require_open(congress)
    body = clean_idea(text)
    if author is None:
        speaker_name = clean_line(speaker_name, limit=120, what="Le nom de l'orateur",
                                  required=True)
        speaker_commune = clean_line(speaker_commune, limit=120, what="La commune") or None
    held = is_held(congress, author)
    contribution = Contribution(
        congress_id=congress.id,
        author_id=author.id if author else None,
        speaker_name=speaker_name,
        speaker_commune=speaker_commune,
        channel=channel,
        text=body,
        client_key=client_key or None,
        status="pending" if held else "visible",
    )
    db.session.add(contribution)
    db.session.flush()
    if held:
        audit.record("contribution.created", congress.id, author.id,
                     contribution_id=contribution.id, channel=channel, held=True)
        return contribution, True
    sorting.assign_live(contribution)
    audit.record("contribution.created", congress.id, author.id if author else None,
                 contribution_id=contribution.id, channel=channel)
    return contribution, True


def _own(contribution: Contribution, participant: Participant) -> None:
    if contribution.author_id != participant.id:
        raise InputError("Vous ne pouvez modifier que vos propres contributions.")
    if contribution.status == "withdrawn":
        raise InputError("Cette contribution a été retirée.")


def edit(contribution: Contribution, participant: Participant, text: str) -> Contribution:
    """Change one's own idea. A pending one stays in the queue with its new text; while
    the facilitator moderates, a shown one goes back to the queue (`pending`): what an
    official writes never reaches the projector unseen, an edit included."""
    _own(contribution, participant)
    if contribution.status == "rejected":
        raise InputError("Cette idée n'a pas été retenue par l'animation\u00a0: elle ne peut "
                         "plus être modifiée. Vous pouvez en proposer une autre.")
    congress = contribution_congress(contribution)
    require_open(congress)
    contribution.text = clean_idea(text)
    if contribution.status == "visible" and is_held(congress, participant):
        contribution.status = "pending"
        contribution.moderated_at = None
    contribution.updated_at = utcnow()
    # The text changed: the machine's earlier guess no longer holds, unless a human confirmed it.
    if not contribution.confirmed:
        contribution.confidence = None
    audit.record("contribution.edited", contribution.congress_id, participant.id,
                 contribution_id=contribution.id)
    return contribution


def correct_capture(contribution: Contribution, actor_id: int | None, text: str | None,
                    speaker: str | None, commune: str | None) -> list[str]:
    """The scribe's « Corriger » on an idea captured in the room: its text, its speaker
    and their commune, as a typo or a misheard name is noticed. Returns the fields that
    changed (none: nothing written). An official's own idea, posted from their phone, is
    theirs to edit, never the scribe's: refused. Everything is checked before anything
    is written, so a refusal loses nothing."""
    if contribution.channel != "live" or contribution.author_id is not None:
        raise InputError("Seules les idées relevées en séance se corrigent ici : une idée "
                         "envoyée par un·e élu·e ne se modifie que par son auteur·rice.")
    if contribution.status == "withdrawn":
        raise InputError("Cette idée a été retirée.")
    require_open(contribution_congress(contribution))
    body = clean_idea(text)
    name = clean_line(speaker, limit=120, what="Le nom de l'orateur", required=True)
    place = clean_line(commune, limit=120, what="La commune") or None
    changed = [field for field, before, after in (
        ("text", contribution.text, body), ("speaker", contribution.speaker_name, name),
        ("commune", contribution.speaker_commune or None, place)) if before != after]
    if not changed:
        return changed
    contribution.text, contribution.speaker_name, contribution.speaker_commune = \
        body, name, place
    contribution.updated_at = utcnow()
    # As for an official's edit: a new text voids the machine's guess, not a human's.
    if "text" in changed and not contribution.confirmed:
        contribution.confidence = None
    audit.record("contribution.corrected", contribution.congress_id, actor_id,
                 contribution_id=contribution.id, fields=changed)
    return changed


def withdraw(contribution: Contribution, participant: Participant) -> Contribution:
    _own(contribution, participant)
    require_open(contribution_congress(contribution))
    contribution.status = "withdrawn"
    contribution.duplicate_of_id = None
    audit.record("contribution.withdrawn", contribution.congress_id, participant.id,
                 contribution_id=contribution.id)
    return contribution


def contribution_congress(contribution: Contribution) -> Congress:
    return db.session.get(Congress, contribution.congress_id)
