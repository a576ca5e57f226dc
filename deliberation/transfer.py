"""Participant and contribution import/export for a congress (web and command line)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from . import audit
from .contributions import MAX_TEXT, POPULATION_MAX, clean_idea, clean_int, clean_line
from .csv_io import SPREADSHEETS, Column, CsvError, Variant, read_rows, write_rows
from .errors import InputError
from .extensions import db
from .models import CHANNELS, OFF_TOPIC, ROLES, Congress, Contribution, Participant, Theme

PARTICIPANT_COLUMNS = (
    Column("display_name", required=True, max_length=120, aliases=("nom", "name"), label="nom"),
    Column("commune", max_length=120),
    Column("department_code", max_length=3, aliases=("departement", "département"),
           label="departement"),
    Column("mandate", max_length=80, aliases=("mandat",), label="mandat"),
    Column("population", max_length=9),
    Column("role", max_length=20, aliases=("rôle",)),
    Column("email", max_length=200, aliases=("courriel",), label="email"),
)
CONTRIBUTION_COLUMNS = (
    Column("text", required=True, max_length=MAX_TEXT, aliases=("texte",), label="texte"),
    Column("author", required=True, max_length=120, aliases=("auteur",), label="auteur"),
    Column("commune", max_length=120),
    Column("channel", max_length=10, aliases=("canal",), label="canal"),
    Column("theme", max_length=40, aliases=("thème",), label="theme"),
    Column("created_at", max_length=30, aliases=("date",), label="date"),
)
ROLE_ALIASES = {"participant": "participant", "élu": "participant", "elu": "participant",
                "scribe": "scribe", "facilitator": "facilitator", "animateur": "facilitator",
                "observer": "observer", "observateur": "observer"}
CHANNEL_ALIASES = {"online": "online", "en ligne": "online", "live": "live",
                   "en séance": "live", "seance": "live", "séance": "live"}


def import_participants(congress: Congress, data: bytes, actor_id: int | None = None) -> int:
    """Add every row of a participants CSV, or none if any row is wrong."""
    rows = read_rows(data, PARTICIPANT_COLUMNS, unique=("display_name", "commune"))
    existing_emails = {e for e in db.session.scalars(
        select(Participant.email).filter_by(congress_id=congress.id)) if e}
    new = []
    for row in rows:
        line = row["_line"]
        role = ROLE_ALIASES.get((row["role"] or "participant").lower())
        if role is None:
            raise CsvError(f"rôle « {row['role']} » inconnu (attendus : {', '.join(ROLES)}).",
                           line)
        try:
            population = clean_int(row["population"], what="population",
                                   maximum=POPULATION_MAX)
            names = _clean_names(row)
        except InputError as exc:
            message = (f"population « {row['population']} » : un nombre entier est attendu."
                       if exc.field == "population" else exc.message)
            raise CsvError(message, line) from None
        email = row["email"].lower() or None
        if email and ("@" not in email or email in existing_emails):
            raise CsvError(f"adresse « {email} » invalide ou déjà utilisée.", line)
        if email:
            existing_emails.add(email)
        new.append(Participant(congress_id=congress.id, population=population, role=role,
                               email=email, roster_status="accepted", **names))  # on the roster
    db.session.add_all(new)
    db.session.flush()
    audit.record("participants.imported", congress.id, actor_id, count=len(new))
    return len(new)


def _clean_names(row: dict) -> dict:
    """Names and places as the forms keep them: control and bidi characters removed (a
    name carrying U+202E reads backwards on every list), spaces collapsed."""
    return {"display_name": clean_line(row["display_name"], limit=120, what="Le nom",
                                       required=True),
            "commune": clean_line(row["commune"], limit=120, what="La commune"),
            "department_code": clean_line(row["department_code"], limit=3,
                                          what="Le département").upper(),
            "mandate": clean_line(row["mandate"], limit=80, what="Le mandat")}


def import_contributions(congress: Congress, data: bytes, actor_id: int | None = None) -> int:
    """Add every row of a contributions CSV (e.g. from an earlier platform), or none."""
    rows = read_rows(data, CONTRIBUTION_COLUMNS, unique=("text", "author"))
    themes = {t.code: t for t in db.session.scalars(select(Theme).filter_by(
        congress_id=congress.id))}
    people = {p.display_name.casefold(): p for p in db.session.scalars(
        select(Participant).filter_by(congress_id=congress.id))}
    new = []
    for row in rows:
        line = row["_line"]
        try:
            text = clean_idea(row["text"])
        except InputError as exc:
            raise CsvError(exc.message, line) from None
        channel = CHANNEL_ALIASES.get((row["channel"] or "online").lower())
        if channel is None:
            raise CsvError(f"canal « {row['channel']} » inconnu (attendus : "
                           f"{', '.join(CHANNELS)}).", line)
        theme = None
        off_topic = row["theme"].lower() == OFF_TOPIC  # as the export writes it
        if row["theme"] and not off_topic:
            theme = themes.get(row["theme"].lower())
            if theme is None:
                raise CsvError(f"thème « {row['theme']} » inconnu (codes : "
                               f"{', '.join(themes)}).", line)
        created = None
        if row["created_at"]:
            try:
                created = datetime.fromisoformat(row["created_at"])
            except ValueError:
                raise CsvError(f"date « {row['created_at']} » illisible (format attendu "
                               "AAAA-MM-JJ ou AAAA-MM-JJ HH:MM).", line) from None
        try:
            speaker = clean_line(row["author"], limit=120, what="L'auteur", required=True)
            commune = clean_line(row["commune"], limit=120, what="La commune") or None
        except InputError as exc:
            raise CsvError(exc.message, line) from None
        author = people.get(speaker.casefold())
        contribution = Contribution(
            congress_id=congress.id, text=text, channel=channel,
            author_id=author.id if author else None,
            speaker_name=None if author else speaker,
            speaker_commune=None if author else commune,
            theme_id=theme.id if theme else None, off_topic=off_topic,
            confirmed=theme is not None or off_topic,
            confidence=1.0 if theme or off_topic else None)
        if created:
            contribution.created_at = created
            contribution.updated_at = created
        new.append(contribution)
    db.session.add_all(new)
    db.session.flush()
    audit.record("contributions.imported", congress.id, actor_id, count=len(new))
    return len(new)


def export_participants(congress: Congress, base_url: str = "",
                        form: Variant = SPREADSHEETS) -> str:
    """Every participant with their invite link; staff get none (they log in by password)."""
    people = db.session.scalars(select(Participant).filter_by(congress_id=congress.id)
                                .order_by(Participant.id))
    return write_rows(
        ("id", "nom", "commune", "departement", "mandat", "population", "role", "email",
         "present", "lien_invitation", "revoque"),
        ((p.id, p.display_name, p.commune, p.department_code, p.mandate, p.population or "",
          p.role, p.email or "", "oui" if p.present else "non",
          f"{base_url}/i/{p.invite_token}" if p.is_active and not p.is_staff else "",
          "oui" if not p.is_active else "non") for p in people), form)


def export_contributions(congress: Congress, form: Variant = SPREADSHEETS) -> str:
    """Every contribution, whatever its status; the confidence is a number, so that each
    variant writes its own decimal mark."""
    items = db.session.scalars(select(Contribution).filter_by(congress_id=congress.id)
                               .order_by(Contribution.id))
    return write_rows(
        ("id", "texte", "auteur", "commune", "canal", "date", "theme", "theme_alternatif",
         "confiance", "confirme", "point_recurrent", "statut", "doublon_de", "soutiens"),
        ((c.id, c.text, c.speaker, c.commune, c.channel,
          c.created_at.isoformat(sep=" ", timespec="minutes"),
          c.theme.code if c.theme else ("hors_theme" if c.off_topic else ""),
          c.alt_theme.code if c.alt_theme else "",
          "" if c.confidence is None else round(float(c.confidence), 3),
          "oui" if c.confirmed else "non",
          c.cluster.display_label if c.cluster else "", c.status, c.duplicate_of_id or "",
          c.supports) for c in items), form)
