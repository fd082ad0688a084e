"""Privacy checks: identifier scan, k-anonymity suppression, Laplace DP aggregates."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.assess.privacy import (
    check_privacy,
    dp_aggregate,
    scan_evidence,
    suppress_small_groups,
)
from workbench.data import Pseudonymiser
from workbench.errors import ConfigError, DataError

COMPANIES = ["Hanbit Precision", "Daesung Marine"]


@dataclass(frozen=True)
class _Result:
    groups: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"groups": list(self.groups)}


def test_scan_finds_planted_identifiers_in_nested_dicts_and_json() -> None:
    evidence = {
        "run": {"sections": [{"title": "ok"}, {"title": "Yield at hanbit precision, line 2"}]},
        "fairness": json.dumps({"groups": [{"name": "shift A"}, {"name": "OP-0042"}]}),
        "Daesung Marine": 3,
        "result": _Result(("night", "OP-1234 and OP-1235")),
    }
    hits = scan_evidence(evidence, raw_values=COMPANIES)
    where = {(h.location, h.needle) for h in hits}
    assert ("$.run.sections[1].title", "raw_value") in where
    assert ("$.fairness.groups[1].name", "operator_id") in where
    assert ("$.Daesung Marine (key)", "raw_value") in where
    assert ("$.result.groups[1]", "operator_id") in where
    assert [h.count for h in hits if h.location == "$.result.groups[1]"] == [2]
    # the report masks what it found
    assert all("Hanbit" not in h.sample and "0042" not in h.sample for h in hits)
    assert len(hits) == 4


def test_scan_finds_identifiers_in_html_even_split_by_tags_or_entities() -> None:
    html = (
        "<html><body><h1>요약</h1><p>Best line: <b>Hanbit</b> Precision</p>"
        "<td title='x'>OP&#45;0077</td><p>Daesung&nbsp;Marine</p></body></html>"
    )
    hits = scan_evidence(html, raw_values=[*COMPANIES, "Daesung\xa0Marine"])
    needles = sorted(h.needle for h in hits)
    assert needles == ["operator_id", "raw_value"]
    clean = "<html><body><p>PSN-operator-0123456789abcdef0123 on shift B</p></body></html>"
    assert scan_evidence(clean, raw_values=COMPANIES) == []


def test_pseudonyms_and_frames(pseudonymiser: Pseudonymiser) -> None:
    psn = pseudonymiser.pseudonym("OP-0042", kind="operator")
    frame = pd.DataFrame({"operator": [psn, psn, "OP-0042"], "recall": [0.9, 0.8, 0.7]})
    hits = scan_evidence(frame)
    assert [(h.location, h.count) for h in hits] == [("$['operator']", 1)]
    assert scan_evidence({"operator": psn}) == []


def test_check_privacy_passes_clean_evidence_and_fails_planted() -> None:
    table = suppress_small_groups(
        pd.DataFrame({"shift": ["A", "B", "C"], "count": [50, 40, 2], "recall": [0.9, 0.8, 1.0]}),
        "count",
        5,
    )
    ok = check_privacy({"summary": "all good"}, raw_values=COMPANIES, group_tables={"t": table})
    assert ok.passed and ok.identifier_hits == () and ok.small_groups == ()
    raw = pd.DataFrame({"shift": ["A", "B", "C"], "count": [50, 40, 2], "recall": [0.9, 0.8, 1.0]})
    bad = check_privacy(
        {"summary": "Hanbit Precision"}, raw_values=COMPANIES, group_tables={"t": raw}, k=5
    )
    assert not bad.passed
    assert bad.small_groups[0].table == "t" and bad.small_groups[0].rows == (2,)
    assert bad.identifier_hits[0].location == "$.summary"
    json.dumps(bad.to_dict())


def _shown_counts(table: pd.DataFrame) -> np.ndarray:
    return table["count"].dropna().to_numpy()


@pytest.mark.parametrize("seed", range(20))
def test_suppression_never_shows_a_group_below_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 11))
    sites, shifts = ["s1", "s2", "s3"], ["A", "B", "C", "D"]
    table = pd.DataFrame(list(product(sites, shifts)), columns=["site", "shift"])
    table["count"] = rng.integers(0, 3 * k, size=len(table))
    table["rate"] = rng.random(len(table))
    out = suppress_small_groups(table, "count", k, margins=[[], ["site"], ["shift"]])
    assert (_shown_counts(out) >= k).all()
    small = table["count"] < k
    assert out.loc[small, "rate"].isna().all() and out.loc[small, "suppressed"].all()
    # no masked count can be recovered from a known margin total
    for margin in ([], ["site"], ["shift"]):
        parts = [out] if not margin else [g for _, g in out.groupby(margin)]
        for part in parts:
            hidden = part["suppressed"]
            if hidden.any():
                assert hidden.sum() >= 2 or hidden.all()
                assert table.loc[part.index[hidden], "count"].sum() >= k or hidden.all()


def test_complementary_suppression_of_one_way_table() -> None:
    table = pd.DataFrame({"shift": ["A", "B", "C", "D"], "count": [100, 30, 3, 12]})
    out = suppress_small_groups(table, "count", 5)
    assert list(out["suppression"]) == ["", "", "primary", "complementary"]
    assert out["count"].isna().tolist() == [False, False, True, True]
    assert out.attrs["suppression"]["complementary"] == 1
    nothing = suppress_small_groups(table.iloc[:2], "count", 5)
    assert not nothing["suppressed"].any() and nothing["count"].tolist() == [100, 30]


def test_suppression_errors() -> None:
    table = pd.DataFrame({"g": ["a"], "n": [3]})
    with pytest.raises(DataError, match=r"'count'.*columns are"):
        suppress_small_groups(table, "count", 5)
    with pytest.raises(ConfigError):
        suppress_small_groups(table, "n", 0)


def _records(n_groups: int = 4, per_group: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "sector": np.repeat([f"g{i}" for i in range(n_groups)], per_group),
            "energy": rng.uniform(0, 100, size=n_groups * per_group),
        }
    )


def test_dp_noise_has_the_laplace_scale() -> None:
    frame = _records(n_groups=500, per_group=20)
    truth = frame.groupby("sector")["energy"].agg(["size", "sum"])
    count_noise, sum_noise = [], []
    for seed in range(12):
        r = dp_aggregate(frame, "energy", "sector", epsilon=0.5, lower=0, upper=100, seed=seed)
        got = r.to_frame().set_index("sector")
        count_noise.append((got["count"] - truth["size"]).to_numpy())
        sum_noise.append((got["sum"] - truth["sum"]).to_numpy())
    assert r.epsilon == 0.5 and r.epsilon_count == 0.25 and r.epsilon_sum == 0.25
    assert r.scale_count == pytest.approx(4.0) and r.scale_sum == pytest.approx(400.0)
    counts, sums = np.concatenate(count_noise), np.concatenate(sum_noise)
    # Laplace(b): mean 0, std b*sqrt(2), mean |x| = b (6000 draws: about 1.4% error)
    assert abs(sums.mean()) < 0.1 * 400
    assert np.std(sums) == pytest.approx(400 * math.sqrt(2), rel=0.08)
    assert np.mean(np.abs(sums)) == pytest.approx(400, rel=0.08)
    assert np.mean(np.abs(counts)) == pytest.approx(4.0, rel=0.08)  # counts >> 0: no clamping
    assert not any("seed" in k and k != "seeded" for k in r.to_dict())


def test_dp_large_epsilon_approaches_truth_and_inf_is_exact() -> None:
    frame = _records()
    truth = frame.groupby("sector")["energy"].agg(["size", "sum", "mean"])
    errors = []
    for eps in (0.1, 10.0, 1e4):
        got = dp_aggregate(frame, "energy", "sector", epsilon=eps, lower=0, upper=100, seed=3)
        errors.append(float(np.abs(got.to_frame()["mean"].to_numpy() - truth["mean"]).max()))
    assert errors[2] < 1e-2 and errors[2] < errors[1] < errors[0]
    exact = dp_aggregate(frame, "energy", "sector", epsilon=math.inf, lower=0, upper=100)
    table = exact.to_frame().set_index("sector")
    np.testing.assert_allclose(table["sum"], truth["sum"])
    np.testing.assert_allclose(table["mean"], truth["mean"])
    assert exact.scale_sum == 0.0
    json.dumps(exact.to_dict())


def test_dp_public_groups_clipping_and_errors() -> None:
    frame = pd.DataFrame({"g": ["a", "a", "b"], "v": [1e6, 5.0, 5.0]})
    r = dp_aggregate(
        frame,
        "v",
        "g",
        epsilon=math.inf,
        lower=0,
        upper=10,
        groups=["a", "b", "c"],
        statistics=["count", "sum"],
    )
    assert r.to_frame().to_dict("records") == [
        {"g": "a", "count": 2.0, "sum": 15.0},
        {"g": "b", "count": 1.0, "sum": 5.0},
        {"g": "c", "count": 0.0, "sum": 0.0},
    ]
    assert r.groups_public and r.sensitivity_sum == 10
    with pytest.raises(ConfigError, match="epsilon"):
        dp_aggregate(frame, "v", "g", epsilon=0, lower=0, upper=10)
    with pytest.raises(ConfigError, match="lower < upper"):
        dp_aggregate(frame, "v", "g", epsilon=1, lower=5, upper=1)
    with pytest.raises(DataError, match="'x'"):
        dp_aggregate(frame, "x", "g", epsilon=1, lower=0, upper=1)
