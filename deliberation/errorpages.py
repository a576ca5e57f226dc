"""French error pages (JSON under /api), so no visitor ever meets a bare stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise. Revenez en arrière et réessayez."),
    401: ("Connexion requise", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Votre rôle ne permet pas cette action."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus."),
    405: ("Action non permise", "Cette action n'est pas possible ici."),
    413: ("Envoi trop volumineux", "Le fichier ou le texte envoyé dépasse la taille permise (2 Mo)."),
    429: ("Trop de demandes", "Trop de demandes en peu de temps : patientez une minute puis réessayez."),
    500: ("Erreur du serveur", "Un problème est survenu de notre côté ; rien de ce que vous avez saisi n'a été enregistré à moitié. Réessayez dans un instant."),
    503: ("Service momentanément indisponible", "La base de données ne répond pas. Réessayez dans un instant."),
}


def _respond(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if detail:
        message = detail
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message), code
    return render_template("error.html", title=title, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _respond(400, "Le formulaire a expiré ou n'est pas valide. Rechargez la page "
                             "puis renvoyez-le : votre texte est conservé par le bouton Retour.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from sqlalchemy.exc import OperationalError

        from .extensions import db

        db.session.rollback()
        if app.testing and not isinstance(exc, OperationalError):
            raise exc
        if isinstance(exc, OperationalError):
            app.logger.error("database unavailable: %s", type(exc).__name__)
            return _respond(503)
        app.logger.exception("unhandled error")
        return _respond(500)
