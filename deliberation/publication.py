"""The adopted motion in public: its page, its exports, the results and the « relevé des idées ».

The motion is public once the ballot on the whole text is published (before
that, a French « pas encore publiée » page and no export). Each article shows
its vote results (from `ballots.results`) and its traceability: how many
contributions it draws on, from how many communes and departments, the rural
share, online and live.

Rural rule: a commune of fewer than 2,000 inhabitants counts as rural. It is the
historical INSEE threshold of the « unité urbaine » (a commune is urban when it
belongs to a built-up area of at least 2,000 inhabitants); INSEE's newer density
grid would need data we do not collect. We know the population of an official's
commune when they gave it; contributions and officials whose population is not
known are counted apart (« inconnue ») and left out of the rural share.

Exports: Markdown, standalone HTML (the document CSS inlined, no script, no
external URL), PDF (WeasyPrint renders that same standalone HTML), full results
as CSV and JSON (published ballots only).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from . import audit, ballots, drafting, formats
from .clustering.typography import french, french_markdown
from .csv_io import SPREADSHEETS, Variant, write_rows
from .extensions import db
from .models import (
    Article,
    ArticleSource,
    Ballot,
    Cluster,
    Congress,
    Contribution,
    Participant,
)
from .queries import counts
from .rendering import export_markdown, french_date, render_motion_text, sanitise

RURAL_MAX_POPULATION = 2000  # fewer than 2,000 inhabitants: rural (INSEE « unité urbaine »)
SHOWN_STATUSES = drafting.SOURCE_STATUSES
KIND_LABELS = {"text": "Ensemble du texte", "article": "Article", "amendment": "Amendement"}
CHOICE_LABELS = {"pour": "Pour", "contre": "Contre", "abstention": "Abstention"}
CSS_FILE = Path(__file__).resolve().parent.parent / "static" / "css" / "print.css"


# --- traceability ------------------------------------------------------------------------

@dataclass(frozen=True)
class Origin:
    """Where one contribution came from, as traceability needs it."""

    channel: str
    commune: str = ""
    department: str = ""
    population: int | None = None


def is_rural(population: int | None) -> bool | None:
    """True below 2,000 inhabitants, False from 2,000, None when unknown."""
    if population is None:
        return None
    return population < RURAL_MAX_POPULATION


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def traceability(origins: Iterable[Origin]) -> dict[str, Any]:
    """Counts over contributions: communes, departments, rural share, online and live."""
    origins = list(origins)
    communes = {(o.commune.casefold().strip(), o.department) for o in origins
                if o.commune.strip()}
    departments = {o.department for o in origins if o.department}
    kinds = Counter(is_rural(o.population) for o in origins)
    known = kinds[True] + kinds[False]
    channels = Counter(o.channel for o in origins)
    return {
        "contributions": len(origins),
        "communes": len(communes),
        "departments": len(departments),
        "rural": kinds[True],
        "urban": kinds[False],
        "unknown": kinds[None],
        "rural_share": _percent(kinds[True], known),
        "online": channels.get("online", 0),
        "live": channels.get("live", 0),
    }


def origins(contribution_ids: Iterable[int] | None = None, *,
            article: Article | None = None, congress: Congress | None = None) -> list[Origin]:
    """Origins of an article's sources, or of every shown contribution of a congress."""
    query = (select(Contribution.channel, Contribution.speaker_commune, Participant.commune,
                    Participant.department_code, Participant.population)
             .outerjoin(Participant, Participant.id == Contribution.author_id)
             .where(Contribution.status.in_(SHOWN_STATUSES)))
    if article is not None:
        query = query.join(ArticleSource, ArticleSource.contribution_id == Contribution.id) \
            .where(ArticleSource.article_id == article.id)
    if congress is not None:
        query = query.where(Contribution.congress_id == congress.id)
    if contribution_ids is not None:
        query = query.where(Contribution.id.in_(list(contribution_ids)))
    return [Origin(channel=r.channel, commune=(r.commune or r.speaker_commune or ""),
                   department=r.department_code or "", population=r.population)
            for r in db.session.execute(query)]


# --- ballots and results ------------------------------------------------------------------

def text_ballot(congress: Congress, published_only: bool = True) -> Ballot | None:
    """The latest ballot on the whole text (published only, by default)."""
    query = select(Ballot).filter_by(congress_id=congress.id, article_id=None,
                                     amendment_id=None).order_by(Ballot.id.desc())
    if published_only:
        query = query.filter_by(state="published")
    return db.session.scalars(query).first()


def outcome(ballot: Ballot) -> dict[str, Any]:
    return ballots.results(ballot)


def published_ballots(congress: Congress) -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).filter_by(congress_id=congress.id,
                                                            state="published")
                                   .order_by(Ballot.id)))


# --- the document: the motion as plain data, what a publication freezes --------------------

DOCUMENT_FORMAT = 1


def document(congress: Congress) -> dict[str, Any]:
    """The motion as the drafting and ballot tables hold it now, as plain JSON data: what
    the staff preview shows, and what a publication freezes (`Publication.document`).

    Each article keeps its Markdown as typed, the HTML rendered from it and the Markdown
    that motion.md prints, so a published copy never depends on the live tables, nor on a
    later change of the renderer.

    An article nobody drafted is left out (a reader would see « vide » under a heading),
    and its label listed under `omitted`: the others keep the numbers they were voted
    under, so « Article 4 » of a result is « Article 4 » of the text.
    """
    drafting.settle_all(congress)
    db.session.commit()
    motion = drafting.motion_for(congress)
    db.session.commit()
    items = drafting.articles(congress)
    names = drafting.labels(items)
    published = published_ballots(congress)
    articles, omitted = [], []
    all_sources: set[int] = set()
    for article in items:
        if is_empty(article):
            omitted.append(names[article.id])
            continue
        ids = [c.id for c in drafting.sources(article)]
        all_sources.update(ids)
        article_ballots = [b for b in published if b.article_id == article.id
                           and b.amendment_id is None]
        ballot = article_ballots[-1] if article_ballots else None
        amendments = []
        for amendment in drafting.amendments(congress, article=article):
            if amendment.state not in ("accepted", "adopted", "put_to_vote", "rejected"):
                continue
            b = drafting.ballot_of(amendment)
            shown = b if b is not None and b.state == "published" else None
            if amendment.state == "rejected" and shown is None:
                continue  # rejected by the facilitator without a vote: not part of the record
            amendments.append({
                "id": amendment.id, "state": amendment.state,
                "state_label": amendment.state_label,
                "author": amendment.author.display_name if amendment.author else None,
                "ballot": shown.id if shown else None,
                "results": outcome(shown) if shown else None})
        articles.append({
            "id": article.id, "kind": article.kind, "label": names[article.id],
            "title": article.title, **article_text(article.body_md),
            "trace": traceability(origins(article=article)),
            "ballot": ballot.id if ballot else None,
            "results": outcome(ballot) if ballot else None,
            "amendments": amendments})
    whole = text_ballot(congress)
    results = outcome(whole) if whole else None
    return {
        "format": DOCUMENT_FORMAT,
        "title": motion.title,
        "congress": _congress_data(congress),
        "articles": articles,
        "omitted": omitted,
        "ballot": whole.id if whole else None,
        "results": results,
        # A rejected text is published as such, never under its own « adoptent » (issue 14).
        "rejected": bool(results) and not results.get("adopted"),
        "anchor": audit.published_anchor(whole.id) if whole else None,
        "trace": traceability(origins(all_sources)) if all_sources else traceability([]),
        "rural_max": RURAL_MAX_POPULATION,
        "ballots": ballot_rows(congress),
    }


def is_empty(article: Article) -> bool:
    """An article with no text: it does not appear in the published motion."""
    return not (article.body_md or "").strip()


def empty_labels(congress: Congress) -> list[str]:
    """« Article 2 », « Article 5 »…: the articles that the motion would leave out now."""
    items = drafting.articles(congress)
    names = drafting.labels(items)
    return [names[a.id] for a in items if is_empty(a)]


def omitted_sentence(labels: list[str]) -> str:
    """Why the published numbering has gaps: « Sans texte, non repris … : Article 2 et … »."""
    if not labels:
        return ""
    listed = labels[0] if len(labels) == 1 else \
        ", ".join(labels[:-1]) + " et " + labels[-1]
    return french(f"Sans texte, non repris dans la motion : {listed}. Les autres articles "
                  "gardent le numéro sous lequel ils ont été votés.")


def article_text(body_md: str | None) -> dict[str, str]:
    """An article's text three ways: as typed, as HTML (sanitised) and as motion.md prints it."""
    body = body_md or ""
    return {"body_md": body, "html": str(render_motion_text(body)),
            "markdown": french_markdown(export_markdown(body.strip()))}


def _congress_data(congress: Congress) -> dict[str, Any]:
    return {"code": congress.join_code, "title": congress.title, "place": congress.place,
            "dates": formats.date_range(congress.starts_on, congress.ends_on)}


def template_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the templates read it: each article's stored HTML marked safe, once
    more through the sanitiser (it comes back from the database)."""
    return {**doc, "articles": [{**a, "html": sanitise(a.get("html", ""))}
                                for a in doc.get("articles", ())],
            "rejected_notice": REJECTED_NOTICE}


def motion_view(congress: Congress) -> dict[str, Any]:
    """The staff preview: the motion as it would be published now (live tables)."""
    return {"congress": congress, "doc": template_view(document(congress)), "version": None,
            "history": [], **page_helpers()}


def ballot_rows(congress: Congress) -> list[dict[str, Any]]:
    """Every published ballot with its full results, in the motion's order."""
    names = drafting.labels(drafting.articles(congress))
    order = {aid: i for i, aid in enumerate(names)}
    rows = []
    for ballot in published_ballots(congress):
        r = outcome(ballot)
        rows.append({
            "id": ballot.id,
            "kind": ballot.kind,
            "kind_label": KIND_LABELS.get(ballot.kind, ballot.kind),
            "title": ballot.title,
            "article": names.get(ballot.article_id) if ballot.article_id else None,
            "article_id": ballot.article_id,
            "amendment": ballot.amendment_id,
            "secret": ballot.secret,
            "majority": ballot.majority,
            "quorum": ballot.quorum,
            "opened_at": _iso(ballot.opened_at),
            "closed_at": _iso(ballot.closed_at),
            "published_at": _iso(ballot.published_at),
            "counts": r.get("counts", {}),
            "eligible": r.get("eligible"),
            "voters": r.get("voters", r.get("cast")),
            "cast": r.get("cast"),
            "expressed": r.get("expressed"),
            "participation": r.get("participation"),
            "percent_expressed": r.get("percent_expressed", {}),
            "percent_cast": r.get("percent_cast", {}),
            "quorum_reached": r.get("quorum_reached"),
            "adopted": bool(r.get("adopted")),
            "outcome": r.get("outcome"),
            "reason": r.get("reason"),
            # issue 18: counts above are the sum; its electronic and room parts
            "electronic": (r.get("electronic") or {}).get("counts", r.get("counts", {})),
            "room": r.get("room"),
        })
    kinds = {"article": 0, "amendment": 0, "text": 1}
    rows.sort(key=lambda row: (kinds.get(row["kind"], 1),
                               order.get(row["article_id"], 10**6),
                               row["kind"] != "amendment", row["id"]))
    return rows


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


RESULT_COLUMNS = ("scrutin", "type", "objet", "article", "amendement", "secret", "majorite",
                  "quorum", "inscrits", "votants", "exprimes", "pour", "contre", "abstention",
                  "pour_pct", "contre_pct", "resultat", "motif", "clos_le", "publie_le",
                  "pour_salle", "contre_salle", "abstention_salle", "comptes_salle",
                  "methode_salle")


def results_csv(doc: dict[str, Any], form: Variant = SPREADSHEETS) -> str:
    """Every published result of a publication, one row per ballot; percentages stay
    numbers (decimal comma for spreadsheets, point for tools)."""
    def cells(row):
        c = row["counts"]
        return (row["id"], row["kind_label"], row["title"], row["article"] or "",
                row["amendment"] or "", "oui" if row["secret"] else "non", row["majority"],
                "" if row["quorum"] is None else row["quorum"], row["eligible"], row["voters"],
                row["expressed"], c.get("pour", 0), c.get("contre", 0), c.get("abstention", 0),
                row["percent_expressed"].get("pour", ""),
                row["percent_expressed"].get("contre", ""), row["outcome"], row["reason"],
                row["closed_at"] or "", row["published_at"] or "",
                *_room_cells(row.get("room")))

    return write_rows(RESULT_COLUMNS, (cells(r) for r in doc.get("ballots", ())), form)


def _room_cells(room: dict[str, Any] | None) -> tuple:
    """The room count's columns of a results row (empty without one)."""
    if not room:
        return ("", "", "", "", "")
    c = room["counts"]
    return (c["pour"], c["contre"], c["abstention"], room["people"], room["method_label"])


def results_json(doc: dict[str, Any], version: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every published result, and the audit log's anchor that `verify --against` reads
    (docs/api.md); `version`: which version of the motion this is."""
    data = {
        "congress": {key: doc["congress"][key] for key in ("code", "title", "place")},
        "motion": {"title": doc["title"], "published": True,
                   "adopted": bool(doc.get("results") and doc["results"].get("adopted"))},
        "ballots": doc.get("ballots", []),
        "audit": doc.get("anchor"),
    }
    if version:
        data["version"] = {"number": version["number"],
                           "published_at": _iso(version["published_at"]),
                           "reason": version["reason"] or None,
                           "latest": version["latest_number"]}
    return data


# --- exports ---------------------------------------------------------------------------

def trace_sentence(trace: dict[str, Any]) -> str:
    n = trace["contributions"]
    if not n:
        return "Aucune contribution liée."
    parts = [f"S'appuie sur {formats.plural(n, 'contribution')}",
             f"de {formats.plural(trace['communes'], 'commune')}",
             f"et {formats.plural(trace['departments'], 'département')}"]
    text = " ".join(parts)
    if trace["rural_share"] is not None:
        text += f" ; {_fr_number(trace['rural_share'])} % venues de communes rurales"
    text += f" ; {formats.number(trace['online'])} en ligne, " \
            f"{formats.number(trace['live'])} en séance."
    return text


def _fr_number(value) -> str:
    return formats.number(round(value, 1) if isinstance(value, float) else value)


def result_sentence(results: dict[str, Any] | None) -> str:
    """« Vote : 2 pour, 1 contre, 0 abstention — adopté. », French numbers."""
    if not results:
        return ""
    c = results.get("counts", {})
    return (f"Vote : {formats.number(c.get('pour', 0))} pour, "
            f"{formats.number(c.get('contre', 0))} contre, "
            f"{formats.plural(c.get('abstention', 0), 'abstention')} — "
            f"{results.get('outcome', '')}.")


REJECTED_NOTICE = ("Texte rejeté par le vote de l'assemblée : ce n'est pas une motion "
                   "adoptée. Il est publié pour mémoire, avec ses résultats.")
#: A correction fixes the text's wording; the votes stay those the room cast.
#: The instant the PDF's embedded fonts are stamped with (2026-01-01, UTC): any fixed one
#: makes a version print to the same bytes every time (`motion_pdf`).
REPRODUCIBLE_EPOCH = "1767225600"

RESULTS_KEPT = french("Une correction ne modifie pas les résultats : ce sont ceux des votes "
                      "du congrès.")
NOT_VOTED = french("Pas de vote séparé sur cet article : il a été voté avec l'ensemble du texte.")


def version_sentence(version: dict[str, Any]) -> str:
    """« Version 2 du 11 décembre 2026 à 15 h 02 », and the correction's reason."""
    text = f"Version {version['number']} du {french_date(version['published_at'])}"
    if version["reason"]:
        text += f" — correction : {version['reason'].rstrip('.')}"
    return french(text + ".")


def motion_markdown(view: dict[str, Any]) -> str:
    """motion.md: the published text and its results, from the publication's document."""
    doc, version = view["doc"], view.get("version")
    title = french(doc["title"])
    lines = [f"# Texte rejeté — {title}" if doc.get("rejected") else f"# {title}", ""]
    if doc.get("rejected"):
        lines += [f"> **{french(REJECTED_NOTICE)}**", ""]
    lines.append(_dates_line(doc["congress"]))
    if version:
        lines += ["", f"*{version_sentence(version)}*"]
        if version["number"] > 1:
            lines.append(f"*{RESULTS_KEPT}*")
    if doc.get("results"):
        lines += ["", f"**{result_sentence(doc['results'])}**"]
    if doc.get("omitted"):
        lines += ["", f"*{omitted_sentence(doc['omitted'])}*"]
    for item in doc["articles"]:
        heading = item["label"] if item["kind"] == "preamble" else \
            f"{item['label']} — {french(item['title'])}"
        lines += ["", f"## {heading}", "", item["markdown"]]
        if item["results"]:
            lines += ["", f"*{result_sentence(item['results'])}*"]
        elif item["kind"] != "preamble" and doc.get("results"):
            lines += ["", f"*{NOT_VOTED}*"]
        for amendment in item["amendments"]:
            if amendment["results"]:
                lines += ["", f"*Amendement n° {amendment['id']} : "
                              f"{result_sentence(amendment['results'])}*"]
            elif amendment["state"] == "accepted":
                lines += ["", f"*Amendement n° {amendment['id']} intégré par l'animation.*"]
        if item["kind"] != "preamble":
            lines += ["", f"*{trace_sentence(item['trace'])}*"]
    lines += ["", "---", "", f"*{trace_sentence(doc['trace'])}*",
              f"*Commune rurale : moins de {formats.number(doc['rural_max'])} habitants "
              "(seuil INSEE).*"]
    if doc.get("anchor"):
        lines.append(f"*{anchor_sentence(doc['anchor'])}*")
    return "\n".join([*lines, ""])


def anchor_sentence(anchor: dict[str, Any]) -> str:
    """The published anchor of the audit log, in one French sentence."""
    n = anchor["entries"]
    return (f"Sceau du journal d'audit\u00a0: entrée n°\u00a0{anchor['entry']}, {n} "
            f"entrée{'s' if n > 1 else ''} jusqu'à la publication du vote sur l'ensemble du "
            f"texte, empreinte {anchor['hash']}.")


def _dates_line(congress: dict[str, Any]) -> str:
    return " — ".join(part for part in (congress["title"], congress.get("place"),
                                        congress.get("dates")) if part)


@lru_cache(maxsize=1)
def _css_cached(mtime: float) -> str:  # noqa: ARG001 - the key invalidates the cache
    return CSS_FILE.read_text(encoding="utf-8")


def document_css() -> str:
    """The document stylesheet, read from static/css/print.css (inlined in the exports)."""
    return _css_cached(CSS_FILE.stat().st_mtime)


def standalone_html(view: dict[str, Any]) -> str:
    """One self-contained HTML file: inline CSS, no script, no external URL."""
    return render_template("publication/standalone.html",
                           **{**page_helpers(), **view, "css": Markup(document_css())})


def page_helpers() -> dict[str, Any]:
    """The sentences the motion's templates print, as the exports print them."""
    return {"trace_sentence": trace_sentence, "result_sentence": result_sentence,
            "version_sentence": version_sentence, "results_kept": RESULTS_KEPT,
            "not_voted": NOT_VOTED,
            "omitted_sentence": omitted_sentence}


def motion_pdf(view: dict[str, Any]) -> bytes:
    """The standalone HTML printed to PDF by WeasyPrint (no network: no URL is fetched).

    The same version always prints to the same bytes (a journalist's checksum holds):
    fontTools, which subsets the fonts, stamps each subset with the time of the render
    unless SOURCE_DATE_EPOCH is set (reproducible-builds.org), so it is, once per
    process, to a fixed instant unless the operator chose one."""
    import weasyprint

    os.environ.setdefault("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)

    def no_fetch(url: str, *args, **kwargs):
        raise ValueError(f"ressource externe refusée : {url}")

    html = weasyprint.HTML(string=standalone_html(view), base_url=None, url_fetcher=no_fetch)
    return html.write_pdf()


# --- the relevé des idées --------------------------------------------------------------

def report(congress: Congress) -> dict[str, Any]:
    """Participation, contributions per theme and recurring points, for the report page.

    A recurring point is listed with its statement and the number of ideas behind it,
    largest first; a point of one idea is no recurring point, so the isolated ideas
    are only counted (« 42 propositions isolées »).
    """
    officials = list(db.session.execute(
        select(Participant.id, Participant.commune, Participant.department_code,
               Participant.population)
        .filter_by(congress_id=congress.id, role="participant")))
    contributors = db.session.scalar(
        select(func.count(func.distinct(Contribution.author_id)))
        .filter_by(congress_id=congress.id)
        .where(Contribution.status.in_(SHOWN_STATUSES), Contribution.author_id.is_not(None)))
    people = traceability(Origin(channel="", commune=o.commune or "",
                                 department=o.department_code or "", population=o.population)
                          for o in officials)
    ideas = traceability(origins(congress=congress))
    stats = counts(congress)
    themes = []
    for theme in congress.themes:
        points = drafting.draft_points(theme)
        themes.append({"theme": theme, "count": stats["by_theme"].get(theme.code, 0),
                       "points": [(p.sentence, p.size) for p in points],
                       "isolated": len(drafting.isolated_ideas(theme, points))})
    unsorted = stats["by_theme"].get("non_classe", 0)
    loose_points = []
    for cluster in db.session.scalars(
            select(Cluster).filter_by(congress_id=congress.id, theme_id=None)
            .where(Cluster.size > 1).order_by(Cluster.size.desc(), Cluster.id)):
        items = drafting.members(cluster)
        if len(items) > 1:
            loose_points.append((drafting.point_sentence(cluster, items), len(items)))
    return {
        "congress": congress,
        "officials": len(officials),
        "contributors": contributors or 0,
        "people": people,
        "ideas": ideas,
        "contributions": stats["contributions"],
        "by_channel": stats["by_channel"],
        "themes": themes,
        "unsorted": unsorted,
        "loose_points": sorted(loose_points, key=lambda p: -p[1]),
        "isolated": sum(t["isolated"] for t in themes),
        "rural_max": RURAL_MAX_POPULATION,
    }


def bars(items: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """Rows for a bar chart: label, value and the bar's width in % of the largest value."""
    items = list(items)
    top = max((v for _, v in items), default=0)
    return [{"label": label, "value": value,
             "width": round(100.0 * value / top, 1) if top else 0.0} for label, value in items]


# --- routes ------------------------------------------------------------------------------
