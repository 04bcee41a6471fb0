"""Grouping questions by meaning, without being told how many groups there are (numpy only).

Three steps over L2-normalised vectors:

1. Leader clustering: each question, in order, joins the group whose centroid is nearest when that
   centroid is at least `threshold` similar (cosine), else starts a group of its own.
2. Reassignment: every question moves to its nearest centroid (twice), which undoes the order the
   first step depended on.
3. Average-linkage merging: two groups whose questions are, on average, at least `merge_threshold`
   similar to each other's become one, most similar first. With unit vectors the mean pairwise
   similarity of two groups is the dot product of their sums over the product of their sizes, so
   this is exact and needs no matrix of every pair of questions.

The thresholds were fitted on development questions (bench/content_gaps.py --fit), never on the
bench's own set: citadel.gaps.services.THRESHOLDS, per embedder.
"""

import numpy as np

BLOCK = 256
REASSIGN_PASSES = 2


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def cluster(vectors: np.ndarray, *, threshold: float, merge_threshold: float) -> np.ndarray:
    """A group number for each row of `vectors` (n × d), numbered 0.. by first appearance."""
    x = normalised(vectors)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    labels = _leaders(x, threshold)
    for _ in range(REASSIGN_PASSES):
        labels = _reassign(x, labels)
    labels = _merge(x, labels, merge_threshold)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[np.searchsorted(np.unique(labels), labels)]


def centroids(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each group's normalised mean (rows in group order)."""
    return normalised(_group_sums(normalised(vectors), labels))


def _group_sums(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Row sums per group 0..max(labels) (every group non-empty): sorted, then summed in runs."""
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0])
    return np.add.reduceat(x[order], starts, axis=0)


def _leaders(x: np.ndarray, threshold: float) -> np.ndarray:
    n, d = x.shape
    labels = np.empty(n, dtype=np.int64)
    sums = np.zeros((64, d), dtype=np.float32)
    unit = np.zeros((64, d), dtype=np.float32)
    count = 0
    # Blocks of questions are compared with the centroids in one product; those that start a group
    # are then placed one by one, so two alike questions in one block still share a group.
    for start in range(0, n, BLOCK):
        block = x[start : start + BLOCK]
        if count:
            sims = block @ unit[:count].T
            best = sims.argmax(axis=1)
            best_sim = sims[np.arange(len(block)), best]
        else:
            best = np.zeros(len(block), dtype=np.int64)
            best_sim = np.full(len(block), -np.inf, dtype=np.float32)
        fresh_from = count
        for i, vector in enumerate(block):
            group, sim = int(best[i]), float(best_sim[i])
            if count > fresh_from:
                fresh = unit[fresh_from:count] @ vector
                j = int(fresh.argmax())
                if fresh[j] > sim:
                    group, sim = fresh_from + j, float(fresh[j])
            if sim < threshold:
                if count == len(sums):
                    sums = np.vstack([sums, np.zeros_like(sums)])
                    unit = np.vstack([unit, np.zeros_like(unit)])
                group = count
                count += 1
            labels[start + i] = group
            sums[group] += vector
            unit[group] = sums[group] / max(float(np.linalg.norm(sums[group])), 1e-12)
    return labels


def _reassign(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    _, labels = np.unique(labels, return_inverse=True)
    unit = centroids(x, labels)
    moved = np.empty_like(labels)
    for start in range(0, len(x), 4096):
        moved[start : start + 4096] = (x[start : start + 4096] @ unit.T).argmax(axis=1)
    return moved


def _merge(x: np.ndarray, labels: np.ndarray, merge_threshold: float) -> np.ndarray:
    _, labels = np.unique(labels, return_inverse=True)
    k = int(labels.max()) + 1
    sums = _group_sums(x, labels)
    sizes = np.bincount(labels, minlength=k).astype(np.float32)
    link = (sums @ sums.T) / np.outer(sizes, sizes)
    np.fill_diagonal(link, -np.inf)
    alive = np.ones(k, dtype=bool)
    parent = np.arange(k)
    # Each row's best partner, kept up to date, so a merge costs one row and not the whole matrix.
    best = link.argmax(axis=1)
    best_link = link[np.arange(k), best]
    while k > 1:
        a = int(best_link.argmax())
        b = int(best[a])
        if best_link[a] < merge_threshold:
            break
        # b joins a: a's row becomes the link of the merged group, b's row leaves.
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        alive[b] = False
        parent[b] = a
        row = (sums @ sums[a]) / (sizes * sizes[a])
        row[~alive] = -np.inf
        row[a] = -np.inf
        link[a, :] = row
        link[:, a] = row
        link[b, :] = -np.inf
        link[:, b] = -np.inf
        best_link[b] = -np.inf
        stale = alive & ((best == a) | (best == b))
        stale[a] = True
        rows = np.flatnonzero(stale)
        best[rows] = link[rows].argmax(axis=1)
        best_link[rows] = link[rows, best[rows]]
        better = alive & (row > best_link)
        best[better] = a
        best_link[better] = row[better]
    # Follow each group to the one it finally joined.
    while True:
        hop = parent[parent]
        if np.array_equal(hop, parent):
            return parent[labels]
        parent = hop
