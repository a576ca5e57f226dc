"""Public legal pages and data protection: the accessibility statement (RGAA), the privacy
policy, one's own data (download, erasure), and the facilitator's retention settings. The
rules themselves live in the domain's `privacy`."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from .. import audit
from ..contributions import clean_int
from ..errors import InputError
from ..extensions import db
from ..models import Congress, Contribution
from ..privacy import RETENTION_MAX, erase, expiry_date, export_data
from ..push import close_participant_sockets
from ..security import roles_required

bp = Blueprint("privacy", __name__)

#: When the accessibility statement was last established: change it with the statement,
#: after checking again what it says (RGAA asks for the date of the evaluation).
ACCESSIBILITY_STATEMENT_DATE = date(2026, 12, 7)


@cache
def _vendored_version(static_folder: str, package: str) -> str | None:
    """The version of a vendored package, read from static/vendor/MANIFEST.json, so the
    statement names the axe-core that the browser tests really run."""
    manifest = json.loads((Path(static_folder) / "vendor" / "MANIFEST.json")
                          .read_text(encoding="utf-8"))
    return next((f["version"] for f in manifest["files"] if f["package"] == package), None)


@bp.get("/accessibilite")
def accessibility():
    """Public: the accessibility statement in the RGAA 4.1 format, honest about what is
    tested and what is not; linked from every page's footer."""
    return render_template(
        "privacy/accessibility.html", established=ACCESSIBILITY_STATEMENT_DATE,
        contact=current_app.config.get("ACCESSIBILITY_CONTACT"),
        axe_version=_vendored_version(current_app.static_folder, "axe-core"))


@bp.get("/donnees-personnelles")
def policy():
    """Public: what Motion stores, why, for how long, and one's rights."""
    congress = None
    if current_user.is_authenticated:
        congress = db.session.get(Congress, current_user.congress_id)
    return render_template("privacy/policy.html", congress=congress)


@bp.get("/mes-donnees")
@login_required
def mine():
    congress = db.session.get(Congress, current_user.congress_id)
    n = db.session.scalar(select(db.func.count()).select_from(Contribution)
                          .filter_by(author_id=current_user.id))
    return render_template("privacy/mine.html", congress=congress, n_contributions=n,
                           error=None)


@bp.get("/mes-donnees/export.json")
@login_required
def download():
    """The person's data as a JSON file (Article 15 and 20 of the RGPD)."""
    body = json.dumps(export_data(current_user._get_current_object()), ensure_ascii=False,
                      indent=2)
    response = Response(body, mimetype="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees-motion.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/mes-donnees/effacer")
@login_required
def erase_mine():
    """Erase the person's data (Article 17), after an explicit confirmation."""
    congress = db.session.get(Congress, current_user.congress_id)
    if request.form.get("confirm") != "oui":
        n = db.session.scalar(select(db.func.count()).select_from(Contribution)
                              .filter_by(author_id=current_user.id))
        return render_template(
            "privacy/mine.html", congress=congress, n_contributions=n,
            error="Cochez la case de confirmation pour effacer vos données : "
                  "rien n'a été effacé."), 422
    person = current_user._get_current_object()
    pid = person.id
    erase(person, pid, reason="demande de la personne")
    db.session.commit()
    close_participant_sockets(pid)
    logout_user()
    flash("Vos données personnelles ont été effacées et votre accès fermé.", "success")
    return redirect(url_for("privacy.policy"))


@bp.route("/animation/donnees", methods=["GET", "POST"])
@roles_required("facilitator")
def settings():
    """The facilitator's data-protection settings for the congress."""
    congress = db.session.get(Congress, current_user.congress_id)
    error = None
    if request.method == "POST":
        try:
            days = clean_int(request.form.get("retention_days"), what="La durée",
                             maximum=RETENTION_MAX)
        except InputError:  # « ² », 25 digits: the same sentence as any other bad number
            days = None
        if not days:
            error = (f"La durée de conservation doit être un nombre de jours entre 1 et "
                     f"{RETENTION_MAX}.")
        else:
            keep = request.form.get("keep_contributions_on_erasure") == "oui"
            congress.retention_days = days
            congress.keep_contributions_on_erasure = keep
            audit.record("congress.privacy", congress.id, current_user.id,
                         retention_days=congress.retention_days, keep_contributions=keep)
            db.session.commit()
            flash("Réglages de protection des données enregistrés.", "success")
            return redirect(url_for("privacy.settings"))
    return render_template("privacy/settings.html", congress=congress, error=error,
                           expires_on=expiry_date(congress)), (422 if error else 200)


