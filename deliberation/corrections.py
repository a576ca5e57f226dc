"""A facilitator's corrections to the machine's sorting, and the officials' "+1".

Plain functions on the database: each validates its input (a French `InputError`
when something is wrong, nothing changed), applies the change, records it in the
audit log, and leaves the commit and the live push to the caller (a socket handler
or an HTTP route), so that a push never announces something a rollback undid.

Corrections survive refits because they are stored where `sorting.refit` reads
them: `Contribution.confirmed` (the theme is the facilitator's), `cluster_locked`
(the contribution stays in its recurring point; a merge pins every member),
`Cluster.custom_label` (a rename is a statement that wins over the machine's) and
`Theme.granularity` (« plus / moins de points », passed to the engine). Hidden and
duplicate statuses are never touched by a refit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from . import audit, sorting
from .clustering.statements import STATEMENT_MAX_CHARS, normalise_statement
from .contributions import clean_line
from .errors import InputError, PermissionDenied
from .extensions import db
from .models import (
    OFF_TOPIC,
    SORTED_STATUSES,
    Cluster,
    Congress,
    Contribution,
    Participant,
    Support,
    Theme,
    is_row_id,
)
from .rendering import plain_excerpt

#: Statuses the sorting engine sorts (a hidden or withdrawn idea is out of the picture).
SORTED = SORTED_STATUSES
MAX_BATCH = 200


@dataclass
class Outcome:
    """What a correction changed: for the push, the audit and the client's answer."""

    change: str
    contributions: list[Contribution] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


# -- lookups and validation ---------------------------------------------------------------

def parse_id(value: Any, what: str = "L'identifiant") -> int:
    """A positive integer id from a JSON or form value, or a French error."""
    if isinstance(value, bool):
        raise InputError(f"{what} doit être un nombre entier.")
    # ASCII digits only: `isdigit` also accepts « ² », which `int` rejects (a logged failure
    # instead of a refusal); past MAX_ID no row exists and PostgreSQL cannot bind the id.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() \
            and len(value.strip()) <= 12:
        value = int(value.strip())
    if not is_row_id(value):
        raise InputError(f"{what} doit être un nombre entier positif.")
    return value


def get_contribution(congress: Congress, value: Any, what: str = "L'idée") -> Contribution:
    ident = parse_id(value, f"L'identifiant de {what[0].lower()}{what[1:]}")
    contribution = db.session.get(Contribution, ident)
    if contribution is None or contribution.congress_id != congress.id:
        raise InputError(f"{what} n° {ident} n'existe pas dans ce congrès.")
    if contribution.status == "withdrawn":
        raise InputError(f"{what} n° {contribution.id} a été retirée par son auteur·rice.")
    if contribution.status == "pending":  # pre-moderation: not on any screen yet
        raise InputError(f"{what} n° {contribution.id} attend la modération\u00a0: "
                         "approuvez-la d'abord dans la file de modération.")
    if contribution.status == "rejected":
        raise InputError(f"{what} n° {contribution.id} n'a pas été retenue par l'animation.")
    return contribution


def get_theme(congress: Congress, code: Any) -> Theme | None:
    """A theme of the congress by code; None for « hors thème »."""
    if not isinstance(code, str) or not code or len(code) > 40:
        raise InputError("Le thème choisi n'est pas valide.")
    if code == OFF_TOPIC:
        return None
    theme = db.session.scalar(select(Theme).filter_by(congress_id=congress.id, code=code))
    if theme is None:
        raise InputError(f"Le thème « {code} » n'existe pas dans ce congrès.")
    return theme


def get_cluster(congress: Congress, key: Any, what: str = "Le point") -> Cluster:
    if not isinstance(key, str) or not key or len(key) > 40:
        raise InputError(f"{what} choisi n'est pas valide.")
    cluster = db.session.scalar(select(Cluster).filter_by(congress_id=congress.id, key=key))
    if cluster is None:
        raise InputError(f"{what} « {key} » n'existe pas (ou plus) dans ce congrès.")
    return cluster


def theme_code(contribution: Contribution) -> str | None:
    if contribution.theme is not None:
        return contribution.theme.code
    return OFF_TOPIC if contribution.off_topic else None


def members(cluster: Cluster) -> list[Contribution]:
    return list(db.session.scalars(
        select(Contribution).filter_by(cluster_id=cluster.id)
        .where(Contribution.status.in_(SORTED)).order_by(Contribution.id)))


def refresh_sizes(clusters: list[Cluster]) -> None:
    """Sizes counted in the database, so screens are right before the next refit."""
    db.session.flush()
    for cluster in {c.id: c for c in clusters}.values():
        cluster.size = db.session.scalar(
            select(func.count()).select_from(Contribution).filter_by(cluster_id=cluster.id)
            .where(Contribution.status.in_(SORTED))) or 0


def _set_theme(contribution: Contribution, theme: Theme | None) -> None:
    """Apply a human theme decision (confirmed: no refit will change it)."""
    contribution.theme_id = theme.id if theme else None
    contribution.theme = theme
    contribution.off_topic = theme is None
    if contribution.alt_theme_id == contribution.theme_id:
        contribution.alt_theme_id = None
    contribution.confirmed = True
    contribution.review_rank = None


def _actor_id(actor: Participant | None) -> int | None:
    return actor.id if actor is not None else None


# -- contribution corrections ---------------------------------------------------------------

def move(congress: Congress, actor: Participant | None, contribution_id: Any,
         theme: Any = None, cluster: Any = None) -> Outcome:
    """Move an idea to another theme, or into a recurring point (which pins it there)."""
    contribution = get_contribution(congress, contribution_id)
    if contribution.status not in SORTED:
        raise InputError("Réaffichez d'abord cette idée masquée avant de la déplacer.")
    if theme is None and cluster is None:
        raise InputError("Choisissez un thème ou un point où déplacer l'idée.")
    target_cluster = get_cluster(congress, cluster) if cluster is not None else None
    if theme is not None:
        target_theme = get_theme(congress, theme)
        if target_cluster is not None and target_cluster.theme_id is not None and (
                target_theme is None or target_cluster.theme_id != target_theme.id):
            raise InputError("Ce point appartient à un autre thème que celui choisi.")
    else:
        target_theme = target_cluster.theme
    before = {"theme": theme_code(contribution),
              "cluster": contribution.cluster.key if contribution.cluster else None}
    old_cluster = contribution.cluster
    _set_theme(contribution, target_theme)
    if target_cluster is not None:
        contribution.cluster_id = target_cluster.id
        contribution.cluster = target_cluster
        contribution.cluster_locked = True
    else:
        # A new theme: the next refit finds its point there; until then it stands alone.
        if old_cluster is not None and old_cluster.theme_id != contribution.theme_id:
            contribution.cluster_id = None
            contribution.cluster = None
        contribution.cluster_locked = False
    sorting.place(contribution, theme_code(contribution), contribution.cluster)
    touched = [c for c in (old_cluster, contribution.cluster) if c is not None]
    refresh_sizes(touched)
    after = {"theme": theme_code(contribution),
             "cluster": contribution.cluster.key if contribution.cluster else None}
    audit.record("correction.move", congress.id, _actor_id(actor),
                 contribution_id=contribution.id, before=before, after=after)
    return Outcome("moved", [contribution], touched,
                   {"id": contribution.id, **after})


def confirm(congress: Congress, actor: Participant | None, contribution_id: Any) -> Outcome:
    """Confirm the machine's theme guess: it leaves the « à vérifier » queue for good."""
    contribution = get_contribution(congress, contribution_id)
    code = theme_code(contribution)
    if code is None:
        raise InputError("Cette idée n'a pas encore de thème : choisissez-en un.")
    contribution.confirmed = True
    contribution.review_rank = None
    audit.record("correction.confirm", congress.id, _actor_id(actor),
                 contribution_id=contribution.id, theme=code)
    return Outcome("confirmed", [contribution], [], {"id": contribution.id, "theme": code})


def hide(congress: Congress, actor: Participant | None, contribution_id: Any) -> Outcome:
    """Hide an off-topic or abusive idea from every screen (kept, and can be shown again)."""
    contribution = get_contribution(congress, contribution_id)
    if contribution.status == "hidden":
        raise InputError("Cette idée est déjà masquée.")
    previous = contribution.status
    contribution.status = "hidden"
    contribution.duplicate_of_id = None
    contribution.review_rank = None
    touched = [contribution.cluster] if contribution.cluster else []
    refresh_sizes(touched)
    audit.record("correction.hide", congress.id, _actor_id(actor),
                 contribution_id=contribution.id, previous=previous)
    return Outcome("hidden", [contribution], touched, {"id": contribution.id})


def unhide(congress: Congress, actor: Participant | None, contribution_id: Any) -> Outcome:
    """Show a hidden idea again (or undo a « doublon » mark)."""
    contribution = get_contribution(congress, contribution_id)
    if contribution.status not in ("hidden", "duplicate"):
        raise InputError("Cette idée n'est ni masquée ni marquée comme doublon.")
    contribution.status = "visible"
    contribution.duplicate_of_id = None
    touched = [contribution.cluster] if contribution.cluster else []
    refresh_sizes(touched)
    audit.record("correction.unhide", congress.id, _actor_id(actor),
                 contribution_id=contribution.id)
    return Outcome("unhidden", [contribution], touched, {"id": contribution.id})


def mark_duplicate(congress: Congress, actor: Participant | None, contribution_id: Any,
                   of: Any) -> Outcome:
    """Mark an idea as a duplicate of another one (it leaves the lists, its point stays)."""
    contribution = get_contribution(congress, contribution_id)
    original = get_contribution(congress, of, "L'idée d'origine")
    # Point at the first idea, never at another duplicate (no chains).
    seen = {contribution.id}
    while original.status == "duplicate" and original.duplicate_of_id:
        if original.id in seen:
            break
        seen.add(original.id)
        original = db.session.get(Contribution, original.duplicate_of_id)
    if original.id == contribution.id:
        raise InputError("Une idée ne peut pas être le doublon d'elle-même.")
    if original.status == "hidden":
        raise InputError("L'idée d'origine est masquée : choisissez une idée visible.")
    if contribution.status == "duplicate" and contribution.duplicate_of_id == original.id:
        raise InputError(f"Cette idée est déjà marquée comme doublon de l'idée n° {original.id}.")
    # Ideas that pointed at this one now point at the original.
    for other in db.session.scalars(select(Contribution).filter_by(
            duplicate_of_id=contribution.id)):
        other.duplicate_of_id = original.id
    contribution.status = "duplicate"
    contribution.duplicate_of_id = original.id
    contribution.review_rank = None
    audit.record("correction.duplicate", congress.id, _actor_id(actor),
                 contribution_id=contribution.id, of=original.id)
    return Outcome("duplicate", [contribution], [], {"id": contribution.id, "of": original.id})


# -- recurring point corrections -----------------------------------------------------------

def merge_points(congress: Congress, actor: Participant | None, into: Any,
                 sources: Any) -> Outcome:
    """Merge recurring points into one; every member is pinned so refits keep them together."""
    target = get_cluster(congress, into, "Le point de destination")
    if not isinstance(sources, list) or not sources:
        raise InputError("Choisissez au moins un point à fusionner.")
    if len(sources) > 50:
        raise InputError("Fusionnez au plus 50 points à la fois.")
    others: list[Cluster] = []
    for key in sources:
        cluster = get_cluster(congress, key, "Le point à fusionner")
        if cluster.id == target.id:
            raise InputError("Un point ne peut pas être fusionné avec lui-même.")
        if cluster.id not in {c.id for c in others}:
            others.append(cluster)
    moved = [c for cluster in others for c in members(cluster)]
    pinned = members(target) + moved
    if not moved:
        raise InputError("Les points choisis ne contiennent aucune idée à fusionner.")
    for contribution in pinned:
        contribution.cluster_id = target.id
        contribution.cluster = target
        contribution.cluster_locked = True
        if target.theme_id is not None and contribution.theme_id != target.theme_id:
            _set_theme(contribution, target.theme)
    for contribution in moved:
        sorting.place(contribution, theme_code(contribution), target)
    refresh_sizes([target, *others])
    audit.record("correction.merge", congress.id, _actor_id(actor), into=target.key,
                 sources=[c.key for c in others], contributions=[c.id for c in moved])
    return Outcome("merged", moved, [target, *others],
                   {"into": target.key, "from": [c.key for c in others],
                    "ids": [c.id for c in moved], "size": target.size})


def split_point(congress: Congress, actor: Participant | None, cluster_key: Any, ids: Any,
                label: Any = None) -> Outcome:
    """Take the chosen ideas out of a point into a new point of the same theme (pinned)."""
    source = get_cluster(congress, cluster_key)
    if not isinstance(ids, list) or not ids:
        raise InputError("Choisissez les idées qui forment le nouveau point.")
    if len(ids) > MAX_BATCH:
        raise InputError(f"Choisissez au plus {MAX_BATCH} idées.")
    wanted = {parse_id(i, "L'identifiant d'une idée") for i in ids}
    current = members(source)
    picked = [c for c in current if c.id in wanted]
    if len(picked) != len(wanted):
        raise InputError("Certaines idées choisies ne font pas partie de ce point.")
    if len(picked) == len(current):
        raise InputError("Laissez au moins une idée dans le point d'origine.")
    name = pinned_statement(label if isinstance(label, str) else "")
    new = Cluster(congress_id=congress.id, theme_id=source.theme_id,
                  key=f"m{secrets.token_hex(6)}",
                  label=plain_excerpt(picked[0].text, 80), custom_label=name or None,
                  size=len(picked))
    db.session.add(new)
    db.session.flush()
    for contribution in picked:
        contribution.cluster_id = new.id
        contribution.cluster = new
        contribution.cluster_locked = True
        sorting.place(contribution, theme_code(contribution), new)
    refresh_sizes([source, new])
    audit.record("correction.split", congress.id, _actor_id(actor), cluster=source.key,
                 new=new.key, contributions=sorted(wanted))
    return Outcome("split", picked, [source, new],
                   {"cluster": source.key, "new": new.key, "ids": sorted(wanted)})


def pinned_statement(text: str) -> str:
    """A statement a facilitator wrote (rename, split), set as the engine's are: capital,
    final full stop, French typography; "" when empty, a French error when too long."""
    name = clean_line(text, limit=STATEMENT_MAX_CHARS, what="L'énoncé du point")
    name = normalise_statement(name) if name else ""
    if name.endswith("…"):  # only `normalise_statement`'s cut ends so: it would lose words
        raise InputError(f"L'énoncé du point dépasse {STATEMENT_MAX_CHARS} caractères une fois "
                         "le point final et les espaces insécables ajoutés : raccourcissez-le.")
    return name


def rename_point(congress: Congress, actor: Participant | None, cluster_key: Any,
                 label: Any) -> Outcome:
    """Write a point's statement by hand and pin it: refits keep it, the projector and the
    draft read it as written (an empty one restores the machine's statement).

    Normalised as the engine's own statements are (capital, final full stop, French
    typography), so a rename reads like the other points on the screen and in the motion.
    """
    cluster = get_cluster(congress, cluster_key)
    if label is not None and not isinstance(label, str):
        raise InputError("L'énoncé du point doit être un texte.")
    name = pinned_statement(label or "")
    previous = cluster.custom_label
    cluster.custom_label = name or None
    audit.record("correction.rename", congress.id, _actor_id(actor), cluster=cluster.key,
                 previous=previous, label=cluster.custom_label)
    return Outcome("renamed", [], [cluster],
                   {"cluster": cluster.key, "label": cluster.display_label})


# -- the grain of a theme's recurring points -------------------------------------------------

#: How far « plus de points » (> 0) and « moins de points » (< 0) go from the engine's grain.
GRANULARITY_MIN, GRANULARITY_MAX = -3, 3


def granularity_label(value: int) -> str:
    """« Grain : +1 », « Grain : 0 », « Grain : −2 » (minus sign, espace insécable)."""
    shown = f"+{value}" if value > 0 else (f"\u2212{-value}" if value < 0 else "0")
    return f"Grain\u00a0: {shown}"


def set_granularity(congress: Congress, actor: Participant | None, code: Any,
                    step: Any) -> Outcome:
    """« Plus de points » (step +1) or « moins de points » (step −1) for one theme.

    Stored on the theme, where every refit reads it (`Locks.granularity`): the setting
    survives refits, and the engine keeps the ids of the points it does not change.
    """
    theme = get_theme(congress, code)
    if theme is None:
        raise InputError("Le grain se règle thème par thème, pas pour « hors thème ».")
    if isinstance(step, str) and step.strip() in ("1", "+1", "-1", "\u22121"):
        step = -1 if step.strip() in ("-1", "\u22121") else 1
    if isinstance(step, bool) or step not in (1, -1):
        raise InputError("Choisissez « Plus de points » ou « Moins de points ».")
    previous = theme.granularity or 0
    value = previous + step
    if value > GRANULARITY_MAX:
        raise InputError(f"Le thème « {theme.short_title} » a déjà le plus de points "
                         f"possible (grain +{GRANULARITY_MAX}) : choisissez plutôt "
                         "« Moins de points », ou séparez un point à la main.")
    if value < GRANULARITY_MIN:
        raise InputError(f"Le thème « {theme.short_title} » a déjà le moins de points "
                         f"possible (grain \u2212{-GRANULARITY_MIN}) : choisissez plutôt "
                         "« Plus de points », ou fusionnez des points à la main.")
    theme.granularity = value
    audit.record("correction.granularity", congress.id, _actor_id(actor), theme=theme.code,
                 previous=previous, granularity=value)
    return Outcome("granularity", result={"theme": theme.code, "granularity": value,
                                          "label": granularity_label(value)})


# -- officials' support ("+1") -------------------------------------------------------------

def add_support(congress: Congress, participant: Participant, contribution_id: Any) -> int:
    """Back an existing idea once; returns its new count (counted in SQL, never in Python).

    Not in the audit log: the Support rows are the record, and a burst of "+1" must not
    serialise on the audit chain."""
    if participant.congress_id != congress.id:
        raise PermissionDenied("Vous ne participez pas à ce congrès.")
    if participant.role != "participant":
        raise PermissionDenied("Seul·es les élu·es participant·es peuvent soutenir une idée.")
    if not participant.is_accepted:  # roster.py: a "+1" weighs on what the room decides
        raise PermissionDenied("Votre inscription attend la validation de l'animation\u00a0: vous "
                               "pourrez soutenir des idées une fois votre inscription "
                               "acceptée.")
    contribution = get_contribution(congress, contribution_id)
    if contribution.status != "visible":
        raise InputError("Cette idée n'est plus affichée : elle ne peut pas être soutenue.")
    if contribution.author_id == participant.id:
        raise InputError("Vous ne pouvez pas soutenir votre propre idée.")
    try:
        with db.session.begin_nested():
            db.session.add(Support(contribution_id=contribution.id,
                                   participant_id=participant.id))
    except IntegrityError:
        raise InputError("Vous soutenez déjà cette idée.") from None
    db.session.execute(update(Contribution).where(Contribution.id == contribution.id)
                       .values(supports=Contribution.supports + 1))
    return db.session.scalar(select(Contribution.supports).filter_by(id=contribution.id))


# -- the projector ---------------------------------------------------------------------------

PROJECTOR_MODES = {"overview": "Vue d'ensemble", "theme": "Un thème en détail", "vote": "Vote"}


def set_projector_mode(congress: Congress, actor: Participant | None, mode: Any,
                       theme: Any = None) -> Outcome:
    """What the room's big screen shows: every theme, one theme in detail, or the vote."""
    if not isinstance(mode, str) or mode not in PROJECTOR_MODES:
        raise InputError("Mode du projecteur inconnu (vue d'ensemble, thème ou vote).")
    code = None
    label = None
    if mode == "theme":
        if theme in (None, ""):
            raise InputError("Choisissez le thème à montrer en détail.")
        chosen = get_theme(congress, theme)
        if chosen is None:
            raise InputError("Choisissez l'un des thèmes de la motion.")
        code, label = chosen.code, chosen.short_title
    congress.projector_mode = mode
    congress.projector_theme_code = code
    audit.record("projector.mode", congress.id, _actor_id(actor), mode=mode, theme=code)
    return Outcome("mode", result={"mode": mode, "theme": code, "theme_label": label,
                                   "label": PROJECTOR_MODES[mode]})
