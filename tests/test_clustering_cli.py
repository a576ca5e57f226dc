"""The `python -m deliberation classify` contract, run as a subprocess like our evaluation does."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["id", "theme", "alt_theme", "confidence", "cluster"]
THEMES = {"name": "Test", "themes": [
    {"code": "mobilite", "order": 1, "title": "Mobilités du quotidien",
     "description": "Transports en commun, bus, train, vélo, covoiturage.",
     "subpoints": ["Des bus plus fréquents"],
     "keywords": ["bus", "train", "gare", "vélo", "covoiturage", "route"]},
    {"code": "culture", "order": 2, "title": "Culture et patrimoine",
     "description": "Bibliothèques, musées, festivals, patrimoine.",
     "subpoints": ["Ouvrir la médiathèque le dimanche"],
     "keywords": ["bibliothèque", "médiathèque", "musée", "festival", "concert", "église"]},
]}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "MOTION_CACHE_DIR": str(cache), "PYTHONWARNINGS": "error"}


@pytest.fixture()
def themes_file(tmp_path):
    path = tmp_path / "themes.json"
    path.write_text(json.dumps(THEMES, ensure_ascii=False), encoding="utf-8")
    return path


def classify(env, *args):
    return subprocess.run([sys.executable, "-m", "deliberation", "classify", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_output_columns_order_and_values(env, tmp_path, themes_file):
    src = write(tmp_path / "in.csv",
                "id,text,author\n"
                "z9,Plus de bus le matin pour aller à la gare,a\n"
                "a1,\"Ouvrir la médiathèque le dimanche, enfin\",b\n"
                "m5,Il faut plus de bus le matin vers la gare,c\n")
    done = classify(env, src, "--themes", themes_file)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["z9", "a1", "m5"]
    for _, theme, alt, confidence, cluster in rows[1:]:
        assert theme in {"mobilite", "culture", "hors_theme"}
        assert alt in {"", "mobilite", "culture"} and alt != theme
        assert 0.0 <= float(confidence) <= 1.0 and len(confidence.split(".")[1]) == 3
        assert cluster
    assert rows[1][1] == "mobilite" and rows[2][1] == "culture"
    assert rows[1][4] == rows[3][4] != rows[2][4]


def test_confirmed_labels_are_used(env, tmp_path, themes_file):
    src = write(tmp_path / "in.csv", "id,text\n1,La navette du samedi\n2,Une navette le samedi\n")
    conf = write(tmp_path / "conf.csv", "id,text,theme\n1,La navette du samedi,culture\n"
                 "x,Le car du marché,culture\n")
    done = classify(env, src, "--themes", themes_file, "--confirmed", conf)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows[0]["theme"] == "culture" and rows[0]["confidence"] == "1.000"


def test_header_only_gives_header_only(env, tmp_path, themes_file):
    done = classify(env, write(tmp_path / "in.csv", "id,text\n"), "--themes", themes_file)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [",".join(HEADER)]


BAD_INPUTS = {
    "missing_column": ("in", "id,texte\n1,bonjour\n"),
    "empty_text": ("in", "id,text\n1,bonjour\n2,   \n"),
    "not_utf8": ("in", "id,text\n1,caf\xe9 cr\xe8me\n".encode("latin-1")),
    "unreadable": ("in", None),
    "bad_themes": ("themes", "{\"themes\": []}"),
    "confirmed_unknown_theme": ("confirmed", "id,text,theme\n1,bonjour,inconnu\n"),
    "confirmed_missing_column": ("confirmed", "id,text\n1,bonjour\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_a_message(env, tmp_path, themes_file, case):
    which, content = BAD_INPUTS[case]
    src = write(tmp_path / "in.csv", "id,text\n1,Des bus\n")
    args = [src, "--themes", themes_file]
    if which == "in":
        src = tmp_path / "absent.csv" if content is None else write(src, content)
        args[0] = src
    elif which == "themes":
        args[2] = write(tmp_path / "bad.json", content)
    else:
        args += ["--confirmed", write(tmp_path / "conf.csv", content)]
    done = classify(env, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() and "Traceback" not in done.stderr
