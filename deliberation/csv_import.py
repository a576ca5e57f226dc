"""Any CSV (issue 18): import contributions or participants from a file with its own
column names, through a preview where the facilitator maps columns to fields.

The flow: upload → preview (first rows, detected encoding and separator, one choice of
column per field, prefilled) → confirm, which imports all or nothing as the plain import
does (`transfer`, whose checks run on the file rewritten in Motion's columns by
`csv_mapping`).

Between preview and confirm the file waits on the server, in the instance folder the
caller gives (never a path from the client): under a random name that also carries the
congress, for UPLOAD_TTL_S at most; confirming or a later upload removes it. Re-posting
the file from the preview page was the other choice, but a 2 MB file would come back as
more than the 2 MB a request may carry, and the browser would have to hold it in a form.

The mapping is remembered per congress for the next file of the same shape (the same set
of column names, in any order): `Congress.import_mappings`.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import transfer
from .csv_io import Column, CsvError
from .csv_mapping import Sniffed, relined, rewrite, sniff, suggest
from .models import Congress

#: How long an uploaded file waits for its confirmation.
UPLOAD_TTL_S = 30 * 60
#: Shapes remembered per kind of import (the oldest is forgotten first).
MAX_REMEMBERED = 20
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Kind:
    """One kind of import: its fields and the import that checks and stores them."""

    name: str
    label: str
    columns: Sequence[Column]
    run: Callable[[Congress, bytes, int | None], int]


KINDS = {
    "contributions": Kind("contributions", "contributions", transfer.CONTRIBUTION_COLUMNS,
                          transfer.import_contributions),
    "participants": Kind("participants", "participant·es", transfer.PARTICIPANT_COLUMNS,
                         transfer.import_participants),
}


#: How the preview names each field (the columns' own names are the file's, in English or
#: without accents).
FIELD_LABELS = {
    "text": "Texte", "author": "Auteur", "commune": "Commune",
    "channel": "Canal (en ligne ou en séance)", "theme": "Thème (son code)",
    "created_at": "Date", "display_name": "Nom", "department_code": "Département",
    "mandate": "Mandat", "population": "Population", "role": "Rôle",
    "email": "Adresse électronique",
}


@dataclass
class Preview:
    """What the preview page shows: the file as read, and each field's chosen column."""

    kind: Kind
    token: str
    sniffed: Sniffed
    mapping: dict[str, int | None]
    remembered: bool


# --- the file between preview and confirm --------------------------------------------------

def _path(folder: Path, congress: Congress, token: str) -> Path:
    return folder / f"{congress.id}-{token}.csv"


def _forget_old(folder: Path) -> None:
    limit = time.time() - UPLOAD_TTL_S
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except FileNotFoundError:  # another process removed it first
            pass


def keep(folder: Path, congress: Congress, data: bytes) -> str:
    """Store an upload for its confirmation; returns its token (32 hex digits)."""
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    token = secrets.token_hex(16)
    _path(folder, congress, token).write_bytes(data)
    return token


def kept(folder: Path, congress: Congress, token: Any) -> bytes:
    """The upload a token names, for this congress only, while it is fresh."""
    expired = CsvError("le fichier envoyé n'est plus disponible (plus de "
                       f"{UPLOAD_TTL_S // 60} minutes, ou déjà importé) : envoyez-le à nouveau.")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise expired
    path = _path(folder, congress, token)
    try:
        if path.stat().st_mtime < time.time() - UPLOAD_TTL_S:
            path.unlink()
            raise expired
        return path.read_bytes()
    except FileNotFoundError:
        raise expired from None


def discard(folder: Path, congress: Congress, token: str) -> None:
    if _TOKEN.match(token or ""):
        _path(folder, congress, token).unlink(missing_ok=True)


# --- remembered mappings ---------------------------------------------------------------

def _remembered(congress: Congress, kind: Kind, sniffed: Sniffed) -> dict[str, int | None] | None:
    stored = ((congress.import_mappings or {}).get(kind.name) or {}).get(sniffed.signature)
    if not isinstance(stored, dict):
        return None
    positions = {name: i for i, name in reversed(list(enumerate(sniffed.header)))}
    return {c.name: positions.get(stored.get(c.name)) for c in kind.columns}


def remember(congress: Congress, kind: Kind, sniffed: Sniffed,
             mapping: Mapping[str, int | None]) -> None:
    """Keep the mapping for the next file of this shape (by column name, not position)."""
    every = dict(congress.import_mappings or {})
    shapes = dict(every.get(kind.name) or {})
    shapes.pop(sniffed.signature, None)
    shapes[sniffed.signature] = {field: sniffed.header[index]
                                 for field, index in mapping.items() if index is not None}
    while len(shapes) > MAX_REMEMBERED:
        shapes.pop(next(iter(shapes)))
    every[kind.name] = shapes
    congress.import_mappings = every  # a new dict: the JSON column sees the change


# --- preview and import --------------------------------------------------------------------

def kind_of(name: str) -> Kind | None:
    return KINDS.get(name)


def preview(congress: Congress, kind: Kind, data: bytes, token: str) -> Preview:
    """Read the file and propose a column for each field: the mapping remembered for this
    shape, else the columns named after the fields."""
    sniffed = sniff(data)
    mapping = _remembered(congress, kind, sniffed)
    return Preview(kind, token, sniffed, mapping or suggest(sniffed.header, kind.columns),
                   mapping is not None)


def parse_mapping(kind: Kind, form: Mapping[str, Any], width: int) -> dict[str, int | None]:
    """The preview form's choices (`col-<field>`: a column number, or empty for none)."""
    mapping: dict[str, int | None] = {}
    for column in kind.columns:
        raw = form.get(f"col-{column.name}", "")
        raw = raw.strip() if isinstance(raw, str) else ""
        if not raw:
            mapping[column.name] = None
        elif raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) < width:
            mapping[column.name] = int(raw)
        else:
            raise CsvError(f"la colonne choisie pour « {column.title} » n'existe pas dans le "
                           "fichier.")
    return mapping


def chosen_columns(kind: Kind, form: Mapping[str, Any], width: int) -> dict[str, int | None]:
    """The preview form's valid choices, the others left empty: shown again with an error,
    so that nothing the facilitator chose is lost."""
    mapping: dict[str, int | None] = {}
    for column in kind.columns:
        raw = form.get(f"col-{column.name}", "")
        raw = raw.strip() if isinstance(raw, str) else ""
        valid = raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) < width
        mapping[column.name] = int(raw) if valid else None
    return mapping


def run(congress: Congress, kind: Kind, sniffed: Sniffed, mapping: Mapping[str, int | None],
        actor_id: int | None) -> int:
    """Import the whole file under `mapping`, or nothing (a CsvError with the original
    file's line); remembers the mapping. Flushes; the caller commits or rolls back."""
    data, lines = rewrite(sniffed, mapping, kind.columns)
    try:
        count = kind.run(congress, data, actor_id)
    except CsvError as exc:
        raise relined(exc, lines) from None
    remember(congress, kind, sniffed, mapping)
    return count
