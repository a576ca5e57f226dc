"""The sorting report (issue 18): a congress whose corrections are known, made through
the corrections functions, gives exactly the figures those corrections imply."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from deliberation import contributions as contrib
from deliberation import corrections, sorting, sorting_report
from deliberation.extensions import db
from deliberation.models import OFF_TOPIC, Cluster, Contribution, SortRun

from .conftest import login, text_of, theme
from .debate import build

# One idea per line: the engine's first theme, whether it put the idea in the
# « à vérifier » queue, and what the facilitator did (None: nothing yet).
SCENARIO = [
    ("acces", False, ("confirm",)),
    ("acces", True, ("move", "formation")),
    ("formation", False, ("move", "donnees")),
    ("donnees", True, ("confirm",)),
    (OFF_TOPIC, True, ("move", "acces")),
    ("acces", True, None),
    ("formation", False, ("move", "acces", "formation")),  # moved, then moved back
    ("donnees", False, None),
]


def _idea(congress, n: int, machine: str | None, review: bool, cluster=None) -> Contribution:
    """An idea as the engine leaves it after its first proposal."""
    placed = None if machine in (None, OFF_TOPIC) else theme(congress, machine)
    idea = Contribution(congress_id=congress.id, text=f"Idée numéro {n}",
                        speaker_name=f"Orateur {n}", theme_id=placed.id if placed else None,
                        off_topic=machine == OFF_TOPIC, confidence=0.4 if review else 0.8,
                        review_rank=n if review else None, cluster_id=cluster)
    sorting.remember_proposal(idea, machine, review)
    db.session.add(idea)
    db.session.flush()
    return idea


@pytest.fixture
def known(congress, facilitator):
    """The scenario above, plus recurring points merged, split and renamed; an idea
    imported with its theme (no machine proposal) and a hidden one, both left out."""
    congress.phase = "debate"
    points = {}
    for key in ("p1", "p2", "p3", "p4"):
        points[key] = Cluster(congress_id=congress.id, theme_id=theme(congress, "acces").id,
                              key=key, label=key, statement=f"Point {key}.", size=0)
        db.session.add(points[key])
    db.session.flush()
    ideas = [_idea(congress, n, machine, review) for n, (machine, review, _) in
             enumerate(SCENARIO)]
    ideas[0].cluster_id = points["p1"].id
    extra = [_idea(congress, 20 + n, "acces", False, points[key].id)
             for n, key in enumerate(("p3", "p4", "p2"))]
    imported = Contribution(congress_id=congress.id, text="Importée", speaker_name="X",
                            theme_id=theme(congress, "donnees").id, confirmed=True)
    hidden = _idea(congress, 30, "acces", True)
    db.session.add(imported)
    db.session.commit()
    corrections.hide(congress, facilitator, hidden.id)
    for idea, (_, _, action) in zip(ideas, SCENARIO, strict=True):
        if action is None:
            continue
        if action[0] == "confirm":
            corrections.confirm(congress, facilitator, idea.id)
        for target in action[1:]:
            corrections.move(congress, facilitator, idea.id, theme=target)
    corrections.move(congress, facilitator, ideas[0].id, cluster="p2")  # a point, same theme
    corrections.merge_points(congress, facilitator, "p2", ["p3", "p4"])
    corrections.split_point(congress, facilitator, "p2", [extra[0].id], "Zones blanches")
    corrections.rename_point(congress, facilitator, "p1", "La fibre partout")
    corrections.rename_point(congress, facilitator, "p1", "La fibre dans chaque hameau")
    corrections.rename_point(congress, facilitator, "p2", "Des antennes")
    corrections.rename_point(congress, facilitator, "p4", "")  # back to the machine's
    corrections.set_granularity(congress, facilitator, "acces", 1)
    db.session.commit()
    return congress


def test_the_figures_are_those_of_the_known_corrections(known):
    report = sorting_report.build(known)
    checked = [(m, r, a) for m, r, a in SCENARIO if a is not None]
    final = {i: (a[-1] if a[0] == "move" else m) for i, (m, r, a) in enumerate(SCENARIO)
             if a is not None}
    right = [i for i, f in final.items() if f == SCENARIO[i][0]]
    wrong = [i for i in final if i not in right]
    assert report.proposed == len(SCENARIO) + 3  # the three ideas of the merged points
    assert report.checked == len(checked) == len(final)
    assert report.right == len(right) and report.wrong == len(wrong)
    assert report.right_share == round(100 * len(right) / len(final), 1)
    flagged = [i for i, (_, review, _) in enumerate(SCENARIO) if review]
    assert report.queue_size == len(flagged)
    assert report.queue_checked == len([i for i in flagged if i in final])
    assert report.queue_waiting == len([i for i in flagged if i not in final])
    assert report.queue_caught == len([i for i in wrong if i in flagged])
    assert report.queue_missed == len([i for i in wrong if i not in flagged])
    assert report.queue_false_alarms == len([i for i in right if i in flagged])
    assert report.queue_recall == round(100 * report.queue_caught / len(wrong), 1)
    # the confusion table: one idea per (first proposal, final theme) of the scenario
    expected = {}
    for i, theme_code in final.items():
        key = (SCENARIO[i][0], theme_code)
        expected[key] = expected.get(key, 0) + 1
    cells = {(row, col): n for row, line in report.confusion.items()
             for col, n in line.items() if n}
    assert cells == expected
    assert sum(cells.values()) == report.checked
    # the moves of the audit log: each theme change, and the move into another point
    moves = [(SCENARIO[i][0] if step == 1 else a[step - 1], a[step])
             for i, (_, _, a) in enumerate(SCENARIO) if a and a[0] == "move"
             for step in range(1, len(a))]
    assert report.moves == len(moves) + 1
    found = {(c.before, c.after, c.within_theme): c.count for c in report.corrections}
    for pair in set(moves):
        assert found[(*pair, False)] == moves.count(pair)
    assert found[("acces", "acces", True)] == 1
    assert report.corrections[0].count == max(moves.count(p) for p in moves)
    assert (report.merges, report.points_merged, report.splits) == (1, 2, 1)
    assert report.points_renamed == 2  # p1 (twice) and p2; p4's empty name restores
    assert report.granularity_changes == 1
    assert report.runs == 0


def test_the_page_and_its_downloads_show_the_same_report(client, known, facilitator):
    login(client, facilitator)
    report = sorting_report.build(known)
    page = client.get("/animation/qualite-du-tri/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'data-report="checked">{report.checked}<' in text
    assert f'data-report="caught">{report.queue_caught}<' in text
    assert 'data-cell="acces:formation">' in text
    assert "Égalité d'accès" in text_of(page)
    as_json = client.get("/animation/qualite-du-tri/rapport.json")
    assert as_json.status_code == 200
    data = json.loads(as_json.get_data(as_text=True))
    assert data["congress"] == "TEST26"
    assert data["checked"] == report.checked and data["confusion"] == report.confusion
    as_csv = client.get("/animation/qualite-du-tri/rapport.csv")
    assert as_csv.status_code == 200 and "attachment" in as_csv.headers["Content-Disposition"]
    body = as_csv.get_data(as_text=True).lstrip("\ufeff")
    dialect = csv.Sniffer().sniff(body.splitlines()[0], delimiters=",;")
    rows = list(csv.reader(io.StringIO(body), dialect))
    assert rows[0][0] == "rubrique"
    confusion = [r for r in rows if r[0] == "confusion" and r[4] not in ("0", "")]
    assert sum(int(r[4]) for r in confusion) == report.checked
    assert ["placement", "Idées vérifiées par l'animation", "", "", str(report.checked)] in rows


def test_the_releve_has_a_section_on_the_sorting(client, known):
    page = client.get("/motion/TEST26/releve")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Le tri automatique" in text and 'data-cell="acces:formation">' in text


def test_only_the_facilitator_reads_the_page(client, known, scribe):
    assert client.get("/animation/qualite-du-tri/").status_code in (302, 401, 403)
    login(client, scribe)
    assert client.get("/animation/qualite-du-tri/rapport.json").status_code in (302, 403)


def test_an_empty_congress_has_an_empty_report(client, congress, facilitator):
    report = sorting_report.build(congress)
    assert (report.proposed, report.checked, report.right_share) == (0, 0, None)
    login(client, facilitator)
    congress.phase = "debate"
    db.session.commit()
    page = client.get("/animation/qualite-du-tri/")
    assert page.status_code == 200 and "au premier tri" in page.get_data(as_text=True)


def test_the_engine_keeps_its_first_proposal_across_corrections_and_refits(congress):
    debate = build(congress)
    codes = {t.code for t in congress.themes} | {OFF_TOPIC}
    for idea in map(debate.idea, range(len(debate.ideas))):
        # placed live as it came, then by the refit: the first proposal stays
        assert idea.machine_theme in codes
        assert idea.machine_review or idea.review_rank is None  # once shown, remembered
    first = debate.idea(9).machine_theme
    target = next(code for code in ("acces", "formation") if code != first)
    corrections.move(debate.congress, None, debate.ideas[9], theme=target)
    db.session.commit()
    sorting.refit(congress.id)
    db.session.expire_all()
    assert debate.idea(9).machine_theme == first and debate.idea(9).theme.code == target
    live, _ = contrib.create(congress, "La fibre optique dans chaque village du Cantal.",
                             speaker_name="Oratrice", channel="live")
    db.session.commit()
    assert live.machine_theme == (live.theme.code if live.theme else OFF_TOPIC)
    report = sorting_report.build(congress)
    assert report.runs == len(db.session.scalars(select(SortRun.id).filter_by(
        congress_id=congress.id)).all()) >= 2
    assert report.checked == 1 and report.wrong == 1
