"""Voting pages: the phone voting screen, the facilitator's ballot control and presence
sheet, and the projector's vote mode.

Every action is a plain form post (works without JavaScript); `static/js/vote.js`
enhances the phone screen with fetch, retries under the same idempotency key and
live updates. A vote post asked for JSON (`Accept: application/json`) answers JSON.
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
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .. import audit, ballots, formats, proxy_import, publication, publishing, push, voting
from ..contributions import clean_int
from ..csv_io import CsvError
from ..errors import FormErrors, InputError, check_fields
from ..extensions import db
from ..models import MAX_ID, Article, Ballot, Congress, Participant
from ..queries import congress_by_code, owned_or_404, staff_congress
from ..ratelimit import vote_limit
from ..security import roles_required
from ..voting import VoteRefused
from .uploads import read_upload

bp = Blueprint("vote", __name__)

STATUS_MESSAGES = {
    "counted": "Votre vote est enregistré.",
    "repeat": "Votre vote est enregistré.",
    "changed": "Votre vote a été modifié.",
    "unchanged": "Votre vote est inchangé.",
}
#: A vote cast for someone else is confirmed as theirs, never as « votre vote » (issue 14).
PROXY_MESSAGES = {
    "counted": "Le vote de {name} (procuration) est enregistré.",
    "repeat": "Le vote de {name} (procuration) est enregistré.",
    "changed": "Le vote de {name} (procuration) a été modifié.",
    "unchanged": "Le vote de {name} (procuration) est inchangé.",
}


# --- helpers shared with templates -------------------------------------------------------

def projector_state(congress: Congress) -> dict | None:
    """What the projector's vote mode shows: the open ballot, else the last closed one."""
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.congress_id == congress.id, Ballot.state == "open")
        .order_by(Ballot.opened_at.desc(), Ballot.id.desc()).limit(1))
    if ballot is None:
        ballot = db.session.scalar(
            select(Ballot).where(Ballot.congress_id == congress.id,
                                 Ballot.state.in_(("closed", "published")))
            .order_by(Ballot.closed_at.desc(), Ballot.id.desc()).limit(1))
    if ballot is None:
        return None
    payload = ballots.screen_payload(ballot)
    return payload


@bp.app_template_global("vote_projector")
def vote_projector(congress: Congress) -> dict | None:
    return projector_state(congress)


@bp.app_template_global("ballot_subject")
def ballot_subject(ballot: Ballot) -> dict:
    """What a ballot puts to the vote (label and text), for the phone (issue 14)."""
    return ballots.subject(ballot)


@bp.app_template_filter("pct")
def percent_filter(value) -> str:
    """12.5 → "12,5" (French decimal comma)."""
    try:
        return f"{float(value):.1f}".replace(".", ",")
    except (TypeError, ValueError):
        return ""


@bp.app_context_processor
def vote_labels():
    return {"CHOICES": voting.CHOICES, "CHOICE_LABELS": voting.CHOICE_LABELS,
            "BALLOT_STATE_LABELS": voting.STATE_LABELS,
            "MAJORITY_LABELS": voting.MAJORITY_LABELS}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def _member_congress(code: str) -> Congress:
    congress = congress_by_code(code)
    if current_user.congress_id != congress.id:
        abort(403)
    return congress


def _voters_for(me: Participant) -> list[Participant]:
    """Me, then the absent members whose procuration I carry (within the limit)."""
    congress = db.session.get(Congress, me.congress_id)
    givers = [p for p in ballots.proxies_held(me.id)
              if not p.present and p.is_active and p.is_accepted
              and p.role in voting.VOTING_ROLES]
    return [me, *givers[:congress.max_proxies]]


def _form_id(raw: str | None) -> int | None:
    """A row id typed in a form field (digits 0–9, within 64 bits), else None: « ² »
    passed `isdigit` and broke `int`, 25 digits broke the database's binding."""
    try:
        return clean_int(raw, what="L'identifiant", maximum=MAX_ID) or None
    except InputError:
        return None


# --- phone voting screen -------------------------------------------------------------

@bp.get("/c/<code>/vote")
@login_required
def phone(code: str):
    congress = _member_congress(code)
    me = current_user._get_current_object()
    can_vote = me.role in voting.VOTING_ROLES and me.is_active
    voters = _voters_for(me) if me.present and can_vote and me.is_accepted else []
    open_ballots = list(db.session.scalars(
        select(Ballot).where(Ballot.congress_id == congress.id, Ballot.state == "open")
        .order_by(Ballot.opened_at, Ballot.id)))
    done_ballots = list(db.session.scalars(
        select(Ballot).where(Ballot.congress_id == congress.id,
                             Ballot.state.in_(("closed", "published")))
        .order_by(Ballot.closed_at.desc(), Ballot.id.desc()).limit(10)))
    mine = ballots.my_votes([b.id for b in open_ballots + done_ballots],
                            [v.id for v in voters] or [me.id])
    present = ballots.attendance(congress.id) if open_ballots else None
    progress = {b.id: ballots.live_progress(b, present) for b in open_ballots}
    return render_template(
        "vote/phone.html", congress=congress, me=me, voters=voters,
        can_vote_role=can_vote,
        can_declare=ballots.can_declare_presence(congress),
        open_ballots=open_ballots, done_ballots=done_ballots, mine=mine, progress=progress)


@bp.post("/c/<code>/vote/<int:ballot_id>")
@vote_limit  # 429 in French past RATELIMIT_VOTE; outermost: anonymous posts count too
@login_required
def cast(code: str, ballot_id: int):
    congress = _member_congress(code)
    form = request.form
    giver = form.get("for") or None
    holder_id = None
    voter_id = current_user.id
    try:
        if giver is not None:
            giver_id = _form_id(giver)
            if giver_id is None:
                raise VoteRefused("Procuration inconnue.", "no_proxy")
            if giver_id != current_user.id:
                voter_id, holder_id = giver_id, current_user.id
        ballot = db.session.get(Ballot, ballot_id)
        if ballot is None or ballot.congress_id != congress.id:
            raise VoteRefused("Ce scrutin n'existe pas.", "unknown_ballot")
        outcome = ballots.cast_vote(ballot_id, voter_id, form.get("choice"),
                                    holder_id=holder_id, client_key=form.get("key"))
    except VoteRefused as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(ok=False, error=exc.message, code=exc.code), 422
        flash(exc.message, "error")
        return redirect(url_for("vote.phone", code=congress.join_code) + f"#scrutin-{ballot_id}")
    except SQLAlchemyError:
        db.session.rollback()
        message = "Vote non enregistré (serveur occupé) : réessayez."
        if _wants_json():
            return jsonify(ok=False, error=message, code="retry"), 503
        flash(message, "error")
        return redirect(url_for("vote.phone", code=congress.join_code))
    message = STATUS_MESSAGES[outcome["status"]]
    if holder_id is not None:
        giver_person = db.session.get(Participant, voter_id)
        message = PROXY_MESSAGES[outcome["status"]].format(name=giver_person.display_name)
    if outcome.get("choice"):
        message += f" Choix : {voting.CHOICE_LABELS[outcome['choice']]}."
    message += f" Reçu : {outcome['receipt']}."
    anchor = audit.head() if outcome["status"] in ("counted", "changed") else None
    if anchor:  # issue 13: the chain's head as of this vote, on the receipt
        outcome = {**outcome, "audit": anchor}
        message += " " + audit.receipt_line(anchor)
    if _wants_json():
        return jsonify(ok=True, message=message, **outcome)
    flash(message, "success")
    return redirect(url_for("vote.phone", code=congress.join_code) + f"#scrutin-{ballot_id}")


@bp.post("/c/<code>/presence")
@login_required
def declare_presence(code: str):
    congress = _member_congress(code)
    try:
        ballots.declare_present(current_user._get_current_object())
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash("Présence enregistrée : vous pouvez voter.", "success")
        _push_open_progress(congress.id)
    return redirect(url_for("vote.phone", code=congress.join_code))


@bp.get("/c/<code>/recu")
def receipt(code: str):
    """Check a receipt: was a vote with this receipt recorded at this ballot?"""
    congress = congress_by_code(code)
    done = list(db.session.scalars(select(Ballot).where(
        Ballot.congress_id == congress.id, Ballot.state != "draft").order_by(Ballot.id)))
    answer = None
    ballot_id = request.args.get("ballot", "")
    code_typed = request.args.get("code", "")[:40]
    if ballot_id and code_typed:
        ballot = next((b for b in done if str(b.id) == ballot_id), None)
        if ballot is None:
            answer = ("error", "Choisissez un scrutin de la liste.")
        elif ballots.check_receipt(ballot, code_typed):
            answer = ("success", f"Ce reçu correspond à un vote enregistré au scrutin "
                                 f"« {ballot.title} ».")
        else:
            answer = ("error", f"Aucun vote avec ce reçu au scrutin « {ballot.title} ».")
    return render_template("vote/receipt.html", congress=congress, ballots=done,
                           answer=answer, ballot_id=ballot_id, code_typed=code_typed)


def _push_open_progress(congress_id: int) -> None:
    """Eligible counts moved (presence, proxies): refresh open ballots' progress."""
    ballots.note_open_progress(congress_id)


# --- projector ----------------------------------------------------------------------------

@bp.get("/projecteur/<code>/vote")
def projector(code: str):
    """The projector's vote mode on its own page (the live projector includes the same part)."""
    congress = congress_by_code(code)
    return render_template("vote/projector.html", congress=congress)


# --- facilitator: ballots -------------------------------------------------------------





def _ballot_page(congress: Congress, form=None, error: str | None = None, status: int = 200,
                 errors=()):
    items = list(db.session.scalars(select(Ballot).where(Ballot.congress_id == congress.id)
                                    .order_by(Ballot.id)))
    articles = list(db.session.scalars(select(Article).where(Article.congress_id == congress.id)
                                       .order_by(Article.position, Article.id)))
    present = ballots.attendance(congress.id)  # presence, quorum and progress, as on screens
    progress = {b.id: ballots.live_progress(b, present) for b in items if b.state == "open"}
    return render_template("vote/facilitator.html", congress=congress, ballots=items,
                           articles=articles, progress=progress,
                           motion_version=publishing.latest(congress),
                           empty_articles=([] if ballots.text_started(congress.id)
                                           else publication.empty_labels(congress)),
                           eligible=ballots.eligible(congress.id), form=form or {},
                           error=error, errors=list(errors),
                           MAJORITY_RULES=voting.MAJORITY_RULES), status


@bp.get("/animation/scrutins")
@roles_required("facilitator")
def ballot_list():
    return _ballot_page(staff_congress())


@bp.post("/animation/scrutins")
@roles_required("facilitator")
def ballot_create():
    congress = staff_congress()
    form = request.form
    try:
        fields = check_fields((
            ("article", lambda: _ballot_article(congress, form.get("article"))),
            ("quorum", lambda: clean_int(form.get("quorum"), what="Le quorum",
                                         maximum=voting.QUORUM_MAX)),
        ))
        article, quorum = fields["article"], fields["quorum"]
        title = form.get("title") or (article.title if article else "")
        ballot = ballots.create(
            congress, title, article=article, secret=form.get("secret") == "1",
            allow_change=form.get("allow_change") == "1",
            majority=form.get("majority") or "simple",
            quorum=quorum, actor_id=current_user.id)
        db.session.commit()
    except FormErrors as exc:  # every field's refusal at once, each tied to its field
        return _ballot_page(congress, form, status=422, errors=exc.errors)
    except InputError as exc:
        db.session.rollback()
        return _ballot_page(congress, form, exc.message, 422)
    flash(f"Scrutin « {ballot.title} » créé. Ouvrez-le au moment du vote.", "success")
    return redirect(url_for("vote.ballot_list") + f"#scrutin-{ballot.id}")


def _ballot_article(congress: Congress, raw: str | None) -> Article | None:
    """The article a new ballot puts to the vote (None: the whole text or another object)."""
    if not raw:
        return None
    article_id = _form_id(raw)
    article = db.session.get(Article, article_id) if article_id is not None else None
    if article is None or article.congress_id != congress.id:
        raise InputError("Article inconnu.")
    return article


PUBLISHED_MESSAGES = {
    "published": "Résultats publiés : la motion est publiée (version 1).",
    "withheld": "Résultats publiés. Aucune motion n'est publiée : le texte rejeté ne l'est "
                "pas, comme vous l'avez choisi.",
}
ACTIONS = {
    "ouvrir": (ballots.open_ballot, "Scrutin ouvert : les téléphones peuvent voter."),
    "clore": (ballots.close_ballot, "Scrutin clos : les résultats sont figés et projetés."),
    "publier": (ballots.publish_ballot, "Résultats publiés."),
}


@bp.post("/animation/scrutins/<int:ballot_id>/<action>")
@roles_required("facilitator")
def ballot_action(ballot_id: int, action: str):
    ballot = owned_or_404(Ballot, ballot_id)
    try:
        if action == "supprimer":
            ballots.delete_draft(ballot.id, current_user.id)
            flash("Scrutin supprimé.", "success")
            return redirect(url_for("vote.ballot_list"))
        if action not in ACTIONS:
            abort(404)
        step, message = ACTIONS[action]
        if action == "publier":  # the whole text: the motion's version 1 too (publishing.py)
            done, version = publishing.publish(ballot.id, current_user.id,
                                               request.form.get("texte_rejete"))
            ballot, message = done[-1], PUBLISHED_MESSAGES.get(
                version.kind if version else None, message)
        else:
            ballot, done = step(ballot.id, current_user.id), []
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("vote.ballot_list") + f"#scrutin-{ballot_id}")
    if action == "ouvrir" and request.form.get("project") == "1":
        _project_vote(ballot)
    for each in done or [ballot]:
        push.publish(ballots.state_events(each))
    flash(message, "success")
    return redirect(url_for("vote.ballot_list") + f"#scrutin-{ballot.id}")


def _project_vote(ballot: Ballot) -> None:
    """Switch the projector to its vote mode when a ballot opens (if asked)."""
    congress = db.session.get(Congress, ballot.congress_id)
    if congress.projector_mode != "vote":
        congress.projector_mode = "vote"
        audit.record("projector.mode", congress.id, current_user.id, mode="vote")
        db.session.commit()
        push.send("projector.mode", {"mode": "vote", "theme": None}, congress.id)


# --- facilitator: presence and proxies ----------------------------------------------------

def _chosen(raw: str | None, missing: str) -> int:
    """A person picked in one of the proxy form's lists, or the French word to pick one."""
    found = _form_id(raw or "")
    if found is None:
        raise InputError(missing)
    return found


def _presence_page(congress: Congress, error: str | None = None, status: int = 200,
                   errors=(), form=None):
    people = list(db.session.scalars(select(Participant).where(
        Participant.congress_id == congress.id).order_by(Participant.display_name)))
    by_id = {p.id: p for p in people}
    voters = [p for p in people
              if p.role in voting.VOTING_ROLES and p.is_active and p.is_accepted]
    present = sum(1 for p in voters if p.present)
    return render_template("vote/presence.html", congress=congress, people=people,
                           voters=voters, by_id=by_id, present=present,
                           eligible=ballots.eligible(congress.id), error=error,
                           errors=list(errors), form=form or {}), status


@bp.get("/animation/presence")
@roles_required("facilitator")
def presence():
    return _presence_page(staff_congress())




@bp.post("/animation/presence/<int:pid>")
@roles_required("facilitator")
def mark_presence(pid: int):
    person = owned_or_404(Participant, pid)
    try:
        changed = ballots.set_present(person, request.form.get("present") == "1",
                                      current_user.id)
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        _push_open_progress(person.congress_id)
        if changed:  # their phone shows the vote form (or stops showing it) at once
            push.send_to_participants([pid], "voter.changed", {"present": person.present})
    return redirect(url_for("vote.presence") + f"#p-{pid}")


@bp.post("/animation/presence/ouverture")
@roles_required("facilitator")
def presence_opening():
    congress = staff_congress()
    is_open = request.form.get("open") == "1"
    ballots.set_presence_open(congress, is_open, current_user.id)
    flash("Les élu·es peuvent signaler leur présence depuis leur téléphone." if is_open
          else "Signalement de présence fermé.", "success")
    return redirect(url_for("vote.presence"))


@bp.post("/animation/procurations")
@roles_required("facilitator")
def proxy_grant():
    congress = staff_congress()
    form = request.form
    try:
        chosen = check_fields((
            ("giver", lambda: _chosen(form.get("giver"), "Choisissez la personne absente "
                                                         "qui donne procuration.")),
            ("holder", lambda: _chosen(form.get("holder"), "Choisissez la personne "
                                                           "présente qui porte la "
                                                           "procuration.")),
        ))
        giver = owned_or_404(Participant, chosen["giver"])
        holder = owned_or_404(Participant, chosen["holder"])
        ballots.grant_proxy(giver, holder, current_user.id)
    except FormErrors as exc:  # both choices refused at once, each tied to its list
        return _presence_page(congress, status=422, errors=exc.errors, form=form)
    except InputError as exc:
        db.session.rollback()
        return _presence_page(congress, exc.message, 422, form=form)
    flash(f"Procuration de {giver.display_name} à {holder.display_name} enregistrée.",
          "success")
    _push_open_progress(congress.id)
    return redirect(url_for("vote.presence") + "#procurations")



@bp.post("/animation/procurations/import")
@roles_required("facilitator")
def proxy_import_csv():
    """Procurations from a CSV (donneur, porteur): all of them, or none and the line."""
    congress = staff_congress()
    try:
        n = proxy_import.import_proxies(congress, read_upload(), current_user.id)
        db.session.commit()
    except CsvError as exc:
        db.session.rollback()
        return _presence_page(congress, "Import refusé, aucune procuration n'a été "
                              f"enregistrée. {exc.message}", 422)
    flash(f"{formats.plural(n, 'procuration importée', 'procurations importées')}.", "success")
    _push_open_progress(congress.id)
    return redirect(url_for("vote.presence") + "#procurations")


@bp.post("/animation/procurations/<int:pid>/retirer")
@roles_required("facilitator")
def proxy_revoke(pid: int):
    giver = owned_or_404(Participant, pid)
    ballots.revoke_proxy(giver, current_user.id)
    flash(f"Procuration de {giver.display_name} retirée.", "success")
    _push_open_progress(giver.congress_id)
    return redirect(url_for("vote.presence") + "#procurations")


@bp.post("/animation/procurations/limite")
@roles_required("facilitator")
def proxy_limit():
    congress = staff_congress()
    try:
        ballots.set_max_proxies(congress, request.form.get("limit"), current_user.id)
    except InputError as exc:
        db.session.rollback()
        return _presence_page(congress, exc.message, 422)
    flash(f"Limite : {formats.plural(congress.max_proxies, 'procuration')} par personne "
          "présente.", "success")
    return redirect(url_for("vote.presence") + "#procurations")
