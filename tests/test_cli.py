"""The `flask` commands, also run as `python -m deliberation` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from deliberation.extensions import db
from deliberation.models import Congress, Contribution, Participant

ROOT = Path(__file__).resolve().parent.parent


def test_create_facilitator_and_its_errors(runner, congress):
    ok = runner.invoke(args=["create-facilitator", "--email", "Chef@Example.org",
                             "--password", "tres-secret", "--congress", "test26"])
    assert ok.exit_code == 0, ok.output
    person = db.session.scalar(db.select(Participant).filter_by(email="chef@example.org"))
    assert person.role == "facilitator" and person.check_password("tres-secret")
    again = runner.invoke(args=["create-facilitator", "--email", "chef@example.org",
                                "--password", "tres-secret"])
    assert again.exit_code != 0 and "existe déjà" in again.output
    short = runner.invoke(args=["create-facilitator", "--email", "a@b.c", "--password", "court"])
    assert short.exit_code == 2 and "8 caractères" in short.output
    unknown = runner.invoke(args=["create-facilitator", "--email", "a@b.c", "--password",
                                  "assez-long", "--congress", "ZZZZ"])
    assert unknown.exit_code == 1 and "Aucun congrès" in unknown.output


def test_import_and_export_commands(runner, congress, tmp_path):
    people = tmp_path / "p.csv"
    people.write_text("nom,commune\nAnne,Murat\n", encoding="utf-8")
    result = runner.invoke(args=["import-participants", str(people)])
    assert result.exit_code == 0 and "1 personne importée dans" in result.output, result.output
    ideas = tmp_path / "c.csv"
    ideas.write_text("texte,auteur\nLa fibre au hameau,Anne\n", encoding="utf-8")
    result = runner.invoke(args=["import-contributions", str(ideas), "--congress", "TEST26"])
    assert result.exit_code == 0 and "1 contribution importée" in result.output, result.output
    assert db.session.scalar(db.select(Contribution)).author.display_name == "Anne"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"nom|commune\nAnne|Murat\n")
    result = runner.invoke(args=["import-participants", str(bad)])
    assert result.exit_code == 1 and "séparateur" in result.output
    result = runner.invoke(args=["import-participants", str(tmp_path / "absent.csv")])
    assert result.exit_code == 1 and "Fichier illisible" in result.output
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["export", "contributions", "-o", str(out)])
    assert result.exit_code == 0 and "La fibre au hameau" in out.read_text(encoding="utf-8")
    result = runner.invoke(args=["export", "participants"])
    assert "Anne" in result.output
    result = runner.invoke(args=["export", "secrets"])
    assert result.exit_code == 2
    result = runner.invoke(args=["export", "participants", "--format", "outils"])
    assert result.exit_code == 0 and result.output.startswith("id,nom,")
    result = runner.invoke(args=["export", "participants", "--format", "excel"])
    assert result.exit_code == 2 and "format « excel » inconnu" in result.output


def test_python_dash_m_runs_the_commands(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "SECRET_KEY": "x", "MOTION_INSTANCE": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "deliberation", "init-db"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Base de données à jour" in run.stdout
    run = subprocess.run([sys.executable, "-m", "deliberation", "--help"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    for command in ("init-db", "load-demo", "create-facilitator", "import-participants",
                    "import-contributions", "export", "classify"):
        assert command in run.stdout or command == "classify"


def test_load_demo_reset_starts_the_demonstration_again(runner, app):
    # After a rehearsal the demo is full of test votes: --reset wipes and reloads it.
    first = runner.invoke(args=["load-demo", "--no-sort"])
    assert first.exit_code == 0, first.output
    demo = db.session.scalar(select(Congress).filter_by(join_code="RURAL26"))
    demo.title = "Répétition d'hier"
    db.session.commit()
    again = runner.invoke(args=["load-demo", "--no-sort", "--reset"])
    assert again.exit_code == 0, again.output
    assert "Base de démonstration effacée" in again.output
    db.session.remove()
    titles = list(db.session.scalars(select(Congress.title)))
    assert titles == ["Congrès des élus au numérique — démonstration"]


def test_load_demo_reset_never_wipes_a_real_congress(runner, app, congress):
    answer = runner.invoke(args=["load-demo", "--no-sort", "--reset"])
    assert answer.exit_code != 0
    assert "d'autres congrès que la démonstration (TEST26)" in answer.output
    db.session.remove()
    assert db.session.scalar(select(Congress).filter_by(join_code="TEST26")) is not None


def test_demo_info_prints_every_screen_once_and_each_address_works(runner, app, client):
    # A new user runs `make run` and should never have to guess a URL (issue 14).
    assert runner.invoke(args=["load-demo", "--no-sort"]).exit_code == 0
    output = runner.invoke(args=["demo-info", "--base-url", "http://localhost"]).output
    urls = [line.split(" : ", 1)[1].split("  (")[0].strip()
            for line in output.splitlines() if " : http://localhost" in line]
    assert len(urls) == len(set(urls)) >= 15, output  # each screen once
    for needed in ("/animation/redaction", "/animation/scrutins", "/animation/presence",
                   "/c/RURAL26/vote", "/projecteur/RURAL26/vote"):
        assert any(url.endswith(needed) for url in urls), needed
    for url in urls:  # every address exists (staff ones ask for a login first)
        status = client.get(url.removeprefix("http://localhost")).status_code
        unpublished = "/motion/" in url  # 404 until the motion is published
        assert status in (200, 302, 403) or (unpublished and status == 404), (url, status)
