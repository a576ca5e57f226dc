"""How well the machine sorted a congress: the facilitator's checks set against the
engine's first proposals (issue 18).

Every figure is read from what is stored, never typed in: the engine's first proposal
for each idea (`Contribution.machine_theme` and `machine_review`, kept by
`sorting.remember_proposal`), the ideas' current state (`confirmed`, theme, confidence),
the audit log of the corrections (`correction.move`, `correction.merge`,
`correction.split`, `correction.rename`, `correction.granularity`, written by
corrections.py) and the stored sort runs.

Definitions, so that the association can compare congresses:

- an idea is *checked* when the facilitator confirmed it or moved it (`confirmed`,
  which both set) and the engine had proposed a theme for it first;
- it was *placed right at first* when its theme now is the engine's first proposal;
- the *confusion table* counts checked ideas by first proposal (rows) and final theme
  (columns);
- the *« à vérifier » queue* is every idea the engine put in it before anyone checked
  it; it *caught* an error when a wrongly placed idea was among them, it *missed* one
  otherwise;
- the *most frequent corrections* are the facilitator's moves in the audit log, grouped
  by (theme before, theme after); a move inside a theme, into another recurring point,
  is a correction too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from .csv_io import write_rows
from .extensions import db
from .models import OFF_TOPIC, SORTED_STATUSES, AuditEvent, Congress, Contribution, SortRun

OFF_TOPIC_LABEL = "Hors thème"
#: A move's « before » when the idea had no theme yet (never sorted).
UNSORTED, UNSORTED_LABEL = "non_classe", "Non classée"
TOP_CORRECTIONS = 10


@dataclass
class Correction:
    """One kind of move, how often the facilitator made it."""

    before: str
    after: str
    before_label: str
    after_label: str
    count: int
    #: True for a move into another recurring point of the same theme.
    within_theme: bool = False


@dataclass
class Report:
    """The sorting report of one congress (codes for machines, labels for people)."""

    runs: int = 0
    last_run_at: str | None = None
    last_run_contributions: int = 0
    proposed: int = 0
    checked: int = 0
    right: int = 0
    wrong: int = 0
    right_share: float | None = None
    confirmed_unchanged: int = 0
    mean_confidence_right: float | None = None
    mean_confidence_wrong: float | None = None
    themes: list[dict[str, str]] = field(default_factory=list)
    #: confusion[machine code][final code] = ideas.
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    moves: int = 0
    queue_size: int = 0
    queue_checked: int = 0
    queue_waiting: int = 0
    queue_caught: int = 0
    queue_missed: int = 0
    queue_false_alarms: int = 0
    queue_recall: float | None = None
    merges: int = 0
    points_merged: int = 0
    splits: int = 0
    points_renamed: int = 0
    granularity_changes: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _final_theme(theme_code: str | None, off_topic: bool) -> str | None:
    if theme_code is not None:
        return theme_code
    return OFF_TOPIC if off_topic else None


def build(congress: Congress) -> Report:
    """The report of `congress`, from its stored runs, ideas and audit log (reads only)."""
    labels = {t.code: t.short_title for t in congress.themes}
    labels[OFF_TOPIC] = OFF_TOPIC_LABEL
    labels[UNSORTED] = UNSORTED_LABEL
    codes = [t.code for t in congress.themes] + [OFF_TOPIC]
    report = Report(themes=[{"code": code, "label": labels[code]} for code in codes])

    runs = db.session.execute(
        select(func.count(SortRun.id), func.max(SortRun.id)).filter_by(congress_id=congress.id)
    ).one()
    report.runs = runs[0] or 0
    if runs[1] is not None:
        last = db.session.execute(select(SortRun.finished_at, SortRun.started_at,
                                         SortRun.n_contributions).filter_by(id=runs[1])).one()
        when = last.finished_at or last.started_at
        report.last_run_at = when.isoformat(timespec="minutes") if when else None
        report.last_run_contributions = last.n_contributions or 0

    theme_codes = {t.id: t.code for t in congress.themes}
    report.confusion = {row: {column: 0 for column in codes} for row in codes}
    right_confidence: list[float] = []
    wrong_confidence: list[float] = []
    for (machine, review, confirmed, theme_id, off_topic, confidence) in db.session.execute(
            select(Contribution.machine_theme, Contribution.machine_review,
                   Contribution.confirmed, Contribution.theme_id, Contribution.off_topic,
                   Contribution.confidence)
            .filter_by(congress_id=congress.id)
            .where(Contribution.status.in_(SORTED_STATUSES),
                   Contribution.machine_theme.is_not(None))):
        report.proposed += 1
        if review:
            report.queue_size += 1
        if not confirmed:
            report.queue_waiting += bool(review)
            continue
        final = _final_theme(theme_codes.get(theme_id), off_topic)
        if final is None:
            continue
        report.checked += 1
        report.queue_checked += bool(review)
        good = final == machine
        if good:
            report.right += 1
            report.queue_false_alarms += bool(review)
        else:
            report.wrong += 1
            if review:
                report.queue_caught += 1
            else:
                report.queue_missed += 1
        if confidence is not None:
            (right_confidence if good else wrong_confidence).append(confidence)
        if machine in report.confusion and final in report.confusion[machine]:
            report.confusion[machine][final] += 1
    report.right_share = _share(report.right, report.checked)
    report.queue_recall = _share(report.queue_caught, report.wrong)
    report.mean_confidence_right = _mean(right_confidence)
    report.mean_confidence_wrong = _mean(wrong_confidence)
    _read_audit(congress, report, labels)
    return report


def _read_audit(congress: Congress, report: Report, labels: dict[str, str]) -> None:
    """Moves, merges, splits, renames and grain changes, from the audit log."""
    moves: Counter[tuple[str, str, bool]] = Counter()
    renamed: set[str] = set()
    for action, payload in db.session.execute(
            select(AuditEvent.action, AuditEvent.payload)
            .filter_by(congress_id=congress.id)
            .where(AuditEvent.action.in_(("correction.move", "correction.merge",
                                          "correction.split", "correction.rename",
                                          "correction.granularity")))
            .order_by(AuditEvent.id)):
        payload = payload or {}
        if action == "correction.move":
            before = (payload.get("before") or {})
            after = (payload.get("after") or {})
            old, new = before.get("theme") or UNSORTED, after.get("theme") or UNSORTED
            if old != new:
                moves[(old, new, False)] += 1
            elif before.get("cluster") != after.get("cluster"):
                moves[(old, new, True)] += 1
        elif action == "correction.merge":
            report.merges += 1
            report.points_merged += len(payload.get("sources") or ())
        elif action == "correction.split":
            report.splits += 1
        elif action == "correction.rename":
            if payload.get("label"):
                renamed.add(str(payload.get("cluster")))
        else:
            report.granularity_changes += 1
    report.moves = sum(moves.values())
    report.points_renamed = len(renamed)
    ordered = sorted(moves.items(), key=lambda item: (-item[1], item[0]))
    report.corrections = [
        Correction(before=old, after=new, before_label=labels.get(old, old),
                   after_label=labels.get(new, new), count=count, within_theme=within)
        for (old, new, within), count in ordered[:TOP_CORRECTIONS]]


def as_csv(report: Report) -> str:
    """The report as one table (French spreadsheet format by default, see csv_io): one
    row per figure, per cell of the confusion table and per frequent correction."""
    summary = [
        ("tris", "Tris effectués", report.runs),
        ("tris", "Idées triées par le dernier tri", report.last_run_contributions),
        ("placement", "Idées dont le thème a été proposé par la machine", report.proposed),
        ("placement", "Idées vérifiées par l'animation", report.checked),
        ("placement", "Bien placées dès le premier tri", report.right),
        ("placement", "Déplacées par l'animation", report.wrong),
        ("placement", "Part bien placée (%)", report.right_share),
        ("placement", "Confiance moyenne des idées bien placées", report.mean_confidence_right),
        ("placement", "Confiance moyenne des idées mal placées", report.mean_confidence_wrong),
        ("à vérifier", "Idées présentées par la file", report.queue_size),
        ("à vérifier", "Dont vérifiées", report.queue_checked),
        ("à vérifier", "Dont en attente", report.queue_waiting),
        ("à vérifier", "Erreurs repérées par la file", report.queue_caught),
        ("à vérifier", "Erreurs hors de la file", report.queue_missed),
        ("à vérifier", "Bien placées malgré le signalement", report.queue_false_alarms),
        ("à vérifier", "Part des erreurs repérées (%)", report.queue_recall),
        ("points", "Fusions", report.merges),
        ("points", "Points fusionnés dans un autre", report.points_merged),
        ("points", "Points séparés", report.splits),
        ("points", "Points renommés", report.points_renamed),
        ("points", "Réglages du grain", report.granularity_changes),
    ]
    labels = {t["code"]: t["label"] for t in report.themes}
    rows: list[tuple[object, ...]] = [(section, name, "", "", "" if value is None else value)
                                      for section, name, value in summary]
    for machine, line in report.confusion.items():
        for final, count in line.items():
            rows.append(("confusion", "Idées vérifiées", labels[machine], labels[final], count))
    for correction in report.corrections:
        name = ("Changement de point dans le thème" if correction.within_theme
                else "Changement de thème")
        rows.append(("corrections", name, correction.before_label, correction.after_label,
                     correction.count))
    return write_rows(("rubrique", "indicateur", "thème proposé par la machine",
                       "thème retenu par l'animation", "valeur"), rows)
