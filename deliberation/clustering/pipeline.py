"""The one entry point the app calls: sort a congress, then assign live contributions.

Why a single object: a full refit (themes + recurring points + map) runs in a
debounced background task, while new contributions must be placed within
20 ms.  ``SortingModel.fit`` does the former and keeps what the latter needs
(the fitted vectorisers, the congress's vectors, group centroids), so
``assign_one`` is a few sparse dot products and never refits anything.

Why plain dataclasses for results: the app stores each run (parameters,
timings, quality figures) as JSON and hands the previous one back, which is how
groups keep their identity across refits and how a facilitator's corrections
(``Locks``) are honoured: a refit never overwrites a confirmed theme, a manual
membership or merge, or a renamed label.

Map positions are laid out, not learnt: each theme owns a fixed sector, each
recurring point a spot inside it derived from a hash of its (stable) id, each
contribution a small offset from a hash of its own id.  Same seed and same
group ids give the same map, so the projector never reshuffles after a refit,
and a live contribution lands next to its group without any fitting.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import hashlib
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from . import statements, text
from .distilled import load_distilled
from .labels import phrases
from .neighbours import prune_rows, reduce_with_axes
from .points import (
    OPPOSED,
    MeaningSpace,
    RecurringPoints,
    csls,
    distinctive_stems,
    match_groups,
    near_duplicates,
    negative_stance,
    neighbourhood,
    opposed,
    stable_id,
)
from .statements import choose_statement
from .text import FrenchAnalyser, TextVectorizer, surface_forms
from .themes import HORS_THEME, ThemeAssigner, get_theme_model, themes_from_data

LARGE = 3000  # above this many contributions, neighbour searches are blocked (see neighbours.py)


@dataclass
class Locks:
    """A facilitator's corrections, which every refit must honour."""

    themes: dict[str, str] = field(default_factory=dict)        # contribution id → theme
    memberships: dict[str, str] = field(default_factory=dict)   # contribution id → group id
    labels: dict[str, str] = field(default_factory=dict)        # group id → label
    # theme code → the facilitator's « plus de points » (> 0) / « moins de points » (< 0)
    granularity: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Locks:
        data = data or {}
        return cls(themes={str(k): str(v) for k, v in (data.get("themes") or {}).items()},
                   memberships={str(k): str(v) for k, v in
                                (data.get("memberships") or {}).items()},
                   labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
                   granularity={str(k): int(v) for k, v in
                                (data.get("granularity") or {}).items()})


@dataclass
class ItemResult:
    """Where one contribution was sorted."""

    id: str
    theme: str
    alt_theme: str
    confidence: float
    cluster: str
    x: float
    y: float
    review: bool = False        # « à vérifier »
    confirmed: bool = False     # theme set by a facilitator


@dataclass
class Cluster:
    """A recurring point (a group of one is a singleton)."""

    id: str
    theme: str
    label: str
    terms: list[str]
    size: int
    medoid: str
    members: list[str]
    x: float
    y: float
    label_locked: bool = False
    manual: bool = False        # holds contributions placed by hand
    # One sentence a facilitator can project unchanged (statements.choose_statement), or
    # the facilitator's rename, pinned.
    statement: str = ""


@dataclass
class SortResult:
    """One run: per-contribution results, groups, duplicates and what it cost."""

    themes: list[str]
    items: list[ItemResult]
    clusters: list[Cluster]
    duplicates: list[tuple[str, str, float]]
    review: list[str]                      # « à vérifier », most uncertain first
    params: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["duplicates"] = [list(d) for d in self.duplicates]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SortResult:
        return cls(themes=list(data.get("themes", [])),
                   items=[ItemResult(**i) for i in data.get("items", [])],
                   clusters=[Cluster(**c) for c in data.get("clusters", [])],
                   duplicates=[(str(a), str(b), float(s)) for a, b, s in
                               data.get("duplicates", [])],
                   review=list(data.get("review", [])), params=dict(data.get("params", {})),
                   timings=dict(data.get("timings", {})), quality=dict(data.get("quality", {})),
                   changes=dict(data.get("changes", {})))

    def item(self, item_id: str) -> ItemResult | None:
        for it in self.items:
            if it.id == item_id:
                return it
        return None

    def theme_counts(self) -> dict[str, int]:
        counts = Counter(i.theme for i in self.items)
        return {code: counts.get(code, 0) for code in [*self.themes, HORS_THEME]}


@dataclass
class LiveAssignment:
    """A new contribution placed without refitting."""

    theme: str
    alt_theme: str
    confidence: float
    cluster: str | None        # existing group id, or None for a new singleton
    similarity: float
    x: float
    y: float
    review: bool

    def to_dict(self) -> dict:
        return asdict(self)


# -- map layout ---------------------------------------------------------------------------

def _unit_pair(key: str, seed: int) -> tuple[float, float]:
    d = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    a = int.from_bytes(d[:4], "big") / 2**32
    b = int.from_bytes(d[4:], "big") / 2**32
    return a, b


def _disc(key: str, seed: int, radius: float) -> tuple[float, float]:
    a, b = _unit_pair(key, seed)
    r = radius * math.sqrt(a)
    return r * math.cos(2 * math.pi * b), r * math.sin(2 * math.pi * b)


def theme_anchor(code: str, codes: list[str]) -> tuple[float, float]:
    """Themes on a circle in their order; hors_theme in the middle."""
    if code not in codes:
        return 0.0, 0.0
    angle = 2 * math.pi * codes.index(code) / max(len(codes), 1) - math.pi / 2
    return math.cos(angle), math.sin(angle)


def cluster_position(cluster_id, theme, codes, seed):
    ax, ay = theme_anchor(theme, codes)
    dx, dy = _disc(cluster_id, seed, 0.32)
    return ax + dx, ay + dy


def item_position(item_id, centre, size, seed):
    dx, dy = _disc(item_id, seed, 0.012 + 0.01 * math.sqrt(max(size, 1)))
    return round(centre[0] + dx, 5), round(centre[1] + dy, 5)


# -- the model -----------------------------------------------------------------------------

class SortingModel:
    """Sort a congress (fit) and place new contributions live (assign_one).

    Parameters
    ----------
    themes : the congress's themes (corpus/ format dicts or Theme objects).
    random_state : seed for every random step (SVD, blocking, map).
    theme_params : keyword arguments for ThemeAssigner.
    point_params : keyword arguments for RecurringPoints.
    duplicate_threshold : cosine from which two contributions are offered for merge.
    theme_model : a fitted ThemeModel (default: built or loaded from cache).
    """

    def __init__(self, themes, random_state=0, theme_params=None, point_params=None,
                 duplicate_threshold=0.6, theme_model=None):
        self.themes = themes
        self.random_state = random_state
        self.theme_params = theme_params
        self.point_params = point_params
        self.duplicate_threshold = duplicate_threshold
        self.theme_model = theme_model

    def fit(self, items, confirmed=None, locks=None, previous=None, extra_labelled=None):
        """Sort items [(id, text)]; confirmed {id: theme}; locks; previous run (dict or result).

        extra_labelled: [(text, theme)] confirmed examples that are not contributions of
        this congress (used as labels only).

        BLAS runs single-threaded here: the matrices are small and many, and
        OpenBLAS's spinning threads made them up to 100x slower on two busy cores
        (measured: a 2,000 x 74 QR took 2.2 s with two threads, 7 ms with one).
        """
        from threadpoolctl import threadpool_limits

        if len(items) > LARGE:  # a national congress: start from what the last refit freed
            release_freed_memory()
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(items, confirmed, locks, previous, extra_labelled)

    def _fit(self, items, confirmed, locks, previous, extra_labelled):
        t0 = time.perf_counter()
        timings = {}
        themes = themes_from_data(self.themes)
        codes = [t.code for t in themes]
        self.codes_ = codes
        locks = locks if isinstance(locks, Locks) else Locks.from_dict(locks)
        if isinstance(previous, dict):
            previous = SortResult.from_dict(previous)
        ids = [str(i) for i, _ in items]
        texts = [t or "" for _, t in items]
        if len(set(ids)) != len(ids):
            raise ValueError("contribution ids must be unique")
        valid = set(codes) | {HORS_THEME}
        fixed = {str(k): v for k, v in (confirmed or {}).items() if v in valid}
        fixed.update({k: v for k, v in locks.themes.items() if v in valid})
        extra = [(t, y) for t, y in (extra_labelled or []) if y in valid and (t or "").strip()]

        model = self.theme_model or get_theme_model(themes)
        self.theme_model_ = model
        timings["model_s"] = time.perf_counter() - t0

        t = time.perf_counter()
        self.analyser_ = FrenchAnalyser()
        all_texts = texts + [e[0] for e in extra]
        docs = self.analyser_.analyse_many(all_texts)
        self.vectorizer_ = TextVectorizer(char_weight=0.4, min_df=1, max_df=0.5)
        Xc = self.vectorizer_.fit_transform(docs)
        n_all = len(docs)
        Z, axes = None, None
        if n_all > LARGE:  # national consultation: blocked, pruned neighbour searches
            Xc = prune_rows(Xc)
            Z, axes = reduce_with_axes(Xc, random_state=self.random_state)
        timings["vectorise_s"] = time.perf_counter() - t

        t = time.perf_counter()
        y = [fixed.get(i) for i in ids] + [e[1] for e in extra]
        self.assigner_ = ThemeAssigner(themes, model=model, random_state=self.random_state,
                                       **(self.theme_params or {}))
        self.assigner_.fit(docs, y, X_graph=Xc, Z=Z, raw=all_texts)
        timings["themes_s"] = time.perf_counter() - t

        n = len(ids)
        theme_of = [str(v) for v in self.assigner_.labels_[:n]]
        t = time.perf_counter()
        X = Xc[:n] if n else None
        Zn = Z[:n] if Z is not None else None
        self.points_ = RecurringPoints(random_state=self.random_state,
                                       granularity=dict(locks.granularity),
                                       **(self.point_params or {}))
        forms = surface_forms(docs[:n])
        n_word = len(self.vectorizer_.word_.vocabulary_)
        names = self.vectorizer_.word_.get_feature_names_out() if n else []
        self.space_ = MeaningSpace(random_state=self.random_state)
        M, self.distilled_ = None, None
        if n:
            # A large congress was reduced already: its axes serve as the congress's own.
            self.distilled_ = load_distilled()
            M = self.space_.fit_transform(
                self.assigner_.meaning_rows_[:n], X,
                concepts=model.concepts_.transform(docs[:n]),
                distilled=self.distilled_.embed(texts) if self.distilled_ else None,
                axes=axes)
            # labels are computed once, in _build_clusters, on the final (locked) groups
            self.points_.fit(M, theme_of, Z=Zn,
                             stance=[negative_stance(t) for t in texts])
        self.assigner_.meaning_rows_ = None  # in M now
        timings["points_s"] = time.perf_counter() - t

        t = time.perf_counter()
        clusters, cluster_of = self._build_clusters(ids, theme_of, locks, previous, X, M,
                                                    forms, names, n_word, texts)
        dups = []
        if n >= 2:
            if self.assigner_.knn_ is not None and n == n_all:
                idx, sims = self.assigner_.knn_
                dups = _pairs_from_knn(idx, sims, self.duplicate_threshold)
            else:
                dups = near_duplicates(X, self.duplicate_threshold, Z=Zn,
                                       random_state=self.random_state)
        duplicates = [(ids[a], ids[b], round(s, 4)) for a, b, s in dups]
        timings["groups_s"] = time.perf_counter() - t

        t = time.perf_counter()
        result_items = []
        size_of = {c.id: c.size for c in clusters}
        centre_of = {c.id: (c.x, c.y) for c in clusters}
        a = self.assigner_
        review_set = set(int(i) for i in a.review_ if i < n)
        for i, item_id in enumerate(ids):
            cid = cluster_of[item_id]
            x, yy = item_position(item_id, centre_of[cid], size_of[cid], self.random_state)
            result_items.append(ItemResult(
                id=item_id, theme=str(a.labels_[i]), alt_theme=str(a.alt_[i] or ""),
                confidence=round(float(a.confidence_[i]), 4), cluster=cid, x=x, y=yy,
                review=i in review_set, confirmed=item_id in fixed))
        review = [ids[i] for i in a.review_ if i < n]
        timings["map_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t0
        timings = {k: round(v, 4) for k, v in timings.items()}

        result = SortResult(
            themes=codes, items=result_items, clusters=clusters, duplicates=duplicates,
            review=review, params=self._params(model), timings=timings,
            quality=_quality(result_items, clusters, duplicates),
            changes=_changes(previous, result_items, clusters))
        self.result_ = result
        self._prepare_live(X, M, theme_of, cluster_of, ids, clusters)
        return self

    def _params(self, model):
        return {"random_state": self.random_state, "theme_params": self.theme_params or {},
                "point_params": self.point_params or {},
                "duplicate_threshold": self.duplicate_threshold,
                "theme_model": {"labelled_examples": int(model.n_labelled_),
                                "prototype_docs": int(model.n_prototype_docs_),
                                "classes": [str(c) for c in model.classes_]}}

    def _build_clusters(self, ids, theme_of, locks, previous, X, M, forms, names, n_word,
                        texts):
        """Groups with ids matched to the previous run, manual memberships and labels applied.

        X: the congress TF-IDF (label terms are its word columns); M: the meaning space
        (medoids and statements: the member that is most central by meaning)."""

        p = self.points_
        n = len(ids)
        groups = [list(g) for g in getattr(p, "groups_", [])]
        # Manual memberships win over the algorithm: pull those contributions out first.
        manual_rows: dict[str, list[int]] = {}
        index = {i: k for k, i in enumerate(ids)}
        for item_id, cid in sorted(locks.memberships.items()):
            if item_id in index:
                manual_rows.setdefault(cid, []).append(index[item_id])
        pinned = {r for rows in manual_rows.values() for r in rows}
        groups = [[r for r in g if r not in pinned] for g in groups]
        groups = [g for g in groups if g]
        old = {}
        if previous is not None:
            old = {c.id: set(c.members) for c in previous.clusters}
        new_sets = [{ids[r] for r in g} for g in groups]
        matched = match_groups(new_sets, old)
        final: list[tuple[str, list[int], bool]] = []
        used = set()
        for k, g in enumerate(groups):
            cid = matched.get(k)
            if cid is None or cid in used:
                cid = stable_id("p", new_sets[k])
                while cid in used:
                    cid = stable_id("p", [cid, *new_sets[k]])
            used.add(cid)
            manual = cid in manual_rows
            final.append((cid, sorted(g + manual_rows.pop(cid, [])), manual))
        # Manual groups the algorithm did not find this time are kept as the facilitator made them.
        for cid, rows in sorted(manual_rows.items()):
            final.append((cid, sorted(rows), True))
        theme_arr = np.asarray(theme_of, dtype=object)
        row_groups = [np.array(g, dtype=np.int64) for _, g, _ in final]
        candidates = (distinctive_stems(X, row_groups, theme_arr, (n_word, names, forms))
                      if n else [])
        centrality = M.centrality(row_groups) if n else []
        clusters, cluster_of = [], {}
        for (cid, rows, manual), g_candidates, central in zip(final, candidates, centrality,
                                                               strict=True):
            centre = rows[int(np.argmax(central))]
            statement = locks.labels.get(cid) or (
                choose_statement([texts[r] for r in rows], central.tolist())
                if len(rows) > 1 else "")
            # The medoid's words first: the label reads like the group's typical idea.
            g_terms = phrases(g_candidates, [texts[centre]] + [texts[r] for r in rows
                                                                if r != centre],
                              self.analyser_)
            theme = Counter(theme_of[r] for r in rows).most_common(1)[0][0]
            label = locks.labels.get(cid) or ", ".join(g_terms)
            x, y = cluster_position(cid, theme, self.codes_, self.random_state)
            members = [ids[r] for r in rows]
            clusters.append(Cluster(
                id=cid, theme=theme, label=label, terms=list(g_terms), size=len(rows),
                medoid=ids[centre], members=members,
                x=round(x, 5), y=round(y, 5), label_locked=cid in locks.labels, manual=manual,
                statement=statement))
            for m in members:
                cluster_of[m] = cid
        clusters.sort(key=lambda c: (self._theme_rank(c.theme), -c.size, c.id))
        return clusters, cluster_of

    def _theme_rank(self, code):
        return self.codes_.index(code) if code in self.codes_ else len(self.codes_)

    def _prepare_live(self, X, M, theme_of, cluster_of, ids, clusters):
        self.X_ = X  # the congress's words, for « idées proches » (sorting.similar)
        self.ids_ = list(ids)  # the contribution of each row of X_
        self.M_ = M
        self.item_theme_ = np.asarray(theme_of, dtype=object)
        self.item_cluster_ = np.asarray([cluster_of[i] for i in ids], dtype=object)
        self.clusters_ = {c.id: c for c in clusters}
        self._theme_rows = {}
        self._all_rows_T = None

    def _theme_live(self, theme):
        """A theme's rows prepared once for live placement: transposed vectors, each row's
        CSLS neighbourhood, and its point as an index (for per-point means)."""
        if theme not in self._theme_rows:
            same = np.flatnonzero(self.item_theme_ == theme)
            points, owner = np.unique(self.item_cluster_[same].astype(str),
                                      return_inverse=True)
            rows = self.M_[same]
            self._theme_rows[theme] = ((np.ascontiguousarray(rows.dense.T),
                                        rows.words.T.tocsr()),
                                       self.points_.density_[same].astype(np.float64),
                                       self.points_.stance_[same], points, owner)
        return self._theme_rows[theme]

    def nearest_point(self, vector, theme, stance=False) -> tuple[str | None, float]:
        """The recurring point a new contribution joins, by the rule the refit used.

        Average linkage merges while the mean CSLS similarity between two groups stays
        above the theme's threshold; a new contribution is a group of one, so it joins
        the point whose members it is closest to on average, if that clears the bar.
        """
        if self.M_ is None or not self.M_.shape[0]:
            return None, 0.0
        if not np.any(self.item_theme_ == theme):
            return None, 0.0
        (dense_T, words_T), density, stances, points, owner = self._theme_live(theme)
        s = (vector.dense @ dense_T).ravel().astype(np.float64)
        s += (vector.words @ words_T).toarray().ravel()
        if self.points_.congress_density_:  # read where the refit read it: the congress
            if self._all_rows_T is None:
                self._all_rows_T = (np.ascontiguousarray(self.M_.dense.T),
                                    self.M_.words.T.tocsr())
            everyone = (vector.dense @ self._all_rows_T[0]).ravel().astype(np.float64)
            everyone += (vector.words @ self._all_rows_T[1]).toarray().ravel()
        else:
            everyone = s
        k = (self.points_.neighbours(self.M_.shape[0]) if self.points_.congress_density_
             else self.points_.csls_k)
        r_new = float(neighbourhood(everyone[None, :], k, exclude_diagonal=False)[0])
        c = csls(s[None, :], [r_new], density)[0]
        c[opposed(s[None, :], [stance], stances)[0]] = -OPPOSED
        mean = np.bincount(owner, weights=c) / np.bincount(owner)
        best = int(np.argmax(mean))
        if mean[best] >= self.points_.threshold(theme):
            return str(points[best]), float(s[owner == best].mean())
        return None, 0.0

    # -- live --------------------------------------------------------------------------
    def assign_one(self, text: str, item_id: str | None = None) -> LiveAssignment:
        """Theme, alternative, confidence, nearest recurring point and map position of one text."""
        doc = self.analyser_.analyse(text or "")
        Xm = self.theme_model_.transform([doc])
        Xg = self.vectorizer_.transform_analysed([doc])
        proba, max_sim = self.assigner_.predict_proba(None, X=Xm, X_graph=Xg)
        a = self.assigner_
        row = proba[0]
        order = np.argsort(-row, kind="stable")
        classes = a.classes_
        n_themes = len(a.codes_)
        top = int(order[0])
        conf = float(row[top])
        if bool(a.is_far(max_sim[:1], row[None, :n_themes].max(axis=1))[0]):
            top, conf = len(classes) - 1, 1.0 - conf
        else:
            conf = float(a.calibrate([conf])[0])
        theme = str(classes[top])
        second = int(order[1]) if len(order) > 1 else top
        alt = str(classes[second]) if (second != top and row[second] >= a.alt_min and
                                       second < n_themes and top < n_themes) else ""
        key = item_id or hashlib.sha1((text or "").encode()).hexdigest()
        cluster, sim = None, 0.0
        if getattr(self, "M_", None) is not None:
            vector = self.space_.transform(
                self.theme_model_.meaning(Xm), Xg, self.theme_model_.concepts_.transform([doc]),
                self.distilled_.embed([text or ""]) if self.distilled_ else None)
            cluster, sim = self.nearest_point(vector, theme, negative_stance(text))
        if cluster is not None:
            c = self.clusters_[cluster]
            x, y = item_position(key, (c.x, c.y), c.size + 1, self.random_state)
        else:
            x, y = cluster_position(stable_id("p", [key]), theme, self.codes_,
                                    self.random_state)
        return LiveAssignment(theme=theme, alt_theme=alt, confidence=round(conf, 4),
                              cluster=cluster, similarity=round(sim, 4), x=round(x, 5),
                              y=round(y, 5), review=conf < a.review_below)


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's malloc_trim from the process's own symbols, or None (another libc).

    Never ctypes.util.find_library: it forks ldconfig, which gevent refuses in the
    thread pool a server's refit runs in."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def release_freed_memory() -> None:
    """Hand the memory a previous refit freed back to the system (glibc's malloc_trim).

    A refit allocates and frees hundreds of MiB of mid-sized arrays; glibc keeps such
    freed blocks in the process, a dropped model's reference cycles wait for the
    collector, and the per-word and per-sentence caches keep a national congress's
    texts, so the next refit of a long-running process started 470 MiB higher
    (measured: two sorts of 50,000 ideas in a row peaked at 1,071 MiB against 926 MiB
    for the first).
    """
    text.clear_caches()
    statements.clear_caches()
    gc.collect()  # a dropped model's cycles first: their arrays are what to release
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _pairs_from_knn(idx, sims, threshold):
    pairs = {}
    for i in range(idx.shape[0]):
        for j, s in zip(idx[i], sims[i], strict=True):
            j = int(j)
            if s >= threshold and i != j:
                key = (i, j) if i < j else (j, i)
                pairs[key] = max(pairs.get(key, 0.0), float(s))
    return [(a, b, s) for (a, b), s in sorted(pairs.items())]


def _quality(items, clusters, duplicates) -> dict:
    n = len(items)
    grouped = [c for c in clusters if c.size > 1]
    return {
        "contributions": n,
        "mean_confidence": round(float(np.mean([i.confidence for i in items])), 4) if n else 0.0,
        "to_review": sum(1 for i in items if i.review),
        "hors_theme": sum(1 for i in items if i.theme == HORS_THEME),
        "groups": len(grouped),
        "singletons": sum(1 for c in clusters if c.size == 1),
        "grouped_share": round(sum(c.size for c in grouped) / n, 4) if n else 0.0,
        "largest_group": max((c.size for c in clusters), default=0),
        "duplicate_pairs": len(duplicates),
    }


def _changes(previous, items, clusters) -> dict:
    """What a facilitator should know changed since the previous run."""
    if previous is None:
        return {"first_run": True}
    before = {i.id: i.theme for i in previous.items}
    moved = [(i.id, before[i.id], i.theme) for i in items
             if i.id in before and before[i.id] != i.theme]
    old_ids = {c.id for c in previous.clusters}
    new_ids = {c.id for c in clusters}
    # Recurring points (two ideas or more) as the board and the projector show them: the
    # groups above count lone ideas too (« 214 conservés » beside 131 points).
    old_points = {c.id for c in previous.clusters if c.size > 1}
    new_points = {c.id for c in clusters if c.size > 1}
    return {
        "first_run": False,
        "new_contributions": sum(1 for i in items if i.id not in before),
        "theme_changed": len(moved),
        "theme_changes": [list(m) for m in moved[:200]],
        "groups_kept": len(old_ids & new_ids),
        "groups_new": len(new_ids - old_ids),
        "groups_gone": len(old_ids - new_ids),
        "points_kept": len(old_points & new_points),
        "points_new": len(new_points - old_points),
        "points_gone": len(old_points - new_points),
    }


def sort_congress(themes, items, confirmed=None, locks=None, previous=None, random_state=0,
                  extra_labelled=None, **params) -> SortResult:
    """Sort a congress; the result keeps the fitted model in ``result.model`` for live use.

    The model lets go of the result (``result_``): the two pointing at each other made a
    cycle that only the garbage collector frees, so a server's previous refit (hundreds
    of MiB for a national congress) stayed alive through the next one.
    """
    model = SortingModel(themes, random_state=random_state, **params).fit(
        items, confirmed=confirmed, locks=locks, previous=previous,
        extra_labelled=extra_labelled)
    result = model.result_
    del model.result_
    result.model = model  # not serialised by to_dict (not a dataclass field)
    return result
