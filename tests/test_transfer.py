"""CSV import (all or nothing, one clear French message) and export (formula-safe)."""

from __future__ import annotations

import csv
import io

import pytest

from deliberation import transfer
from deliberation.csv_io import CsvError, neutralise
from deliberation.extensions import db
from deliberation.models import Contribution, Participant

GOOD_PARTICIPANTS = (
    "nom,commune,departement,mandat,population,role,email\n"
    "Anne Leroy,Murat,15,maire,1900,participant,\n"
    "Luc Hoarau,Saint-Pierre,974,conseiller municipal,84000,élu,\n"
    "Sarah Benali,Lyon,69,adjointe,520000,scribe,sarah@example.org\n"
)
GOOD_CONTRIBUTIONS = (
    "texte,auteur,commune,canal,theme,date\n"
    "\"La fibre, vite !\",Anne Leroy,Murat,en ligne,acces,2026-11-02 10:30\n"
    "Former les secrétaires de mairie,Luc Hoarau,Saint-Pierre,en séance,,\n"
    "Héberger nos données en France,Invité Libre,Ajaccio,,,\n"
)


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_participants_import(congress):
    assert transfer.import_participants(congress, GOOD_PARTICIPANTS.encode()) == 3
    people = {p.display_name: p for p in db.session.scalars(db.select(Participant))}
    assert people["Luc Hoarau"].department_code == "974"
    assert people["Luc Hoarau"].role == "participant"
    assert people["Sarah Benali"].role == "scribe"
    assert people["Anne Leroy"].population == 1900


def test_contributions_import_links_known_authors(congress):
    transfer.import_participants(congress, GOOD_PARTICIPANTS.encode())
    assert transfer.import_contributions(congress, GOOD_CONTRIBUTIONS.encode()) == 3
    items = {c.text: c for c in db.session.scalars(db.select(Contribution))}
    fibre = items["La fibre, vite !"]
    assert fibre.author.display_name == "Anne Leroy" and fibre.theme.code == "acces"
    assert fibre.confirmed and fibre.created_at.hour == 10
    assert items["Former les secrétaires de mairie"].channel == "live"
    guest = items["Héberger nos données en France"]
    assert guest.author_id is None and guest.speaker_name == "Invité Libre"
    assert guest.speaker_commune == "Ajaccio"


BAD_FILES = [
    ("wrong delimiter", b"nom|commune|departement\nAnne|Murat|15\n", "séparateur"),
    ("missing column", b"commune,departement\nMurat,15\n", "colonne obligatoire absente"),
    ("latin-1 bytes", "nom,commune\nAnne,Murat\nLéa,Ségur\n".encode("latin-1"),
     "Ligne 3 : caractère non UTF-8"),
    ("empty name", b"nom,commune\nAnne,Murat\n,Ussel\n", "Ligne 3 : la colonne « nom » est vide"),
    ("too long", ("nom,commune\nAnne,Murat\n" + "B" * 121 + ",Ussel\n").encode(),
     "Ligne 3 : « nom » dépasse 120"),
    ("duplicate rows", b"nom,commune\nAnne,Murat\nBruno,Ussel\nanne,murat\n",
     "Ligne 4 : doublon de la ligne 2"),
    ("bad role", b"nom,role\nAnne,roi\n", "Ligne 2 : rôle « roi » inconnu"),
    ("bad population", b"nom,population\nAnne,mille\n", "population « mille »"),
    ("empty file", b"", "le fichier est vide"),
    ("header only", b"nom,commune\n", "aucune ligne de données"),
    ("ragged row", b"nom,commune\nAnne,Murat,15,en trop\n", "Ligne 2 : 4 champs au lieu de 2"),
    ("nul byte", b"nom,commune\nAn\x00ne,Murat\n", "caractère nul"),
]


@pytest.mark.parametrize("label, data, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_participant_files_import_nothing(congress, label, data, message):
    with pytest.raises(CsvError) as caught:
        transfer.import_participants(congress, data)
    assert message in caught.value.message, caught.value.message
    db.session.rollback()
    assert _count(Participant) == 0


def test_bom_is_accepted(congress):
    data = "\ufeffnom,commune\nAnne,Murat\n".encode()
    assert transfer.import_participants(congress, data) == 1


BAD_CONTRIBUTIONS = [
    ("empty text", b"texte,auteur\nUne idee,Anne\n ,Bruno\n", "Ligne 3 : la colonne « texte »"),
    ("over-long text", ("texte,auteur\n" + "x" * 2001 + ",Anne\n").encode(),
     "Ligne 2 : « texte » dépasse 2000"),
    ("unknown theme", b"texte,auteur,theme\nUne idee,Anne,sport\n", "thème « sport » inconnu"),
    ("bad channel", b"texte,auteur,canal\nUne idee,Anne,fax\n", "canal « fax » inconnu"),
    ("bad date", b"texte,auteur,date\nUne idee,Anne,hier\n", "date « hier » illisible"),
    ("duplicate", b"texte,auteur\nUne idee,Anne\nUne idee,Anne\n", "doublon de la ligne 2"),
    ("missing author column", b"texte\nUne idee\n", "auteur"),
]


@pytest.mark.parametrize("label, data, message", BAD_CONTRIBUTIONS,
                         ids=[b[0] for b in BAD_CONTRIBUTIONS])
def test_bad_contribution_files_import_nothing(congress, label, data, message):
    with pytest.raises(CsvError) as caught:
        transfer.import_contributions(congress, data)
    assert message in caught.value.message, caught.value.message
    db.session.rollback()
    assert _count(Contribution) == 0


def test_round_trip_export_then_import(congress):
    transfer.import_participants(congress, GOOD_PARTICIPANTS.encode())
    transfer.import_contributions(congress, GOOD_CONTRIBUTIONS.encode())
    db.session.commit()
    exported = transfer.export_contributions(congress)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert [r["texte"] for r in rows] == [
        "La fibre, vite !", "Former les secrétaires de mairie", "Héberger nos données en France"]
    assert rows[0]["auteur"] == "Anne Leroy" and rows[0]["theme"] == "acces"

    from deliberation.models import Congress

    other = Congress(title="Copie", join_code="COPIE1", phase="consultation")
    db.session.add(other)
    db.session.flush()
    from deliberation.corpus import add_themes

    from .conftest import SMALL_THEMES

    add_themes(other, SMALL_THEMES)
    reimport = "\n".join(
        ["texte,auteur,commune,canal,theme"]
        + [",".join(f'"{v}"' for v in (r["texte"], r["auteur"], r["commune"],
                                        r["canal"].replace("en ligne", "online")
                                        .replace("en séance", "live"), r["theme"]))
           for r in rows])
    assert transfer.import_contributions(other, reimport.encode()) == 3

    people = list(csv.DictReader(io.StringIO(
        transfer.export_participants(congress, "https://motion.test").lstrip("\ufeff")),
        delimiter=";"))
    assert {p["nom"] for p in people} == {"Anne Leroy", "Luc Hoarau", "Sarah Benali"}
    # Staff log in by password: the export never carries their invite link.
    assert all(p["lien_invitation"].startswith("https://motion.test/i/")
               for p in people if p["role"] != "scribe")
    assert [p["lien_invitation"] for p in people if p["role"] == "scribe"] == [""]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+33 1", "-2+3", "@SUM(A1)",
                                  "\tcmd"])
def test_formula_injection_is_neutralised_on_export(congress, official, cell):
    assert neutralise(cell) == "'" + cell
    db.session.add(Contribution(congress_id=congress.id, author_id=official.id, text=cell))
    db.session.commit()
    exported = transfer.export_contributions(congress)
    row = next(csv.DictReader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert row["texte"].startswith("'")


def test_plain_cells_are_untouched():
    assert neutralise("La fibre") == "La fibre"
    assert neutralise(None) == ""
    assert neutralise(12) == "12"
