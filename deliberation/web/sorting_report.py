"""The facilitator's sorting report (issue 18): how well the machine sorted, on a page
and as CSV or JSON downloads. The figures are computed by the domain's
`sorting_report`; this blueprint only renders them."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template

from .. import sorting_report
from ..queries import staff_congress
from ..security import roles_required

bp = Blueprint("sorting_report", __name__, url_prefix="/animation/qualite-du-tri")


def _filename(code: str, extension: str) -> str:
    return f"{code.lower()}-qualite-du-tri.{extension}"


@bp.get("/")
@roles_required("facilitator")
def page():
    congress = staff_congress()
    return render_template("facilitator/sorting_report.html", congress=congress,
                           sorting_report=sorting_report.build(congress))


@bp.get("/rapport.csv")
@roles_required("facilitator")
def export_csv():
    congress = staff_congress()
    body = sorting_report.as_csv(sorting_report.build(congress))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_filename(congress.join_code, "csv")}"'})


@bp.get("/rapport.json")
@roles_required("facilitator")
def export_json():
    congress = staff_congress()
    body = json.dumps({"congress": congress.join_code,
                       **sorting_report.build(congress).as_json()},
                      ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{_filename(congress.join_code, "json")}"'})
