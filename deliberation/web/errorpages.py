"""French error pages (JSON under /api), so no visitor ever meets a bare stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..extensions import db

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise. Revenez en arrière et réessayez."),  # noqa: E501
    401: ("Connexion requise", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Votre rôle ne permet pas cette action."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus."),
    405: ("Action non permise", "Cette action n'est pas possible ici."),
    413: ("Envoi trop volumineux", "Le fichier ou le texte envoyé dépasse la taille permise (2 Mo)."),  # noqa: E501
    429: ("Trop de demandes", "Trop de demandes en peu de temps : patientez une minute puis réessayez."),  # noqa: E501
    500: ("Erreur du serveur", "Un problème est survenu de notre côté ; rien de ce que vous avez saisi n'a été enregistré à moitié. Réessayez dans un instant."),  # noqa: E501
    503: ("Service momentanément indisponible", "La base de données ne répond pas. Réessayez dans un instant."),  # noqa: E501
}

UNREADABLE = ("La demande contient des données illisibles (caractère invalide ou structure "
              "trop imbriquée) : rien n'a été enregistré. Corrigez-la puis réessayez.")


def _respond(code: int, detail: str | None = None):
    # A 4xx without its own sentence says « requête invalide », never « erreur du serveur ».
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    if detail:
        message = detail
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message), code
    try:
        return render_template("error.html", title=title, message=message), code
    except Exception:  # noqa: BLE001 - the layout needs the database (current user)
        from markupsafe import escape

        page = (f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(title)}'
                f" — Motion</title><h1>{escape(title)}</h1><p>{escape(message)}</p></html>")
        return page, code, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _respond(400, "Le formulaire a expiré ou n'est pas valide. Rechargez la page "
                             "puis renvoyez-le : votre texte est conservé par le bouton Retour.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500)

    @app.errorhandler(RecursionError)
    @app.errorhandler(UnicodeError)
    @app.errorhandler(DataError)
    def unreadable(exc: Exception):
        """Input no parser or database can take: JSON nested 50,000 deep, a lone surrogate
        (« \\ud800 », valid JSON, never UTF-8), a NUL that PostgreSQL refuses in a text."""
        db.session.rollback()
        return _respond(400, UNREADABLE)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from sqlalchemy.exc import OperationalError
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        # The database down, or every pooled connection busy for pool_timeout: a 503
        # ("réessayez dans un instant"), never a 500.
        unavailable = isinstance(exc, OperationalError | PoolTimeout)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001, S110 - the connection may be gone
            pass
        if app.testing and not unavailable:
            raise exc
        if unavailable:
            # The driver's first line says which (locked, refused, pool exhausted), and
            # never carries the statement's parameters.
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            app.logger.error("database unavailable: %s: %s (%s %s)", type(exc).__name__,
                             detail, request.method, request.path)
            return _respond(503)
        app.logger.exception("unhandled error")
        return _respond(500)
