"""`flask` commands, also reachable as `python -m deliberation ...`.

Every command reports bad arguments in French and exits non-zero without
changing anything.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from . import audit, corpus, derivation, formats, publishing, sorting, transfer
from .ballots import verify_report
from .corpus import DEMO_FACILITATOR, DEMO_SCRIBE
from .csv_io import CsvError
from .csv_io import variant as csv_variant
from .errors import InputError
from .extensions import db
from .links import base_url as public_base_url
from .models import AuditEvent, Congress, Contribution, Participant
from .privacy import purge_expired
from .push import close_participant_sockets


def _congress(code: str | None) -> Congress:
    if code:
        congress = db.session.scalar(select(Congress).filter_by(join_code=code.upper()))
        if congress is None:
            raise click.ClickException(f"Aucun congrès avec le code « {code} ».")
        return congress
    congresses = list(db.session.scalars(select(Congress)))
    if len(congresses) != 1:
        raise click.ClickException(
            "Précisez le congrès avec --congress CODE "
            f"({len(congresses)} congrès dans la base).")
    return congresses[0]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"Fichier illisible : {path} ({exc.strerror}).") from None


def upgrade_database() -> None:
    """Create or migrate the schema to the latest revision (Alembic)."""
    from flask_migrate import upgrade

    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or migrate the database schema; seal an audit log older than its key."""
    upgrade_database()
    click.echo("Base de données à jour.")
    try:
        sealed = audit.seal_history()
    except audit.AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None
    if sealed:
        click.echo("Journal d'audit scellé par la clé à partir d'ici (les entrées "
                   "antérieures restent non scellées).")


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Ne rien faire si un congrès existe déjà.")
@click.option("--no-sort", is_flag=True, help="Ne pas lancer le classement automatique.")
@click.option("--reset", is_flag=True,
              help="Effacer la base de démonstration et recharger la démonstration.")
@with_appcontext
def load_demo_command(if_empty: bool, no_sort: bool, reset: bool):
    """Load the demo congress (themes, officials, contributions, staff accounts).

    --reset starts a demonstration again from scratch (after a rehearsal). It wipes the
    whole database, audit chain included, so it refuses a database that holds any other
    congress than the demonstration's: never a real congress's record."""
    if reset:
        _reset_demo_database()
    if if_empty and db.session.scalar(select(Congress.id).limit(1)) is not None:
        click.echo("Un congrès existe déjà : démonstration non rechargée.")
        return
    try:
        congress = corpus.load_demo()
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    if not no_sort:
        sorting.refit(congress.id)
    n = db.session.scalar(select(db.func.count()).select_from(Contribution)
                          .filter_by(congress_id=congress.id))
    click.echo(f"Congrès de démonstration « {congress.title} » chargé : {n} contributions, "
               f"code {congress.join_code}.")


def _reset_demo_database() -> None:
    others = [code for code in db.session.scalars(select(Congress.join_code))
              if code != corpus.demo_code()]
    if others:
        raise click.ClickException(
            f"La base contient d'autres congrès que la démonstration ({', '.join(others)}) : "
            "--reset ne s'applique qu'à une base de démonstration. Rien n'a été effacé.")
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database()
    click.echo("Base de démonstration effacée.")


@click.command("demo-info")
@click.option("--base-url", default=None, help="Adresse du site (par défaut PUBLIC_URL).")
@with_appcontext
def demo_info_command(base_url: str | None):
    """Print the URLs and credentials to try the demo congress."""
    # PUBLIC_URL when set, else http://HOST:PORT (links.base_url, outside a request).
    base = (base_url or public_base_url()).rstrip("/")
    congress = db.session.scalar(select(Congress).order_by(Congress.id))
    if congress is None:
        click.echo("Aucun congrès : lancez « flask load-demo ».")
        return
    someone = db.session.scalar(select(Participant).filter_by(
        congress_id=congress.id, role="participant", token_revoked_at=None)
        .order_by(Participant.id))
    code = congress.join_code
    login = f"{base}/animation/connexion"
    lines = [
        ("Officiel·le (lien d'invitation)", f"{base}/i/{someone.invite_token}"
         if someone else f"{base}/rejoindre"),
        ("Rejoindre avec le code", f"{base}/rejoindre?code={code}"),
        ("Page du congrès", f"{base}/c/{code}"),
        ("Débat en direct (téléphone)", f"{base}/c/{code}/direct"),
        ("Vote (téléphone)", f"{base}/c/{code}/vote"),
        ("Amendements (téléphone)", f"{base}/c/{code}/amendements"),
        ("Connexion de l'équipe", f"{login}  (animation : {DEMO_FACILITATOR[0]} / "
         f"{DEMO_FACILITATOR[1]} ; relevé : {DEMO_SCRIBE[0]} / {DEMO_SCRIBE[1]})"),
        ("Tableau du débat", f"{base}/animation/tableau"),
        ("Relevé en séance", f"{base}/animation/releve"),
        ("Rédaction de la motion", f"{base}/animation/redaction"),
        ("Présence et procurations", f"{base}/animation/presence"),
        ("Scrutins", f"{base}/animation/scrutins"),
        ("Projecteur", f"{base}/projecteur/{code}"),
        ("Projecteur du vote", f"{base}/projecteur/{code}/vote"),
        ("Motion publiée", f"{base}/motion/{code}"),
        ("Relevé des idées", f"{base}/motion/{code}/releve"),
    ]
    width = max(len(label) for label, _ in lines)
    click.echo("")
    click.echo(f"  Motion — {congress.title} (code {code})")
    for label, url in lines:
        click.echo(f"  {label.ljust(width)} : {url}")
    click.echo("")


@click.command("create-facilitator")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Animation")
@click.option("--congress", "code", default=None, help="Code du congrès.")
@click.option("--role", type=click.Choice(["facilitator", "scribe"]), default="facilitator")
@with_appcontext
def create_facilitator_command(email: str, password: str, name: str, code: str | None,
                               role: str):
    """Create a facilitator (or scribe) account that logs in with a password."""
    congress = _congress(code)
    email = email.strip().lower()
    if "@" not in email or len(email) > 200:
        raise click.BadParameter("adresse électronique invalide.", param_hint="--email")
    if len(password) < 8:
        raise click.BadParameter("8 caractères au moins.", param_hint="--password")
    if db.session.scalar(select(Participant).filter_by(congress_id=congress.id, email=email)):
        raise click.ClickException(f"Un compte {email} existe déjà pour ce congrès.")
    person = Participant(congress_id=congress.id, display_name=name, role=role, email=email)
    person.set_password(password)
    db.session.add(person)
    db.session.flush()
    audit.record("staff.created", congress.id, None, participant_id=person.id, role=role)
    db.session.commit()
    click.echo(f"Compte {role} {email} créé pour « {congress.title} ».")


@click.command("set-password")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--congress", "code", default=None)
@with_appcontext
def set_password_command(email: str, password: str, code: str | None):
    """Change a staff account's password; its open sessions and sockets end at once."""
    congress = _congress(code)
    if len(password) < 8:
        raise click.BadParameter("8 caractères au moins.", param_hint="--password")
    account = db.session.scalar(select(Participant).filter_by(
        congress_id=congress.id, email=email.strip().lower())
        .where(Participant.role.in_(("facilitator", "scribe"))))
    if account is None:
        raise click.ClickException(f"Aucun compte d'animation {email} dans ce congrès.")
    account.set_password(password)
    audit.record("staff.password_changed", congress.id, None, participant_id=account.id)
    db.session.commit()
    close_participant_sockets(account.id)
    click.echo(f"Mot de passe de {account.email} changé ; ses sessions ouvertes sont fermées.")


def _import(kind: str, path: str, code: str | None) -> None:
    congress = _congress(code)
    importer = transfer.import_participants if kind == "participants" \
        else transfer.import_contributions
    try:
        n = importer(congress, _read(path))
        db.session.commit()
    except CsvError as exc:
        db.session.rollback()
        raise click.ClickException(f"Import refusé, rien n'a été ajouté. {exc.message}") \
            from None
    if kind == "contributions":
        sorting.refit(congress.id)
    noun = ("contribution importée", "contributions importées") if kind == "contributions" \
        else ("personne importée", "personnes importées")
    click.echo(f"{formats.plural(n, *noun)} dans « {congress.title} ».")


@click.command("import-participants")
@click.argument("path")
@click.option("--congress", "code", default=None)
@with_appcontext
def import_participants_command(path: str, code: str | None):
    """Import participants from a CSV file (all or nothing)."""
    _import("participants", path, code)


@click.command("import-contributions")
@click.argument("path")
@click.option("--congress", "code", default=None)
@with_appcontext
def import_contributions_command(path: str, code: str | None):
    """Import contributions from a CSV file (all or nothing)."""
    _import("contributions", path, code)


@click.command("export")
@click.argument("what", type=click.Choice(["contributions", "participants"]))
@click.option("--congress", "code", default=None)
@click.option("--output", "-o", default="-", help="Fichier de sortie (- : sortie standard).")
@click.option("--format", "form", default=None,
              help="tableurs (défaut : « ; », virgule décimale, BOM) ou outils (« , », point).")
@with_appcontext
def export_command(what: str, code: str | None, output: str, form: str | None):
    """Export contributions or participants as CSV, for spreadsheets or for tools."""
    try:
        variant = csv_variant(form)
    except CsvError as exc:
        raise click.BadParameter(exc.message, param_hint="--format") from None
    congress = _congress(code)
    body = transfer.export_contributions(congress, variant) if what == "contributions" \
        else transfer.export_participants(congress, form=variant)
    if output == "-":
        click.echo(body, nl=False)
    else:
        try:
            Path(output).write_text(body, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"Écriture impossible : {output} ({exc.strerror}).") \
                from None
        click.echo(f"Export écrit dans {output}.")


@click.command("sort")
@click.option("--congress", "code", default=None)
@with_appcontext
def sort_command(code: str | None):
    """Refit themes and recurring points of a congress now."""
    congress = _congress(code)
    run = sorting.refit(congress.id)
    click.echo(f"Classement terminé : {run.n_contributions} contributions, "
               f"{run.timings.get('total_s', 0):.2f} s.")


@click.command("derive-congress")
@click.option("--from", "source_code", required=True, help="Code du congrès d'origine.")
@click.option("--code", "join_code", required=True, help="Code du nouveau congrès.")
@click.option("--title", required=True, help="Titre du nouveau congrès.")
@click.option("--place", default="", help="Lieu du nouveau congrès.")
@click.option("--facilitator", "email", default=None,
              help="Adresse d'un compte d'animation du congrès d'origine à reprendre.")
@with_appcontext
def derive_congress_command(source_code: str, join_code: str, title: str, place: str,
                            email: str | None):
    """Create a congress from a published motion: its themes and articles are copied."""
    source = _congress(source_code)
    actor = None
    if email:
        actor = derivation.facilitator_of(source, email)
        if actor is None:
            raise click.ClickException(f"Aucun compte d'animation {email} dans « {source.title} ».")
    try:
        congress = derivation.derive_congress(source, title, join_code, place=place, actor=actor)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"Congrès « {congress.title} » créé à partir de la motion de « {source.title} » : "
               f"code {congress.join_code}, {len(congress.themes)} thèmes, phase préparation.")
    if actor is None:
        click.echo("Créez son compte d'animation : python -m deliberation create-facilitator "
                   f"--congress {congress.join_code} --email … --password …")


@click.command("db-ready")
@with_appcontext
def db_ready_command():
    """Exit 0 when the schema exists (used by `make run` to decide on the demo)."""
    if not inspect(db.engine).has_table("congress"):
        raise click.ClickException("Schéma absent.")


# --- ballots ---
@click.command("verify")
@click.option("--against", "against", default=None, metavar="MOTION.JSON",
              help="Résultats publiés (resultats.json) dont le sceau doit correspondre.")
@with_appcontext
def verify_command(against: str | None):
    """Check the audit chain (and a published anchor) and recount every ballot; exit 1
    on any mismatch, 2 when nothing can be verified."""
    anchor = _published_anchor(against) if against else None
    try:
        missing = [name for name in VERIFIED_TABLES if not inspect(db.engine).has_table(name)]
        if not missing and audit.audit_key(create=False) is None and db.session.scalar(
                select(AuditEvent.id).limit(1)) is not None:
            _not_verifiable(f"clé d'audit introuvable (AUDIT_KEY, ou le fichier "
                            f"{current_app.config.get('AUDIT_KEY_FILE')})",
                            hint="Lancez la vérification avec la clé du serveur.")
        lines, problems = ([], []) if missing else verify_report(anchor)
        if not missing and inspect(db.engine).has_table("publication"):
            line, found = publishing.verify_line()  # each published version, as sealed
            lines, problems = [*lines, line], [*problems, *found]
    except SQLAlchemyError as exc:  # unreachable, or tables of an older schema
        db.session.rollback()
        reason = type(getattr(exc, "orig", None) or exc).__name__
        _not_verifiable(f"base de données illisible ({reason})")
    except audit.AuditKeyError as exc:
        _not_verifiable(str(exc).rstrip("."), hint="")
    if missing:
        _not_verifiable(f"table{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        f"absente{'s' if len(missing) > 1 else ''}")
    for line in lines:
        click.echo(line)
    if problems:
        click.echo("")
        click.echo(f"ÉCHEC de la vérification : {len(problems)} anomalie"
                   f"{'s' if len(problems) > 1 else ''}.", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo("Vérification réussie : journal intact"
               + (", conforme au sceau publié" if anchor else "")
               + ", chaque décompte correspond aux bulletins enregistrés.")


#: What `verify` reads: without them there is nothing to check, which is not a success.
VERIFIED_TABLES = ("audit_event", "ballot", "vote", "ballot_voter", "ballot_box")


def _not_verifiable(why: str, hint: str | None = None) -> None:
    """One French line on stderr and exit 2 (1 means « anomalies found »), no traceback."""
    if hint is None:
        hint = ("Cette base est vide ou pas à jour : lancez « python -m deliberation "
                "init-db » ou vérifiez DATABASE_URL.")
    click.echo(f"Vérification impossible : {why}.{' ' + hint if hint else ''}", err=True)
    raise SystemExit(2)


def _published_anchor(path: str) -> dict:
    """The anchor of a downloaded resultats.json, or one French line and exit 2."""
    hint = "Téléchargez-le depuis la page publique de la motion (/motion/<code>)."
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        _not_verifiable(f"fichier {path} illisible ({exc.strerror or exc})", hint=hint)
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        _not_verifiable(f"{path} n'est pas un fichier JSON valide", hint=hint)
    anchor = audit.parse_anchor(document)
    if anchor is None:
        _not_verifiable(f"{path} ne porte pas de sceau du journal d'audit (objet « audit » "
                        "avec entry, entries et hash)", hint=hint)
    return anchor


@click.command("purge-expired")
@click.option("--today", default=None, help="Date de référence AAAA-MM-JJ (essais).")
@with_appcontext
def purge_expired_command(today: str | None):
    """Erase the personal data of congresses past their retention period."""
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter("date attendue au format AAAA-MM-JJ.",
                                 param_hint="--today") from None
    result = purge_expired(day)
    click.echo(f"Données personnelles effacées : "
               f"{formats.plural(result['participants'], 'personne')} "
               f"dans {result['congresses']} congrès dont la durée de conservation est "
               "écoulée.")


COMMANDS = (init_db_command, load_demo_command, demo_info_command, create_facilitator_command,
            import_participants_command, import_contributions_command, export_command,
            sort_command, db_ready_command, verify_command, derive_congress_command,
            set_password_command, purge_expired_command)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
