"""Boards of the live debate: the facilitator's board and the scribe's capture screen
(`/animation/...`), and the officials' live board on their phone (`/c/<code>/direct`).

Pages are rendered on the server from the database; small scripts (static/js/board.js,
scribe.js, live_board.js) keep them up to date over Socket.IO and send corrections
through the same `actions.perform` that the socket handlers use. Every action also has a
plain HTTP form so that nothing depends on a live connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import actions, announce, sorting
from .. import contributions as contrib
from ..corrections import (
    GRANULARITY_MAX,
    GRANULARITY_MIN,
    PROJECTOR_MODES,
    granularity_label,
)
from ..errors import InputError
from ..extensions import db
from ..models import OFF_TOPIC, Cluster, Congress, Contribution, Participant, SortRun, Support
from ..queries import congress_by_code, review_count, review_queue, staff_congress
from ..ratelimit import contribute_limit, live_action_limit, support_limit
from ..rendering import plain_excerpt
from ..screens import snapshot
from ..security import roles_required, safe_next

bp = Blueprint("board", __name__, url_prefix="/animation")
live_bp = Blueprint("live_board", __name__)

REVIEW_SHOWN = 30
DUPLICATES_SHOWN = 20
RECENT_CAPTURES = 12


# -- the scribe's capture ------------------------------------------------------------------

@bp.route("/releve", methods=["GET", "POST"])
@live_action_limit  # outermost, so anonymous posts count too
@roles_required("facilitator", "scribe")
def scribe():
    """Fast keyboard capture of what is said in the room (HTTP form works without JS)."""
    congress = staff_congress()
    form: dict[str, str] = {}
    error, errors = None, []
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("speaker", "commune", "text",
                                                     "participant_id", "key")}
        ack = actions.perform("scribe.capture", {k: v for k, v in form.items() if v != ""},
                              current_user._get_current_object())
        if ack.get("ok"):
            flash(f"Idée n° {ack['id']} enregistrée — thème : {ack['theme_label']}.", "success")
            return redirect(url_for("board.scribe"))
        error, errors = ack["error"], ack.get("errors", [])
    return _scribe_page(congress, form, error, errors=errors)


@bp.post("/releve/<int:contribution_id>/corriger")
@live_action_limit
@roles_required("facilitator", "scribe")
def scribe_correct(contribution_id: int):
    """« Corriger » a captured idea without JavaScript: on a refusal the page comes back
    with the correction open, what was typed kept and the French error beside it."""
    congress = staff_congress()
    form = {k: request.form.get(k, "") for k in ("text", "speaker", "commune",
                                                 "participant_id", "key")}
    ack = actions.perform("contribution.correct",
                          {"id": contribution_id, **{k: v for k, v in form.items() if v != ""}},
                          current_user._get_current_object())
    if ack.get("ok"):
        flash(f"Idée n° {contribution_id} corrigée." if ack.get("changed")
              else f"Idée n° {contribution_id} : rien n'a changé.", "success")
        return redirect(url_for("board.scribe") + f"#idee-{contribution_id}")
    return _scribe_page(congress, {}, None, correcting={"id": contribution_id, **form,
                                                        "error": ack["error"]})


def _scribe_page(congress: Congress, form: dict[str, str], error: str | None,
                 correcting: dict[str, Any] | None = None, errors=()):
    speakers = list(db.session.scalars(
        select(Participant).filter_by(congress_id=congress.id, role="participant",
                                      token_revoked_at=None)
        .order_by(Participant.display_name)))
    recent = list(db.session.scalars(
        select(Contribution).filter_by(congress_id=congress.id, channel="live")
        .where(Contribution.status != "withdrawn")
        .options(selectinload(Contribution.theme), selectinload(Contribution.cluster))
        .order_by(Contribution.id.desc()).limit(RECENT_CAPTURES)))
    if correcting and all(c.id != correcting["id"] for c in recent):
        # A refused correction of an idea that left the recent list: shown with it, so
        # what was typed comes back beside the error.
        older = db.session.get(Contribution, correcting["id"])
        if older is not None and older.congress_id == congress.id \
                and older.channel == "live" and older.status != "withdrawn":
            recent.append(older)
    themes = [[t.code, t.short_title] for t in congress.themes] + [[OFF_TOPIC, "Hors thème"]]
    return render_template("board/scribe.html", congress=congress, speakers=speakers,
                           recent=recent, form=form, themes=themes,
                           error=None if errors else error, errors=list(errors),
                           correcting=correcting or {},
                           correcting_shown=bool(correcting) and any(
                               c.id == correcting["id"] for c in recent)), \
        (422 if error or correcting else 200)


# -- the facilitator's board ---------------------------------------------------------------

@dataclass
class PointView:
    cluster: Cluster
    items: list[Contribution] = field(default_factory=list)


@dataclass
class ThemeView:
    code: str
    label: str
    title: str
    points: list[PointView] = field(default_factory=list)
    loose: list[Contribution] = field(default_factory=list)
    #: The facilitator's « plus / moins de points » (None: « hors thème », non classées).
    granularity: int | None = None

    @property
    def count(self) -> int:
        return sum(len(p.items) for p in self.points) + len(self.loose)

    @property
    def grain_label(self) -> str:
        return granularity_label(self.granularity or 0)

    @property
    def can_refine(self) -> bool:
        return self.granularity is not None and self.granularity < GRANULARITY_MAX

    @property
    def can_coarsen(self) -> bool:
        return self.granularity is not None and self.granularity > GRANULARITY_MIN


def board_data(congress: Congress) -> dict[str, Any]:
    """Everything the board shows, in a handful of queries."""
    everything = list(db.session.scalars(
        select(Contribution).filter_by(congress_id=congress.id)
        .where(Contribution.status != "withdrawn")
        .options(selectinload(Contribution.theme), selectinload(Contribution.alt_theme),
                 selectinload(Contribution.cluster), selectinload(Contribution.author))
        .order_by(Contribution.id)))
    shown = [c for c in everything if c.status == "visible"]
    views = {t.code: ThemeView(t.code, t.short_title, t.title, granularity=t.granularity or 0)
             for t in congress.themes}
    views[OFF_TOPIC] = ThemeView(OFF_TOPIC, "Hors thème", "Idées qui ne relèvent d'aucun thème")
    views[""] = ThemeView("", "Non classées", "Idées en attente du classement")
    grouped: dict[tuple[str, int], list[Contribution]] = {}
    for c in shown:
        code = c.theme.code if c.theme else (OFF_TOPIC if c.off_topic else "")
        if c.cluster_id is not None:
            grouped.setdefault((code, c.cluster_id), []).append(c)
        else:
            views[code].loose.append(c)
    clusters = {c.cluster_id: c.cluster for c in shown if c.cluster is not None}
    for (code, cluster_id), items in grouped.items():
        if len(items) >= 2:
            views[code].points.append(PointView(clusters[cluster_id], items))
        else:
            views[code].loose.extend(items)
    for view in views.values():
        view.points.sort(key=lambda p: (-len(p.items), p.cluster.key))
        view.loose.sort(key=lambda c: c.id, reverse=True)
    by_id = {c.id: c for c in everything}
    review = review_queue(congress, REVIEW_SHOWN)
    run = db.session.scalar(select(SortRun).filter_by(congress_id=congress.id)
                            .order_by(SortRun.id.desc()).limit(1))
    pairs = []
    if run is not None:
        for a, b, score in (run.state or {}).get("duplicates", []):
            first, second = by_id.get(_int(a)), by_id.get(_int(b))
            if first and second and first.status == "visible" and second.status == "visible":
                pairs.append((first, second, float(score)))
        pairs.sort(key=lambda p: -p[2])
    themes = [views[t.code] for t in congress.themes] + [views[OFF_TOPIC], views[""]]
    targets = [(v.code, v.label, [p.cluster for p in v.points]) for v in themes if v.code]
    return {
        "themes": themes,
        "targets": targets,
        "review": review,
        "review_total": review_count(congress),
        "pairs": pairs[:DUPLICATES_SHOWN],
        "hidden": [c for c in everything if c.status == "hidden"],
        "duplicates": [(c, by_id.get(c.duplicate_of_id)) for c in everything
                       if c.status == "duplicate"],
        "run": run,
        "total": len(shown),
    }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.get("/tableau")
@roles_required("facilitator")
def board():
    """Every theme with its recurring points and ideas, the review queue and duplicates."""
    congress = staff_congress()
    return render_template("board/board.html", congress=congress, modes=PROJECTOR_MODES,
                           **board_data(congress))


@bp.get("/tableau/contenu")
@roles_required("facilitator")
def board_content():
    """The live part of the board, re-fetched by board.js when something changed."""
    congress = staff_congress()
    return render_template("board/_board.html", congress=congress, **board_data(congress))


@bp.post("/tableau/action")
@live_action_limit
@roles_required("facilitator", "scribe")
def board_action():
    """HTTP twin of the socket actions (same roles, checks, idempotency and pushes)."""
    data: dict[str, Any]
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify(ok=False, error="Message illisible : un objet JSON est attendu."), 400
    else:
        data = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
        for name in ("from", "ids"):
            if name in request.form:
                data[name] = request.form.getlist(name)
        _target(data)
    name = data.pop("action", None)
    if name not in actions.ACTIONS or name == "support":
        ack = {"ok": False, "error": "Action inconnue."}
    else:
        ack = actions.perform(name, data, current_user._get_current_object())
    if request.is_json or request.accept_mimetypes.best == "application/json":
        status = 200 if ack.get("ok") else (403 if "rôle" in ack.get("error", "")
                                            or "Connectez" in ack.get("error", "") else 422)
        return jsonify(ack), status
    flash("C'est fait." if ack.get("ok") else ack["error"],
          "success" if ack.get("ok") else "error")
    return redirect(_back())


def _target(data: dict[str, Any]) -> None:
    """The board's « Destination » select sends `theme:<code>` or `point:<key>`."""
    target = data.pop("target", None)
    if data.get("action") != "contribution.move" or not isinstance(target, str):
        return
    kind, _, value = target.partition(":")
    if kind == "theme" and value:
        data["theme"] = value
    elif kind == "point" and value:
        data["cluster"] = value


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("board.board"), prefix="/animation/")


# -- the officials' live board ---------------------------------------------------------------

def _member(congress: Congress) -> bool:
    return current_user.is_authenticated and current_user.congress_id == congress.id


@live_bp.get("/c/<code>/direct")
def live_board(code: str):
    """The debate on an official's phone: counts, recurring points, latest ideas, "+1"."""
    congress = congress_by_code(code)
    return render_template("live_board.html", **_live_context(congress))


def _live_context(congress: Congress, draft: str = "", error: str | None = None) -> dict:
    """What the live board shows: the snapshot, plus which ideas are mine or backed by me."""
    state = snapshot(congress, "participants")
    supported: set[int] = set()
    own: set[int] = set()
    if _member(congress):
        ids = [item["id"] for item in state["latest"]]
        supported = set(db.session.scalars(select(Support.contribution_id).where(
            Support.participant_id == current_user.id, Support.contribution_id.in_(ids))))
        own = set(db.session.scalars(select(Contribution.id).where(
            Contribution.author_id == current_user.id, Contribution.id.in_(ids))))
    labels = {t["code"]: t["label"] for t in state["picture"]["themes"]}
    labels[OFF_TOPIC] = "Hors thème"
    return {"congress": congress, "state": state, "supported": supported, "own": own,
            "labels": labels, "member": _member(congress),
            "can_support": _member(congress) and current_user.role == "participant",
            "draft": draft, "error": error, "error_field": "text"}


@live_bp.post("/c/<code>/direct/contribuer")
@contribute_limit  # shared with the consultation form
def live_contribute(code: str):
    """Contribute from the live board (same rules as the consultation form)."""
    congress = congress_by_code(code)
    if not _member(congress) or current_user.role != "participant":
        abort(403)
    text = request.form.get("text", "")
    try:
        contribution, created = contrib.create(
            congress, text, author=current_user._get_current_object(),
            client_key=request.form.get("client_key") or None)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        return render_template("live_board.html",
                               **_live_context(congress, draft=text, error=exc.message)), 422
    if created:
        announce.contribution_created(contribution)
    flash("Merci ! Votre idée est enregistrée\u00a0: elle attend la validation de "
          "l'animation avant d'être affichée." if contribution.status == "pending"
          else "Merci ! Votre idée est enregistrée.", "success")
    return redirect(url_for("live_board.live_board", code=congress.join_code))


@live_bp.get("/c/<code>/similaires")
def similar(code: str):
    """Existing ideas close to a draft, so an official can back one instead ("+1")."""
    congress = congress_by_code(code)
    text = (request.args.get("texte") or "")[:2000]
    if len(text.strip()) < 12:
        return jsonify(items=[])
    found = sorting.similar(congress.id, text, limit=5)
    rows = {c.id: c for c in db.session.scalars(
        select(Contribution).where(Contribution.id.in_([i for i, _ in found]))
        .options(selectinload(Contribution.theme)))} if found else {}
    mine: set[int] = set()
    if _member(congress) and rows:
        mine = set(db.session.scalars(select(Support.contribution_id).where(
            Support.participant_id == current_user.id, Support.contribution_id.in_(rows))))
    items, seen = [], set()
    for cid, score in found:
        c = rows.get(cid)
        if c is not None and c.status == "duplicate" and c.duplicate_of_id:
            c = db.session.get(Contribution, c.duplicate_of_id)
        if c is None or c.status != "visible" or c.id in seen or c.congress_id != congress.id:
            continue
        seen.add(c.id)
        items.append({"id": c.id, "text": plain_excerpt(c.text, 240),
                      "theme": c.theme.short_title if c.theme else None,
                      "supports": c.supports, "similarity": score,
                      "supported": c.id in mine,
                      "own": _member(congress) and c.author_id == current_user.id})
        if len(items) == 5:
            break
    return jsonify(items=items)


@live_bp.post("/c/<code>/soutenir/<int:contribution_id>")
@support_limit
def support(code: str, contribution_id: int):
    """ "+1" without a live connection (form or fetch); same rules as the socket event."""
    congress = congress_by_code(code)
    if not _member(congress):
        ack = {"ok": False, "error": "Rejoignez le congrès pour soutenir une idée."}
    else:
        ack = actions.perform("support", {"id": contribution_id,
                                          "key": request.form.get("key") or ""},
                              current_user._get_current_object())
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ack), (200 if ack.get("ok") else 422)
    flash("Merci, votre soutien est compté." if ack.get("ok") else ack["error"],
          "success" if ack.get("ok") else "error")
    return redirect(url_for("live_board.live_board", code=congress.join_code) + "#idees")
