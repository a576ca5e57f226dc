"""Drafting the motion: article versions, the extractive draft, sources, diff and restore,
reordering, and amendments.

Data in, data out: the functions take database objects and the acting participant,
add what they change to the session and audit it; the caller commits, then pushes.
Bad input raises `InputError` (or `PhaseError`, `PermissionDenied`) with a French
message and changes nothing.

Rules chosen:

* The motion is a title, a preamble (always first) and one article per theme, in
  an order the facilitator sets. Every save of an article is a numbered version;
  restoring an old version saves it again as a new version, so nothing is lost.
* « Proposer un brouillon » writes each theme's article as one sentence per recurring
  point of two ideas or more: the point's statement (the facilitator's pinned one,
  else the engine's), normalised and set in French typography, ordered by the number
  of ideas behind it, then by their « +1 ». One Markdown list item per point, like the
  « points récurrents » of the seeds' relevés: each point stays a line of its own that
  the room can read, amend and vote, and no chapeau (« Les élus demandent que … »)
  forces the extracted sentences into a grammar they were not written in; the
  facilitator adds one by hand when wanted. Every idea of the points used is linked
  as an `ArticleSource` (origin « draft »).
* Which sentence stands for which point is found at display time, by matching the
  text's sentences with the points' statements and members (`trace_sentences`):
  no schema, and a sentence the facilitator retouched still finds its ideas.
* Isolated ideas (points of one) and off-theme ones are left out of the draft and
  offered under « Autres propositions »; « Ajouter au texte » appends one's sentence
  as a new version and links it.
* Typography is applied when a text is rendered (publication, previews), not when it
  is saved: versions, diffs and amendments compare what people typed.
* Amendments are received while the facilitator keeps the text open for them and
  the congress is in the drafting or vote phase. Only officials (role
  participant) propose them. The facilitator accepts (a new version, authored by
  the official), rejects, or puts it to a vote (a ballot through
  `ballots.put_to_vote`); an amendment whose ballot is closed is settled:
  adopted → applied as a new version, otherwise rejected.
* Once a ballot on an article (or on the whole text) has opened, that text is
  frozen for the facilitator: no more edits, drafts, restores or acceptances.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from . import audit
from .clustering.statements import choose_statement, normalise_statement
from .clustering.typography import french
from .contributions import clean_line, clean_text
from .errors import InputError, PermissionDenied, PhaseError, check_fields
from .extensions import db
from .models import (
    AMENDMENT_RATIONALE_MAX,
    AMENDMENT_TEXT_MAX,
    ARTICLE_BODY_MAX,
    Amendment,
    Article,
    ArticleSource,
    ArticleVersion,
    Ballot,
    Cluster,
    Congress,
    Contribution,
    Motion,
    Participant,
    Theme,
    is_row_id,
    utcnow,
)

#: Contributions an article may draw on (hidden and withdrawn ones never count).
SOURCE_STATUSES = ("visible", "duplicate")
AMENDMENT_PHASES = ("drafting", "vote")
#: Two sentences this similar (0–1) are the same sentence for the draft.
NEAR_DUPLICATE = 0.8
#: An official may have this many amendments waiting for a decision at once.
MAX_PENDING_AMENDMENTS = 20
FROZEN_STATES = ("open", "closed", "published")


# --- the motion and its articles ---------------------------------------------------

def _number(value) -> int:
    """A row id or version number typed in a form or URL; 0 for anything that names none
    (not ASCII digits, or past 64 bits: SQLite cannot even bind it)."""
    raw = str(value if value is not None else "").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() else 0
    return number if is_row_id(number) else 0


def _row(model, value):
    """The row of `model` with that id, or None."""
    number = _number(value)
    return db.session.get(model, number) if number else None


def motion_for(congress: Congress) -> Motion:
    """The congress's motion, created with a default title on first use."""
    motion = db.session.scalar(select(Motion).filter_by(congress_id=congress.id))
    if motion is None:
        motion = Motion(congress_id=congress.id, title=f"Motion — {congress.title}"[:300])
        db.session.add(motion)
        db.session.flush()
    return motion


def set_title(congress: Congress, raw: str | None, actor: Participant) -> Motion:
    title = clean_line(raw, limit=300, what="Le titre de la motion", required=True)
    motion = motion_for(congress)
    if title != motion.title:
        previous, motion.title = motion.title, title
        audit.record("motion.title", congress.id, actor.id, previous=previous, title=title)
    return motion


def set_amendments_open(congress: Congress, is_open: bool, actor: Participant) -> Motion:
    motion = motion_for(congress)
    if motion.amendments_open != bool(is_open):
        motion.amendments_open = bool(is_open)
        audit.record("motion.amendments", congress.id, actor.id, open=bool(is_open))
    return motion


def amendments_open(congress: Congress) -> bool:
    motion = db.session.scalar(select(Motion).filter_by(congress_id=congress.id))
    return bool(motion and motion.amendments_open and congress.phase in AMENDMENT_PHASES)


def articles(congress: Congress) -> list[Article]:
    """The motion's articles in reading order: the preamble, then the themes' articles."""
    rows = db.session.scalars(select(Article).filter_by(congress_id=congress.id))
    return sorted(rows, key=lambda a: (a.kind != "preamble", a.position, a.id))


def labels(items: Iterable[Article]) -> dict[int, str]:
    """« Préambule », « Article 1 », « Article 2 »… by reading order."""
    out, n = {}, 0
    for article in items:
        if article.kind == "preamble":
            out[article.id] = "Préambule"
        else:
            n += 1
            out[article.id] = f"Article {n}"
    return out


def article_of(congress: Congress, article_id: int | str | None) -> Article:
    """An article of this congress, or a French refusal (another congress's article is refused)."""
    article = _row(Article, article_id)
    if article is None or article.congress_id != congress.id:
        raise InputError("Cet article n'existe pas dans ce congrès.", field="article_id")
    return article


def move(article: Article, direction: str, actor: Participant) -> bool:
    """Move a theme's article one place up or down; False when already at that end."""
    if direction not in ("up", "down"):
        raise InputError("Direction inconnue : « monter » ou « descendre ».")
    if article.kind == "preamble":
        raise InputError("Le préambule reste en tête de la motion.")
    congress = db.session.get(Congress, article.congress_id)
    items = [a for a in articles(congress) if a.kind == "theme"]
    i = items.index(article)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(items):
        return False
    items[i], items[j] = items[j], items[i]
    _renumber(items)
    audit.record("article.moved", article.congress_id, actor.id, article_id=article.id,
                 direction=direction, order=[a.id for a in items])
    return True


def set_order(congress: Congress, ids: list, actor: Participant) -> list[Article]:
    """Put the themes' articles in the given order (every one of them, each once)."""
    items = {a.id: a for a in articles(congress) if a.kind == "theme"}
    try:
        wanted = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise InputError("L'ordre doit être une liste d'identifiants d'articles.") from None
    if sorted(wanted) != sorted(items):
        raise InputError("L'ordre doit contenir chaque article de thème une seule fois.")
    ordered = [items[i] for i in wanted]
    _renumber(ordered)
    audit.record("article.reordered", congress.id, actor.id, order=wanted)
    return ordered


def _renumber(items: list[Article]) -> None:
    for position, article in enumerate(items, start=1):
        article.position = position


# --- versions, diff and restore --------------------------------------------------------

def versions(article: Article) -> list[ArticleVersion]:
    """Every saved version, newest first."""
    return list(db.session.scalars(select(ArticleVersion).filter_by(article_id=article.id)
                                   .order_by(ArticleVersion.number.desc())))


def version(article: Article, number: int | str | None) -> ArticleVersion:
    n = _number(number)
    row = db.session.scalar(select(ArticleVersion).filter_by(article_id=article.id, number=n))
    if row is None:
        raise InputError(f"La version n° {number} de cet article n'existe pas.")
    return row


def frozen_reason(article: Article) -> str | None:
    """Why this article's text can no longer be changed by the facilitator, or None."""
    ballots = db.session.scalars(
        select(Ballot).filter_by(congress_id=article.congress_id)
        .where(Ballot.state.in_(FROZEN_STATES)))
    for ballot in ballots:
        if ballot.kind == "text":
            return "Le vote sur l'ensemble du texte est ouvert ou terminé : le texte est figé."
        if ballot.kind == "article" and ballot.article_id == article.id:
            return "Le vote sur cet article est ouvert ou terminé : son texte est figé."
    return None


def require_editable(article: Article) -> None:
    reason = frozen_reason(article)
    if reason:
        raise PhaseError(reason)


def clean_body(raw: str | None, *, limit: int = ARTICLE_BODY_MAX,
               what: str = "Le texte de l'article", required: bool = False) -> str:
    if not required and not (raw or "").strip():
        return ""
    return clean_text(raw, limit=limit, what=what)


def save_version(article: Article, title: str | None, body_md: str | None,
                 author: Participant | None, note: str = "", *,
                 amendment: Amendment | None = None, actor: Participant | None = None,
                 check_frozen: bool = True) -> ArticleVersion | None:
    """Save the article's new text as its next version; None when nothing changed."""
    if check_frozen:
        require_editable(article)
    fields = check_fields((  # every refused field at once (FormErrors), by form name
        ("title", lambda: clean_line(title if title is not None else article.title,
                                     limit=300, what="Le titre de l'article", required=True)),
        ("body_md", lambda: clean_body(body_md)),
        ("note", lambda: clean_line(note, limit=300, what="La note de version")),
    ))
    title, body, note = fields["title"], fields["body_md"], fields["note"]
    if title == article.title and body == (article.body_md or "") and _has_versions(article):
        return None
    last = db.session.scalar(select(func.max(ArticleVersion.number))
                             .filter_by(article_id=article.id)) or 0
    if last == 0 and (article.body_md or "").strip():
        # Text written before versions existed (import, demo) is kept as version 1.
        db.session.add(ArticleVersion(article_id=article.id, number=1, title=article.title,
                                      body_md=article.body_md, note="Texte initial"))
        last = 1
    row = ArticleVersion(article_id=article.id, number=last + 1, title=title, body_md=body,
                         author_id=author.id if author else None, note=note,
                         amendment_id=amendment.id if amendment else None)
    db.session.add(row)
    article.title, article.body_md = title, body
    article.updated_at = utcnow()
    db.session.flush()
    who = actor or author
    audit.record("article.version", article.congress_id, who.id if who else None,
                 article_id=article.id, number=row.number, note=note,
                 amendment_id=amendment.id if amendment else None)
    return row


def _has_versions(article: Article) -> bool:
    return db.session.scalar(select(func.count()).select_from(ArticleVersion)
                             .filter_by(article_id=article.id)) > 0


def restore(article: Article, number: int | str, actor: Participant) -> ArticleVersion:
    """Bring back an old version's text as a new version (history is never rewritten)."""
    old = version(article, number)
    row = save_version(article, old.title, old.body_md, actor,
                       note=f"Restauration de la version {old.number}")
    if row is None:
        raise InputError(f"La version {old.number} est déjà le texte actuel.")
    return row


_TOKENS = re.compile(r"\s+|[^\s]+")


def diff_html(old: str, new: str) -> Markup:
    """A word diff of two texts as safe HTML: removed words in <del>, added ones in <ins>."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    parts: list[Markup] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(Markup('<del><span class="visually-hidden">[supprimé : </span>{}'
                                '<span class="visually-hidden">]</span></del>')
                         .format("".join(a[i1:i2])))
        if op in ("insert", "replace"):
            parts.append(Markup('<ins><span class="visually-hidden">[ajouté : </span>{}'
                                '<span class="visually-hidden">]</span></ins>')
                         .format("".join(b[j1:j2])))
    return Markup('<div class="diff">{}</div>').format(Markup("").join(parts))


# --- sources (traceability) -----------------------------------------------------------

def sources(article: Article) -> list[Contribution]:
    """The contributions the article draws on (hidden or withdrawn ones left out)."""
    return list(db.session.scalars(
        select(Contribution).join(ArticleSource, ArticleSource.contribution_id == Contribution.id)
        .where(ArticleSource.article_id == article.id)
        .where(Contribution.status.in_(SOURCE_STATUSES))
        .order_by(Contribution.id)))


def source_ids(article: Article) -> set[int]:
    return set(db.session.scalars(select(ArticleSource.contribution_id)
                                  .filter_by(article_id=article.id)))


def link(article: Article, contribution_id: int | str | None, actor: Participant | None,
         origin: str = "manual") -> bool:
    """Record that the article draws on a contribution; False when already linked."""
    contribution = _row(Contribution, contribution_id)
    if contribution is None or contribution.congress_id != article.congress_id:
        raise InputError("Cette contribution n'existe pas dans ce congrès.")
    if contribution.status not in SOURCE_STATUSES:
        raise InputError("Une contribution masquée ou retirée ne peut pas servir de source.")
    if contribution.id in source_ids(article):
        return False
    db.session.add(ArticleSource(article_id=article.id, contribution_id=contribution.id,
                                 origin=origin))
    if origin == "manual":
        audit.record("article.source_linked", article.congress_id,
                     actor.id if actor else None, article_id=article.id,
                     contribution_id=contribution.id)
    return True


def unlink(article: Article, contribution_id: int | str | None, actor: Participant) -> bool:
    cid = _number(contribution_id)
    if not cid:
        raise InputError("Contribution inconnue.")
    row = db.session.scalar(select(ArticleSource).filter_by(article_id=article.id,
                                                            contribution_id=cid))
    if row is None:
        return False
    db.session.delete(row)
    audit.record("article.source_unlinked", article.congress_id, actor.id,
                 article_id=article.id, contribution_id=cid)
    return True


# --- recurring points and the draft ------------------------------------------------------

@dataclass
class DraftPoint:
    """A recurring point as the draft uses it: the ideas behind it and its one sentence."""

    cluster: Cluster
    members: list[Contribution]
    sentence: str

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def supports(self) -> int:
        return sum(c.supports or 0 for c in self.members)


@dataclass
class Sentence:
    """One sentence of an article's text, as shown, with the ideas it stands for."""

    text: str
    point: DraftPoint | None = None
    contributions: list[Contribution] = field(default_factory=list)


def recurring_points(theme: Theme | None) -> list[Cluster]:
    """The theme's recurring points, largest first."""
    if theme is None:
        return []
    return list(db.session.scalars(
        select(Cluster).filter_by(congress_id=theme.congress_id, theme_id=theme.id)
        .where(Cluster.size > 0).order_by(Cluster.size.desc(), Cluster.id)))


def members(cluster: Cluster) -> list[Contribution]:
    """The point's ideas a text may draw on: shown and, for a theme's point, on that
    theme and not off-topic."""
    query = (select(Contribution).filter_by(cluster_id=cluster.id)
             .where(Contribution.status.in_(SOURCE_STATUSES))
             .order_by(Contribution.supports.desc(), Contribution.id))
    if cluster.theme_id is not None:
        query = query.filter_by(theme_id=cluster.theme_id, off_topic=False)
    return list(db.session.scalars(query))


def point_sentence(cluster: Cluster, items: list[Contribution]) -> str:
    """The point's statement (the facilitator's pinned one, else the engine's), normalised;
    chosen from the members here when the engine has not written one yet."""
    pinned = cluster.custom_label or cluster.statement
    if pinned:
        return normalise_statement(pinned)
    shown = [c for c in items if c.status == "visible"] or items
    return choose_statement([c.text for c in shown],
                            [1.0 if c.id == cluster.medoid_id else 0.0 for c in shown])


def draft_points(theme: Theme | None) -> list[DraftPoint]:
    """The theme's points of two ideas or more, by the number of ideas, then of « +1 »."""
    clusters = recurring_points(theme)
    if not clusters:
        return []
    by_cluster: dict[int, list[Contribution]] = {c.id: [] for c in clusters}
    rows = db.session.scalars(  # the same ideas as `members`, one query for the theme
        select(Contribution).filter_by(theme_id=theme.id, off_topic=False)
        .where(Contribution.cluster_id.in_(list(by_cluster)),
               Contribution.status.in_(SOURCE_STATUSES))
        .order_by(Contribution.supports.desc(), Contribution.id))
    for row in rows:
        by_cluster[row.cluster_id].append(row)
    out = []
    for cluster in clusters:
        items = by_cluster[cluster.id]
        if len(items) < 2 or not any(c.status == "visible" for c in items):
            continue
        sentence = point_sentence(cluster, items)
        if sentence:
            out.append(DraftPoint(cluster, items, sentence))
    out.sort(key=lambda p: (-p.size, -p.supports, p.cluster.id))
    return out


def _shown_ideas(congress_id: int):
    return (select(Contribution).filter_by(congress_id=congress_id, status="visible")
            .order_by(Contribution.supports.desc(), Contribution.id))


def isolated_ideas(theme: Theme | None, points: list[DraftPoint]) -> list[Contribution]:
    """The theme's ideas in no point of two or more (the draft leaves them out), most
    supported first."""
    if theme is None:
        return []
    in_points = {c.id for p in points for c in p.members}
    rows = db.session.scalars(_shown_ideas(theme.congress_id)
                              .filter_by(theme_id=theme.id, off_topic=False))
    return [c for c in rows if c.id not in in_points]


def off_theme_ideas(congress: Congress) -> list[Contribution]:
    """Ideas the sorting found off every theme, or has not sorted yet."""
    return list(db.session.scalars(_shown_ideas(congress.id).where(
        or_(Contribution.off_topic.is_(True), Contribution.theme_id.is_(None)))))


_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")
_MARKUP = re.compile(r"(\*\*|__|`|^#+\s*|^>\s*)")
_EDGE = " \t-–—•*>\"'«»“”‘’"
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(.*)$")


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_BREAK.split(text or "")) if s]


def normalise_sentence(sentence: str) -> str:
    """Trim, drop list marks and stray markdown, capitalise, end with a period."""
    s = " ".join(_MARKUP.sub("", sentence).split()).strip(_EDGE)
    s = re.sub(r"\s+([,.;:!?])", r"\1", s)
    s = re.sub(r"(\.\.\.|…)$", "", s).rstrip(" ,;:")
    if not s:
        return ""
    s = s[0].upper() + s[1:]
    if s[-1] not in ".!?":
        s += "."
    return s


def _key(sentence: str) -> list[str]:
    flat = unicodedata.normalize("NFKD", sentence.lower())
    flat = "".join(ch for ch in flat if not unicodedata.combining(ch))
    return re.findall(r"\w+", flat)


def near_duplicate(a: str, b: str, threshold: float = NEAR_DUPLICATE) -> bool:
    """Nearly the same sentence: same words up to case, accents, punctuation or a few words."""
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return ka == kb
    if ka == kb:
        return True
    sa, sb = set(ka), set(kb)
    jaccard = len(sa & sb) / len(sa | sb)
    ratio = difflib.SequenceMatcher(None, ka, kb, autojunk=False).ratio()
    return max(jaccard, ratio) >= threshold


@lru_cache(maxsize=4096)
def contribution_sentence(text: str) -> str:
    """The sentence one idea adds to a text: its best sentence, normalised."""
    return choose_statement([text], [1.0])


@lru_cache(maxsize=4096)
def _sentences_of(text: str) -> tuple[str, ...]:
    return (contribution_sentence(text), *(normalise_sentence(s) for s in split_sentences(text)))


def _says(contribution: Contribution, sentence: str) -> bool:
    return any(near_duplicate(sentence, s) for s in _sentences_of(contribution.text))


def body_sentences(body_md: str | None) -> list[str]:
    """The sentences of a text as people read them: one per list item, and each sentence
    of a paragraph; markup off, French typography on."""
    units: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        units.extend(split_sentences(" ".join(paragraph)))
        paragraph.clear()

    for line in (body_md or "").splitlines():
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            units.append(item.group(1))
        elif not line.strip():
            flush()
        elif line[:1].isspace() and units and not paragraph:
            units[-1] += " " + line.strip()  # a list item's continuation line
        else:
            paragraph.append(line.strip())
    flush()
    shown = (french(" ".join(_MARKUP.sub("", u).replace("*", "").split())) for u in units)
    return [s for s in shown if _key(s)]


def trace_sentences(article: Article, points: list[DraftPoint]) -> list[Sentence]:
    """Each sentence of the article with the ideas behind it, found at display time: the
    point whose statement it is (or one of whose members wrote it), else the linked
    ideas that say it. A sentence written by hand may stand for none."""
    in_points = {c.id for p in points for c in p.members}
    loose = [c for c in sources(article) if c.id not in in_points]
    out = []
    for text in body_sentences(article.body_md):
        point = next((p for p in points if near_duplicate(text, p.sentence)), None) or \
            next((p for p in points if any(_says(c, text) for c in p.members)), None)
        if point is not None:
            out.append(Sentence(text, point, point.members))
        else:
            out.append(Sentence(text, None, [c for c in loose if _says(c, text)]))
    return out


def missing_points(sentences: list[Sentence], points: list[DraftPoint]) -> list[DraftPoint]:
    """Points of two ideas or more that no sentence of the text states (yet); a point
    whose statement twins a sentence of the text is stated by it."""
    stated = {id(s.point) for s in sentences if s.point is not None}
    return [p for p in points if id(p) not in stated
            and not any(near_duplicate(p.sentence, s.text) for s in sentences)]


def extractive_draft(points: list[DraftPoint]) -> tuple[str, list[Cluster], list[int]]:
    """The draft text: one list item per point, its statement, in the given order.

    Returns (markdown, points used, ids of the contributions it draws on). A statement
    nearly identical to one already written is not repeated; its point's ideas are still
    linked, through the twin sentence.
    """
    kept: list[str] = []
    used: list[Cluster] = []
    linked: dict[int, None] = {}
    for point in points:
        if not any(near_duplicate(point.sentence, other) for other in kept):
            kept.append(point.sentence)
        used.append(point.cluster)
        linked.update(dict.fromkeys(c.id for c in point.members))
    return "\n".join(f"- {s}" for s in kept), used, list(linked)


def propose_draft(article: Article, actor: Participant) -> ArticleVersion:
    """« Proposer un brouillon »: save the draft as a new version, with its sources."""
    require_editable(article)
    if article.kind == "preamble" or article.theme is None:
        raise InputError("Le brouillon automatique ne concerne que les articles d'un thème.")
    body, used, linked = extractive_draft(draft_points(article.theme))
    if not body:
        raise InputError("Aucun point récurrent d'au moins deux propositions pour ce thème : "
                         "lancez le classement des contributions, ajoutez des propositions "
                         "depuis « Autres propositions » ou rédigez l'article à la main.")
    n_points = len(used)
    note = (f"Brouillon proposé à partir de {n_points} point{'s' if n_points > 1 else ''} "
            f"récurrent{'s' if n_points > 1 else ''} ({len(linked)} contributions)")
    row = save_version(article, article.title, body, actor, note=note)
    if row is None:
        raise InputError("Le brouillon proposé est identique au texte actuel.")
    for cid in linked:
        link(article, cid, actor, origin="draft")
    db.session.flush()
    return row


def _append_sentence(article: Article, sentence: str, actor: Participant,
                     note: str) -> ArticleVersion | None:
    """Add a sentence to the text as a new list item; None when the text already says it."""
    if not sentence or any(near_duplicate(sentence, s) for s in body_sentences(article.body_md)):
        return None
    body = (article.body_md or "").rstrip()
    if body:
        last = body.splitlines()[-1]
        body += "\n" if _LIST_ITEM.match(last) else "\n\n"  # a list needs a blank line first
    return save_version(article, article.title, body + f"- {sentence}", actor, note=note)


def pull_in(article: Article, contribution_id: int | str | None,
            actor: Participant) -> ArticleVersion | None:
    """« Ajouter au texte » an idea left out of the draft: its sentence becomes a new
    version's last item and the idea a source. None when the text already says it."""
    require_editable(article)
    link(article, contribution_id, actor)  # refuses another congress's or a hidden idea
    contribution = db.session.get(Contribution, int(contribution_id))  # type: ignore[arg-type]
    return _append_sentence(article, contribution_sentence(contribution.text), actor,
                            note=f"Proposition n° {contribution.id} ajoutée au texte")


def pull_point(article: Article, cluster_id: int | str | None,
               actor: Participant) -> ArticleVersion | None:
    """« Ajouter au texte » a recurring point the text does not state: its statement and
    all its ideas as sources. None when the text already says it."""
    require_editable(article)
    cluster = _row(Cluster, cluster_id)
    if cluster is None or cluster.congress_id != article.congress_id \
            or cluster.theme_id != article.theme_id:
        raise InputError("Ce point récurrent n'existe pas dans le thème de cet article.")
    items = members(cluster)
    if not items:
        raise InputError("Ce point récurrent n'a plus de contribution visible.")
    row = _append_sentence(article, point_sentence(cluster, items), actor,
                           note=f"Point récurrent ajouté au texte ({len(items)} contributions)")
    for c in items:
        link(article, c.id, actor, origin="draft")
    return row


# --- amendments ------------------------------------------------------------------------

def amendment_of(congress: Congress, amendment_id: int | str | None) -> Amendment:
    row = _row(Amendment, amendment_id)
    if row is None or row.congress_id != congress.id:
        raise InputError("Cet amendement n'existe pas dans ce congrès.")
    return row


def propose_amendment(congress: Congress, article_id: int | str | None,
                      author: Participant, body_md: str | None,
                      rationale: str | None = "") -> tuple[Amendment, bool]:
    """An official proposes a replacement text; returns (amendment, created).

    The same pending text sent twice by the same official (a double tap, a retry)
    is stored once.
    """
    if author.congress_id != congress.id or author.role != "participant":
        raise PermissionDenied("Seul·es les élu·es participant au congrès peuvent proposer "
                               "un amendement.")
    if not author.is_accepted:  # roster.py: pending registrations propose ideas only
        raise PermissionDenied("Votre inscription attend la validation de l'animation\u00a0: vous "
                               "pourrez proposer des amendements une fois votre inscription "
                               "acceptée.")
    if not amendments_open(congress):
        raise PhaseError("Le texte n'est pas ouvert aux amendements en ce moment.")
    article = article_of(congress, article_id)
    fields = check_fields((  # every refused field at once (FormErrors), by form name
        ("body_md", lambda: _amendment_text(article, body_md)),
        ("rationale", lambda: clean_body(rationale, limit=AMENDMENT_RATIONALE_MAX,
                                         what="L'exposé des motifs")),
    ))
    body, why = fields["body_md"], fields["rationale"]
    pending = list(db.session.scalars(select(Amendment).filter_by(
        congress_id=congress.id, author_id=author.id, state="proposed")))
    for row in pending:
        if row.article_id == article.id and row.body_md == body:
            return row, False
    if len(pending) >= MAX_PENDING_AMENDMENTS:
        raise InputError(f"Vous avez déjà {len(pending)} amendements en attente de décision ; "
                         "attendez qu'ils soient examinés.")
    row = Amendment(congress_id=congress.id, article_id=article.id, author_id=author.id,
                    body_md=body, rationale=why, base_number=_last_number(article))
    db.session.add(row)
    db.session.flush()
    audit.record("amendment.proposed", congress.id, author.id, amendment_id=row.id,
                 article_id=article.id)
    return row, True


def _amendment_text(article: Article, body_md: str | None) -> str:
    body = clean_text(body_md, limit=AMENDMENT_TEXT_MAX, what="Le texte de l'amendement")
    if body == (article.body_md or "").strip():
        raise InputError("Le texte proposé est identique au texte actuel de l'article : "
                         "modifiez-le avant de l'envoyer.", field="text")
    return body


def _last_number(article: Article) -> int | None:
    return db.session.scalar(select(func.max(ArticleVersion.number))
                             .filter_by(article_id=article.id))


def amendments(congress: Congress, state: str | None = None,
               article: Article | None = None) -> list[Amendment]:
    query = select(Amendment).filter_by(congress_id=congress.id).order_by(Amendment.id)
    if state:
        query = query.filter_by(state=state)
    if article is not None:
        query = query.filter_by(article_id=article.id)
    return list(db.session.scalars(query))


def require_state(amendment: Amendment, *states: str) -> None:
    if amendment.state not in states:
        raise InputError(f"Cet amendement est déjà {amendment.state_label} : "
                         "cette décision n'est plus possible.")


def _apply(amendment: Amendment, actor: Participant | None, note: str,
           check_frozen: bool) -> ArticleVersion | None:
    author = db.session.get(Participant, amendment.author_id) if amendment.author_id else None
    return save_version(amendment.article, amendment.article.title, amendment.body_md, author,
                        note=note, amendment=amendment, actor=actor, check_frozen=check_frozen)


def author_name(amendment: Amendment) -> str:
    return amendment.author.display_name if amendment.author else "un·e élu·e"


def accept(amendment: Amendment, actor: Participant) -> ArticleVersion | None:
    """The facilitator accepts: the text becomes the article's new version, author noted."""
    require_state(amendment, "proposed")
    row = _apply(amendment, actor,
                 f"Amendement n° {amendment.id} de {author_name(amendment)} accepté",
                 check_frozen=True)
    amendment.state, amendment.decided_at, amendment.decided_by_id = (
        "accepted", utcnow(), actor.id)
    audit.record("amendment.accepted", amendment.congress_id, actor.id,
                 amendment_id=amendment.id, version=row.number if row else None)
    return row


def reject(amendment: Amendment, actor: Participant) -> None:
    require_state(amendment, "proposed")
    amendment.state, amendment.decided_at, amendment.decided_by_id = (
        "rejected", utcnow(), actor.id)
    audit.record("amendment.rejected", amendment.congress_id, actor.id,
                 amendment_id=amendment.id)


def ballot_of(amendment: Amendment) -> Ballot | None:
    return db.session.scalar(select(Ballot).filter_by(amendment_id=amendment.id)
                             .order_by(Ballot.id.desc()).limit(1))


def settle(amendment: Amendment) -> bool:
    """Apply the outcome of a closed ballot on an amendment; True when something changed."""
    if amendment.state != "put_to_vote":
        return False
    ballot = ballot_of(amendment)
    if ballot is None or ballot.state not in ("closed", "published") or ballot.results is None:
        return False
    # A closed ballot's results are frozen on it at the close.
    if ballot.results.get("adopted"):
        # The assembly's vote wins over any freeze: the adopted text is applied.
        _apply(amendment, None, f"Amendement n° {amendment.id} de {author_name(amendment)} "
                                "adopté par vote", check_frozen=False)
        amendment.state = "adopted"
    else:
        amendment.state = "rejected"
    amendment.decided_at = utcnow()
    audit.record(f"amendment.{amendment.state}", amendment.congress_id, None,
                 amendment_id=amendment.id, ballot_id=ballot.id, by="vote")
    return True


def settle_all(congress: Congress) -> int:
    """Settle every amendment whose ballot has closed (idempotent; the caller commits)."""
    return sum(settle(a) for a in amendments(congress, state="put_to_vote"))


def on_ballot_closed(ballot: Ballot) -> bool:
    """Hook for the ballots module: settle the amendment a closing ballot was about."""
    if ballot.amendment_id is None:
        return False
    amendment = db.session.get(Amendment, ballot.amendment_id)
    return settle(amendment) if amendment is not None else False
