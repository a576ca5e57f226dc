"""Drafting pages: the facilitator's editor (/animation/redaction/...) and the officials'
amendment form (/c/<code>/amendements).

Every action is a plain form post followed by a redirect, so the pages work
without JavaScript; static/js/drafting.js adds the live preview. A refused
submission comes back with its text intact and a French message.
"""

from __future__ import annotations

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
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from .. import ballots, derivation, drafting, publication
from ..errors import FormErrors, InputError, PermissionDenied
from ..extensions import db
from ..models import ARTICLE_BODY_MAX, Article, Congress
from ..push import send
from ..queries import congress_by_code, owned_or_404, staff_congress
from ..ratelimit import live_action_limit
from ..rendering import render_motion_text
from ..security import roles_required

bp = Blueprint("drafting", __name__)
STAFF = ("facilitator", "scribe")
PREVIEW_MAX = ARTICLE_BODY_MAX
AMENDMENT_ACTIONS = {"accepter": "accept", "rejeter": "reject", "voter": "vote"}


def _actor():
    return current_user._get_current_object()


def _push_article(article: Article, number: int | None) -> None:
    send("motion.article_updated", {"article": article.id, "version": number},
              article.congress_id, audiences=("facilitator",))


def _commit_or_conflict() -> bool:
    """Commit; a concurrent save of the same article (same version number) is refused."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash("Quelqu'un a enregistré cet article en même temps : rechargez la page, votre "
              "texte n'a pas été enregistré.", "error")
        return False
    return True


# --- the motion -------------------------------------------------------------------------

@bp.get("/animation/redaction")
@roles_required(*STAFF)
def index():
    congress = staff_congress()
    if drafting.settle_all(congress):
        db.session.commit()
    motion = drafting.motion_for(congress)
    db.session.commit()
    items = drafting.articles(congress)
    pending = {}
    for amendment in drafting.amendments(congress, state="proposed"):
        pending[amendment.article_id] = pending.get(amendment.article_id, 0) + 1
    return render_template(
        "drafting/index.html", congress=congress, motion=motion, articles=items,
        labels=drafting.labels(items), pending=pending,
        open_now=drafting.amendments_open(congress),
        moved=request.args.get("deplace", type=int),
        direction=request.args.get("sens", ""))


@bp.post("/animation/redaction/titre")
@roles_required("facilitator")
def set_title():
    congress = staff_congress()
    try:
        drafting.set_title(congress, request.form.get("title"), _actor())
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash("Titre de la motion enregistré.", "success")
    return redirect(url_for("drafting.index"))


@bp.post("/animation/redaction/amendements/ouverture")
@roles_required("facilitator")
def set_amendments_open():
    congress = staff_congress()
    is_open = request.form.get("open") == "1"
    drafting.set_amendments_open(congress, is_open, _actor())
    db.session.commit()
    send("motion.amendments", {"open": drafting.amendments_open(congress)}, congress.id)
    if is_open and not drafting.amendments_open(congress):
        flash("Amendements ouverts : les élu·es pourront en proposer pendant les phases "
              "« Rédaction de la motion » et « Vote ».", "info")
    else:
        flash("Les élu·es peuvent proposer des amendements." if is_open
              else "Les amendements sont fermés.", "success")
    return redirect(url_for("drafting.index"))


@bp.post("/animation/redaction/article/<int:article_id>/deplacer")
@roles_required("facilitator")
def move(article_id: int):
    article = owned_or_404(Article, article_id)
    direction = request.form.get("direction", "")
    try:
        moved = drafting.move(article, direction, _actor())
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("drafting.index"))
    if not moved:
        flash("Cet article est déjà " + ("le premier." if direction == "up" else "le dernier."),
              "info")
    return redirect(url_for("drafting.index", deplace=article.id, sens=direction)
                    + f"#article-{article.id}")


@bp.post("/animation/redaction/ordre")
@roles_required("facilitator")
def set_order():
    """JSON: {"order": [article ids]} → the new order (drag and drop, scripts)."""
    congress = staff_congress()
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("order"), list) \
            or len(data["order"]) > 200:
        return jsonify(error="Envoyez {\"order\": [identifiants des articles]}."), 400
    try:
        ordered = drafting.set_order(congress, data["order"], _actor())
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        return jsonify(error=exc.message), 422
    return jsonify(order=[a.id for a in ordered])


@bp.post("/animation/redaction/apercu")
@live_action_limit  # follows the typing (debounced): the live allowance, not a form's
@roles_required(*STAFF)
def preview():
    """JSON: {"text": markdown} → {"html": …}, rendered exactly as on the published page
    (French typography included)."""
    data = request.get_json(silent=True)
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return jsonify(error="Envoyez {\"text\": \"…\"} en JSON."), 400
    if len(text) > PREVIEW_MAX:
        return jsonify(error=f"Le texte dépasse {PREVIEW_MAX} caractères."), 413
    return jsonify(html=str(render_motion_text(text)))


@bp.get("/animation/redaction/motion")
@roles_required(*STAFF)
def preview_motion():
    """The whole motion as it will be published (before any vote)."""
    congress = staff_congress()
    return render_template("publication/motion.html", preview=True,
                           **publication.motion_view(congress))


# --- one article ---------------------------------------------------------------------------

#: The article form's field ids, by form name (FormErrors speak of form names).
ARTICLE_FIELDS = {"title": "article-title", "body_md": "article-body", "note": "article-note"}


def _article_page(article: Article, *, title=None, body=None, note="", error=None,
                  status=200, errors=()):
    congress = staff_congress()
    items = drafting.articles(congress)
    points = drafting.draft_points(article.theme)
    sentences = drafting.trace_sentences(article, points)
    body = article.body_md if body is None else body
    return render_template(
        "drafting/article.html", congress=congress, article=article,
        label=drafting.labels(items)[article.id], sentences=sentences,
        missing=drafting.missing_points(sentences, points),
        isolated=drafting.isolated_ideas(article.theme, points),
        off_theme=drafting.off_theme_ideas(congress) if article.theme else [],
        linked=drafting.source_ids(article), sources=drafting.sources(article),
        title=article.title if title is None else title, body=body, note=note,
        preview_html=render_motion_text(body), error=error, errors=list(errors),
        frozen=drafting.frozen_reason(article),
        pending=drafting.amendments(congress, state="proposed", article=article),
        last=(drafting.versions(article) or [None])[0],
        trace=publication.traceability(publication.origins(article=article)),
        body_max=ARTICLE_BODY_MAX), status


@bp.get("/animation/redaction/article/<int:article_id>")
@roles_required(*STAFF)
def article(article_id: int):
    return _article_page(owned_or_404(Article, article_id))


@bp.post("/animation/redaction/article/<int:article_id>")
@roles_required("facilitator")
def save(article_id: int):
    article = owned_or_404(Article, article_id)
    title, body = request.form.get("title"), request.form.get("body_md", "")
    note = request.form.get("note", "")
    try:
        row = drafting.save_version(article, title, body, _actor(), note=note)
    except FormErrors as exc:
        db.session.rollback()
        return _article_page(article, title=title, body=body, note=note, status=422,
                             errors=[(ARTICLE_FIELDS[f], m) for f, m in exc.errors])
    except InputError as exc:
        db.session.rollback()
        return _article_page(article, title=title, body=body, note=note, error=exc.message,
                             status=422)
    if not _commit_or_conflict():
        return _article_page(article, title=title, body=body, note=note,
                             error="Enregistrement concurrent : rechargez la page.", status=409)
    if row is None:
        flash("Aucune modification : le texte est identique à la dernière version.", "info")
    else:
        _push_article(article, row.number)
        flash(f"Version {row.number} enregistrée.", "success")
    return redirect(url_for("drafting.article", article_id=article.id))


@bp.post("/animation/redaction/article/<int:article_id>/brouillon")
@roles_required("facilitator")
def propose_draft(article_id: int):
    article = owned_or_404(Article, article_id)
    try:
        row = derivation.propose_draft(article, _actor())
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("drafting.article", article_id=article.id))
    if _commit_or_conflict():
        _push_article(article, row.number)
        flash(f"Brouillon proposé (version {row.number}) : relisez-le et retouchez-le. "
              "L'historique permet de revenir à la version précédente.", "success")
    return redirect(url_for("drafting.article", article_id=article.id))


@bp.post("/animation/redaction/article/<int:article_id>/ajouter")
@roles_required("facilitator")
def pull_in(article_id: int):
    """« Ajouter au texte »: an idea or a recurring point the text leaves out."""
    article = owned_or_404(Article, article_id)
    cluster_id = request.form.get("cluster_id")
    try:
        if cluster_id:
            row = drafting.pull_point(article, cluster_id, _actor())
        else:
            row = drafting.pull_in(article, request.form.get("contribution_id"), _actor())
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("drafting.article", article_id=article.id))
    if _commit_or_conflict():
        if row is None:
            flash("Le texte dit déjà cela : la source a été liée, le texte n'a pas changé.",
                  "info")
        else:
            _push_article(article, row.number)
            flash(f"Phrase ajoutée à la fin de l'article (version {row.number}).", "success")
    return redirect(url_for("drafting.article", article_id=article.id) + "#titre-phrases")


@bp.post("/animation/redaction/article/<int:article_id>/sources")
@roles_required("facilitator")
def sources(article_id: int):
    article = owned_or_404(Article, article_id)
    action = request.form.get("action")
    cid = request.form.get("contribution_id")
    try:
        if action == "link":
            changed = drafting.link(article, cid, _actor())
            message = "Contribution liée à l'article." if changed else "Déjà liée."
        elif action == "unlink":
            changed = drafting.unlink(article, cid, _actor())
            message = "Lien retiré." if changed else "Cette contribution n'était pas liée."
        else:
            raise InputError("Action inconnue.")
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("drafting.article", article_id=article.id) + f"#c-{cid}")


@bp.get("/animation/redaction/article/<int:article_id>/versions")
@roles_required(*STAFF)
def versions(article_id: int):
    article = owned_or_404(Article, article_id)
    rows = drafting.versions(article)
    if not rows:
        flash("Cet article n'a pas encore de version enregistrée.", "info")
        return redirect(url_for("drafting.article", article_id=article.id))
    number = request.args.get("n", type=int) or rows[0].number
    shown = next((v for v in rows if v.number == number), None)
    if shown is None:
        abort(404)
    previous = next((v for v in rows if v.number < shown.number), None)
    congress = staff_congress()
    return render_template(
        "drafting/versions.html", congress=congress, article=article, versions=rows,
        shown=shown, previous=previous,
        label=drafting.labels(drafting.articles(congress))[article.id],
        diff=drafting.diff_html(previous.body_md if previous else "", shown.body_md),
        title_changed=previous is not None and previous.title != shown.title,
        diff_current=drafting.diff_html(shown.body_md, article.body_md or ""),
        is_current=shown.body_md == (article.body_md or "") and shown.title == article.title,
        frozen=drafting.frozen_reason(article))


@bp.post("/animation/redaction/article/<int:article_id>/versions/<int:number>/restaurer")
@roles_required("facilitator")
def restore(article_id: int, number: int):
    article = owned_or_404(Article, article_id)
    try:
        row = drafting.restore(article, number, _actor())
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("drafting.versions", article_id=article.id, n=number))
    if _commit_or_conflict():
        _push_article(article, row.number)
        flash(f"Version {number} restaurée : elle devient la version {row.number}.", "success")
    return redirect(url_for("drafting.article", article_id=article.id))


# --- amendments, facilitator side -----------------------------------------------------------

@bp.get("/animation/redaction/amendements")
@roles_required(*STAFF)
def amendments():
    congress = staff_congress()
    if drafting.settle_all(congress):
        db.session.commit()
    items = drafting.articles(congress)
    rows = drafting.amendments(congress)
    return render_template(
        "drafting/amendments.html", congress=congress, labels=drafting.labels(items),
        pending=[a for a in rows if a.state == "proposed"],
        voting=[(a, drafting.ballot_of(a)) for a in rows if a.state == "put_to_vote"],
        decided=[a for a in rows if a.state in ("accepted", "rejected", "adopted")],
        diff=lambda a: drafting.diff_html(a.article.body_md or "", a.body_md),
        open_now=drafting.amendments_open(congress))


@bp.post("/animation/redaction/amendements/<int:amendment_id>/<action>")
@roles_required("facilitator")
def decide(amendment_id: int, action: str):
    congress = staff_congress()
    if action not in AMENDMENT_ACTIONS:
        abort(404)
    try:
        amendment = drafting.amendment_of(congress, amendment_id)
    except InputError:
        abort(404)
    try:
        if action == "accepter":
            row = drafting.accept(amendment, _actor())
            message = (f"Amendement n° {amendment.id} accepté : version {row.number} de "
                       "l'article." if row else f"Amendement n° {amendment.id} accepté "
                       "(le texte était déjà identique).")
        elif action == "rejeter":
            drafting.reject(amendment, _actor())
            message = f"Amendement n° {amendment.id} rejeté."
        else:
            ballots.put_to_vote(amendment, _actor(),
                                 secret=request.form.get("secret") == "1")
            message = (f"Amendement n° {amendment.id} mis aux voix : le scrutin est prêt "
                       "à être ouvert depuis l'écran des votes.")
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("drafting.amendments"))
    if _commit_or_conflict():
        send("amendment.decided", {"id": amendment.id, "article": amendment.article_id,
                                        "state": amendment.state}, congress.id,
                  audiences=("facilitator", "participants"))
        flash(message, "success")
    return redirect(url_for("drafting.amendments"))


# --- amendments, officials' side ------------------------------------------------------------

def _participant_page(congress: Congress, *, error=None, form=None, status=200, errors=()):
    if drafting.settle_all(congress):
        db.session.commit()
    items = drafting.articles(congress)
    member = current_user.is_authenticated and current_user.congress_id == congress.id
    mine = []
    if member:
        mine = [a for a in drafting.amendments(congress) if a.author_id == current_user.id]
    return render_template(
        "drafting/participant_amendments.html", congress=congress,
        motion=drafting.motion_for(congress), articles=items, labels=drafting.labels(items),
        open_now=drafting.amendments_open(congress), member=member, mine=mine,
        error=error, errors=list(errors), form=form or {}), status


@bp.get("/c/<code>/amendements")
def participant_amendments(code: str):
    congress = congress_by_code(code)
    page = _participant_page(congress)
    db.session.commit()  # the motion row may have been created for its title
    return page


@bp.post("/c/<code>/amendements")
@login_required
def propose_amendment(code: str):
    congress = congress_by_code(code)
    if current_user.congress_id != congress.id:
        abort(403)
    form = request.form
    try:
        amendment, created = drafting.propose_amendment(
            congress, form.get("article_id"), _actor(), form.get("body_md"),
            form.get("rationale"))
        db.session.commit()
    except PermissionDenied as exc:
        db.session.rollback()
        return _participant_page(congress, error=exc.message, form=form, status=403)
    except FormErrors as exc:  # each message tied to its field in that article's form
        db.session.rollback()
        ids = {"body_md": "body", "rationale": "rationale"}
        return _participant_page(
            congress, form=form, status=422,
            errors=[(f"{ids[f]}-{form.get('article_id')}", m) for f, m in exc.errors])
    except InputError as exc:
        db.session.rollback()
        return _participant_page(congress, error=exc.message, form=form, status=422)
    if created:
        send("amendment.proposed", {"id": amendment.id, "article": amendment.article_id},
                  congress.id, audiences=("facilitator",))
        flash(f"Amendement n° {amendment.id} envoyé : l'animation va l'examiner.", "success")
    else:
        flash("Cet amendement était déjà envoyé : il n'a pas été enregistré deux fois.", "info")
    return redirect(url_for("drafting.participant_amendments", code=congress.join_code)
                    + "#mes-amendements")
