"""The debate's actions (corrections, the scribe's capture and its « Corriger », "+1"),
applied once per key.

The socket handlers and their HTTP fallbacks both call `perform`: it checks the sender's
role, validates, applies the action through the domain, stores its answer in
AppliedAction (a retried key is answered the same, never applied twice), commits, and
only then has the screens told (`announce`).

May import: the domain (`corrections`, `contributions`, `announce`), the models.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from . import announce, corrections
from . import contributions as contrib
from .corrections import Outcome, add_support, get_contribution, parse_id
from .errors import FormErrors, InputError, PermissionDenied, check_fields
from .extensions import db
from .models import OFF_TOPIC, AppliedAction, Congress, Participant

MAX_EVENT_BYTES = 16 * 1024
KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
STAFF = ("facilitator", "scribe")
FACILITATOR = ("facilitator",)
PARTICIPANT = ("participant",)


def capture(congress: Congress, actor: Participant, data: dict[str, Any]) -> Outcome:
    """Store what a speaker said as a live contribution, sorted at once (theme, point, map)."""
    contrib.require_open(congress)
    text = data.get("text")
    _check_capture(congress, data)
    speaker, commune = _speaker(congress, data)
    contribution, _ = contrib.create(
        congress, text, speaker_name=speaker, speaker_commune=commune, channel="live",
        client_key=data.get("key"))
    theme = contribution.theme
    return Outcome("created", [contribution], [], {
        "id": contribution.id,
        "theme": theme.code if theme else (OFF_TOPIC if contribution.off_topic else None),
        "theme_label": theme.short_title if theme else (
            "Hors thème" if contribution.off_topic else "Non classée"),
        "confidence": contribution.confidence,
        "cluster_label": contribution.cluster.display_label if contribution.cluster else None,
        "speaker": contribution.speaker,
        "commune": contribution.commune,
        "text": contribution.text,  # whole: « Corriger » starts from it
    })


def _check_capture(congress: Congress, data: dict[str, Any]) -> None:
    """Every field of a capture checked at once: the scribe sees all that is wrong (the
    speaker's name and the idea, say) in one refusal (FormErrors), nothing stored."""
    who: dict[str, Any] = {}

    def speaker() -> str:
        who["speaker"], who["commune"] = _speaker(congress, data)
        return contrib.clean_line(who["speaker"], limit=120, what="Le nom de l'orateur",
                                  required=True)

    def commune() -> str:
        raw = who.get("commune", data.get("commune"))
        return contrib.clean_line(raw if isinstance(raw, str) else None, limit=120,
                                  what="La commune")

    text = data.get("text")
    check_fields((("speaker", speaker), ("commune", commune),
                  ("text", lambda: contrib.clean_idea(text if isinstance(text, str)
                                                      else ""))))


def _speaker(congress: Congress, data: dict[str, Any]) -> tuple[Any, Any]:
    """(speaker, commune) from a capture or a correction: a registered official picked
    by id (their name, and their commune unless one was typed), or the typed text."""
    speaker, commune = data.get("speaker"), data.get("commune")
    for value, what in ((speaker, "Le nom de l'orateur"), (commune, "La commune")):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{what} doit être un texte.")
    pid = data.get("participant_id")
    if pid not in (None, ""):
        person = db.session.get(Participant, parse_id(pid, "L'identifiant de l'orateur"))
        if person is None or person.congress_id != congress.id:
            raise InputError("Cet orateur n'est pas inscrit à ce congrès.")
        speaker = person.display_name
        commune = commune or person.commune
    return speaker, commune


def correct(congress: Congress, actor: Participant, data: dict[str, Any]) -> Outcome:
    """The scribe's « Corriger » on a captured idea: text, speaker and commune at once."""
    contribution = get_contribution(congress, data.get("id"))
    text = data.get("text")
    if not isinstance(text, str):
        raise InputError("Le texte de l'idée est vide : écrivez au moins quelques mots.",
                         field="text")
    speaker, commune = _speaker(congress, data)
    changed = contrib.correct_capture(contribution, actor.id, text, speaker, commune)
    return Outcome("edited" if changed else "unchanged", [contribution], [], {
        "id": contribution.id, "changed": changed, "text": contribution.text,
        "speaker": contribution.speaker, "commune": contribution.commune})


#: A key already stored for someone else (keys are unique in the whole table, and another
#: person's answer is never returned): the page makes a new key when reloaded.
KEY_TAKEN = ("Cette clé d'action est déjà prise par une autre personne : rechargez la page, "
             "puis refaites l'action.")


def _applied(key, actor) -> AppliedAction | None:
    """The action this sender already applied under `key`, in their congress."""
    return db.session.scalar(select(AppliedAction).filter_by(
        key=key, congress_id=actor.congress_id, actor_id=actor.id))


def _fail(message: str, errors: list[tuple[str, str]] | None = None) -> dict:
    """A refusal; `errors` lists every refused field (field id, message) when there are."""
    return {"ok": False, "error": message, **({"errors": errors} if errors else {})}


def _sender(user, roles: tuple[str, ...]) -> Participant:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Connectez-vous pour effectuer cette action.")
    if user.role not in roles:
        raise PermissionDenied("Votre rôle ne permet pas cette action.")
    return user


def _apply_move(congress, actor, data):
    return corrections.move(congress, actor, data.get("id"), theme=data.get("theme"),
                            cluster=data.get("cluster"))


def _apply_one(function_name: str):
    def apply(congress, actor, data):
        return getattr(corrections, function_name)(congress, actor, data.get("id"))

    return apply


def _apply_duplicate(congress, actor, data):
    return corrections.mark_duplicate(congress, actor, data.get("id"), data.get("of"))


def _apply_merge(congress, actor, data):
    return corrections.merge_points(congress, actor, data.get("into"), data.get("from"))


def _apply_split(congress, actor, data):
    return corrections.split_point(congress, actor, data.get("cluster"), data.get("ids"),
                                   data.get("label"))


def _apply_rename(congress, actor, data):
    return corrections.rename_point(congress, actor, data.get("cluster"), data.get("label"))


def _apply_granularity(congress, actor, data):
    return corrections.set_granularity(congress, actor, data.get("theme"), data.get("step"))


def _apply_mode(congress, actor, data):
    return corrections.set_projector_mode(congress, actor, data.get("mode"), data.get("theme"))


def _apply_capture(congress, actor, data):
    return capture(congress, actor, data)


def _apply_support(congress, actor, data):
    count = add_support(congress, actor, data.get("id"))
    return Outcome("supported", result={"id": parse_id(data.get("id")), "supports": count})


#: name → (roles allowed to send it, function applying it). The HTTP fallbacks use it too.
ACTIONS = {
    "contribution.move": (STAFF, _apply_move),
    "contribution.confirm": (STAFF, _apply_one("confirm")),
    "contribution.hide": (FACILITATOR, _apply_one("hide")),
    "contribution.unhide": (FACILITATOR, _apply_one("unhide")),
    "contribution.duplicate": (FACILITATOR, _apply_duplicate),
    "point.merge": (FACILITATOR, _apply_merge),
    "point.split": (FACILITATOR, _apply_split),
    "point.rename": (FACILITATOR, _apply_rename),
    "theme.granularity": (FACILITATOR, _apply_granularity),
    "projector.mode": (FACILITATOR, _apply_mode),
    "scribe.capture": (STAFF, _apply_capture),
    "contribution.correct": (STAFF, correct),
    "support": (PARTICIPANT, _apply_support),
}


def perform(name: str, data, user) -> dict:
    """Run one client action for `user` (the sender, maybe anonymous); always answers,
    never raises."""
    roles, apply = ACTIONS[name]
    if not isinstance(data, dict):
        return _fail("Message illisible : un objet JSON est attendu.")
    try:
        if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
            return _fail("Message trop volumineux.")
        actor = _sender(user, roles)
        key = data.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise InputError("Clé d'action manquante ou invalide (8 à 64 caractères).")
        done = _applied(key, actor)
        if done is not None:
            if done.action != name:
                raise InputError("Cette clé d'action a déjà servi pour une autre action.")
            return done.result
        if db.session.scalar(select(AppliedAction.id).filter_by(key=key)) is not None:
            raise InputError(KEY_TAKEN)  # unique in the table: never their answer
        congress = db.session.get(Congress, actor.congress_id)
        outcome = apply(congress, actor, data)
        ack = {"ok": True, **outcome.result}
        db.session.add(AppliedAction(key=key, congress_id=congress.id, actor_id=actor.id,
                                     action=name, result=ack))
        db.session.commit()
    except FormErrors as exc:
        db.session.rollback()
        return _fail(exc.message, [list(pair) for pair in exc.errors])
    except InputError as exc:
        db.session.rollback()
        return _fail(exc.message)
    except IntegrityError:
        # The same key applied at the same moment elsewhere: answer as the first one did.
        db.session.rollback()
        done = _applied(data.get("key"), user)
        if done is not None and done.action == name:
            return done.result
        if db.session.scalar(select(AppliedAction.id).filter_by(key=data.get("key"))):
            return _fail(KEY_TAKEN)
        return _fail("Action refusée par la base de données : rechargez la page.")
    except (UnicodeError, DataError):
        # A lone surrogate (no database encodes it) or, on PostgreSQL, a NUL in a value.
        db.session.rollback()
        return _fail("Message illisible : une valeur contient un caractère invalide.")
    except Exception:
        db.session.rollback()
        current_app.logger.exception("live action %s failed", name)
        return _fail("Une erreur est survenue ; rien n'a été enregistré. Réessayez.")
    try:
        announce.action_done(outcome, congress.id)
    except Exception:  # the change is stored; screens catch up with their next snapshot
        current_app.logger.exception("live push after %s failed", name)
    return ack
