"""JSON API (documented in docs/api.md). Participants authenticate with their invite
token as a bearer token, so no cookie or CSRF token is involved."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from .. import announce
from .. import contributions as contrib
from ..errors import InputError, PhaseError
from ..extensions import db
from ..models import Congress, Participant
from ..queries import congress_by_code, counts, visible_contributions
from ..ratelimit import api_contribute_limit  # production (issue 6)
from ..screens import contribution_payload

bp = Blueprint("api", __name__, url_prefix="/api")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify(error=exc.message), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = {404: "Ressource introuvable.", 405: "Méthode non autorisée.",
                413: "Requête trop volumineuse.", 400: "Requête invalide.",
                429: "Trop de demandes en peu de temps : patientez une minute puis réessayez."}
    fallback = "Requête invalide." if (exc.code or 500) < 500 else \
        "Erreur du serveur : réessayez dans un instant."
    return jsonify(error=messages.get(exc.code, fallback)), exc.code


def _bearer() -> Participant:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    participant = db.session.scalar(select(Participant).filter_by(invite_token=token)) \
        if token else None
    if participant is None or not participant.is_active:
        raise ApiError(401, "Jeton d'invitation absent, invalide ou révoqué.")
    if participant.is_staff:  # staff log in by password only, never by their token
        raise ApiError(401, "Les comptes d'animation se connectent par mot de passe, "
                            "pas avec un jeton d'invitation.")
    return participant


MAX_DEPTH = 32  # a contribution body is one flat object; anything deeper is not one


def _json_body():
    """The request's JSON, or None when it is not JSON; a French 400 for JSON that no
    contribution can be made of: nested past MAX_DEPTH (50,000 levels overflowed the
    parser's recursion: a 500) or a string holding a lone surrogate (« \\ud800 » is
    valid JSON, but no database stores it as UTF-8)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
        too_deep = True
    else:
        too_deep = _depth_over(body, MAX_DEPTH)
    if too_deep:
        raise ApiError(400, f"Corps JSON trop imbriqué (plus de {MAX_DEPTH} niveaux).")
    if _has_surrogate(body):
        raise ApiError(400, "Corps JSON invalide : une chaîne contient un caractère Unicode "
                            "incomplet (demi-paire de substitution).")
    return body


def _depth_over(value, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _has_surrogate(value) -> bool:
    """Whether any key or string in a parsed JSON value holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def theme_json(theme) -> dict:
    return {"code": theme.code, "title": theme.title, "short_title": theme.short_title,
            "description": theme.description, "subpoints": theme.subpoints,
            "order": theme.position}


def congress_json(congress: Congress) -> dict:
    return {
        "code": congress.join_code, "title": congress.title, "place": congress.place,
        "description": congress.description,
        "starts_on": congress.starts_on.isoformat() if congress.starts_on else None,
        "ends_on": congress.ends_on.isoformat() if congress.ends_on else None,
        "phase": congress.phase, "phase_label": congress.phase_label,
        "accepts_contributions": congress.accepts_contributions,
        "themes": [theme_json(t) for t in congress.themes],
        "counts": counts(congress),
    }


@bp.get("/congresses/<code>")
def congress(code: str):
    return jsonify(congress_json(congress_by_code(code)))


@bp.get("/congresses/<code>/themes")
def themes(code: str):
    return jsonify(themes=[theme_json(t) for t in congress_by_code(code).themes])


@bp.get("/congresses/<code>/contributions")
def list_contributions(code: str):
    congress = congress_by_code(code)
    wanted = request.args.get("theme")
    theme = None
    if wanted:
        theme = next((t for t in congress.themes if t.code == wanted), None)
        if theme is None:
            raise ApiError(404, f"Thème « {wanted} » inconnu.")
    items = visible_contributions(congress, theme)
    return jsonify(count=len(items), contributions=[contribution_payload(c) for c in items])


@bp.post("/congresses/<code>/contributions")
@api_contribute_limit
def create_contribution(code: str):
    congress = congress_by_code(code)
    participant = _bearer()
    if participant.congress_id != congress.id:
        raise ApiError(403, "Ce jeton n'appartient pas à ce congrès.")
    if participant.role == "observer":
        raise ApiError(403, "Les observateurs ne peuvent pas contribuer.")
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "Corps JSON attendu : {\"text\": \"…\"}.")
    text = body.get("text")
    key = body.get("client_key")
    if not isinstance(text, str):
        raise ApiError(422, "Le champ « text » (chaîne de caractères) est obligatoire.")
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64):
        raise ApiError(422, "« client_key » doit être une chaîne de 8 à 64 caractères.")
    try:
        contribution, created = contrib.create(congress, text, author=participant,
                                               client_key=key)
        # Built before the commit, while the rows are loaded: after it they would all be
        # read again (this is the hot path of a room posting at once, `make load`).
        payload, congress_id = contribution_payload(contribution), congress.id
        db.session.commit()
    except PhaseError as exc:
        db.session.rollback()
        raise ApiError(409, exc.message) from None
    except InputError as exc:
        db.session.rollback()
        raise ApiError(422, exc.message) from None
    if created:
        announce.contribution_created(contribution, payload, congress_id)
    return jsonify(payload), (201 if created else 200)


@bp.get("/me")
def me():
    p = _bearer()
    return jsonify(id=p.id, display_name=p.display_name, commune=p.commune,
                   department_code=p.department_code, mandate=p.mandate, role=p.role,
                   congress=p.congress.join_code, present=p.present)
