"""The staff API (docs/api.md, « API de l'équipe »): JSON endpoints for phases, presence,
proxies, ballots, room counts and exports, for an association that scripts its congress.

Authenticated by a bearer token the facilitator created (staff_tokens.py, page
`/animation/api`), scoped to one congress; every call is rate-limited per token. Each
endpoint calls the same domain function as the HTML form, so the rules live in one
place; errors are JSON `{"error": "<French message>"}` like the participant API.
The token's creator is the actor in the audit chain.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from .. import (
    announce,
    ballots,
    phases,
    publication,
    publishing,
    push,
    room_counts,
    staff_tokens,
    transfer,
    voting,
)
from ..contributions import clean_int
from ..errors import InputError
from ..extensions import db
from ..links import base_url
from ..models import MAX_ID, Article, Ballot, Congress, Participant, StaffToken, is_row_id
from ..queries import congress_by_code, owned_or_404, staff_congress
from ..ratelimit import staff_api_limit
from ..security import roles_required
from . import api, votes

bp = Blueprint("staff_api", __name__, url_prefix="/api/staff")
bp.register_error_handler(api.ApiError, api._api_error)
bp.register_error_handler(api.HTTPException, api._http_error)

#: The token management page (HTML, session + CSRF like every staff form).
pages = Blueprint("staff_tokens", __name__)


# --- authentication -----------------------------------------------------------------------

def _caller(code: str) -> tuple[Congress, Participant]:
    """The congress in the URL and the facilitator acting, from the bearer token."""
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header.startswith("Bearer ") else ""
    try:
        token = staff_tokens.authenticate(raw)
    except staff_tokens.TokenRefused as exc:
        raise api.ApiError(401, exc.message) from None
    congress = congress_by_code(code)
    if token.congress_id != congress.id:
        raise api.ApiError(403, "Ce jeton d'API n'appartient pas à ce congrès.")
    actor = db.session.get(Participant, token.created_by_id)
    g.staff_token_id = token.id
    return congress, actor


def _body() -> dict[str, Any]:
    body = api._json_body()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise api.ApiError(400, "Corps JSON attendu : un objet {…}.")
    return body


def _refused(exc: InputError):
    db.session.rollback()
    return api.ApiError(422, exc.message)


def _id(raw: Any, what: str) -> int:
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if not is_row_id(raw):
        raise api.ApiError(422, f"Le champ « {what} » doit être un identifiant (nombre "
                                f"entier de 1 à {MAX_ID}).")
    return raw


def _member(congress: Congress, raw: Any, what: str) -> Participant:
    person = db.session.get(Participant, _id(raw, what))
    if person is None or person.congress_id != congress.id:
        raise api.ApiError(404, f"Personne inconnue dans ce congrès (champ « {what} »).")
    return person


def _ballot(congress: Congress, ballot_id: int) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.congress_id != congress.id:
        raise api.ApiError(404, "Ce scrutin n'existe pas dans ce congrès.")
    return ballot


# --- phases -------------------------------------------------------------------------------

@bp.get("/<code>/phase")
@staff_api_limit
def phase(code: str):
    congress, _ = _caller(code)
    return jsonify(phase=congress.phase, label=congress.phase_label)


@bp.post("/<code>/phase")
@staff_api_limit
def set_phase(code: str):
    congress, actor = _caller(code)
    try:
        changed = phases.change_phase(congress, _body().get("phase"), actor.id)
    except InputError as exc:
        raise _refused(exc) from None
    if changed:
        announce.phase_changed(congress)
    return jsonify(phase=congress.phase, label=congress.phase_label, changed=changed)


# --- presence and proxies -----------------------------------------------------------------

def _person_json(p: Participant) -> dict[str, Any]:
    return {"id": p.id, "display_name": p.display_name, "commune": p.commune,
            "role": p.role, "present": bool(p.present), "proxy_for": p.proxy_for_id,
            "accepted": p.is_accepted, "active": p.is_active}


@bp.get("/<code>/presence")
@staff_api_limit
def presence(code: str):
    congress, _ = _caller(code)
    people = db.session.scalars(select(Participant).where(
        Participant.congress_id == congress.id,
        Participant.role.in_(voting.VOTING_ROLES)).order_by(Participant.display_name))
    items = [_person_json(p) for p in people]
    return jsonify(present=sum(1 for p in items if p["present"]),
                   eligible=ballots.eligible(congress.id), presence_open=congress.presence_open,
                   max_proxies=congress.max_proxies, people=items)


@bp.post("/<code>/presence/<int:pid>")
@staff_api_limit
def mark_presence(code: str, pid: int):
    congress, actor = _caller(code)
    person = _member(congress, pid, "participant")
    present = _body().get("present")
    if not isinstance(present, bool):
        raise api.ApiError(422, "Le champ « present » (true ou false) est obligatoire.")
    try:
        changed = ballots.set_present(person, present, actor.id, via="api")
    except InputError as exc:
        raise _refused(exc) from None
    votes._push_open_progress(congress.id)
    if changed:
        push.send_to_participants([person.id], "voter.changed", {"present": person.present})
    return jsonify(_person_json(person) | {"changed": changed,
                                           "eligible": ballots.eligible(congress.id)})


@bp.post("/<code>/proxies")
@staff_api_limit
def grant_proxy(code: str):
    congress, actor = _caller(code)
    body = _body()
    giver = _member(congress, body.get("giver"), "giver")
    holder = _member(congress, body.get("holder"), "holder")
    try:
        ballots.grant_proxy(giver, holder, actor.id)
    except InputError as exc:
        raise _refused(exc) from None
    votes._push_open_progress(congress.id)
    return jsonify(giver=giver.id, holder=holder.id,
                   eligible=ballots.eligible(congress.id)), 201


@bp.delete("/<code>/proxies/<int:giver_id>")
@staff_api_limit
def revoke_proxy(code: str, giver_id: int):
    congress, actor = _caller(code)
    giver = _member(congress, giver_id, "giver")
    ballots.revoke_proxy(giver, actor.id)
    votes._push_open_progress(congress.id)
    return jsonify(giver=giver.id, holder=None, eligible=ballots.eligible(congress.id))


# --- ballots ------------------------------------------------------------------------------

def _ballot_json(ballot: Ballot) -> dict[str, Any]:
    found = ballots.payload(ballot)
    found.pop("subject", None)
    return found | {"article": ballot.article_id, "amendment": ballot.amendment_id}


@bp.get("/<code>/ballots")
@staff_api_limit
def ballot_list(code: str):
    congress, _ = _caller(code)
    items = db.session.scalars(select(Ballot).where(Ballot.congress_id == congress.id)
                               .order_by(Ballot.id))
    return jsonify(ballots=[_ballot_json(b) for b in items])


@bp.post("/<code>/ballots")
@staff_api_limit
def ballot_create(code: str):
    congress, actor = _caller(code)
    body = _body()
    article = None
    if body.get("article") is not None:
        article = db.session.get(Article, _id(body["article"], "article"))
        if article is None or article.congress_id != congress.id:
            raise api.ApiError(422, "Article inconnu.")
    title = body.get("title") or (article.title if article else "")
    if not isinstance(title, str):
        raise api.ApiError(422, "Le champ « title » doit être une chaîne de caractères.")
    quorum = body.get("quorum")
    options = {k: body.get(k, False) for k in ("secret", "allow_change")}
    if any(not isinstance(v, bool) for v in options.values()):
        raise api.ApiError(422, "Les champs « secret » et « allow_change » valent true ou false.")
    try:
        quorum = clean_int(None if quorum is None else str(quorum), what="Le quorum",
                           maximum=voting.QUORUM_MAX)
        ballot = ballots.create(congress, title, article=article,
                                majority=body.get("majority") or "simple", quorum=quorum,
                                actor_id=actor.id, **options)
        db.session.commit()
    except InputError as exc:
        raise _refused(exc) from None
    return jsonify(_ballot_json(ballot)), 201


STEPS = {"open": ballots.open_ballot, "close": ballots.close_ballot}


@bp.post("/<code>/ballots/<int:ballot_id>/<step>")
@staff_api_limit
def ballot_step(code: str, ballot_id: int, step: str):
    congress, actor = _caller(code)
    if step not in (*STEPS, "publish"):
        raise api.ApiError(404, "Action inconnue : open, close ou publish.")
    ballot = _ballot(congress, ballot_id)
    try:
        if step == "publish":  # as the form: the whole text also freezes the motion's version
            done, version = publishing.publish(ballot.id, actor.id,
                                               _body().get("rejected_text"))
            ballot = done[-1]
        else:
            ballot, done, version = STEPS[step](ballot.id, actor.id), [], None
    except InputError as exc:
        raise _refused(exc) from None
    for each in done or [ballot]:
        push.publish(ballots.state_events(each))
    found = _ballot_json(ballot)
    if version is not None:
        found["motion_version"] = {"number": version.number, "kind": version.kind}
    return jsonify(found)


@bp.get("/<code>/ballots/<int:ballot_id>/results")
@staff_api_limit
def ballot_results(code: str, ballot_id: int):
    congress, _ = _caller(code)
    ballot = _ballot(congress, ballot_id)
    if ballot.state == "draft":
        raise api.ApiError(409, "Ce scrutin n'est pas encore ouvert : aucun résultat.")
    return jsonify(ballot=ballot.id, title=ballot.title, **ballots.results(ballot))


# --- room counts: votes counted in the room, confirmed by a second person ------------------

def _room_json(ballot: Ballot) -> dict[str, Any]:
    return {"ballot": ballot.id, "room_count": room_counts.payload(room_counts.of_ballot(
        ballot.id)), "results": ballots.results(ballot)}


@bp.post("/<code>/ballots/<int:ballot_id>/room-count")
@staff_api_limit
def room_count_record(code: str, ballot_id: int):
    """Enter the room's totals of a closed ballot; they count once another staff member,
    with their own token, confirms them (the two-person rule of the HTML page)."""
    congress, actor = _caller(code)
    ballot = _ballot(congress, ballot_id)
    body = _body()
    try:
        room_counts.record(ballot, actor, method=body.get("method"), people=body.get("people"),
                           **{choice: body.get(choice, 0) for choice in voting.CHOICES})
    except InputError as exc:
        raise _refused(exc) from None
    return jsonify(_room_json(ballot)), 201


@bp.post("/<code>/ballots/<int:ballot_id>/room-count/confirm")
@staff_api_limit
def room_count_confirm(code: str, ballot_id: int):
    congress, actor = _caller(code)
    ballot = _ballot(congress, ballot_id)
    try:
        ballot = room_counts.confirm(ballot, actor)
    except InputError as exc:
        raise _refused(exc) from None
    push.publish(ballots.state_events(ballot))  # the projector shows the new sum
    return jsonify(_room_json(ballot))


@bp.delete("/<code>/ballots/<int:ballot_id>/room-count")
@staff_api_limit
def room_count_discard(code: str, ballot_id: int):
    congress, actor = _caller(code)
    ballot = _ballot(congress, ballot_id)
    try:
        room_counts.discard(ballot, actor)
    except InputError as exc:
        raise _refused(exc) from None
    return jsonify(_room_json(ballot))


# --- exports ------------------------------------------------------------------------------

@bp.get("/<code>/exports/<name>")
@staff_api_limit
def export(code: str, name: str):
    congress, _ = _caller(code)
    slug = congress.join_code.lower()
    if name == "contributions.csv":
        body = transfer.export_contributions(congress)
    elif name == "participants.csv":
        body = transfer.export_participants(congress, base_url())
    elif name in ("resultats.csv", "resultats.json"):
        # The results as published: the motion's version in force (publishing.py).
        shown = publishing.current(congress)
        if shown is None or shown.kind == "withheld":
            raise api.ApiError(404, "La motion n'est pas publiée : pas encore de résultats "
                                    "à exporter.")
        if name == "resultats.json":
            newest = publishing.latest(congress)
            return jsonify(publication.results_json(
                shown.document, publishing.version_info(shown, newest)))
        body = publication.results_csv(shown.document)
    else:
        raise api.ApiError(404, "Export inconnu : contributions.csv, participants.csv, "
                                "resultats.csv ou resultats.json.")
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-{name}"'})


# --- the facilitator's page: create and revoke tokens -------------------------------------

def _tokens_page(created: str | None = None, error: str | None = None, form=None,
                 status: int = 200):
    congress = staff_congress()
    return render_template("facilitator/api_tokens.html", congress=congress,
                           tokens=staff_tokens.of_congress(congress.id), created=created,
                           error=error, form=form or {}, days_max=staff_tokens.DAYS_MAX,
                           days_default=staff_tokens.DAYS_DEFAULT), status


@pages.get("/animation/api")
@roles_required("facilitator")
def tokens():
    return _tokens_page()


@pages.post("/animation/api")
@roles_required("facilitator")
def token_create():
    try:
        _, raw = staff_tokens.create(current_user.congress_id, current_user._get_current_object(),
                                     request.form.get("label"), request.form.get("days"))
    except InputError as exc:
        db.session.rollback()
        return _tokens_page(error=exc.message, form=request.form, status=422)
    return _tokens_page(created=raw)  # shown once, never stored


@pages.post("/animation/api/<int:token_id>/revoquer")
@roles_required("facilitator")
def token_revoke(token_id: int):
    token = owned_or_404(StaffToken, token_id)
    staff_tokens.revoke(token, current_user._get_current_object())
    flash(f"Jeton « {token.label} » révoqué : il n'ouvre plus rien.", "success")
    return redirect(url_for("staff_tokens.tokens"))
