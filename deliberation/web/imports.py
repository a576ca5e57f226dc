"""Any CSV (issue 18): the facilitator's preview of a file with its own column names,
where each of Motion's fields gets its column, then the import, all or nothing. The
reading, the mapping and the import are the domain's `csv_import`."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import csv_import, sorting
from ..csv_io import CsvError
from ..extensions import db
from ..queries import staff_congress
from ..security import roles_required
from .uploads import read_upload

bp = Blueprint("imports", __name__, url_prefix="/animation/import")
#: Where each kind of import starts, and where a refused upload goes back to.
ORIGINS = {"contributions": "facilitator.import_contributions",
           "participants": "facilitator.participants"}


def _folder() -> Path:
    """The uploads waiting for their confirmation: under the instance folder only."""
    return Path(current_app.instance_path) / "imports"


def _kind(name: str) -> csv_import.Kind:
    kind = csv_import.kind_of(name)
    if kind is None:
        abort(404)
    return kind


def _back(kind: csv_import.Kind, message: str):
    flash(f"Import refusé, rien n'a été ajouté. {message}", "error")
    return redirect(url_for(ORIGINS[kind.name]))


@bp.post("/<what>/apercu")
@roles_required("facilitator")
def upload(what: str):
    """A file sent: it waits on the server while the facilitator maps its columns."""
    kind = _kind(what)
    congress = staff_congress()
    try:
        data = read_upload()
        shown = csv_import.preview(congress, kind, data, "")
    except CsvError as exc:  # unreadable: nothing is kept on the server
        return _back(kind, exc.message)
    shown.token = csv_import.keep(_folder(), congress, data)
    return render_template("imports/preview.html", congress=congress, preview=shown,
                           field_labels=csv_import.FIELD_LABELS, error=None)


@bp.post("/<what>/confirmer")
@roles_required("facilitator")
def confirm(what: str):
    """Import the waiting file with the chosen columns: all of it, or nothing."""
    kind = _kind(what)
    congress = staff_congress()
    token = request.form.get("token", "")
    try:
        data = csv_import.kept(_folder(), congress, token)
    except CsvError as exc:
        return _back(kind, exc.message)
    try:
        shown = csv_import.preview(congress, kind, data, token)
    except CsvError as exc:  # read once already: only if the file changed on the server
        return _back(kind, exc.message)
    width = len(shown.sniffed.header)
    shown.mapping = csv_import.chosen_columns(kind, request.form, width)  # kept on error
    try:
        shown.mapping = csv_import.parse_mapping(kind, request.form, width)
        n = csv_import.run(congress, kind, shown.sniffed, shown.mapping, current_user.id)
        db.session.commit()
    except CsvError as exc:
        db.session.rollback()
        return render_template("imports/preview.html", congress=congress, preview=shown,
                               field_labels=csv_import.FIELD_LABELS,
                               error=f"Import refusé, rien n'a été ajouté. {exc.message}"), 422
    csv_import.discard(_folder(), congress, token)
    if kind.name == "contributions":
        sorting.schedule_refit(current_app._get_current_object(), congress.id)
        flash(f"{n} contributions importées ; le classement se met à jour.", "success")
        return redirect(url_for("facilitator.dashboard"))
    flash(f"{n} participant·es importé·es.", "success")
    return redirect(url_for("facilitator.participants"))
