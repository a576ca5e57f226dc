"""Any CSV (issue 18): read a file whose encoding, separator and column names are not
Motion's, and rewrite it in Motion's own columns for the strict import (csv_io).

Contributions come from a Decidim or Cap Collectif export, a form tool or a spreadsheet
with its own column names. This module only reads and rewrites, with no database:

- `sniff` detects the encoding (UTF-8 with or without BOM, else Windows-1252, what
  Excel writes on a French Windows) and the separator (« , », « ; » or a tab: the one
  the header line holds most), and reads every record with its line number;
- `suggest` proposes, for each of Motion's fields, the column whose name matches (case,
  accents and punctuation aside);
- `rewrite` builds the file in Motion's columns from a mapping field → column, so that
  the import keeps its one set of checks, all or nothing; `relined` puts the original
  file's line numbers back into an error about the rewritten one.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .csv_io import MAX_ROWS, Column, CsvError

DELIMITERS = {",": "virgule", ";": "point-virgule", "\t": "tabulation"}
ENCODINGS = {"utf-8-sig": "UTF-8 avec BOM", "utf-8": "UTF-8 sans BOM",
             "cp1252": "Windows-1252"}
PREVIEW_ROWS = 10


@dataclass
class Sniffed:
    """A file read: its encoding and separator, its header, its records and their lines."""

    encoding: str
    delimiter: str
    header: list[str]
    records: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODINGS[self.encoding]

    @property
    def delimiter_label(self) -> str:
        return DELIMITERS[self.delimiter]

    @property
    def preview(self) -> list[list[str]]:
        return [values for _, values in self.records[:PREVIEW_ROWS]]

    @property
    def signature(self) -> str:
        """The file's shape: its set of column names, whatever their order."""
        return "\x1f".join(sorted({normalise(name) for name in self.header if name.strip()}))


def normalise(name: str) -> str:
    """« Thème proposé » and « theme_propose » compare equal: no case, accents, spacing."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CsvError("le fichier contient un caractère nul : est-ce bien un fichier CSV ?",
                       line)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = data[: exc.start + 3].count(b"\n") + 1
            raise CsvError("caractère non UTF-8 dans un fichier annoncé en UTF-8.",
                           line) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvError("encodage non reconnu (ni UTF-8 ni Windows-1252) : enregistrez le "
                       "fichier au format « CSV UTF-8 » puis recommencez.", line) from None


def sniff(data: bytes, max_rows: int = MAX_ROWS) -> Sniffed:
    """Decode and read a whole upload (a French CsvError with its line when it cannot)."""
    if not data or not data.strip():
        raise CsvError("le fichier est vide.")
    text, encoding = _decode(data)
    head = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=lambda d: (head.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise CsvError("impossible de lire l'en-tête du fichier.", 1) from None
    if not any(header):
        raise CsvError("la première ligne doit donner le nom des colonnes.", 1)
    sniffed = Sniffed(encoding, delimiter, header)
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise CsvError(f"{len(record)} champs au lieu de {len(header)} (un séparateur "
                               "en trop, ou un texte qui en contient sans guillemets ?).",
                               reader.line_num)
            sniffed.records.append((reader.line_num, record))
            if len(sniffed.records) > max_rows:
                raise CsvError(f"le fichier dépasse {max_rows} lignes.", reader.line_num)
    except csv.Error as exc:
        raise CsvError(f"format CSV invalide ({exc}).", reader.line_num) from None
    if not sniffed.records:
        raise CsvError("le fichier ne contient aucune ligne de données.")
    return sniffed


def suggest(header: Sequence[str], columns: Sequence[Column]) -> dict[str, int | None]:
    """Each field's column when a column is named after it (or one of its aliases)."""
    names = [normalise(name) for name in header]
    found: dict[str, int | None] = {}
    for column in columns:
        wanted = {normalise(n) for n in (column.name, column.label, *column.aliases) if n}
        found[column.name] = next((i for i, name in enumerate(names) if name in wanted), None)
    return found


def check_mapping(mapping: Mapping[str, int | None], header: Sequence[str],
                  columns: Sequence[Column]) -> None:
    """A French error unless every required field has a column, each column at most one."""
    missing = [c.title for c in columns if c.required and mapping.get(c.name) is None]
    if missing:
        raise CsvError("choisissez une colonne pour " + ", ".join(f"« {m} »" for m in missing)
                       + " : ce champ est obligatoire.")
    used: dict[int, str] = {}
    for column in columns:
        index = mapping.get(column.name)
        if index is None:
            continue
        if not 0 <= index < len(header):
            raise CsvError(f"la colonne choisie pour « {column.title} » n'existe pas dans le "
                           "fichier.")
        if index in used:
            raise CsvError(f"la colonne « {header[index]} » est choisie pour « {used[index]} » "
                           f"et pour « {column.title} » : une colonne par champ.")
        used[index] = column.title


def rewrite(sniffed: Sniffed, mapping: Mapping[str, int | None],
            columns: Sequence[Column]) -> tuple[bytes, dict[int, int]]:
    """The file in Motion's columns (UTF-8, « , »), and for each of its lines the line of
    the original file, so that an import error names the line the facilitator sees."""
    check_mapping(mapping, sniffed.header, columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for _, values in sniffed.records:
        writer.writerow(["" if mapping.get(c.name) is None else values[mapping[c.name]]
                         for c in columns])
    text = out.getvalue()
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    lines: dict[int, int] = {}
    for (original, _), _rewritten in zip(sniffed.records, reader, strict=True):
        lines[reader.line_num] = original  # the line the rewritten record ends on
    return text.encode("utf-8"), lines


def relined(error: CsvError, lines: Mapping[int, int]) -> CsvError:
    """The same error, with the original file's line number."""
    if error.line is None or error.line not in lines:
        return error
    prefix = f"Ligne {error.line} : "
    message = error.message[len(prefix):] if error.message.startswith(prefix) else error.message
    # « doublon de la ligne 3 »: that line too is the original file's
    message = re.sub(r"ligne (\d+)", lambda m: f"ligne {lines.get(int(m[1]), m[1])}", message)
    return CsvError(message, lines[error.line])
