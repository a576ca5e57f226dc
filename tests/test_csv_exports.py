"""CSV exports in two variants (issue 14): for French spreadsheets by default (« ; »,
decimal comma, UTF-8 BOM, CRLF), for tools on request (`?format=outils`: « , », decimal
point, no BOM); imports take either, and what is exported imports back."""

from __future__ import annotations

from datetime import datetime

import pytest

from deliberation import csv_io, transfer
from deliberation.extensions import db
from deliberation.models import Contribution, Participant

from .conftest import login, new_congress, staff_login, theme
from .test_publication import adopted, publish_all  # noqa: F401 - the published fixture

BOM = "\ufeff".encode()
WHEN = datetime(2026, 12, 10, 9, 30)


@pytest.fixture
def sample(congress, official):
    """One sorted contribution with a fractional confidence, one with a formula."""
    th = theme(congress, "acces")
    fibre = Contribution(congress_id=congress.id, author_id=official.id, theme_id=th.id,
                         text="La fibre; vite, et partout", confidence=0.8125,
                         created_at=WHEN, updated_at=WHEN)
    formula = Contribution(congress_id=congress.id, speaker_name="Invité",
                           speaker_commune="Ajaccio", text="=1+1 et l'antenne",
                           channel="live", off_topic=True, created_at=WHEN, updated_at=WHEN)
    db.session.add_all([fibre, formula])
    db.session.commit()
    return fibre, formula


def test_the_spreadsheet_variant_is_french_excel_csv(congress, sample):
    fibre, formula = sample
    body = transfer.export_contributions(congress).encode()
    assert body.startswith(BOM)
    lines = body[len(BOM):].decode().split("\r\n")
    assert lines[0] == ("id;texte;auteur;commune;canal;date;theme;theme_alternatif;confiance;"
                        "confirme;point_recurrent;statut;doublon_de;soutiens")
    assert lines[1] == (f'{fibre.id};"La fibre; vite, et partout";Marie Durand;Polminhac;'
                        "online;2026-12-10 09:30;acces;;0,812;non;;visible;;0")
    assert lines[2] == (f"{formula.id};'=1+1 et l'antenne;Invité;Ajaccio;live;"
                        "2026-12-10 09:30;hors_theme;;;non;;visible;;0")
    assert lines[3:] == [""]


def test_the_tools_variant_is_plain_rfc_4180(congress, sample):
    fibre, _ = sample
    body = transfer.export_contributions(congress, csv_io.TOOLS).encode()
    assert not body.startswith(BOM)
    lines = body.decode().split("\r\n")
    assert lines[0].startswith("id,texte,auteur,commune,canal,date,theme,")
    assert lines[1] == (f'{fibre.id},"La fibre; vite, et partout",Marie Durand,Polminhac,'
                        "online,2026-12-10 09:30,acces,,0.812,non,,visible,,0")


def test_participants_export_in_both_variants(congress, official):
    spreadsheet = transfer.export_participants(congress, "https://m.test").encode()
    tools = transfer.export_participants(congress, "https://m.test", csv_io.TOOLS).encode()
    row = (official.id, "Marie Durand", "Polminhac", "15", "", "", "participant", "", "non",
           f"https://m.test/i/{official.invite_token}", "non")
    assert spreadsheet == BOM + (
        "id;nom;commune;departement;mandat;population;role;email;present;lien_invitation;"
        "revoque\r\n" + ";".join(map(str, row)) + "\r\n").encode()
    assert tools == ("id,nom,commune,departement,mandat,population,role,email,present,"
                     "lien_invitation,revoque\r\n" + ",".join(map(str, row)) + "\r\n").encode()


def test_numbers_keep_their_sign_and_take_the_variant_decimal():
    rows = [(-2, 66.7, "-2+3", True)]
    assert csv_io.write_rows(("a", "b", "c", "d"), rows) == \
        "\ufeffa;b;c;d\r\n-2;66,7;'-2+3;True\r\n"
    assert csv_io.write_rows(("a", "b", "c", "d"), rows, csv_io.TOOLS) == \
        "a,b,c,d\r\n-2,66.7,'-2+3,True\r\n"


def test_results_csv_in_both_variants(adopted, client):  # noqa: F811
    publish_all(adopted)
    code = adopted["congress"].join_code
    default = client.get(f"/motion/{code}/resultats.csv")
    spreadsheet = client.get(f"/motion/{code}/resultats.csv?format=tableurs")
    tools = client.get(f"/motion/{code}/resultats.csv?format=outils")
    assert default.data == spreadsheet.data and default.data.startswith(BOM)
    first = default.data.decode("utf-8-sig").split("\r\n")[1].split(";")
    assert first[:3] == [str(adopted["on_article"].id), "Article", "Article 1"]
    assert first[14:17] == ["66,7", "33,3", "adopté"]
    plain = tools.data.decode().split("\r\n")
    assert plain[0].startswith("scrutin,type,objet,") and not tools.data.startswith(BOM)
    assert plain[1].split(",")[14:17] == ["66.7", "33.3", "adopté"]
    page = client.get(f"/motion/{code}").get_data(as_text=True)
    assert "CSV pour tableurs" in page and "CSV pour outils" in page
    assert f"/motion/{code}/resultats.csv?format=outils" in page


def test_an_unknown_format_is_a_french_400(adopted, client, facilitator):  # noqa: F811
    publish_all(adopted)
    code = adopted["congress"].join_code
    refused = client.get(f"/motion/{code}/resultats.csv?format=excel")
    assert refused.status_code == 400 and "format « excel » inconnu" in refused.text
    staff_login(client, "anim@example.org")
    refused = client.get("/animation/export/contributions.csv?format=xlsx")
    assert refused.status_code == 400 and "« tableurs » ou « outils »" in refused.text


def test_the_dashboard_links_both_variants(client, congress, facilitator, official):
    staff_login(client, "anim@example.org")
    page = client.get("/animation/").get_data(as_text=True)
    for what in ("contributions", "participants"):
        for form in ("tableurs", "outils"):
            assert f"/animation/export/{what}.csv?format={form}" in page
    tools = client.get("/animation/export/participants.csv?format=outils")
    assert tools.mimetype == "text/csv" and tools.data.startswith(b"id,nom,")
    assert client.get("/animation/export/participants.csv").data.startswith(BOM + b"id;nom;")


@pytest.mark.parametrize("form", csv_io.VARIANTS, ids=lambda v: v.name)
def test_every_export_imports_back(congress, sample, form):
    transfer.import_participants(congress, (
        b"nom,commune,departement,mandat,population,role,email\n"
        b"Anne Leroy,Murat,15,maire,1900,participant,anne@example.org\n"))
    db.session.commit()
    people = transfer.export_participants(congress, "", form).encode("utf-8")
    ideas = transfer.export_contributions(congress, form).encode("utf-8")
    other = new_congress("Copie", "COPIE1")
    assert transfer.import_participants(other, people) == 2
    assert transfer.import_contributions(other, ideas) == 2
    db.session.commit()
    copied = {c.text: c for c in db.session.scalars(db.select(Contribution).filter_by(
        congress_id=other.id))}
    assert set(copied) == {"La fibre; vite, et partout", "=1+1 et l'antenne"}
    assert copied["La fibre; vite, et partout"].theme.code == "acces"
    assert copied["La fibre; vite, et partout"].author.display_name == "Marie Durand"
    assert copied["=1+1 et l'antenne"].off_topic and copied["=1+1 et l'antenne"].channel == "live"
    anne = db.session.scalar(db.select(Participant).filter_by(congress_id=other.id,
                                                               display_name="Anne Leroy"))
    assert (anne.population, anne.email, anne.mandate) == (1900, "anne@example.org", "maire")


@pytest.mark.parametrize("data", [
    b"nom;commune\r\nAnne;Murat\r\n",
    "\ufeffnom;commune\r\n\"Leroy; Anne\";Murat\r\n".encode(),
    b"nom\tcommune\nAnne\tMurat\n",
    "\ufeffnom,commune\nAnne,Murat\n".encode(),
], ids=["semicolon", "semicolon-bom-quoted", "tab", "comma-bom"])
def test_imports_take_either_separator_and_a_bom(congress, data):
    assert transfer.import_participants(congress, data) == 1
    person = db.session.scalar(db.select(Participant).filter_by(commune="Murat"))
    assert person.display_name in ("Anne", "Leroy; Anne")


def test_the_participant_can_not_export(client, congress, official):
    login(client, official)
    assert client.get("/animation/export/participants.csv?format=outils").status_code in (
        302, 403)
