"""The published motion in public: its page, its versions, its exports (Markdown, HTML,
PDF, CSV, JSON) and the « relevé des idées »; and the facilitator's correction form.

Every copy of the motion is rendered from a frozen version (`publishing`), never from
the drafting and ballot tables. The routes carry their whole path (no prefix) because the
correction form, staff-only, lives under /animation with the other staff screens."""

from __future__ import annotations

import json
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import publishing, sorting_report
from ..csv_io import CsvError
from ..csv_io import variant as csv_variant
from ..errors import InputError
from ..extensions import db
from ..models import ARTICLE_BODY_MAX, CORRECTION_REASON_MAX, Congress, Motion, is_row_id
from ..publication import (
    bars,
    motion_markdown,
    motion_pdf,
    page_helpers,
    report,
    results_csv,
    results_json,
    standalone_html,
    template_view,
)
from ..queries import congress_by_code, staff_congress
from ..rendering import french_date
from ..security import roles_required

bp = Blueprint("publication", __name__)

WITHHELD_FILE = ("Le congrès n'a pas adopté de motion : aucun texte n'a été publié, il n'y a "
                 "donc rien à télécharger.")


def _not_published(congress: Congress, what: str = "page"):
    if publishing.awaiting_choice(congress):
        message = ("Le texte soumis au vote sur l'ensemble a été rejeté ; l'animation n'a pas "
                   "encore choisi de le publier comme texte rejeté ou de ne pas le publier.")
    else:
        message = ("La motion de ce congrès n'est pas encore publiée : elle le sera dès que "
                   "le résultat du vote sur l'ensemble du texte aura été publié.")
    if what == "json":
        return jsonify(error=message), 404
    if what == "file":
        return Response(message + "\n", status=404, mimetype="text/plain")
    return render_template("publication/not_published.html", congress=congress,
                           message=message), 404


def _read(code: str, number: int | None = None):
    """(congress, the version shown or None, the newest version or None); an unknown
    version number is a 404."""
    congress = congress_by_code(code)
    newest = publishing.current(congress)
    if newest is None or number is None:
        return congress, newest, newest
    shown = publishing.version(congress, number) if is_row_id(number) else None
    if shown is None:
        abort(404)
    return congress, shown, newest


def _view(congress: Congress, shown, newest) -> dict:
    return {"congress": congress, "doc": template_view(shown.document),
            "version": publishing.version_info(shown, newest),
            "history": publishing.history(congress), **page_helpers()}


def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _download(body: str | bytes, mimetype: str, filename: str, csp: str | None = None):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


def _slug(congress: Congress, number: int | None = None) -> str:
    slug = f"motion-{congress.join_code.lower()}"
    return f"{slug}-version-{number}" if number else slug


def _can_correct(congress: Congress) -> bool:
    return (current_user.is_authenticated and current_user.role == "facilitator"
            and current_user.congress_id == congress.id)


@bp.get("/motion/<code>")
def motion_page(code: str):
    congress, shown, newest = _read(code)
    if shown is None:
        return _not_published(congress)
    if shown.kind == "withheld":
        return render_template("publication/withheld.html", congress=congress,
                               doc=shown.document, decided_at=shown.published_at,
                               voted_at=_when(shown.document.get("voted_at")))
    return render_template("publication/motion.html", preview=False,
                           can_correct=_can_correct(congress),
                           **_view(congress, shown, newest))


@bp.get("/motion/<code>/version/<int:number>")
def motion_version(code: str, number: int):
    """An earlier version, as it was published, marked as superseded."""
    congress, shown, newest = _read(code, number)
    if shown is None:
        return _not_published(congress)
    if shown.number == newest.number:
        return redirect(url_for("publication.motion_page", code=congress.join_code))
    return render_template("publication/motion.html", preview=False, can_correct=False,
                           **_view(congress, shown, newest))


def _file(code: str, number: int | None):
    """The version a download prints, or the French refusal to send instead."""
    congress, shown, newest = _read(code, number)
    if shown is None:
        return congress, None, _not_published(congress, "file")
    if shown.kind == "withheld":
        return congress, None, Response(WITHHELD_FILE + "\n", status=404,
                                        mimetype="text/plain")
    return congress, _view(congress, shown, newest), None


@bp.get("/motion/<code>/motion.md", defaults={"number": None})
@bp.get("/motion/<code>/version/<int:number>/motion.md")
def export_markdown(code: str, number: int | None):
    congress, view, refusal = _file(code, number)
    if refusal is not None:
        return refusal
    return _download(motion_markdown(view), "text/markdown",
                     f"{_slug(congress, number)}.md")


@bp.get("/motion/<code>/motion.html", defaults={"number": None})
@bp.get("/motion/<code>/version/<int:number>/motion.html")
def export_html(code: str, number: int | None):
    congress, view, refusal = _file(code, number)
    if refusal is not None:
        return refusal
    # A downloaded document: its own inline CSS may apply, nothing else may load.
    return _download(standalone_html(view), "text/html",
                     f"{_slug(congress, number)}.html",
                     csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:")


@bp.get("/motion/<code>/motion.pdf", defaults={"number": None})
@bp.get("/motion/<code>/version/<int:number>/motion.pdf")
def export_pdf(code: str, number: int | None):
    congress, view, refusal = _file(code, number)
    if refusal is not None:
        return refusal
    try:
        pdf = motion_pdf(view)
    except ImportError:  # pragma: no cover - WeasyPrint is pinned
        current_app.logger.error("WeasyPrint is not installed")
        return Response("L'export PDF n'est pas disponible sur ce serveur.\n", status=503,
                        mimetype="text/plain")
    return _download(pdf, "application/pdf", f"{_slug(congress, number)}.pdf")


@bp.get("/motion/<code>/resultats.csv")
def export_results_csv(code: str):
    congress, view, refusal = _file(code, None)
    if refusal is not None:
        return refusal
    try:
        form = csv_variant(request.args.get("format"))
    except CsvError as exc:
        return Response(exc.message + "\n", status=400, mimetype="text/plain")
    return _download(results_csv(view["doc"], form), "text/csv",
                     f"{_slug(congress)}-resultats.csv")


@bp.get("/motion/<code>/resultats.json")
def export_results_json(code: str):
    congress, shown, newest = _read(code)
    if shown is None:
        return _not_published(congress, "json")
    if shown.kind == "withheld":
        return jsonify(error=WITHHELD_FILE), 404
    data = results_json(shown.document, publishing.version_info(shown, newest))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = _download(body, "application/json", f"{_slug(congress)}-resultats.json")
    if request.args.get("inline"):
        del response.headers["Content-Disposition"]
    return response


# --- the facilitator: a correction is a new version -----------------------------------------

def _correction_page(congress: Congress, newest, form=None, error: InputError | None = None,
                     status: int = 200):
    doc = newest.document if newest is not None and newest.kind == "published" else None
    return render_template(
        "publication/correct.html", congress=congress, newest=newest, doc=doc,
        form=form or {}, error=error.message if error else None,
        error_field=error.field if error else None, body_max=ARTICLE_BODY_MAX,
        reason_max=CORRECTION_REASON_MAX), status


@bp.get("/animation/motion/corriger")
@roles_required("facilitator")
def correct():
    """The form to publish a corrected version, prefilled with the version in force."""
    congress = staff_congress()
    return _correction_page(congress, publishing.current(congress))


@bp.post("/animation/motion/corriger")
@roles_required("facilitator")
def correct_post():
    congress = staff_congress()
    newest = publishing.current(congress)
    form = request.form
    try:
        if newest is None or newest.kind != "published":
            raise InputError(publishing.NOTHING_TO_CORRECT)
        sent = {item["id"]: (form.get(f"titre-{item['id']}"), form.get(f"texte-{item['id']}"))
                for item in newest.document["articles"]}
        publication = publishing.correct(congress, current_user._get_current_object(),
                                         title=form.get("title"), articles=sent,
                                         reason=form.get("reason"))
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        return _correction_page(congress, newest, form, exc, 422)
    except IntegrityError:
        db.session.rollback()
        return _correction_page(
            congress, publishing.latest(congress), form,
            InputError("Une autre correction vient d'être publiée : relisez la version en "
                       "vigueur ; votre texte est conservé ci-dessous."), 409)
    flash(f"Version {publication.number} publiée le {french_date(publication.published_at)}.",
          "success")
    return redirect(url_for("publication.motion_page", code=congress.join_code))


@bp.get("/motion/<code>/releve")
def report_page(code: str):
    """The « relevé des idées »: public, live figures (no vote needed)."""
    congress = congress_by_code(code)
    data = report(congress)
    charts = {
        "themes": bars([(t["theme"].short_title, t["count"]) for t in data["themes"]]
                       + ([("Non classées / hors thème", data["unsorted"])]
                          if data["unsorted"] else [])),
        "channels": bars([("En ligne", data["by_channel"]["online"]),
                          ("En séance", data["by_channel"]["live"])]),
        "rurality": bars([("Communes rurales", data["people"]["rural"]),
                          ("Communes urbaines", data["people"]["urban"]),
                          ("Population inconnue", data["people"]["unknown"])]),
    }
    return render_template("publication/report.html", charts=charts,
                           sorting_report=sorting_report.build(congress),
                           motion=db.session.scalar(select(Motion).filter_by(
                               congress_id=congress.id)), **data)
