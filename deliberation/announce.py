"""What every screen hears after a committed change in the debate.

The screens and socket handlers call these once their transaction has committed: a new
idea, a changed one, a new phase, a facilitator's correction. Each builds the payload
(`screens`), hands it to `push`, asks for the coalesced picture (`pictures`) and, when
the recurring points may have moved, for a debounced refit (`sorting`).

Phones and a burst of ideas: every phone in the room hears of every idea. At a debate's
pace (an idea every few seconds) each goes out at once. In a burst (500 officials posting
at the end of a session: 500 ideas x 500 phones = 250,000 messages) the ideas that arrive
within LIVE_PHONE_BATCH_S of the last send wait, and go out together as one
`contributions.created` {items}. Projector and facilitator screens always get each idea
at once.

Pre-moderation: an idea waiting for the facilitator (`pending`) is heard by the
facilitator's screens only, as `moderation.queued`; nothing else hears of it until it is
approved, when it goes out as any new idea does (`moderation_decided`).

May import: the domain below it (`screens`, `pictures`, `sorting`, `moderation`), `push`,
the models.
"""

from __future__ import annotations

from flask import current_app

from . import moderation, pictures, sorting
from .coalesce import Pace
from .models import Congress, Contribution
from .push import (
    PHONES,
    PUBLIC_AUDIENCES,
    SCREENS,
    STAFF_AUDIENCES,
    scheduler,
    send,
    send_to_participants,
)
from .screens import LATEST, compact, contribution_payload, picture

PHONE_IDEAS_CHANNEL = "ideas.phones"


def contribution_created(contribution: Contribution, payload: dict | None = None,
                         congress_id: int | None = None) -> dict:
    """Push a new idea (after commit). `payload` and `congress_id` may have been taken
    before the commit, while the rows were loaded, which spares reading them again."""
    payload = payload or contribution_payload(contribution)
    congress_id = congress_id or contribution.congress_id
    if payload["status"] == "pending":  # pre-moderation: the facilitator's queue alone
        moderation_queued(contribution, congress_id)
        return payload
    send("contribution.created", payload, congress_id, SCREENS)
    ideas_to_phones(congress_id, payload)
    pictures.refresh_soon(congress_id)
    refit_soon(congress_id)
    return payload


def moderation_queued(contribution: Contribution, congress_id: int | None = None) -> None:
    """A new or edited idea waits in the queue: only the facilitator's screens hear it."""
    congress_id = congress_id or contribution.congress_id
    send("moderation.queued", {**moderation.queue_item(contribution),
                               "pending": moderation.pending_count(congress_id)},
         congress_id, STAFF_AUDIENCES)


def moderation_decided(contribution: Contribution) -> None:
    """After an approval or a rejection (committed): the facilitator's screens drop it from
    their queue, its author's phone hears the outcome, and an approved idea goes to every
    screen exactly as a new idea does."""
    congress_id = contribution.congress_id
    send("moderation.decided", {"id": contribution.id, "status": contribution.status,
                                "reason": contribution.moderation_reason,
                                "pending": moderation.pending_count(congress_id)},
         congress_id, STAFF_AUDIENCES)
    if contribution.author_id is not None:
        send_to_participants([contribution.author_id], "contribution.moderated",
                             {"id": contribution.id, "status": contribution.status,
                              "reason": contribution.moderation_reason})
    if contribution.status == "visible":
        contribution_created(contribution)


def ideas_to_phones(congress_id: int, payload: dict) -> None:
    """Send one new idea to the phones now, or queue it when one went out just before."""
    if scheduler.offer(current_app._get_current_object(), PHONE_IDEAS_CHANNEL, congress_id,
                       payload):
        send("contribution.created", payload, congress_id, PHONES)


def _send_ideas_batch(congress_id: int, queue: list[dict]) -> None:
    shown = LATEST["participants"]
    send("contributions.created", {"items": queue[-shown:], "more": max(0, len(queue) - shown)},
         congress_id, PHONES)


def contribution_changed(contribution: Contribution, change: str = "edited",
                         refit: bool = True) -> None:
    """Push a changed contribution; a hidden, withdrawn or held one reaches the public
    screens without its text (they only need to drop it). `change` is "held" when an
    edit sent a shown idea back to the pre-moderation queue."""
    if contribution.status == "pending":  # edited while waiting: the queue shows the new text
        moderation_queued(contribution)
        if change != "held":
            return  # never shown: nothing else hears of it
        # "held": it was shown, and its edit sent it back to the queue: screens drop it.
    payload = {**contribution_payload(contribution), "change": change}
    if contribution.status in ("visible", "duplicate"):
        send("contribution.updated", payload, contribution.congress_id)
    else:
        send("contribution.updated", payload, contribution.congress_id, STAFF_AUDIENCES)
        send("contribution.updated", {"id": contribution.id, "status": contribution.status,
                                      "change": change}, contribution.congress_id,
             PUBLIC_AUDIENCES)
    pictures.refresh_soon(contribution.congress_id)
    if refit:
        refit_soon(contribution.congress_id)


def phase_changed(congress: Congress) -> None:
    send("phase.changed", {"phase": congress.phase, "label": congress.phase_label}, congress.id)


def refit_soon(congress_id: int) -> None:
    """Ask for a debounced refit of the recurring points (never run here)."""
    sorting.schedule_refit(current_app._get_current_object(), congress_id)


def action_done(outcome, congress_id: int) -> None:
    """The push that follows a committed debate action (one per action, never per client)."""
    change = outcome.change
    if change == "created":
        contribution_created(outcome.contributions[0])
    elif change in ("moved", "confirmed", "hidden", "unhidden", "duplicate", "edited"):
        contribution_changed(outcome.contributions[0], change, refit=change != "confirmed")
    elif change in ("merged", "split", "renamed", "granularity"):
        # Granularity: the setting shows at once; the regrouping follows with the refit.
        send("points.updated", {"reason": change, "result": outcome.result,
                                "changed": [compact(c) for c in outcome.contributions],
                                "picture": picture(congress_id)}, congress_id)
        if change != "renamed":
            refit_soon(congress_id)
    elif change == "supported":
        pictures.refresh_soon(congress_id, [outcome.result["id"]])
    elif change == "mode":
        send("projector.mode", outcome.result, congress_id)


def _phone_ideas_pace(config) -> Pace:
    return Pace(spacing=float(config.get("LIVE_PHONE_BATCH_S",
                                         0.0 if config.get("TESTING") else 0.5)))


def _append(queue: list[dict], payload: dict) -> list[dict]:
    queue.append(payload)
    return queue


scheduler.channel(PHONE_IDEAS_CHANNEL, _send_ideas_batch, pace=_phone_ideas_pace,
                  merge=_append, empty=list)
