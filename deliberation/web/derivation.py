"""Derived congresses on screen: « Créer un congrès à partir de cette motion », and the
inherited-text panel of a derived congress's drafting page.

The panel is a partial (templates/drafting/_inherited.html) that asks
`inherited_for(article)` for its data, so the drafting page only includes it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import derivation
from ..contributions import clean_line
from ..errors import FormErrors, InputError, check_fields
from ..extensions import db
from ..queries import staff_congress
from ..security import roles_required, start_session

bp = Blueprint("derivation", __name__)


@bp.app_context_processor
def _template_helpers():
    """Read-only helpers for the partials: the drafting page and the dashboard only include
    them, so their own views need not know about derived congresses."""
    return {"inherited_for": derivation.inherited_view,
            "derived_source": derivation.source_of,
            "other_accounts": derivation.other_accounts}


def _form_page(form=None, error=None, status=200, errors=()):
    congress = staff_congress()
    return render_template("facilitator/derive.html", congress=congress,
                           published=derivation.is_published(congress),
                           form=form or {}, error=error, errors=list(errors)), status


def _check_form(form) -> None:
    """Every field checked at once, keyed by its input's id, so the error summary lists
    them all; `derive_congress` checks them again (the domain trusts no screen)."""
    check_fields((
        ("derive-title", lambda: clean_line(form.get("title"), limit=200,
                                            what="Le titre du congrès", required=True)),
        ("derive-code", lambda: derivation.clean_join_code(form.get("join_code"))),
        ("derive-place", lambda: clean_line(form.get("place"), limit=200, what="Le lieu")),
    ))


@bp.post("/animation/congres/<int:account_id>")
@roles_required("facilitator")
def switch(account_id: int):
    """Continue as the same facilitator in another congress they animate."""
    try:
        account = derivation.switch_account(current_user._get_current_object(), account_id)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("facilitator.dashboard"))
    start_session(account)
    flash(f"Vous animez maintenant « {account.congress.title} ».", "success")
    return redirect(url_for("facilitator.dashboard"))


@bp.get("/animation/deriver")
@roles_required("facilitator")
def derive_form():
    return _form_page()


@bp.post("/animation/deriver")
@roles_required("facilitator")
def derive():
    source, actor = staff_congress(), current_user._get_current_object()
    form = request.form
    try:
        if derivation.is_published(source):
            _check_form(form)
        congress = derivation.derive_congress(source, form.get("title"), form.get("join_code"),
                                              place=form.get("place"), actor=actor)
        db.session.commit()
    except FormErrors as exc:
        return _form_page(form, status=422, errors=exc.errors)
    except InputError as exc:
        db.session.rollback()
        return _form_page(form, exc.message, 422)
    except IntegrityError:  # the same code taken by a concurrent request
        db.session.rollback()
        return _form_page(form, "Ce code vient d'être pris par un autre congrès : "
                                "choisissez-en un autre.", 422)
    account = derivation.facilitator_of(congress, actor.email)
    start_session(account)
    flash(f"Congrès « {congress.title} » créé à partir de la motion de « {source.title} » "
          f"(code {congress.join_code}). Vous l'animez maintenant ; il est en préparation : "
          "invitez les élu·es puis ouvrez la consultation.", "success")
    return redirect(url_for("facilitator.dashboard"))
