"""Bearer tokens of the staff API (web/staff_api.py): created and revoked by the
facilitator, one congress each, with an expiry.

The token is shown once, at creation; only its SHA-256 is stored, so a copy of the
database gives no access. A token acts in the name of the facilitator who created it:
the audit chain records that person, with `via="api"` where the domain takes it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from . import audit
from .contributions import clean_line
from .errors import InputError
from .extensions import db
from .models import Participant, StaffToken, utcnow

PREFIX = "mst_"
DAYS_DEFAULT = 7
DAYS_MAX = 90
LABEL_MAX = 100


class TokenRefused(Exception):
    """A bearer token that opens nothing: absent, unknown, expired or revoked (French)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _days(raw: Any) -> int:
    text = str(raw if raw is not None else "").strip() or str(DAYS_DEFAULT)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text[:4]) <= DAYS_MAX \
            or len(text) > 3:
        raise InputError(f"La durée de validité doit être un nombre de jours entre 1 et "
                         f"{DAYS_MAX}.", field="days")
    return int(text)


def create(congress_id: int, actor: Participant, label: Any, days: Any = None
           ) -> tuple[StaffToken, str]:
    """A new token for this congress (commits). Returns the row and the token itself,
    which is never stored and cannot be shown again."""
    if actor.role != "facilitator" or actor.congress_id != congress_id:
        raise InputError("Seule l'animation de ce congrès crée des jetons d'API.")
    label = clean_line(label, limit=LABEL_MAX, what="Le nom du jeton", required=True)
    days = _days(days)
    raw = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = StaffToken(congress_id=congress_id, created_by_id=actor.id, label=label,
                       token_hash=digest(raw), created_at=now,
                       expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record("staff_token.created", congress_id, actor.id, token=token.id, label=label,
                 expires_at=token.expires_at.isoformat(timespec="seconds"))
    db.session.commit()
    return token, raw


def revoke(token: StaffToken, actor: Participant) -> None:
    """Revoke a token at once (commits); revoking twice changes nothing."""
    if actor.role != "facilitator" or actor.congress_id != token.congress_id:
        raise InputError("Seule l'animation de ce congrès révoque ses jetons d'API.")
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit.record("staff_token.revoked", token.congress_id, actor.id, token=token.id,
                 label=token.label)
    db.session.commit()


def of_congress(congress_id: int) -> list[StaffToken]:
    return list(db.session.scalars(select(StaffToken).where(
        StaffToken.congress_id == congress_id).order_by(StaffToken.id.desc())))


def authenticate(raw: str | None) -> StaffToken:
    """The token row for a bearer token, or TokenRefused with the French reason."""
    if not raw:
        raise TokenRefused("Jeton d'API absent : en-tête « Authorization: Bearer <jeton> » "
                           "attendu.")
    token = db.session.scalar(select(StaffToken).where(StaffToken.token_hash == digest(raw)))
    if token is None:
        raise TokenRefused("Jeton d'API inconnu.")
    if token.revoked_at is not None:
        raise TokenRefused("Ce jeton d'API a été révoqué.")
    now = utcnow()
    if token.expires_at <= now:
        raise TokenRefused("Ce jeton d'API a expiré : demandez-en un nouveau à l'animation.")
    actor = db.session.get(Participant, token.created_by_id) if token.created_by_id else None
    if actor is None or not actor.is_active or actor.role != "facilitator":
        raise TokenRefused("La personne qui a créé ce jeton n'anime plus ce congrès : jeton "
                           "inutilisable.")
    # Last use, written without touching the caller's transaction's rows.
    db.session.execute(update(StaffToken).where(StaffToken.id == token.id)
                       .values(last_used_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return token
