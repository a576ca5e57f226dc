"""Load the data shipped in corpus/: the motion's themes and the demo congress."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from . import audit
from .config import CORPUS
from .errors import InputError
from .extensions import db
from .models import Article, Congress, Contribution, Participant, Theme

DEMO_FACILITATOR = ("animation@motion.local", "motion-demo")
DEMO_SCRIBE = ("releve@motion.local", "motion-demo")
THEME_FIELDS = ("code", "title")


def read_themes(path: Path | str | None = None) -> list[dict]:
    """Read a themes file in the corpus/ format, checking what the app relies on."""
    path = Path(path) if path else CORPUS / "themes.json"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"Fichier de thèmes illisible ({path}) : {exc}") from None
    themes = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, list) or not themes:
        raise InputError(f"{path} : une liste « themes » non vide est attendue.")
    seen = set()
    for i, theme in enumerate(themes, start=1):
        if not isinstance(theme, dict) or any(not theme.get(f) for f in THEME_FIELDS):
            raise InputError(f"{path} : le thème n° {i} doit avoir un code et un titre.")
        if theme["code"] in seen or theme["code"] == "hors_theme":
            raise InputError(f"{path} : code de thème « {theme['code']} » en double ou réservé.")
        seen.add(theme["code"])
    return themes


def add_themes(congress: Congress, themes: list[dict]) -> list[Theme]:
    rows = []
    for position, theme in enumerate(sorted(themes, key=lambda t: t.get("order", 0)), start=1):
        rows.append(Theme(
            congress_id=congress.id, code=theme["code"], title=theme["title"],
            short_title=theme.get("short_title") or theme["title"][:80],
            description=theme.get("description", ""), subpoints=theme.get("subpoints", []),
            keywords=theme.get("keywords", []), position=position))
    db.session.add_all(rows)
    db.session.flush()
    add_articles(congress, rows)
    return rows


def add_articles(congress: Congress, themes: list[Theme]) -> None:
    """The motion's skeleton: a preamble, then one article per theme."""
    db.session.add(Article(congress_id=congress.id, kind="preamble", title="Préambule",
                           position=0))
    for theme in themes:
        db.session.add(Article(congress_id=congress.id, kind="theme", theme_id=theme.id,
                               title=theme.title, position=theme.position))


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def demo_code(corpus_dir: Path | str | None = None) -> str:
    """The demonstration congress's code (corpus/demo/congress.json)."""
    base = Path(corpus_dir) if corpus_dir else CORPUS
    return json.loads((base / "demo" / "congress.json").read_text(encoding="utf-8"))["join_code"]


def load_demo(corpus_dir: Path | str | None = None, phase: str = "debate") -> Congress:
    """Create the demo congress: themes, 150+ officials, 400+ contributions, staff accounts."""
    base = Path(corpus_dir) if corpus_dir else CORPUS
    meta = json.loads((base / "demo" / "congress.json").read_text(encoding="utf-8"))
    if db.session.scalar(select(Congress).filter_by(join_code=meta["join_code"])):
        raise InputError(f"Le congrès de démonstration {meta['join_code']} existe déjà.")
    congress = Congress(
        title=meta["title"], place=meta.get("place", ""), description=meta.get("description", ""),
        starts_on=date.fromisoformat(meta["starts_on"]) if meta.get("starts_on") else None,
        ends_on=date.fromisoformat(meta["ends_on"]) if meta.get("ends_on") else None,
        join_code=meta["join_code"], phase=phase,
        # Listed on the home page, so that `make run` shows it; joiners still wait in the
        # facilitator's queue (registration closed).
        listed=True)
    db.session.add(congress)
    db.session.flush()
    add_themes(congress, read_themes(base / "themes.json"))

    officials = {}
    for row in _read_csv(base / "demo" / "officials.csv"):
        person = Participant(
            congress_id=congress.id, display_name=row["display_name"], commune=row["commune"],
            department_code=row["department_code"], mandate=row["mandate"],
            population=int(row["population"]) if row.get("population") else None,
            role="participant", roster_status="accepted")  # imported: on the roster
        officials[row["id"]] = person
    db.session.add_all(officials.values())
    for (email, password), role, name in ((DEMO_FACILITATOR, "facilitator", "Équipe d'animation"),
                                          (DEMO_SCRIBE, "scribe", "Garant du relevé")):
        staff = Participant(congress_id=congress.id, display_name=name, role=role, email=email,
                            roster_status="accepted")
        staff.set_password(password)
        db.session.add(staff)
    db.session.flush()

    start = datetime.combine(congress.starts_on or date.today(), datetime.min.time())
    rows = _read_csv(base / "demo" / "contributions.csv")
    for i, row in enumerate(rows):
        author = officials.get(row.get("author_id", ""))
        # Spread the online ones over the three weeks before the congress, deterministically.
        when = start - timedelta(days=21) + timedelta(minutes=(i * 977) % (21 * 24 * 60))
        if row.get("channel") == "live":
            when = start + timedelta(hours=9, minutes=i % 180)
        db.session.add(Contribution(
            congress_id=congress.id, author_id=author.id if author else None,
            speaker_name=None if author else "Intervenant·e", channel=row.get("channel") or
            "online", text=row["text"], created_at=when, updated_at=when))
    db.session.flush()
    audit.record("congress.demo_loaded", congress.id, None, contributions=len(rows),
                 officials=len(officials))
    return congress
