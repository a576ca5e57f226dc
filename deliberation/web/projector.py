"""The room's big screen: public and read-only, driven by the facilitator.

`/projecteur/<code>` renders the current state from the database (so it is right
after a restart, and useful even before its script runs); static/js/projector.js then
follows the congress over Socket.IO. `/projecteur/<code>/etat.json` is the same
snapshot as JSON, for a screen that wants to resync (mode change, refit).
"""

from __future__ import annotations

import math

import segno
from flask import Blueprint, jsonify, render_template
from markupsafe import Markup, escape

from ..links import absolute_url
from ..models import OFF_TOPIC
from ..queries import congress_by_code
from ..screens import snapshot

bp = Blueprint("projector", __name__, url_prefix="/projecteur")

#: How many ideas the ticker shows.
TICKER = 3


def join_url(code: str) -> str:
    """The short address officials type or scan to join (PUBLIC_URL, never the Host header)."""
    return absolute_url("participant.join", code=code)


def qr_data_uri(url: str) -> str:
    """A QR code drawn here (segno, SVG): no external service sees the join link."""
    return segno.make(url, error="m").svg_data_uri(scale=10, border=2, dark="#000",
                                                   light="#fff")


def anchors(codes: list[str]) -> list[dict]:
    """Where each theme sits on the idea map (same circle as the sorting engine's layout)."""
    n = max(len(codes), 1)
    result = []
    for i, code in enumerate(codes):
        angle = 2 * math.pi * i / n - math.pi / 2
        result.append({"code": code, "index": i, "x": round(math.cos(angle) * 1.3, 3),
                       "y": round(math.sin(angle) * 1.3, 3)})
    return result


@bp.get("/<code>")
def screen(code: str):
    congress = congress_by_code(code)
    state = snapshot(congress, "projector")
    codes = [t["code"] for t in state["picture"]["themes"]]
    url = join_url(congress.join_code)
    # In vote mode the corner shows the vote page instead (issue 14): phones go straight
    # to their ballot.
    vote_url = absolute_url("vote.phone", code=congress.join_code)
    return render_template("projector/screen.html", congress=congress, state=state,
                           colour={c: i for i, c in enumerate(codes)}, off_topic=OFF_TOPIC,
                           anchors=anchors(codes), join_url=url, short_url=_short(url),
                           short_url_html=breakable(_short(url)), qr=qr_data_uri(url),
                           vote_short_url=_short(vote_url),
                           vote_short_url_html=breakable(_short(vote_url)),
                           vote_qr=qr_data_uri(vote_url), ticker=state["latest"][:TICKER])


def _short(url: str) -> str:
    """What people type: host and path (the QR code has it all)."""
    return url.split("://", 1)[-1].split("?", 1)[0]


def breakable(url: str) -> Markup:
    """The address with a line-break opportunity before each « / »: a long public address
    wraps there, at the corner's width, rather than being split mid-word or clipped."""
    return Markup("<wbr>/").join(escape(part) for part in url.split("/"))


@bp.get("/<code>/etat.json")
def state(code: str):
    congress = congress_by_code(code)
    response = jsonify(snapshot(congress, "projector"))
    response.headers["Cache-Control"] = "no-store"
    return response
