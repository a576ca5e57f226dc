"""Officials' pages: join, see the congress, contribute, edit or withdraw, browse by theme.

Mobile-first and usable without JavaScript: every action is a plain form post
followed by a redirect, and a refused submission comes back with its text intact.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from .. import announce, audit, roster
from .. import contributions as contrib
from ..errors import FormErrors, InputError, check_fields
from ..extensions import db
from ..models import Congress, Contribution, Participant
from ..push import close_participant_sockets
from ..queries import congress_by_code, counts, visible_contributions
from ..ratelimit import contribute_limit, invite_limit, join_limit  # production (issue 6)
from ..security import start_session

bp = Blueprint("participant", __name__)
#: What someone who joined with the code reads until the facilitator accepts them.
PENDING_NOTICE = ("Votre inscription attend la validation de l'animation\u00a0: vous pouvez "
                  "lire et proposer des idées, mais pas encore voter ni soutenir une idée.")
#: What an official reads after posting while the facilitator moderates (issue 14).
HELD_THANKS = ("Merci ! Votre contribution est enregistrée\u00a0: elle attend la validation "
               "de l'animation avant d'être affichée.")


def _is_member(congress: Congress) -> bool:
    return current_user.is_authenticated and current_user.congress_id == congress.id


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("participant.congress", code=current_user.congress.join_code))
    # Only the congresses their facilitator chose to list (« afficher sur la page
    # d'accueil »): the code shown here lets anyone join the queue.
    congresses = list(db.session.scalars(
        select(Congress).where(Congress.phase != "closed", Congress.listed.is_(True))
        .order_by(Congress.starts_on)))
    return render_template("home.html", congresses=congresses)


@bp.route("/rejoindre", methods=["GET", "POST"])
@join_limit
def join():
    """Join with the congress code: one form, then straight to contributing."""
    if request.method == "POST":
        form = request.form
    else:  # a phone sent here from a congress page (the projector's vote address) keeps it
        then = request.args.get("next", "")
        form = {"code": request.args.get("code") or _code_in(then), "next": then}
    errors = []
    if request.method == "POST":
        try:
            participant = _register(form)
        except FormErrors as exc:
            errors = exc.errors
        else:
            start_session(participant)
            flash(f"Bienvenue, {participant.display_name} ! Vous pouvez contribuer.", "success")
            if not participant.is_accepted:
                flash(PENDING_NOTICE, "info")
            code = participant.congress.join_code
            then = form.get("next", "")
            return redirect(then if _code_in(then) == code
                            else url_for("participant.congress", code=code))
    return render_template("join.html", form=form, errors=errors), (422 if errors else 200)


_CONGRESS_PAGE = re.compile(r"^/c/([A-Za-z0-9_-]{1,16})(?:/[A-Za-z0-9/_-]*)?$")


def _code_in(path: str) -> str:
    """The congress code of a page of this site (``/c/RURAL26/vote`` → RURAL26), or ""
    for anything else: a join that came from a congress page goes back to it, and only
    to a local page (no open redirect)."""
    found = _CONGRESS_PAGE.match(path or "")
    return found.group(1).upper() if found else ""


def _open_congress(raw: str | None) -> Congress:
    code = contrib.clean_line(raw, limit=16, what="Le code du congrès", required=True).upper()
    congress = db.session.scalar(select(Congress).filter_by(join_code=code))
    if congress is None:
        raise InputError(f"Aucun congrès ne porte le code « {code} ». Vérifiez l'invitation.",
                         field="code")
    if congress.phase == "closed":
        raise InputError("Ce congrès est clos.", field="code")
    return congress


def _register(form) -> Participant:
    """Check every field (each refusal is listed, keyed by its field's id), then join."""
    line = contrib.clean_line
    values = check_fields((
        ("code", lambda: _open_congress(form.get("code"))),
        ("display_name", lambda: line(form.get("display_name"), limit=120, what="Votre nom",
                                      required=True)),
        ("commune", lambda: line(form.get("commune"), limit=120, what="Votre commune",
                                 required=True)),
        ("department_code", lambda: line(form.get("department_code"), limit=3,
                                         what="Le département").upper()),
        ("mandate", lambda: line(form.get("mandate"), limit=80, what="Le mandat")),
        ("population", lambda: _optional_int(form.get("population"),
                                             "La population de la commune")),
    ))
    congress = values["code"]
    participant = Participant(congress_id=congress.id, display_name=values["display_name"],
                              commune=values["commune"],
                              department_code=values["department_code"],
                              mandate=values["mandate"], population=values["population"],
                              role="participant", roster_status=roster.joining_status(congress))
    db.session.add(participant)
    db.session.flush()
    audit.record("participant.joined", congress.id, participant.id, via="code",
                 roster=participant.roster_status)
    db.session.commit()
    return participant


def _optional_int(raw: str | None, what: str) -> int | None:
    raw = (raw or "").replace(" ", "").replace("\u202f", "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:  # « ² » is a digit to isdigit
        raise InputError(f"{what} doit être un nombre entier positif.")
    return int(raw)


@bp.get("/i/<token>")
@invite_limit  # issue 13: per address, like joining
def invite(token: str):
    """A personal invite link: one tap and the official is in."""
    participant = db.session.scalar(select(Participant).filter_by(invite_token=token)) \
        if token.isprintable() else None  # a NUL never reaches PostgreSQL (DataError)
    if participant is None or not participant.is_active:
        return render_template("invite_invalid.html"), 404
    if participant.is_staff:
        # A link can leak (exports, printed sheets, screenshots): staff hold the room's
        # controls, so they prove who they are with their password.
        flash("Les comptes d'animation et de relevé se connectent avec leur adresse "
              "électronique et leur mot de passe, pas avec un lien.", "info")
        return redirect(url_for("facilitator.login"))
    start_session(participant)
    flash(f"Bonjour {participant.display_name}, vous êtes connecté·e.", "success")
    return redirect(url_for("participant.congress", code=participant.congress.join_code))


@bp.post("/deconnexion")
def logout():
    """End the account's sessions everywhere: other copies of the cookie, the remember
    token and the open sockets stop working too (the epoch in them is now stale)."""
    if current_user.is_authenticated:
        person = current_user._get_current_object()
        person.end_sessions()
        db.session.commit()
        close_participant_sockets(person.id)
    logout_user()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("participant.home"))


@bp.get("/c/<code>")
def congress(code: str):
    congress = congress_by_code(code)
    mine = []
    if _is_member(congress):
        mine = list(db.session.scalars(
            select(Contribution).filter_by(congress_id=congress.id, author_id=current_user.id)
            .where(Contribution.status != "withdrawn")
            .order_by(Contribution.created_at.desc())))
    return render_template("congress.html", congress=congress, stats=counts(congress),
                           mine=mine, member=_is_member(congress), draft="")


@bp.get("/c/<code>/contributions")
def contributions(code: str):
    """Every visible contribution, grouped by theme (or one theme with ?theme=code)."""
    congress = congress_by_code(code)
    wanted = request.args.get("theme") or None
    themes = congress.themes
    if wanted and wanted not in ("non_classe", "hors_theme"):
        themes = [t for t in congress.themes if t.code == wanted]
        if not themes:
            abort(404)
    groups = [(theme, visible_contributions(congress, theme)) for theme in themes]
    if not wanted or wanted in ("non_classe", "hors_theme"):
        groups.append((None, visible_contributions(congress, unsorted=True)))
    total = sum(len(items) for _, items in groups)
    return render_template("contributions.html", congress=congress, groups=groups,
                           total=total, wanted=wanted)


@bp.post("/c/<code>/contribuer")
@contribute_limit  # outermost: anonymous posts count too
@login_required
def contribute(code: str):
    congress = congress_by_code(code)
    # Observers follow the congress; they do not contribute (as in the API and live board).
    if not _is_member(congress) or current_user.role == "observer":
        abort(403)
    text = request.form.get("text", "")
    try:
        contribution, created = contrib.create(
            congress, text, author=current_user._get_current_object(),
            client_key=request.form.get("client_key") or None)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        return render_template("congress.html", congress=congress, stats=counts(congress),
                               mine=[], member=True, draft=text, error=exc.message,
                               error_field="text"), 422
    if created:
        announce.contribution_created(contribution)
    flash(HELD_THANKS if contribution.status == "pending"
          else "Merci ! Votre contribution est enregistrée.", "success")
    return redirect(url_for("participant.congress", code=congress.join_code) + "#mes-contributions")


def _own_contribution(contribution_id: int) -> Contribution:
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None or contribution.status == "withdrawn":
        abort(404)
    if contribution.author_id != current_user.id:
        abort(403)
    return contribution


@bp.route("/contributions/<int:contribution_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(contribution_id: int):
    contribution = _own_contribution(contribution_id)
    congress = db.session.get(Congress, contribution.congress_id)
    draft = contribution.text
    error = None
    if request.method == "POST":
        draft = request.form.get("text", "")
        shown = contribution.status == "visible"
        try:
            contrib.edit(contribution, current_user._get_current_object(), draft)
            db.session.commit()
        except InputError as exc:
            db.session.rollback()
            error = exc.message
        else:
            held = contribution.status == "pending"
            announce.contribution_changed(contribution, "held" if shown and held else "edited")
            flash("Contribution modifiée\u00a0: elle attend la validation de l'animation avant "
                  "d'être affichée." if held else "Contribution modifiée.", "success")
            return redirect(url_for("participant.congress", code=congress.join_code)
                            + "#mes-contributions")
    return render_template("edit.html", congress=congress, contribution=contribution,
                           draft=draft, error=error, error_field="text"), \
        (422 if error else 200)


@bp.post("/contributions/<int:contribution_id>/retirer")
@login_required
def withdraw(contribution_id: int):
    """Withdraw one's own contribution, after a confirmation page (issue 14: « Retirer »
    acted at once, with no way back)."""
    contribution = _own_contribution(contribution_id)
    congress = db.session.get(Congress, contribution.congress_id)
    if request.form.get("confirm") != "oui":
        return render_template("withdraw.html", congress=congress, contribution=contribution)
    try:
        contrib.withdraw(contribution, current_user._get_current_object())
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        announce.contribution_changed(contribution)
        flash("Contribution retirée.", "success")
    return redirect(url_for("participant.congress", code=congress.join_code)
                    + "#mes-contributions")
