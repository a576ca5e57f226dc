"""Any CSV (issue 18): a file with its own encoding, separator and column names is
previewed, mapped, and imported all or nothing; the mapping is remembered per shape."""

from __future__ import annotations

import io
import os
import re
import time

import pytest
from sqlalchemy import func, select

from deliberation import csv_import, csv_mapping
from deliberation.csv_io import CsvError
from deliberation.extensions import db
from deliberation.models import Contribution, Participant

from .conftest import login, text_of

DECIDIM = ("Identifiant;Proposition;Auteur·rice;Ville;Catégorie\n"
           "1;Une antenne 4G par commune, pour en finir avec les zones blanches;"
           "Anne Martin;Murat;acces\n"
           "2;\"Former les élus au numérique ; dès le début du mandat\";Paul Roux;Vic;\n"
           "3;Ouvrir les données publiques en open data;Léa Petit;Aurillac;donnees\n")


def test_sniff_detects_encoding_and_separator():
    for data, encoding in ((DECIDIM.encode("utf-8"), "UTF-8 sans BOM"),
                           (b"\xef\xbb\xbf" + DECIDIM.encode("utf-8"), "UTF-8 avec BOM"),
                           (DECIDIM.replace("·", "").encode("cp1252"), "Windows-1252")):
        sniffed = csv_mapping.sniff(data)
        assert sniffed.encoding_label == encoding and sniffed.delimiter == ";"
        assert sniffed.header[1] == "Proposition" and len(sniffed.records) == 3
        assert sniffed.records[1][1][1] == "Former les élus au numérique ; dès le début du mandat"
    tabbed = csv_mapping.sniff(DECIDIM.replace(";", "\t").encode())
    assert tabbed.delimiter_label == "tabulation"
    plain = csv_mapping.sniff(b"texte,auteur\nUne idee,Anne\n")
    assert plain.delimiter_label == "virgule"


@pytest.mark.parametrize("data, message", [
    (b"", "vide"),
    (b"a;b\n1;2;3\n", "Ligne 2 : 3 champs au lieu de 2"),
    (b"a;b\n\x00;1\n", "caractère nul"),
    (b"a;b\n", "aucune ligne de données"),
])
def test_sniff_refuses_in_french(data, message):
    with pytest.raises(CsvError, match=message):
        csv_mapping.sniff(data)


def test_suggest_matches_names_without_case_or_accents(congress):
    kind = csv_import.KINDS["contributions"]
    mapping = csv_mapping.suggest(["TEXTE", "Auteur ", "Thème", "autre"], kind.columns)
    assert mapping["text"] == 0 and mapping["author"] == 1 and mapping["theme"] == 2
    assert mapping["commune"] is None


def _mapping(**chosen):
    return {f"col-{field}": str(index) for field, index in chosen.items()}


def test_a_mapped_import_and_its_memory(congress):
    kind = csv_import.KINDS["contributions"]
    first = csv_import.preview(congress, kind, DECIDIM.encode(), "t" * 32)
    assert not first.remembered and first.mapping["text"] is None  # « Proposition »
    mapping = csv_import.parse_mapping(kind, _mapping(text=1, author=2, commune=3, theme=4), 5)
    assert csv_import.run(congress, kind, first.sniffed, mapping, None) == 3
    db.session.commit()
    ideas = db.session.scalars(select(Contribution).order_by(Contribution.id)).all()
    assert [c.speaker_name for c in ideas] == ["Anne Martin", "Paul Roux", "Léa Petit"]
    assert ideas[0].theme.code == "acces" and ideas[1].theme is None
    # the next file of the same shape, columns in another order: prefilled by name
    again = "Catégorie;Ville;Auteur·rice;Proposition;Identifiant\nacces;Murat;Zoé;Fibre;9\n"
    second = csv_import.preview(congress, kind, again.encode("cp1252", "replace"), "t" * 32)
    assert second.remembered
    assert second.mapping == {"text": 3, "author": 2, "commune": 1, "channel": None,
                              "theme": 0, "created_at": None}


def test_a_bad_line_imports_nothing_and_names_the_original_line(congress):
    kind = csv_import.KINDS["contributions"]
    data = (DECIDIM + "4;\"Une idée\nsur deux lignes\";Marc;Riom;acces\n"
            "5;Une autre;Jo;Riom;inconnu\n").encode()
    sniffed = csv_import.preview(congress, kind, data, "t" * 32).sniffed
    mapping = {"text": 1, "author": 2, "commune": 3, "channel": None, "theme": 4,
               "created_at": None}
    with pytest.raises(CsvError) as caught:
        csv_import.run(congress, kind, sniffed, mapping, None)
    db.session.rollback()
    assert caught.value.line == 7 and "thème « inconnu » inconnu" in caught.value.message
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0
    assert not (congress.import_mappings or {})  # nothing remembered either
    duplicate = (DECIDIM + "4;Ouvrir les données publiques en open data;Léa Petit;A;\n")
    sniffed = csv_mapping.sniff(duplicate.encode())
    with pytest.raises(CsvError, match=r"^Ligne 5 : doublon de la ligne 4\."):
        csv_import.run(congress, kind, sniffed, mapping, None)


@pytest.mark.parametrize("form, message", [
    ({"col-author": "2"}, "« texte »"),  # a required field left without a column
    ({"col-text": "1", "col-author": "1"}, "une colonne par champ"),
    ({"col-text": "9", "col-author": "2"}, "n'existe pas"),
    ({"col-text": "x", "col-author": "2"}, "n'existe pas"),
])
def test_a_wrong_mapping_is_refused(congress, form, message):
    kind = csv_import.KINDS["contributions"]
    sniffed = csv_mapping.sniff(DECIDIM.encode())
    with pytest.raises(CsvError, match=message):
        csv_import.run(congress, kind, sniffed,
                       csv_import.parse_mapping(kind, form, len(sniffed.header)), None)


def test_kept_files_belong_to_their_congress_and_expire(congress, tmp_path):
    token = csv_import.keep(tmp_path, congress, b"a,b\n1,2\n")
    assert csv_import.kept(tmp_path, congress, token) == b"a,b\n1,2\n"
    for wrong in ("../" + token, token.upper(), "", None, "0" * 32):
        with pytest.raises(CsvError, match="envoyez-le à nouveau"):
            csv_import.kept(tmp_path, congress, wrong)
    old = time.time() - csv_import.UPLOAD_TTL_S - 5
    os.utime(next(tmp_path.glob("*.csv")), (old, old))
    with pytest.raises(CsvError, match="envoyez-le à nouveau"):
        csv_import.kept(tmp_path, congress, token)
    assert not list(tmp_path.glob("*.csv"))


def _upload(client, kind: str, data: bytes):
    return client.post(f"/animation/import/{kind}/apercu", data={
        "file": (io.BytesIO(data), "export.csv")}, content_type="multipart/form-data")


def test_the_pages_preview_map_and_import_participants(client, congress, facilitator):
    login(client, facilitator)
    assert "Un fichier aux colonnes différentes" in text_of(client.get("/animation/participants"))
    people = "Nom complet\tCommune\tCourriel\nAnne Martin\tMurat\tanne@ex.fr\nHélène\tVic\t\n"
    page = _upload(client, "participants", people.encode("cp1252"))
    assert page.status_code == 200
    text = text_of(page)
    assert "Windows-1252" in text and "tabulation" in text and "Anne Martin" in text
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page.get_data(as_text=True))[1]
    refused = client.post("/animation/import/participants/confirmer",
                          data={"token": token, "col-commune": "1"})
    assert refused.status_code == 422 and "« nom »" in text_of(refused)
    assert '<option value="1" selected>Commune</option>' in refused.get_data(as_text=True)
    done = client.post("/animation/import/participants/confirmer", data={
        "token": token, "col-display_name": "0", "col-commune": "1", "col-email": "2"},
        follow_redirects=True)
    assert done.status_code == 200 and "2 participant·es importé·es" in text_of(done)
    assert db.session.scalar(select(Participant.commune).filter_by(
        display_name="Anne Martin")) == "Murat"
    # the file is gone once imported: a second confirmation imports nothing more
    again = client.post("/animation/import/participants/confirmer", data={
        "token": token, "col-display_name": "0"}, follow_redirects=True)
    assert "envoyez-le à nouveau" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 3
    # the same shape next time: the columns come chosen
    page = _upload(client, "participants", people.encode("utf-8"))
    assert re.search(r'<option value="0" selected>Nom complet</option>',
                     page.get_data(as_text=True))


def test_the_pages_refuse_a_bad_upload_and_an_unknown_kind(client, congress, facilitator):
    login(client, facilitator)
    refused = _upload(client, "contributions", b"a;b\n1;2;3\n")
    assert refused.status_code == 302
    followed = client.get(refused.headers["Location"])
    assert "Import refusé" in text_of(followed) and "Ligne 2" in text_of(followed)
    assert _upload(client, "ballots", b"a\n1\n").status_code == 404
    empty = client.post("/animation/import/contributions/apercu", data={},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "aucun fichier choisi" in text_of(empty)
