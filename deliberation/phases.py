"""The congress's phase, moved by the facilitator (the dashboard's form, the staff API)."""

from __future__ import annotations

from typing import Any

from . import audit
from .errors import InputError
from .extensions import db
from .models import PHASE_LABELS, PHASES, Congress


def change_phase(congress: Congress, phase: Any, actor_id: int | None) -> bool:
    """Move the congress to `phase` (commits). Returns True when it changed; the caller
    announces it to the screens (announce.phase_changed)."""
    if phase not in PHASES:
        raise InputError("Phase inconnue. Phases possibles : "
                         + ", ".join(f"{p} ({PHASE_LABELS[p]})" for p in PHASES) + ".")
    if phase == congress.phase:
        return False
    previous, congress.phase = congress.phase, phase
    audit.record("congress.phase", congress.id, actor_id, previous=previous, phase=phase)
    db.session.commit()
    return True
