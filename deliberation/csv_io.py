"""CSV import and export: strict on the way in, safe for spreadsheets on the way out.

Imports are all or nothing: the file is read and checked completely before the
first row is stored, and the first problem is reported in French with its line
number, so the person fixes the file and sends it again with nothing half-imported.
They take either separator (« ; » from a French spreadsheet, « , » from a tool) and a
UTF-8 BOM or none.

Exports come in two variants, one helper for every download (`write_rows`):

- `tableurs` (the default): what a French Excel or LibreOffice opens with a double
  click: « ; » between cells, a decimal comma, a UTF-8 BOM (else Excel reads Latin-1),
  CRLF line ends;
- `outils`: RFC 4180 for scripts and other tools: « , », a decimal point, no BOM.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

MAX_ROWS = 20_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The separators an import accepts, the first one winning a tie.
DELIMITERS = (",", ";", "\t")


class CsvError(ValueError):
    def __init__(self, message: str, line: int | None = None):
        self.line = line
        self.message = f"Ligne {line} : {message}" if line else message
        super().__init__(self.message)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    max_length: int = 200
    aliases: tuple[str, ...] = ()
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Variant:
    """One way of writing a CSV file: its name in URLs (`?format=`), its link label."""

    name: str
    label: str
    delimiter: str
    decimal: str
    bom: bool


SPREADSHEETS = Variant("tableurs", "CSV pour tableurs", ";", ",", True)
TOOLS = Variant("outils", "CSV pour outils", ",", ".", False)
VARIANTS = (SPREADSHEETS, TOOLS)


def variant(name: str | None) -> Variant:
    """The variant a URL or command line asks for; none given means spreadsheets."""
    if not name:
        return SPREADSHEETS
    for candidate in VARIANTS:
        if name.strip().lower() == candidate.name:
            return candidate
    raise CsvError(f"format « {name[:40]} » inconnu : choisissez "
                   + " ou ".join(f"« {v.name} »" for v in VARIANTS) + ".")


def _delimiter(text: str) -> str:
    """The separator of the header line: the candidate it holds most often."""
    head = text.split("\n", 1)[0]
    return max(DELIMITERS, key=lambda d: (head.count(d), -DELIMITERS.index(d)))


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CsvError("le fichier contient un caractère nul : est-ce bien un fichier CSV ?",
                       line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvError(
            "caractère non UTF-8 (fichier probablement enregistré en Latin-1 / Windows). "
            "Enregistrez-le au format « CSV UTF-8 » puis recommencez.", line) from None


def read_rows(data: bytes, columns: Sequence[Column], *, unique: Sequence[str] = (),
              max_rows: int = MAX_ROWS) -> list[dict]:
    """Parse and validate a whole upload: one dict per data row, keyed by column name,
    plus `_line`, the row's line number in the file (for later error messages)."""
    if not data or not data.strip():
        raise CsvError("le fichier est vide.")
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvError("impossible de lire l'en-tête du fichier.", 1) from None
    names = [h.strip().lower() for h in header]
    positions: dict[str, int] = {}
    for column in columns:
        for candidate in (column.name, *column.aliases):
            if candidate in names:
                positions[column.name] = names.index(candidate)
                break
    missing = [c.title for c in columns if c.required and c.name not in positions]
    if missing:
        if len(header) == 1 and "|" in header[0]:
            raise CsvError(
                "le séparateur doit être le point-virgule, la virgule ou une tabulation ; "
                "ce fichier utilise « | ». Exportez-le en « CSV ».", 1)
        raise CsvError(("colonne obligatoire absente : " if len(missing) == 1 else
                        "colonnes obligatoires absentes : ") + ", ".join(missing)
                       + ". Colonnes attendues : " + ", ".join(c.title for c in columns) + ".", 1)
    rows: list[dict[str, str]] = []
    seen: dict[tuple, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise CsvError(f"{len(record)} champs au lieu de {len(header)} (un séparateur "
                               "en trop, ou un texte qui en contient sans guillemets ?).", line)
            row = {}
            for column in columns:
                value = record[positions[column.name]].strip() if column.name in positions else ""
                value = _unneutralise(value)
                if "\x00" in value:
                    raise CsvError(f"caractère nul dans « {column.title} ».", line)
                if column.required and not value:
                    raise CsvError(f"la colonne « {column.title} » est vide.", line)
                if len(value) > column.max_length:
                    raise CsvError(f"« {column.title} » dépasse {column.max_length} caractères "
                                   f"({len(value)}).", line)
                row[column.name] = value
            if unique:
                key = tuple(row[name].casefold() for name in unique)
                if key in seen:
                    raise CsvError(f"doublon de la ligne {seen[key]}.", line)
                seen[key] = line
            row["_line"] = line
            rows.append(row)
            if len(rows) > max_rows:
                raise CsvError(f"le fichier dépasse {max_rows} lignes.", line)
    except csv.Error as exc:
        raise CsvError(f"format CSV invalide ({exc}).", reader.line_num) from None
    if not rows:
        raise CsvError("le fichier ne contient aucune ligne de données.")
    return rows


def neutralise(value: object) -> str:
    """Stop spreadsheets from executing a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _unneutralise(value: str) -> str:
    """Undo `neutralise` on the way back in, so that an export imports as it was."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def cell(value: object, decimal: str = ".") -> str:
    """One cell: a number is written with the variant's decimal mark (never a formula, so
    « -2 » stays a number); any other value is text, neutralised."""
    if isinstance(value, (float, Decimal)) and not isinstance(value, bool):
        return str(value).replace(".", decimal)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return neutralise(value)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[object]],
               form: Variant = SPREADSHEETS) -> str:
    """CSV text with a header, every cell neutralised, in the given variant. Numbers are
    passed as numbers (float, not a preformatted string) so that each variant writes its
    own decimal mark."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=form.delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(value, form.decimal) for value in row])
    return ("\ufeff" if form.bom else "") + out.getvalue()
