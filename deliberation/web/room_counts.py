"""Room counts: the staff page where votes counted in the room (show of hands, paper
ballots) are entered by one staff member and confirmed by another (room_counts.py).

Open to the facilitator and the scribe: the two-person rule needs two staff accounts.
Plain form posts; every refusal is a French message on the page, with the form kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import ballots, push, room_counts
from ..errors import InputError
from ..extensions import db
from ..models import Ballot, Congress, Participant
from ..queries import owned_or_404, staff_congress
from ..security import roles_required

bp = Blueprint("room", __name__)

STAFF = ("facilitator", "scribe")
#: Fields of the entry form whose ids end with the ballot's id (vote/room_counts.html).
FIELDS = ("people", "pour", "contre", "abstention")


def _page(congress: Congress, form=None, error: str | None = None, error_for: int | None = None,
          status: int = 200, field: str | None = None):
    items = list(db.session.scalars(
        select(Ballot).where(Ballot.congress_id == congress.id,
                             Ballot.state.in_(("closed", "published")))
        .order_by(Ballot.id)))
    counts = room_counts.of_ballots([b.id for b in items])
    names = dict(db.session.execute(select(Participant.id, Participant.display_name).where(
        Participant.id.in_({c.recorded_by_id for c in counts.values()}
                           | {c.confirmed_by_id for c in counts.values()}))).all())
    capacity = {b.id: room_counts.room_capacity(b) for b in items if b.state == "closed"}
    return render_template("vote/room_counts.html", congress=congress, ballots=items,
                           counts=counts, names=names, capacity=capacity, form=form or {},
                           error=error, error_for=error_for,
                           # the summary links to the field at fault (templates/_errors.html)
                           error_field=f"{field}-{error_for}" if field in FIELDS else None,
                           METHOD_LABELS=room_counts.METHOD_LABELS), status


@bp.get("/animation/decomptes-salle")
@roles_required(*STAFF)
def room_list():
    return _page(staff_congress())


@bp.post("/animation/decomptes-salle/<int:ballot_id>")
@roles_required(*STAFF)
def room_record(ballot_id: int):
    ballot = owned_or_404(Ballot, ballot_id)
    form = request.form
    try:
        room_counts.record(ballot, current_user._get_current_object(),
                           method=form.get("method"), people=form.get("people"),
                           pour=form.get("pour"), contre=form.get("contre"),
                           abstention=form.get("abstention"))
    except InputError as exc:
        db.session.rollback()
        return _page(staff_congress(), form, exc.message, ballot_id, 422, exc.field)
    flash("Décompte de la salle enregistré, en attente de confirmation par une autre "
          "personne de l'équipe.", "success")
    return redirect(url_for("room.room_list") + f"#salle-{ballot_id}")


@bp.post("/animation/decomptes-salle/<int:ballot_id>/confirmer")
@roles_required(*STAFF)
def room_confirm(ballot_id: int):
    ballot = owned_or_404(Ballot, ballot_id)
    try:
        ballot = room_counts.confirm(ballot, current_user._get_current_object())
    except InputError as exc:
        db.session.rollback()
        return _page(staff_congress(), None, exc.message, ballot_id, 422)
    push.publish(ballots.state_events(ballot))  # the projector shows the new sum
    flash("Décompte de la salle confirmé : il s'ajoute aux votes électroniques.", "success")
    return redirect(url_for("room.room_list") + f"#salle-{ballot_id}")


@bp.post("/animation/decomptes-salle/<int:ballot_id>/annuler")
@roles_required(*STAFF)
def room_discard(ballot_id: int):
    ballot = owned_or_404(Ballot, ballot_id)
    try:
        room_counts.discard(ballot, current_user._get_current_object())
    except InputError as exc:
        db.session.rollback()
        return _page(staff_congress(), None, exc.message, ballot_id, 422)
    flash("Décompte de la salle annulé.", "success")
    return redirect(url_for("room.room_list") + f"#salle-{ballot_id}")
