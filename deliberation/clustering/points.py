"""Recurring points: within each theme, the contributions that make the same point.

What "the same point" is measured in (``MeaningSpace``): five blocks side by
side, each L2-normalised, so that two contributions can be close without sharing
a word.

* the corpus's latent axes (LSA fitted on the 4,000+ training statements with the
  theme model): words the corpus uses together load on the same axes;
* the congress's own TF-IDF (stems, stem pairs, character n-grams): the exact words,
  typos forgiven;
* the congress's own latent axes (a small SVD of that TF-IDF): the topics of *this*
  congress (« Linky », « caméras »), which the corpus may never have seen;
* the concepts a contribution names (corpus/concepts_fr.txt, see concepts.py):
  « cyberattaque » and « pirates informatiques » are one concept in other words;
* its meaning as the sentence model multilingual-e5-small reads it, distilled into
  a word table (distilled.py): statements that make one demand in other words.

Similarities are corrected for hubness (CSLS: 2·cos − r_i − r_j, r the mean cosine to
a contribution's nearest neighbours in its theme): a long, generic contribution is
close to everything and would otherwise glue unrelated points together.

Why average-linkage agglomerative clustering with a threshold: the number of
recurring points is unknown and many ideas are said once, so the method must leave
singletons alone instead of forcing every contribution into one of k groups.  The
facilitator moves the threshold theme by theme (« plus de points / moins de
points », ``granularity``).  Measured on 233 real statements grouped by a
facilitator: docs/clustering.md.

It needs the dense distance matrix, quadratic in a theme's size: fine for a few
thousand, not for 6,000+.  Above ``dense_max`` contributions a theme is first
cut into blocks of similar contributions (truncated SVD + MiniBatchKMeans, see
neighbours.py) and clustered block by block — linear in size, and a group can
only be missed if its members fall in two blocks.

Labels are the cluster's most distinctive stems against its theme, shown in
their most frequent surface form (never a stem).  Identity across refits is a
maximum-overlap matching (Jaccard of member ids, Hungarian assignment on each
connected component) between the new groups and the previous run's.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import scipy.sparse as sp

from .neighbours import cosine_knn, partition, reduce, reduce_with_axes
from .text import best_surface

#: Weights of the blocks of the meaning space (corpus axes, congress words, congress
#: axes, named concepts, distilled e5), chosen on real statements (docs/clustering.md).
SPACE_WEIGHTS = (0.7, 0.5, 0.7, 0.3, 0.5)
LOCAL_DIMS = 50
#: Rows handled at once where a per-row copy of a wide matrix would not fit.
CHUNK = 4096
#: How far one step of « plus / moins de points » moves the CSLS threshold.
GRANULARITY_STEP = 0.075
GRANULARITY_MAX = 3


class Meaning:
    """Rows of the meaning space: a dense part (the latent axes, weighted) and a sparse
    part (the congress's words, weighted), each row of unit norm overall.

    Kept apart because similarities are then one BLAS product plus one sparse product;
    stacked into a single sparse matrix, the dense axes made every product several
    times slower and the 50,000-row matrix twice as large.
    """

    def __init__(self, dense, words):
        self.dense = np.ascontiguousarray(dense, dtype=np.float32)
        self.words = sp.csr_matrix(words, dtype=np.float32)
        self.shape = (self.dense.shape[0], self.dense.shape[1] + self.words.shape[1])

    def __getitem__(self, rows) -> Meaning:
        return Meaning(self.dense[rows], self.words[rows])

    def similarity(self, other: Meaning | None = None) -> np.ndarray:
        """Cosine of every row of self with every row of other (default: self)."""
        other = self if other is None else other
        words = self.words @ other.words.T
        return (self.dense @ other.dense.T).astype(np.float64) + words.toarray()

    def centrality(self, groups) -> list[np.ndarray]:
        """Each member's summed cosine to its group (its dot product with the group's
        vector sum), for every group at once: one product per part, no matrix per group."""
        if not groups:
            return []
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        rows = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
        owner = np.repeat(np.arange(len(groups)), sizes)
        G = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (owner, rows)),
                          shape=(len(groups), self.shape[0]))
        dense_sums, word_sums = G @ self.dense, (G @ self.words).tocsr()
        score = np.empty(len(rows), dtype=np.float64)
        # In slices: a member-by-member copy of the group sums is n × dims, hundreds of
        # MiB for a national congress.
        for start in range(0, len(rows), CHUNK):
            part = slice(start, start + CHUNK)
            r, o = rows[part], owner[part]
            score[part] = np.einsum("ij,ij->i", self.dense[r], dense_sums[o])
            score[part] += np.asarray(self.words[r].multiply(word_sums[o]).sum(axis=1)).ravel()
        return np.split(score, np.cumsum(sizes)[:-1])


class MeaningSpace:
    """The space recurring points are grouped in (see the module docstring).

    ``fit_transform(corpus_rows, congress_rows)`` → ``Meaning`` rows; ``transform``
    places a live contribution the same way, with the congress axes and centre
    fitted on the congress.
    """

    def __init__(self, weights=SPACE_WEIGHTS, local_dims=LOCAL_DIMS, random_state=0):
        self.weights = weights
        self.local_dims = local_dims
        self.random_state = random_state

    def fit_transform(self, corpus_rows, congress_rows, concepts=None, distilled=None,
                      axes=None):
        """corpus_rows: the theme model's centred corpus-LSA rows (n × k, may be n × 0);
        congress_rows: the congress TF-IDF (sparse, L2-normalised); concepts: the
        concepts each text names (concepts.ConceptLexicon rows, may be None);
        distilled: each text's distilled e5 vector, not centred (distilled.py, may be
        None); axes: the congress's latent axes when already computed (large congresses
        reduce anyway). The congress's axes and centres are kept for transform."""
        n = congress_rows.shape[0]
        self.axes_, self.centre_, self.distilled_centre_ = None, None, None
        if axes is None and self.local_dims and n > 3:
            axes = reduce_with_axes(congress_rows, self.local_dims, self.random_state)[1]
        if axes is not None:
            self.axes_ = axes
            self.centre_ = np.asarray(congress_rows @ axes.T, dtype=np.float32).mean(axis=0)
        if distilled is not None and len(distilled):
            # Centred on this congress: what all its texts share is not what sets apart.
            self.distilled_centre_ = np.asarray(distilled, dtype=np.float32).mean(axis=0)
        return self.transform(corpus_rows, congress_rows, concepts, distilled)

    def transform(self, corpus_rows, congress_rows, concepts=None, distilled=None) -> Meaning:
        """The rows of the space. The dense part is written block by block into one
        preallocated matrix and normalised there: for a national congress, every copy
        of a block (hundreds of MiB for the distilled one) weighed on the refit's peak."""
        n = congress_rows.shape[0]
        a, b, c, d, e = self.weights
        blocks = [(np.asarray(corpus_rows, dtype=np.float32), None, a)]
        if self.axes_ is not None:
            blocks.append((congress_rows @ self.axes_.T, self.centre_, c))
        if concepts is not None:
            blocks.append((np.asarray(concepts, dtype=np.float32), None, d))
        if distilled is not None and self.distilled_centre_ is not None:
            blocks.append((distilled, self.distilled_centre_, e))
        dense = np.empty((n, sum(block.shape[1] for block, _, _ in blocks)), dtype=np.float32)
        words = sp.csr_matrix(congress_rows, dtype=np.float32)
        squares = b * b * _sq(words)
        at = 0
        for block, centre, weight in blocks:
            part = dense[:, at:at + block.shape[1]]
            part[...] = block
            if centre is not None:
                part -= centre
            lengths = np.sqrt(np.einsum("ij,ij->i", part, part))
            lengths[lengths == 0] = 1.0
            part *= (weight / lengths)[:, None]  # each block of unit norm, then weighted
            squares += np.einsum("ij,ij->i", part, part)
            at += block.shape[1]
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        scale = (1.0 / norms).astype(np.float32)
        dense *= scale[:, None]
        return Meaning(dense, sp.diags(scale * b) @ words)


def _sq(M):
    """Squared norm of each row, dense or sparse."""
    if sp.issparse(M):
        return np.asarray(M.multiply(M).sum(axis=1), dtype=np.float64).ravel()
    return (np.asarray(M, dtype=np.float64) ** 2).sum(axis=1)


def _unit(M):
    """Rows scaled to unit norm (zero rows stay zero), in place when M is float32 already."""
    M = np.asarray(M, dtype=np.float32)
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    M /= norms
    return M


#: Raw cosine above which two contributions count as close whatever their neighbourhood.
NEAR_SAME = 0.5


#: Similarity given to a pair of opposite stances on one proposal: far enough below any
#: threshold that average linkage does not join them through their neighbours either.
OPPOSED = 4.0
#: Raw cosine from which two texts of opposite stance are taken to discuss one proposal.
STANCE_NEAR = 0.6
_NEGATIVE = re.compile(
    r"\b(?:ne|n['’])\s*(?:\w+\s+){0,3}?(?:pas|plus|jamais|rien|aucun|aucune|guère)\b"
    r"|\b(?:non|contre|refus\w*|oppos\w*|pas\s+de)\b", re.IGNORECASE)


def negative_stance(text: str) -> bool:
    """The text refuses or negates something (« ne … pas », « contre », « refuser »).

    Two contributions on the same subject with opposite stances (« il faut fermer la
    trésorerie » / « il ne faut pas fermer la trésorerie ») share nearly all their
    words, so a pair of opposite stances that is that alike (STANCE_NEAR) repels
    (OPPOSED). A negation is not always the stance (« le numérique ne doit pas être
    la seule voie » agrees with « garder un guichet »), but such pairs share few words
    and are left alone.
    """
    return bool(_NEGATIVE.search(text or ""))


def opposed(S, stance_a, stance_b):
    """Pairs where exactly one of the two refuses or negates and they are alike enough
    (raw cosine S ≥ STANCE_NEAR) to be about the same proposal."""
    differ = np.asarray(stance_a, dtype=bool)[:, None] != np.asarray(stance_b, dtype=bool)[None, :]
    return differ & (S >= STANCE_NEAR)


def csls(S, r, r_other=None):
    """Hubness-corrected similarities 2·S − r_i − r_j (r: each row's neighbourhood
    density, r_other the columns' when they are other rows).

    Pairs that say nearly the same thing keep at least S − NEAR_SAME: among many
    copies of one idea (a scribe's repeats, a campaign) every neighbourhood is dense,
    and CSLS alone would push identical texts apart.
    """
    r_other = r if r_other is None else r_other
    return np.maximum(2 * S - np.asarray(r)[:, None] - np.asarray(r_other)[None, :],
                      S - NEAR_SAME)


def congress_density(X, k=20, chunk=256) -> np.ndarray:
    """Each row's neighbourhood density (neighbourhood) over the whole congress."""
    n = X.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        S = X[rows].similarity(X) if isinstance(X, Meaning) else _similarity_to(X, rows)
        S[np.arange(len(rows)), rows] = -np.inf
        out[rows] = neighbourhood(S, k, exclude_diagonal=False, others=n - 1)
    return out


def neighbourhood(S, k=10, exclude_diagonal=True, others=None):
    """Mean similarity of each row to its k most similar others (CSLS's r); `others`:
    how many columns are real others when the caller masked some itself."""
    n = S.shape[1] if others is None else others
    if exclude_diagonal:
        S = S.copy()
        np.fill_diagonal(S, -np.inf)
        n -= 1
    k = int(min(k, n))
    if k <= 0:
        return np.zeros(S.shape[0], dtype=S.dtype)
    top = np.partition(S, S.shape[1] - k, axis=1)[:, S.shape[1] - k:]
    # Never below 0: a contribution unlike everything (a dozen ideas on as many
    # subjects) would otherwise make any pair with it, even a dissimilar one, « close ».
    return np.maximum(top.mean(axis=1), 0.0)


def stable_id(prefix: str, members) -> str:
    """Deterministic id for a new group, from its sorted member ids."""
    digest = hashlib.sha1("\x1f".join(sorted(map(str, members))).encode()).hexdigest()
    return f"{prefix}{digest[:10]}"


class RecurringPoints:
    """Group contributions that make the same point, theme by theme.

    Parameters
    ----------
    similarity_threshold : hubness-corrected (CSLS) similarity under which groups stop
        merging (average linkage); higher gives more, smaller points. At 0, two
        contributions join when they are closer to each other than to their usual
        neighbours.
    csls_k : neighbours that define a contribution's neighbourhood density (CSLS).
    density_max : up to this many contributions, the density is read on the whole
        congress (exact); above, inside each theme's blocks. Read inside a theme of a
        small congress, it counted nearly every other contribution as a neighbour, and
        points over-merged (measured on real statements, docs/clustering.md).
    granularity : theme code → the facilitator's steps (« plus de points » > 0, « moins
        de points » < 0), each moving that theme's threshold by ``GRANULARITY_STEP``.
    dense_max : above this size a theme is blocked before clustering.
    n_terms : terms in a label.
    random_state : seed of the blocking for large themes.

    Fitted attributes: ``labels_`` (group index per row), ``groups_`` (list of row
    index arrays), ``terms_`` (label terms),
    ``density_`` (each row's CSLS neighbourhood, for the live path).
    """

    def __init__(self, similarity_threshold=0.0, csls_k=20, granularity=None,
                 dense_max=2500, density_max=3000, n_terms=3, random_state=0):
        self.similarity_threshold = similarity_threshold
        self.csls_k = csls_k
        self.density_max = density_max
        self.granularity = granularity
        self.dense_max = dense_max
        self.n_terms = n_terms
        self.random_state = random_state

    def neighbours(self, n) -> int:
        """How many neighbours make a density in a congress of n: csls_k, and never more
        than half the others: in a congress of a dozen ideas, csls_k neighbours would be
        everyone, and the density the congress's mean (everything would look close)."""
        return int(min(self.csls_k, n - 1, max(3, (n - 1) // 2)))

    def threshold(self, theme) -> float:
        """The CSLS threshold of one theme, moved by the facilitator's granularity."""
        step = int((self.granularity or {}).get(theme, 0))
        step = max(-GRANULARITY_MAX, min(GRANULARITY_MAX, step))
        return self.similarity_threshold + GRANULARITY_STEP * step

    def fit(self, X, themes, word_block=None, Z=None, stance=None):
        """X: L2-normalised rows (the meaning space); themes: theme code per row;
        word_block: (n_word_cols, names, forms) of X's word columns for label terms;
        stance: per row, True when it refuses or negates (negative_stance)."""
        n = X.shape[0]
        themes = np.asarray(themes, dtype=object)
        self.stance_ = (np.zeros(n, dtype=bool) if stance is None
                        else np.asarray(stance, dtype=bool))
        labels = np.full(n, -1, dtype=np.int64)
        self.congress_density_ = n <= self.density_max
        self.density_ = (congress_density(X, self.neighbours(n)) if self.congress_density_
                         else np.zeros(n, dtype=np.float64))
        groups: list[np.ndarray] = []
        for theme in sorted(set(themes.tolist())):
            rows = np.flatnonzero(themes == theme)
            for part in self._cluster_rows(X, rows, Z, self.threshold(theme)):
                labels[part] = len(groups)
                groups.append(part)
        self.labels_ = labels
        self.groups_ = groups
        self.group_themes_ = [themes[g[0]] for g in groups]
        self.terms_ = [[] for _ in groups]
        if word_block is not None:
            self.terms_ = distinctive_terms(X, groups, themes, word_block, self.n_terms)
        return self

    def _cluster_rows(self, X, rows, Z, threshold):
        if len(rows) == 0:
            return []
        if len(rows) == 1:
            return [rows]
        if len(rows) <= self.dense_max:
            return [rows[p] for p in self._agglomerate(X, rows, threshold)]
        if Z is not None:
            Zr = Z[rows]
        elif isinstance(X, Meaning):  # the latent axes are a fine space to block in
            Zr = _unit(X.dense[rows])
        else:
            Zr = reduce(X[rows], random_state=self.random_state)
        out = []
        for block in partition(Zr, block_size=self.dense_max // 2,
                               random_state=self.random_state):
            if len(block) == 1:
                out.append(rows[block])
                continue
            for p in self._agglomerate(X, rows[block], threshold):
                out.append(rows[block[p]])
        return out

    def _agglomerate(self, X, rows, threshold):
        from sklearn.cluster import AgglomerativeClustering

        n = len(rows)
        if n == 1:
            return [np.arange(1)]
        S = _similarity(X[rows])
        if not self.congress_density_:
            self.density_[rows] = neighbourhood(S, self.csls_k)
        C = csls(S, self.density_[rows])
        # Opposed pairs repel: average linkage then keeps them apart even through others.
        C[opposed(S, self.stance_[rows], self.stance_[rows])] = -OPPOSED
        D = np.clip(2.0 - C, 0.0, None)
        np.fill_diagonal(D, 0.0)
        D = (D + D.T) / 2
        model = AgglomerativeClustering(n_clusters=None, metric="precomputed",
                                        linkage="average",
                                        distance_threshold=max(1e-9, 2.0 - threshold))
        lab = model.fit_predict(D)
        parts = [np.flatnonzero(lab == c) for c in np.unique(lab)]
        # Deterministic order: by first member.
        return sorted(parts, key=lambda p: int(p[0]))


def _similarity_to(X, rows) -> np.ndarray:
    """Dense cosines of some rows of a plain (sparse or dense) matrix with all its rows."""
    S = X[rows] @ X.T
    return (S.toarray() if sp.issparse(S) else np.asarray(S)).astype(np.float64)


def _similarity(Xs) -> np.ndarray:
    """Dense cosine matrix of some rows (Meaning, sparse or dense)."""
    if isinstance(Xs, Meaning):
        return Xs.similarity()
    S = Xs @ Xs.T
    return (S.toarray() if sp.issparse(S) else np.asarray(S)).astype(np.float64)


def medoid(X, rows) -> int:
    """Row of `rows` most similar on average to the others (the first on a tie)."""
    return medoids(X, [rows])[0]


def medoids(X, groups) -> list[int]:
    """Medoid row of every group at once.

    Each member's summed cosine to its group is its dot product with the group's
    vector sum (rows are L2-normalised), so one sparse product replaces a
    similarity matrix per group.
    """
    if not groups:
        return []
    if isinstance(X, Meaning):
        return [int(np.asarray(g)[int(np.argmax(c))]) for g, c in
                zip(groups, X.centrality(groups), strict=True)]
    X = X.tocsr() if sp.issparse(X) else sp.csr_matrix(X)
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    rows = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
    owner = np.repeat(np.arange(len(groups)), sizes)
    G = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (owner, rows)),
                      shape=(len(groups), X.shape[0]))
    sums = (G @ X).tocsr()
    score = np.asarray(X[rows].multiply(sums[owner]).sum(axis=1)).ravel()
    out, start = [], 0
    for size in sizes.tolist():
        part = score[start:start + size]
        out.append(int(rows[start + int(np.argmax(part))]))
        start += size
    return out


def distinctive_terms(X, groups, themes, word_block, n_terms=3):
    """Top terms of each group against its theme, each word in its commonest surface form
    (labels.phrases renders them as written, for the stored runs)."""
    _, _, forms = word_block
    out = []
    for candidates in distinctive_stems(X, groups, themes, word_block, n_terms):
        chosen: list[str] = []
        used: set[str] = set()
        for parts in candidates:
            if any(p in used for p in parts):
                continue
            chosen.append(" ".join(best_surface(p, forms) for p in parts))
            used.update(parts)
            if len(chosen) == n_terms:
                break
        out.append(chosen)
    return out


def distinctive_stems(X, groups, themes, word_block, n_terms=3):
    """Candidate terms of each group, best first: stems and stem pairs as tuples
    (4 × n_terms at most), yielded group by group (50,000 groups' lists at once cost
    tens of MiB at the pipeline's peak). Scored against the group's theme; a group of
    one: its own top stems.

    Means and document frequencies of every group come from two sparse products
    with a group-indicator matrix, and only each group's own non-zero columns are
    scored, so the cost grows with the congress's size, not groups × vocabulary.
    """
    n_word, names, _ = word_block
    W = X[:, :n_word].tocsr() if sp.issparse(X) else sp.csr_matrix(X[:, :n_word])
    n = W.shape[0]
    if not groups or n == 0:
        yield from ([] for _ in groups)
        return
    theme_codes = sorted(set(themes.tolist()))
    theme_index = {t: k for k, t in enumerate(theme_codes)}
    row_theme = np.array([theme_index[t] for t in themes.tolist()], dtype=np.int64)
    counts = np.bincount(row_theme, minlength=len(theme_codes)).astype(np.float64)
    T = sp.csr_matrix((1.0 / counts[row_theme], (row_theme, np.arange(n))),
                      shape=(len(theme_codes), n))
    theme_mean = (T @ W).toarray() if len(theme_codes) * W.shape[1] <= 5e7 else None
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    g_rows = np.repeat(np.arange(len(groups)), sizes.astype(np.int64))
    g_cols = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
    G = sp.csr_matrix((np.ones(len(g_cols)), (g_rows, g_cols)), shape=(len(groups), n))
    means = sp.csr_matrix(G @ W)
    means = sp.diags(1.0 / sizes) @ means
    means = means.tocsr()
    Wb = W.copy()
    Wb.data = np.ones_like(Wb.data)
    df = (G @ Wb).tocsr()
    for k, g in enumerate(groups):
        lo, hi = means.indptr[k], means.indptr[k + 1]
        cols, mean = means.indices[lo:hi], means.data[lo:hi]
        if len(g) > 1:
            # Present in several members, and more present than in the theme at large.
            t = theme_index[themes[g[0]]]
            if theme_mean is not None:
                base = theme_mean[t, cols]
            else:
                base = np.asarray(T[t] @ W[:, cols].toarray()).ravel()
            dlo, dhi = df.indptr[k], df.indptr[k + 1]
            frac = dict(zip(df.indices[dlo:dhi].tolist(), df.data[dlo:dhi].tolist(),
                            strict=True))
            share = np.array([frac.get(int(c), 0.0) for c in cols]) / len(g)
            score = (mean - 0.5 * base) * (0.5 + share)
        else:
            score = mean
        keep = score > 0
        cols, score = cols[keep], score[keep]
        order = np.lexsort((cols, -score))[: 4 * n_terms]
        yield [tuple(names[j].split(" ")) for j in cols[order]]


def near_duplicates(X, threshold=0.85, k=5, Z=None, random_state=0):
    """Pairs (i, j, similarity), i < j, of near-identical rows across the whole congress."""
    n = X.shape[0]
    if n < 2:
        return []
    idx, sims = cosine_knn(X, k, random_state=random_state, Z=Z)
    pairs = {}
    for i in range(n):
        for j, s in zip(idx[i], sims[i], strict=True):
            if s >= threshold and i != j:
                a, b = (i, int(j)) if i < j else (int(j), i)
                pairs[(a, b)] = max(pairs.get((a, b), 0.0), float(s))
    return [(a, b, s) for (a, b), s in sorted(pairs.items())]


def match_groups(new_groups, old_groups, min_jaccard=0.3):
    """Map new groups to previous ids by maximum Jaccard overlap of member ids.

    new_groups: list of sets of member ids; old_groups: dict old_id -> set of ids.
    Returns {new_index: old_id}.  Hungarian assignment per connected component of
    the overlap graph keeps it exact and small even with thousands of groups.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse.csgraph import connected_components

    if not new_groups or not old_groups:
        return {}
    old_ids = sorted(old_groups)
    where = {}
    for j, oid in enumerate(old_ids):
        for m in old_groups[oid]:
            where[m] = j
    overlaps: dict[tuple[int, int], int] = {}
    for i, members in enumerate(new_groups):
        for m in members:
            j = where.get(m)
            if j is not None:
                overlaps[(i, j)] = overlaps.get((i, j), 0) + 1
    edges = []
    for (i, j), inter in overlaps.items():
        union = len(new_groups[i]) + len(old_groups[old_ids[j]]) - inter
        jac = inter / union if union else 0.0
        if jac >= min_jaccard:
            edges.append((i, j, jac))
    if not edges:
        return {}
    n_new, n_old = len(new_groups), len(old_ids)
    rows = np.array([e[0] for e in edges])
    cols = np.array([e[1] for e in edges]) + n_new
    graph = sp.coo_matrix((np.ones(len(edges)), (rows, cols)),
                          shape=(n_new + n_old, n_new + n_old))
    _, comp = connected_components(graph, directed=False)
    by_comp: dict[int, list] = {}
    for e in edges:
        by_comp.setdefault(int(comp[e[0]]), []).append(e)
    result = {}
    for c in sorted(by_comp):
        es = by_comp[c]
        ni = sorted({e[0] for e in es})
        oj = sorted({e[1] for e in es})
        M = np.zeros((len(ni), len(oj)))
        for i, j, jac in es:
            M[ni.index(i), oj.index(j)] = jac
        r, col = linear_sum_assignment(-M)
        for a, b in zip(r, col, strict=True):
            if M[a, b] >= min_jaccard:
                result[ni[a]] = old_ids[oj[b]]
    return result
