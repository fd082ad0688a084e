"""Exact path-dependent TreeSHAP for LightGBM models, per leaf and cached by pattern (numba).

The values are those of LightGBM's ``predict(X, pred_contrib=True)`` and ``shap.TreeExplainer``
(path-dependent TreeSHAP), computed in a different order. For one leaf ``l`` with value ``v``
whose root path splits on the distinct features ``D`` (``d = |D|``), path-dependent TreeSHAP is
the Shapley decomposition of the product game

    g_l(S) = v · prod_{j in S} o_j · prod_{j in D \\ S} z_j

where ``z_j`` is the product of the cover ratios ``count(child) / count(parent)`` of the path's
splits on ``j`` and ``o_j`` is 1 when the row satisfies all of them (LightGBM's own decision,
missing values and default directions included), else 0. A tree's SHAP values are the sum over
its leaves, and its expected value ``sum_l v_l · prod_j z_j``. With ``P(t) = prod_j (z_j + o_j t)``
and ``w_k = k! (d - k - 1)! / d!``:

- a feature the row does not satisfy (``o_i = 0``) gets ``-v · sum_k w_k [t^k] P``;
- a feature it satisfies gets ``v (1 - z_i) · sum_k w_k [t^k] (P / (z_i + t))``.

These depend on the row only through the bit pattern ``o`` (``2^d`` values). For each leaf with
``2^d`` not above the number of rows, all patterns are computed once (``O(2^d d^2)``); the
per-row work is then ``O(path length)`` per leaf to build the pattern plus ``O(d)`` additions,
instead of TreeSHAP's ``O(L d^2)`` per row and tree. Deeper leaves are computed per row.

Only numerical splits are handled; :func:`supported` says when LightGBM's own ``pred_contrib``
must be used instead (categorical splits, linear trees, random-forest mode, several outputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TreeTables", "contributions", "reference_contributions", "supported", "tables"]

_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
_ZERO_THRESHOLD = 1e-35


@dataclass(frozen=True)
class TreeTables:
    """A LightGBM model flattened into arrays (one entry per internal node, leaf, path edge)."""

    n_features: int
    expected_value: float
    # internal nodes (global index), per tree [node_start, node_start + node_count)
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_default_left: np.ndarray
    node_missing: np.ndarray
    tree_node_start: np.ndarray
    tree_node_count: np.ndarray
    tree_leaf_start: np.ndarray
    tree_leaf_count: np.ndarray
    # leaves
    leaf_value: np.ndarray
    leaf_d: np.ndarray
    leaf_slot_start: np.ndarray
    leaf_edge_start: np.ndarray
    leaf_edge_count: np.ndarray
    # distinct features of each leaf's path ("slots")
    slot_feature: np.ndarray
    slot_zero: np.ndarray
    # path edges: local node index in the tree, goes-left flag, slot
    edge_node: np.ndarray
    edge_left: np.ndarray
    edge_slot: np.ndarray


def _dump(booster: Any) -> dict[str, Any]:
    return booster.dump_model() if hasattr(booster, "dump_model") else dict(booster)


def supported(booster: Any) -> bool:
    """Whether the kernel handles this booster or dump (else use LightGBM's pred_contrib)."""
    dump = _dump(booster)
    if dump.get("average_output") or int(dump.get("num_tree_per_iteration", 1)) != 1:
        return False
    for tree in dump["tree_info"]:
        if int(tree.get("num_cat", 0)) > 0:
            return False
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "leaf_coeff" in node:  # linear trees
                return False
            if "split_feature" in node:
                if node.get("decision_type") != "<=":
                    return False
                stack.extend((node["left_child"], node["right_child"]))
    return True


def tables(booster: Any) -> TreeTables:
    """Flatten a (supported) LightGBM booster, or its ``dump_model()``, into :class:`TreeTables`."""
    dump = _dump(booster)
    n_features = int(dump["max_feature_idx"]) + 1
    node_feature: list[int] = []
    node_threshold: list[float] = []
    node_default_left: list[bool] = []
    node_missing: list[int] = []
    tree_node_start: list[int] = []
    tree_node_count: list[int] = []
    tree_leaf_start: list[int] = []
    tree_leaf_count: list[int] = []
    leaf_value: list[float] = []
    leaf_d: list[int] = []
    leaf_slot_start: list[int] = []
    leaf_edge_start: list[int] = []
    leaf_edge_count: list[int] = []
    slot_feature: list[int] = []
    slot_zero: list[float] = []
    edge_node: list[int] = []
    edge_left: list[bool] = []
    edge_slot: list[int] = []
    expected = 0.0

    for tree in dump["tree_info"]:
        root = tree["tree_structure"]
        tree_node_start.append(len(node_feature))
        tree_leaf_start.append(len(leaf_value))
        local = 0
        if "split_feature" not in root:  # a single leaf: a constant
            expected += float(root["leaf_value"])
            tree_node_count.append(0)
            tree_leaf_count.append(0)
            continue
        root_count = float(root["internal_count"])
        # depth-first: (node, path of (local node, left?, feature, ratio))
        stack: list[tuple[dict[str, Any], list[tuple[int, bool, int, float]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if "split_feature" in node:
                me = local
                local += 1
                node_feature.append(int(node["split_feature"]))
                node_threshold.append(float(node["threshold"]))
                node_default_left.append(bool(node["default_left"]))
                node_missing.append(_MISSING[str(node.get("missing_type", "None"))])
                count = float(node["internal_count"])
                feature = int(node["split_feature"])
                for child, left in ((node["right_child"], False), (node["left_child"], True)):
                    child_count = float(
                        child["internal_count"] if "split_feature" in child else child["leaf_count"]
                    )
                    ratio = child_count / count if count > 0 else 0.0
                    stack.append((child, [*path, (me, left, feature, ratio)]))
                continue
            value = float(node["leaf_value"])
            features = list(dict.fromkeys(f for _, _, f, _ in path))
            slot = {f: i for i, f in enumerate(features)}
            zero = [1.0] * len(features)
            for _, _, f, ratio in path:
                zero[slot[f]] *= ratio
            expected += value * float(np.prod(zero)) if features else value
            leaf_value.append(value)
            leaf_d.append(len(features))
            leaf_slot_start.append(len(slot_feature))
            slot_feature.extend(features)
            slot_zero.extend(zero)
            leaf_edge_start.append(len(edge_node))
            leaf_edge_count.append(len(path))
            for n, left, f, _ in path:
                edge_node.append(n)
                edge_left.append(left)
                edge_slot.append(slot[f])
        del root_count
        tree_node_count.append(local)
        tree_leaf_count.append(len(leaf_value) - tree_leaf_start[-1])

    def i64(v: list[Any]) -> np.ndarray:
        return np.asarray(v, dtype=np.int64)

    return TreeTables(
        n_features=n_features,
        expected_value=expected,
        node_feature=i64(node_feature),
        node_threshold=np.asarray(node_threshold, dtype=np.float64),
        node_default_left=np.asarray(node_default_left, dtype=np.bool_),
        node_missing=i64(node_missing),
        tree_node_start=i64(tree_node_start),
        tree_node_count=i64(tree_node_count),
        tree_leaf_start=i64(tree_leaf_start),
        tree_leaf_count=i64(tree_leaf_count),
        leaf_value=np.asarray(leaf_value, dtype=np.float64),
        leaf_d=i64(leaf_d),
        leaf_slot_start=i64(leaf_slot_start),
        leaf_edge_start=i64(leaf_edge_start),
        leaf_edge_count=i64(leaf_edge_count),
        slot_feature=i64(slot_feature),
        slot_zero=np.asarray(slot_zero, dtype=np.float64),
        edge_node=i64(edge_node),
        edge_left=np.asarray(edge_left, dtype=np.bool_),
        edge_slot=i64(edge_slot),
    )


# --------------------------------------------------------------------------------------------
# Plain numpy/python reference (for tests): the same game, one row and one leaf at a time.
# --------------------------------------------------------------------------------------------


def _goes_left(value: float, threshold: float, default_left: bool, missing: int) -> bool:
    if np.isnan(value) and missing != 2:
        value = 0.0
    if (missing == 1 and -_ZERO_THRESHOLD <= value <= _ZERO_THRESHOLD) or (
        missing == 2 and np.isnan(value)
    ):
        return bool(default_left)
    return bool(value <= threshold)


def reference_contributions(t: TreeTables, X: np.ndarray) -> np.ndarray:
    """``(n, p + 1)`` SHAP values by brute-force Shapley sums over subsets (small trees only)."""
    from itertools import combinations
    from math import factorial

    X = np.asarray(X, dtype=np.float64)
    out = np.zeros((len(X), t.n_features + 1))
    out[:, -1] = t.expected_value
    for r in range(len(X)):
        for tree in range(len(t.tree_node_start)):
            n0 = t.tree_node_start[tree]
            left = [
                _goes_left(
                    X[r, t.node_feature[n0 + k]],
                    t.node_threshold[n0 + k],
                    t.node_default_left[n0 + k],
                    t.node_missing[n0 + k],
                )
                for k in range(t.tree_node_count[tree])
            ]
            for leaf in range(
                t.tree_leaf_start[tree], t.tree_leaf_start[tree] + t.tree_leaf_count[tree]
            ):
                d = int(t.leaf_d[leaf])
                s0, e0 = t.leaf_slot_start[leaf], t.leaf_edge_start[leaf]
                o = np.ones(d, dtype=bool)
                for e in range(e0, e0 + t.leaf_edge_count[leaf]):
                    if left[t.edge_node[e]] != t.edge_left[e]:
                        o[t.edge_slot[e]] = False
                z = t.slot_zero[s0 : s0 + d]

                def game(
                    S: tuple[int, ...], o: np.ndarray = o, z: np.ndarray = z, d: int = d
                ) -> float:
                    return float(np.prod([o[j] if j in S else z[j] for j in range(d)]))

                for i in range(d):
                    others = [j for j in range(d) if j != i]
                    phi = 0.0
                    for k in range(d):
                        w = factorial(k) * factorial(d - k - 1) / factorial(d)
                        for S in combinations(others, k):
                            phi += w * (game((*S, i)) - game(S))
                    out[r, t.slot_feature[s0 + i]] += t.leaf_value[leaf] * phi
    return out


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------

import numba as nb  # noqa: E402  (this module is imported only when a model is explained)

TABLE_MAX_D = 8  # leaves with at most this many distinct features get a pattern table
CHUNK = 256  # rows per parallel chunk: a tree's tables stay in cache while a chunk passes


@nb.njit(cache=True, nogil=True)
def _leaf_phi(v, z, d, mask, weights, poly, out):  # type: ignore[no-untyped-def]
    # P(t) = prod_j (z_j + o_j t)
    for k in range(d + 1):
        poly[k] = 0.0
    poly[0] = 1.0
    deg = 0
    for j in range(d):
        if (mask >> j) & 1:
            for k in range(deg + 1, 0, -1):
                poly[k] = poly[k] * z[j] + poly[k - 1]
            poly[0] *= z[j]
            deg += 1
        else:
            for k in range(deg + 1):
                poly[k] *= z[j]
    off = 0.0
    for k in range(deg + 1):
        off += weights[k] * poly[k]
    for i in range(d):
        if (mask >> i) & 1:
            # Q = P / (z_i + t), synthetic division from the top
            q = poly[deg]
            acc = weights[deg - 1] * q
            for k in range(deg - 1, 0, -1):
                q = poly[k] - z[i] * q
                acc += weights[k - 1] * q
            out[i] = v * (1.0 - z[i]) * acc
        else:
            out[i] = -v * off


def _shapley_weights(max_d: int) -> np.ndarray:
    """``w[d, k] = k! (d - k - 1)! / d!`` for ``d`` up to ``max_d``."""
    w = np.zeros((max_d + 1, max_d + 1))
    for d in range(1, max_d + 1):
        c = 1.0  # C(d - 1, k)
        for k in range(d):
            w[d, k] = 1.0 / (d * c)
            c = c * (d - 1 - k) / (k + 1)
    return w


@nb.njit(cache=True, parallel=True)
def _build_tables(leaf_value, leaf_d, leaf_slot_start, slot_zero, weights, table_start, table):  # type: ignore[no-untyped-def]
    for leaf in nb.prange(len(leaf_value)):
        start = table_start[leaf]
        d = leaf_d[leaf]
        if start < 0 or d == 0:
            continue
        z = slot_zero[leaf_slot_start[leaf] : leaf_slot_start[leaf] + d]
        poly = np.zeros(d + 1)
        out = np.zeros(d)
        for mask in range(1 << d):
            _leaf_phi(leaf_value[leaf], z, d, mask, weights[d], poly, out)
            for i in range(d):
                table[start + mask * d + i] = out[i]


@nb.njit(cache=True, parallel=True)
def _rows(  # type: ignore[no-untyped-def]
    X,
    node_feature,
    node_threshold,
    node_default_left,
    node_missing,
    tree_node_start,
    tree_node_count,
    tree_leaf_start,
    tree_leaf_count,
    leaf_value,
    leaf_d,
    leaf_slot_start,
    leaf_edge_start,
    leaf_edge_count,
    slot_feature,
    slot_zero,
    edge_node,
    edge_left,
    edge_slot,
    table_start,
    table,
    weights,
    max_nodes,
    max_d,
    chunk,
    out,
):
    # Rows are the inner loop (a chunk at a time, feature-major copies), so that the per-edge
    # pattern updates and the table additions run over contiguous arrays.
    n, p = X.shape
    n_chunks = (n + chunk - 1) // chunk
    for c in nb.prange(n_chunks):
        r0 = c * chunk
        m = min(n, r0 + chunk) - r0
        xs = np.empty((p, m))
        for r in range(m):
            for f in range(p):
                xs[f, r] = X[r0 + r, f]
        acc = np.zeros((p, m))
        left = np.empty((max_nodes, m), dtype=np.uint8)
        masks = np.empty(m, dtype=np.int64)
        poly = np.zeros(max_d + 1)
        phi = np.zeros(max_d)
        for tree in range(len(tree_node_start)):
            n0 = tree_node_start[tree]
            for k in range(tree_node_count[tree]):
                f = node_feature[n0 + k]
                threshold = node_threshold[n0 + k]
                missing = node_missing[n0 + k]
                default = np.uint8(node_default_left[n0 + k])
                for r in range(m):
                    value = xs[f, r]
                    if np.isnan(value) and missing != 2:
                        value = 0.0
                    if (missing == 1 and value >= -1e-35 and value <= 1e-35) or (
                        missing == 2 and np.isnan(value)
                    ):
                        left[k, r] = default
                    else:
                        left[k, r] = np.uint8(value <= threshold)
            l0 = tree_leaf_start[tree]
            for leaf in range(l0, l0 + tree_leaf_count[tree]):
                d = leaf_d[leaf]
                if d == 0:
                    continue
                full = (np.int64(1) << d) - 1
                for r in range(m):
                    masks[r] = full
                e0 = leaf_edge_start[leaf]
                for e in range(e0, e0 + leaf_edge_count[leaf]):
                    node = edge_node[e]
                    way = np.uint8(edge_left[e])
                    slot = edge_slot[e]
                    for r in range(m):
                        # clear the slot's bit where the row goes the other way (branch-free)
                        masks[r] &= ~(np.int64(left[node, r] ^ way) << slot)
                s0 = leaf_slot_start[leaf]
                start = table_start[leaf]
                if start >= 0:
                    for i in range(d):
                        f = slot_feature[s0 + i]
                        for r in range(m):
                            acc[f, r] += table[start + masks[r] * d + i]
                else:
                    for r in range(m):
                        _leaf_phi(
                            leaf_value[leaf],
                            slot_zero[s0 : s0 + d],
                            d,
                            masks[r],
                            weights[d],
                            poly,
                            phi,
                        )
                        for i in range(d):
                            acc[slot_feature[s0 + i], r] += phi[i]
        for r in range(m):
            for f in range(p):
                out[r0 + r, f] += acc[f, r]


def contributions(t: TreeTables, X: np.ndarray) -> np.ndarray:
    """``(n, p + 1)`` SHAP values (last column: the expected value), like ``pred_contrib``."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    max_d = int(max(1, t.leaf_d.max(initial=1)))
    weights = _shapley_weights(max_d)
    # a leaf's pattern table is worth building when it is small and there are rows to reuse it
    limit_d = min(TABLE_MAX_D, max(1, int(np.log2(max(2, n)))))
    sizes = np.where(t.leaf_d <= limit_d, (1 << np.minimum(t.leaf_d, 62)) * t.leaf_d, -1)
    table_start = np.full(len(sizes), -1, dtype=np.int64)
    used = sizes >= 0
    if used.any():
        table_start[used] = np.concatenate([[0], np.cumsum(sizes[used])[:-1]])
    table = np.zeros(max(1, int(sizes[used].sum())))
    _build_tables(
        t.leaf_value, t.leaf_d, t.leaf_slot_start, t.slot_zero, weights, table_start, table
    )
    out = np.zeros((n, t.n_features + 1))
    max_nodes = int(max(1, t.tree_node_count.max(initial=1)))
    _rows(
        X,
        t.node_feature,
        t.node_threshold,
        t.node_default_left,
        t.node_missing,
        t.tree_node_start,
        t.tree_node_count,
        t.tree_leaf_start,
        t.tree_leaf_count,
        t.leaf_value,
        t.leaf_d,
        t.leaf_slot_start,
        t.leaf_edge_start,
        t.leaf_edge_count,
        t.slot_feature,
        t.slot_zero,
        t.edge_node,
        t.edge_left,
        t.edge_slot,
        table_start,
        table,
        weights,
        max_nodes,
        max_d,
        CHUNK,
        out,
    )
    out[:, -1] = t.expected_value
    return out
