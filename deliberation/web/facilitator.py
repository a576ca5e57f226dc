"""The facilitator's back office: login, phase control, live counts, participants, CSV."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from .. import announce, audit, ballots, formats, moderation, phases, roster, sorting, transfer
from ..contributions import POPULATION_MAX, clean_int, clean_line
from ..csv_io import CsvError
from ..csv_io import variant as csv_variant
from ..errors import FormErrors, InputError, check_fields
from ..extensions import db
from ..links import base_url
from ..models import (
    MODERATION_REASON_MAX,
    ROLES,
    STAFF_ROLES,
    Participant,
    new_token,
    utcnow,
)
from ..push import close_participant_sockets, send_to_participants
from ..queries import counts, owned_or_404, staff_congress
from ..ratelimit import login_limit  # production (issue 6)
from ..security import roles_required, safe_next, start_session
from ..sorting import dashboard_summary
from .uploads import read_upload

bp = Blueprint("facilitator", __name__, url_prefix="/animation")






@bp.route("/connexion", methods=["GET", "POST"])
@login_limit
def login():
    error = None
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:200]
        password = request.form.get("password") or ""
        candidates = db.session.scalars(
            select(Participant).filter_by(email=email)
            .where(Participant.role.in_(("facilitator", "scribe")))
            .order_by(Participant.id.desc())) if email.isprintable() else []  # NUL: no query
        account = next((p for p in candidates if p.is_active and p.check_password(password)),
                       None)
        if account is None:
            error = "Adresse ou mot de passe incorrect."
        else:
            start_session(account)
            audit.record("staff.login", account.congress_id, account.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("facilitator.dashboard")))
    return render_template("facilitator/login.html", error=error, email=email), (
        401 if error else 200)


@bp.get("/")
@roles_required("facilitator", "scribe")
def dashboard():
    congress = staff_congress()
    return render_template("facilitator/dashboard.html", congress=congress,
                           stats=counts(congress), sorting=dashboard_summary(congress),
                           waiting=roster.pending_count(congress),
                           held=moderation.pending_count(congress.id))


@bp.post("/phase")
@roles_required("facilitator")
def change_phase():
    congress = staff_congress()
    try:
        changed = phases.change_phase(congress, request.form.get("phase", ""), current_user.id)
    except InputError:
        flash("Phase inconnue.", "error")
        return redirect(url_for("facilitator.dashboard"))
    if changed:
        announce.phase_changed(congress)
        flash(f"Phase : {congress.phase_label}.", "success")
    return redirect(url_for("facilitator.dashboard"))


# --- pre-moderation (issue 14): officials' ideas wait for the facilitator ----------------

@bp.post("/moderation/reglage")
@roles_required("facilitator")
def moderation_settings():
    """« Modération avant affichage » (a checkbox on the dashboard and the queue's page)."""
    congress = staff_congress()
    on = request.form.get("premoderation") == "1"
    if moderation.set_premoderation(congress, on, current_user.id):
        flash("Modération activée\u00a0: les nouvelles idées des élu·es attendent votre "
              "validation avant d'être affichées." if on else
              "Modération désactivée\u00a0: les nouvelles idées sont affichées aussitôt. "
              "Celles qui attendent restent dans la file jusqu'à votre décision.", "success")
    else:
        flash("Réglage de la modération inchangé.", "info")
    back = url_for("facilitator.moderation_queue") \
        if request.form.get("from") == "file" else url_for("facilitator.dashboard")
    return redirect(back + "#moderation")


def _queue_page(congress, *, error: str | None = None, reasons: dict | None = None,
                status: int = 200):
    return render_template("facilitator/moderation.html", congress=congress,
                           queue=moderation.queue(congress),
                           rejected=moderation.rejected(congress), error=error,
                           reasons=reasons or {}, reason_max=MODERATION_REASON_MAX), status


@bp.get("/moderation")
@roles_required("facilitator")
def moderation_queue():
    """The ideas waiting for the facilitator, oldest first, updated live (moderation.js)."""
    return _queue_page(staff_congress())


@bp.post("/moderation/<int:contribution_id>/approuver")
@roles_required("facilitator")
def moderation_approve(contribution_id: int):
    """One button: the idea goes to every screen, sorted, as a new idea does."""
    congress = staff_congress()
    try:
        contribution = moderation.approve(congress, current_user._get_current_object(),
                                          contribution_id)
    except InputError as exc:
        db.session.rollback()
        return _queue_page(congress, error=exc.message, status=422)
    announce.moderation_decided(contribution)
    flash(f"Idée n° {contribution_id} approuvée\u00a0: elle est affichée.", "success")
    return redirect(url_for("facilitator.moderation_queue") + "#file-moderation")


@bp.post("/moderation/<int:contribution_id>/rejeter")
@roles_required("facilitator")
def moderation_reject(contribution_id: int):
    """One button (with an optional short reason): the idea never reaches a screen."""
    congress = staff_congress()
    reason = request.form.get("reason", "")
    try:
        contribution = moderation.reject(congress, current_user._get_current_object(),
                                         contribution_id, reason)
    except InputError as exc:
        db.session.rollback()
        return _queue_page(congress, error=exc.message, reasons={contribution_id: reason},
                           status=422)
    announce.moderation_decided(contribution)
    flash(f"Idée n° {contribution_id} rejetée\u00a0: elle n'est pas affichée et reste consignée.",
          "success")
    return redirect(url_for("facilitator.moderation_queue") + "#file-moderation")


@bp.get("/participants")
@roles_required("facilitator")
def participants():
    congress = staff_congress()
    people = list(db.session.scalars(select(Participant).filter_by(congress_id=congress.id)
                                     .order_by(Participant.display_name)))
    return render_template("facilitator/participants.html", congress=congress, people=people,
                           roles=ROLES, form={}, error=None, queue=roster.pending(congress))


# --- the roster (issue 13): the queue of those who joined with the code ---------------

@bp.post("/participants/<int:pid>/accepter")
@roles_required("facilitator")
def accept(pid: int):
    """One click: a pending official joins the roster (they vote once marked present)."""
    person = owned_or_404(Participant, pid)
    if roster.accept(person, current_user.id):
        send_to_participants([pid], "voter.changed", {"roster": "accepted"})
        ballots.note_open_progress(person.congress_id)  # the screens' counts follow
        if person.is_active:
            flash(f"Inscription de {person.display_name} acceptée\u00a0: marquez sa présence "
                  "pour qu'elle compte au vote.", "success")
        else:  # refused earlier: their access was closed with the refusal
            flash(f"Inscription de {person.display_name} acceptée, mais son accès reste "
                  "fermé\u00a0: « Nouveau lien » lui en donne un.", "success")
    else:
        flash(f"{person.display_name} est déjà inscrit·e.", "info")
    return redirect(url_for("facilitator.participants") + "#file-attente")


@bp.post("/participants/tout-accepter")
@roles_required("facilitator")
def accept_all():
    """« Tout accepter »: every pending official of the congress at once."""
    congress = staff_congress()
    accepted = roster.accept_all(congress, current_user.id)
    send_to_participants(accepted, "voter.changed", {"roster": "accepted"})
    if accepted:
        ballots.note_open_progress(congress.id)
    n = len(accepted)
    flash(f"{n} inscription{'s' if n > 1 else ''} acceptée{'s' if n > 1 else ''}." if n
          else "Aucune inscription en attente.", "success" if n else "info")
    return redirect(url_for("facilitator.participants") + "#file-attente")


@bp.post("/participants/<int:pid>/refuser")
@roles_required("facilitator")
def refuse(pid: int):
    """Refuse a pending registration: the person loses access, their sockets close."""
    person = owned_or_404(Participant, pid)
    try:
        roster.refuse(person, current_user.id)
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        close_participant_sockets(pid)
        ballots.note_open_progress(person.congress_id)
        flash(f"Inscription de {person.display_name} refusée\u00a0: son accès est fermé.",
              "success")
    return redirect(url_for("facilitator.participants") + "#file-attente")


@bp.post("/participants/reglages")
@roles_required("facilitator")
def roster_settings():
    """« Inscriptions ouvertes » and « Afficher sur la page d'accueil » (checkboxes)."""
    congress = staff_congress()
    opened = roster.set_registration_open(congress, request.form.get("registration_open") == "1",
                                          current_user.id)
    listed = roster.set_listed(congress, request.form.get("listed") == "1", current_user.id)
    flash("Réglages des inscriptions enregistrés." if opened or listed
          else "Réglages des inscriptions inchangés.", "success" if opened or listed else "info")
    return redirect(url_for("facilitator.participants") + "#inscriptions")


@bp.post("/participants")
@roles_required("facilitator")
def add_participant():
    congress = staff_congress()
    form = request.form
    try:
        person = _new_person(congress, form)
        db.session.add(person)
        db.session.flush()
        audit.record("participant.added", congress.id, current_user.id,
                     participant_id=person.id, role=person.role)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        people = list(db.session.scalars(select(Participant).filter_by(congress_id=congress.id)
                                         .order_by(Participant.display_name)))
        errors = exc.errors if isinstance(exc, FormErrors) else [(exc.field, exc.message)]
        return render_template("facilitator/participants.html", congress=congress,
                               people=people, roles=ROLES, form=form, errors=errors,
                               queue=roster.pending(congress)), 422
    how = "Son compte se connecte par mot de passe." if person.is_staff else \
        "Son lien d'invitation est dans la liste."
    flash(f"{person.display_name} ajouté·e. {how}", "success")
    return redirect(url_for("facilitator.participants"))


def _new_person(congress, form) -> Participant:
    """The person the « Ajouter une personne » form describes, every field checked at once
    (each refusal keyed by its field's id, for the error summary)."""
    line = clean_line

    def role():
        if form.get("role", "participant") not in ROLES:
            raise InputError("Rôle inconnu.")
        return form.get("role", "participant")

    checks = [
        ("display_name", lambda: line(form.get("display_name"), limit=120, what="Le nom",
                                      required=True)),
        ("commune", lambda: line(form.get("commune"), limit=120, what="La commune")),
        ("department_code", lambda: line(form.get("department_code"), limit=3,
                                         what="Le département").upper()),
        ("mandate", lambda: line(form.get("mandate"), limit=80, what="Le mandat")),
        ("population", lambda: clean_int(form.get("population"), what="La population",
                                         maximum=POPULATION_MAX)),
        ("role", role),
    ]
    if form.get("role") in STAFF_ROLES:  # staff log in by password only, never by a link
        checks += [("email", lambda: _staff_email(congress, form)),
                   ("password", lambda: _staff_password(form))]
    values = check_fields(checks)
    email, password = values.pop("email", None), values.pop("password", None)
    person = Participant(congress_id=congress.id, roster_status="accepted",  # on the roster
                         email=email, **values)
    if password is not None:
        person.set_password(password)
    return person


def _staff_email(congress, form) -> str:
    email = (form.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 200 or any(ch.isspace() for ch in email):
        raise InputError("Un compte d'animation ou de relevé a besoin d'une adresse "
                         "électronique valide : il se connecte avec elle et un mot de passe.",
                         field="email")
    if db.session.scalar(select(Participant.id).filter_by(congress_id=congress.id,
                                                          email=email)) is not None:
        raise InputError(f"L'adresse {email} a déjà un compte dans ce congrès.", field="email")
    return email


def _staff_password(form) -> str:
    password = form.get("password") or ""
    if not 8 <= len(password) <= 200:
        raise InputError("Le mot de passe doit compter de 8 à 200 caractères.",
                         field="password")
    return password


@bp.post("/participants/import")
@roles_required("facilitator")
def import_participants():
    congress = staff_congress()
    try:
        n = transfer.import_participants(congress, read_upload(), current_user.id)
        db.session.commit()
    except CsvError as exc:
        db.session.rollback()
        flash(f"Import refusé, rien n'a été ajouté. {exc.message}", "error")
    else:
        flash(f"{formats.plural(n, 'participant·e importé·e', 'participant·es importé·es')}.",
              "success")
    return redirect(url_for("facilitator.participants"))


@bp.post("/participants/<int:pid>/revoquer")
@roles_required("facilitator")
def revoke(pid: int):
    person = owned_or_404(Participant, pid)
    if person.id == current_user.id:
        flash("Vous ne pouvez pas révoquer votre propre accès.", "error")
        return redirect(url_for("facilitator.participants"))
    person.token_revoked_at = utcnow()
    person.end_sessions()
    audit.record("participant.revoked", person.congress_id, current_user.id, participant_id=pid)
    db.session.commit()
    close_participant_sockets(pid)  # production (issue 6): its open sockets close too
    flash(f"Invitation de {person.display_name} révoquée : son lien ne fonctionne plus.",
          "success")
    return redirect(url_for("facilitator.participants"))


@bp.post("/participants/<int:pid>/nouveau-lien")
@roles_required("facilitator")
def reissue(pid: int):
    person = owned_or_404(Participant, pid)
    person.invite_token = new_token()
    person.token_revoked_at = None
    person.end_sessions()
    audit.record("participant.reinvited", person.congress_id, current_user.id, participant_id=pid)
    db.session.commit()
    close_participant_sockets(pid)  # production (issue 6): old sessions' sockets close
    flash(f"Nouveau lien créé pour {person.display_name} ; l'ancien ne fonctionne plus.",
          "success")
    return redirect(url_for("facilitator.participants"))




@bp.get("/invitations")
@roles_required("facilitator")
def invitations():
    """A printable sheet: one invite link and QR code per official."""
    import segno

    congress = staff_congress()
    people = list(db.session.scalars(
        select(Participant).filter_by(congress_id=congress.id, token_revoked_at=None)
        .where(Participant.role.not_in(STAFF_ROLES)).order_by(Participant.display_name)))
    base = base_url()  # PUBLIC_URL, never the Host header
    cards = [(p, f"{base}{url_for('participant.invite', token=p.invite_token)}") for p in people]
    cards = [(p, url, segno.make(url, error="m").svg_data_uri(scale=3)) for p, url in cards]
    return render_template("facilitator/invitations.html", congress=congress, cards=cards)


@bp.route("/contributions/import", methods=["GET", "POST"])
@roles_required("facilitator")
def import_contributions():
    congress = staff_congress()
    if request.method == "POST":
        try:
            n = transfer.import_contributions(congress, read_upload(), current_user.id)
            db.session.commit()
        except CsvError as exc:
            db.session.rollback()
            flash(f"Import refusé, rien n'a été ajouté. {exc.message}", "error")
        else:
            sorting.schedule_refit(current_app._get_current_object(), congress.id)
            flash(f"{n} contributions importées ; le classement se met à jour.", "success")
            return redirect(url_for("facilitator.dashboard"))
    return render_template("facilitator/import.html", congress=congress)


@bp.get("/export/<what>.csv")
@roles_required("facilitator")
def export(what: str):
    """Contributions or participants as CSV: for French spreadsheets by default,
    `?format=outils` for tools (csv_io)."""
    congress = staff_congress()
    if what not in ("contributions", "participants"):
        abort(404)
    try:
        form = csv_variant(request.args.get("format"))
    except CsvError as exc:
        return Response(exc.message + "\n", status=400, mimetype="text/plain")
    if what == "contributions":
        body = transfer.export_contributions(congress, form)
    else:
        body = transfer.export_participants(congress, base_url(), form)
    filename = f"{congress.join_code.lower()}-{what}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
