"""``python -m deliberation classify``: the sorting engine's stable command-line contract.

Input: a UTF-8 CSV with at least ``id,text``; optional ``--themes`` (corpus/
format, default corpus/themes.json) and ``--confirmed`` (CSV ``id,text,theme``
of contributions whose theme a facilitator confirmed).  Output on stdout: CSV
``id,theme,alt_theme,confidence,cluster``, one row per input row, in input
order.  Any bad input is reported on stderr with exit code 2 — the contract our
own evaluation relies on, so its shape must not change.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from .pipeline import sort_congress
from .themes import HORS_THEME, ThemesError, load_themes

OUTPUT_COLUMNS = ("id", "theme", "alt_theme", "confidence", "cluster")


class BadInput(Exception):
    """Input the command refuses, with a message for a person."""


def _read_csv(path: str, required: tuple[str, ...], what: str) -> list[dict]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"{what} illisible ({path}) : {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{what} ({path}) n'est pas en UTF-8 (octet {exc.start}).") from None
    try:
        reader = csv.DictReader(text.splitlines(keepends=True) or [""], strict=True)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise BadInput(f"{what} ({path}) : colonne(s) manquante(s) : {', '.join(missing)} "
                           f"(en-tête attendu : {','.join(required)}).")
        names = {h.strip().lower(): h for h in reader.fieldnames}
        rows = []
        for row in reader:
            if None in row:  # more cells than columns
                raise BadInput(f"{what} ({path}) ligne {reader.line_num} : trop de colonnes.")
            rows.append({c: (row.get(names[c]) or "") for c in required} |
                        {"_line": reader.line_num})
    except csv.Error as exc:
        raise BadInput(f"{what} ({path}) : CSV invalide : {exc}") from None
    return rows


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m deliberation classify",
        description="Trie des contributions par thème et en points récurrents (CSV sur stdout).")
    parser.add_argument("input", help="CSV UTF-8 avec au moins les colonnes id,text")
    parser.add_argument("--themes", help="fichier de thèmes au format corpus/ "
                        "(défaut : les huit thèmes de corpus/themes.json)")
    parser.add_argument("--confirmed", help="CSV id,text,theme de contributions confirmées")
    return parser.parse_args(argv)


def run(args) -> list[tuple[str, str, str, str, str]]:
    try:
        themes = load_themes(args.themes)
    except ThemesError as exc:
        raise BadInput(f"Thèmes : {exc}") from None
    codes = {t.code for t in themes} | {HORS_THEME}
    rows = _read_csv(args.input, ("id", "text"), "Fichier d'entrée")
    for row in rows:
        if not row["id"].strip():
            raise BadInput(f"Fichier d'entrée ligne {row['_line']} : id vide.")
        if not row["text"].strip():
            raise BadInput(f"Fichier d'entrée ligne {row['_line']} (id {row['id'].strip()}) : "
                           "texte vide.")
    by_id: dict[str, list[int]] = {}
    for k, row in enumerate(rows):
        by_id.setdefault(row["id"].strip(), []).append(k)
    confirmed, extra = {}, []
    if args.confirmed:
        for row in _read_csv(args.confirmed, ("id", "text", "theme"), "Fichier --confirmed"):
            theme = row["theme"].strip()
            if theme not in codes:
                raise BadInput(f"Fichier --confirmed ligne {row['_line']} : thème inconnu "
                               f"« {theme} » (attendu : {', '.join(sorted(codes))}).")
            cid = row["id"].strip()
            if cid in by_id:
                for k in by_id[cid]:
                    confirmed[str(k)] = theme
            elif row["text"].strip():
                extra.append((row["text"], theme))
            else:
                raise BadInput(f"Fichier --confirmed ligne {row['_line']} : texte vide pour "
                               f"un id absent de l'entrée ({cid}).")
    # Row numbers as internal ids: repeated ids in the input stay separate rows.
    items = [(str(k), row["text"]) for k, row in enumerate(rows)]
    result = sort_congress(themes, items, confirmed=confirmed, extra_labelled=extra,
                           random_state=0)
    out = []
    for row, item in zip(rows, result.items, strict=True):
        out.append((row["id"].strip(), item.theme, item.alt_theme or "",
                    f"{min(max(item.confidence, 0.0), 1.0):.3f}", item.cluster))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        out = run(args)
    except BadInput as exc:
        print(f"classify : {exc}", file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    writer.writerows(out)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
