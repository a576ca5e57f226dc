"""Nearest neighbours by cosine, exact when small and blocked when large.

Why blocked: an exact k-NN over 50,000 contributions is 2.5 billion pairs, too
slow for the 60 s budget on two cores.  Above ``exact_max`` rows the vectors are
reduced with a truncated SVD and cut into blocks of about ``block_size`` rows
by MiniBatchKMeans; neighbours are searched inside each block only.  Similar
texts fall in the same block, so little is lost, and the cost becomes linear.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def reduce(X, n_components=64, random_state=0, fit_rows=2000):
    """Dense, L2-normalised low-rank copy of X (see reduce_with_axes)."""
    return reduce_with_axes(X, n_components, random_state, fit_rows)[0]


def reduce_with_axes(X, n_components=64, random_state=0, fit_rows=2000):
    """Dense, L2-normalised low-rank copy of X (randomised SVD), and its axes (k × m,
    None when X is too small to reduce) so that a new row is projected the same way.

    The SVD is fitted on a fixed sample of at most ``fit_rows`` rows and applied to
    all of them: the axes of a congress's vocabulary are found long before its
    50,000th contribution, and the projection itself is one sparse product.  The
    range finder works on the sample's side (no transpose), so every dense
    factorisation is sample-sized rather than vocabulary-sized (tens of thousands
    of character n-grams).
    """
    from sklearn.preprocessing import normalize

    n, m = X.shape
    k = int(min(n_components, n - 1, m - 1))
    if k < 2:
        return normalize(X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float32), None
    rng = np.random.default_rng(random_state)
    sample = X
    if n > fit_rows:
        sample = X[np.sort(rng.choice(n, fit_rows, replace=False))]
    sample = sample.astype(np.float64)
    width = min(k + 10, min(sample.shape))
    Y = sample @ rng.standard_normal((m, width))
    for _ in range(2):  # power iterations, re-orthonormalised (sample-sized, cheap)
        Y, _ = np.linalg.qr(Y)
        Y = sample @ (sample.T @ Y)
    Q, _ = np.linalg.qr(Y)
    B = np.asarray((sample.T @ Q).T)          # width × m
    w, U = np.linalg.eigh(B @ B.T)           # B = U S Vt  ⇒  B Bᵀ = U S² Uᵀ
    top = np.argsort(-w, kind="stable")[:k]
    keep = w[top] > 1e-12
    top = top[keep]
    vt = (U[:, top].T @ B) / np.sqrt(w[top])[:, None]
    # A sign convention makes the projection independent of the eigensolver's.
    signs = np.sign(vt[np.arange(len(top)), np.argmax(np.abs(vt), axis=1)])
    vt *= signs[:, None]
    axes = vt.astype(np.float32)
    Z = np.asarray(X @ axes.T, dtype=np.float32)
    return normalize(Z), axes


def prune_rows(X, keep=40):
    """Each row's `keep` largest weights, re-normalised: a sparser copy for similarity.

    A contribution's character n-grams give its row a few hundred non-zeros, and
    sparse products between such rows dominate neighbour search on a national
    consultation.  Most of a row's norm sits in its strongest features, so
    cosines between pruned rows stay close to the exact ones at a fraction of
    the cost.  Used only above the pipeline's LARGE threshold.
    """
    from sklearn.preprocessing import normalize

    X = X.tocsr().astype(np.float32)
    counts = np.diff(X.indptr)
    if counts.max(initial=0) <= keep:
        return X
    indptr = [0]
    indices, data = [], []
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        row = X.data[lo:hi]
        cols = X.indices[lo:hi]
        if hi - lo > keep:
            top = np.argpartition(-row, keep - 1)[:keep]
            top.sort()
            row, cols = row[top], cols[top]
        data.append(row)
        indices.append(cols)
        indptr.append(indptr[-1] + len(row))
    pruned = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.asarray(indptr)),
                           shape=X.shape)
    return normalize(pruned)


def partition(Z, block_size=1500, random_state=0):
    """Cut rows of Z into blocks of about block_size similar rows (list of index arrays)."""
    from sklearn.cluster import MiniBatchKMeans

    n = Z.shape[0]
    n_blocks = int(np.ceil(n / block_size))
    if n_blocks <= 1:
        return [np.arange(n)]
    # A few epochs are enough for blocking: the blocks only need to keep neighbours
    # together, not to be optimal clusters.
    km = MiniBatchKMeans(n_clusters=n_blocks, random_state=random_state, n_init=1,
                         batch_size=4096, max_iter=3, max_no_improvement=3)
    labels = km.fit_predict(Z)
    blocks = []
    for b in range(n_blocks):
        idx = np.flatnonzero(labels == b)
        # Very large blocks (a dominant topic) are split further by position: they stay
        # bounded in memory, at the price of a few missed neighbours.
        for start in range(0, len(idx), 3 * block_size):
            part = idx[start:start + 3 * block_size]
            if len(part):
                blocks.append(part)
    return blocks


def _topk_dense(S, k):
    """Row-wise top-k (indices, values) of a dense similarity block, best first."""
    k = min(k, S.shape[1])
    if k <= 0:
        return np.zeros((S.shape[0], 0), dtype=np.int64), np.zeros((S.shape[0], 0), np.float32)
    idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(S, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


def cosine_knn(X, k=10, exact_max=3000, block_size=1500, random_state=0, Z=None, chunk=512):
    """k nearest other rows of X by cosine (rows assumed L2-normalised).

    Returns (indices, similarities), both (n, k'), with k' = min(k, n - 1); rows
    are best first.  Deterministic for a given random_state.
    """
    n = X.shape[0]
    k = int(min(k, max(n - 1, 0)))
    if n == 0 or k == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if n <= exact_max:
        indices = np.zeros((n, k), dtype=np.int64)
        sims = np.zeros((n, k), dtype=np.float32)
        XT = X.T.tocsc() if sp.issparse(X) else X.T
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            S = X[start:stop] @ XT
            S = S.toarray() if sp.issparse(S) else np.asarray(S)
            S = S.astype(np.float32, copy=False)
            S[np.arange(stop - start), np.arange(start, stop)] = -np.inf
            i, v = _topk_dense(S, k)
            indices[start:stop], sims[start:stop] = i, v
        return indices, sims
    if Z is None:
        Z = reduce(X, random_state=random_state)
    indices = np.zeros((n, k), dtype=np.int64)
    sims = np.full((n, k), -np.inf, dtype=np.float32)
    for block in partition(Z, block_size, random_state):
        Zb = Z[block]
        for start in range(0, len(block), chunk):
            stop = min(len(block), start + chunk)
            S = Zb[start:stop] @ Zb.T
            S[np.arange(stop - start), np.arange(start, stop)] = -np.inf
            i, v = _topk_dense(S, k)
            indices[block[start:stop], : i.shape[1]] = block[i]
            sims[block[start:stop], : v.shape[1]] = v
    # Rows of a block smaller than k + 1 have fewer neighbours: point them at themselves
    # with similarity 0 so callers can treat every row alike.
    missing = ~np.isfinite(sims)
    if missing.any():
        rows = np.nonzero(missing)[0]
        indices[missing] = rows
        sims[missing] = 0.0
    return indices, sims


def knn_graph(indices, sims, n, min_sim=0.0):
    """Symmetric sparse affinity matrix from k-NN lists (max of both directions)."""
    if indices.size == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows = np.repeat(np.arange(n), indices.shape[1])
    cols = indices.ravel()
    vals = np.clip(sims.ravel(), 0.0, None)
    keep = (vals > min_sim) & (rows != cols)
    W = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n), dtype=np.float32)
    return W.maximum(W.T).tocsr()
