"""The adopted motion in public: its page, its exports (Markdown, HTML, PDF, CSV, JSON)
and the « relevé des idées ». What they hold is read by the domain's `publication`."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import select

from .. import drafting, publication, sorting_report
from ..extensions import db
from ..models import Congress, Motion
from ..publication import (
    bars,
    motion_markdown,
    motion_pdf,
    motion_view,
    report,
    results_csv,
    results_json,
    standalone_html,
    text_ballot,
)
from ..queries import congress_by_code

bp = Blueprint("publication", __name__, url_prefix="/motion")



def _not_published(congress: Congress, what: str = "page"):
    message = ("La motion de ce congrès n'est pas encore publiée : elle le sera dès que le "
               "résultat du vote sur l'ensemble du texte aura été publié.")
    if what == "json":
        return jsonify(error=message), 404
    if what == "file":
        return Response(message + "\n", status=404, mimetype="text/plain")
    return render_template("publication/not_published.html", congress=congress,
                           message=message), 404


def _published(code: str) -> tuple[Congress, dict | None]:
    congress = congress_by_code(code)
    drafting.settle_all(congress)
    db.session.commit()
    if text_ballot(congress) is None:
        return congress, None
    return congress, motion_view(congress)


def _download(body: str | bytes, mimetype: str, filename: str, csp: str | None = None):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


def _slug(congress: Congress) -> str:
    return f"motion-{congress.join_code.lower()}"


@bp.get("/<code>")
def motion_page(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress)
    return render_template("publication/motion.html", preview=False,
                           trace_sentence=publication.trace_sentence, **view)


@bp.get("/<code>/motion.md")
def export_markdown(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress, "file")
    return _download(motion_markdown(view), "text/markdown",
                     f"{_slug(congress)}.md")


@bp.get("/<code>/motion.html")
def export_html(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress, "file")
    # A downloaded document: its own inline CSS may apply, nothing else may load.
    return _download(standalone_html(view), "text/html",
                     f"{_slug(congress)}.html",
                     csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:")


@bp.get("/<code>/motion.pdf")
def export_pdf(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress, "file")
    try:
        pdf = motion_pdf(view)
    except ImportError:  # pragma: no cover - WeasyPrint is pinned
        current_app.logger.error("WeasyPrint is not installed")
        return Response("L'export PDF n'est pas disponible sur ce serveur.\n", status=503,
                        mimetype="text/plain")
    return _download(pdf, "application/pdf", f"{_slug(congress)}.pdf")


@bp.get("/<code>/resultats.csv")
def export_results_csv(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress, "file")
    return _download(results_csv(congress), "text/csv",
                     f"{_slug(congress)}-resultats.csv")


@bp.get("/<code>/resultats.json")
def export_results_json(code: str):
    congress, view = _published(code)
    if view is None:
        return _not_published(congress, "json")
    body = json.dumps(results_json(congress), ensure_ascii=False, indent=2)
    response = _download(body, "application/json", f"{_slug(congress)}-resultats.json")
    if request.args.get("inline"):
        del response.headers["Content-Disposition"]
    return response


@bp.get("/<code>/releve")
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
