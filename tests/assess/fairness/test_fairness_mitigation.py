"""mitigate: ThresholdOptimizer / ExponentiatedGradient, fairness before and after, and the cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from workbench.assess.fairness import MitigationResult, mitigate
from workbench.errors import DataValidationError


def _biased(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame]:
    """True labels do not depend on firm size; historic labels over-report large firms' failures
    (35 % of their negatives recorded as positive), and a proxy feature reveals the firm size."""
    rng = np.random.default_rng(seed)
    size = rng.choice(["SME", "large"], n)
    x1 = rng.normal(size=n)
    proxy = (size == "large") * 1.5 + rng.normal(scale=0.3, size=n)
    y = ((x1 + rng.normal(scale=0.5, size=n)) > 0).astype(int)
    historic = np.where((size == "large") & (rng.random(n) < 0.35), 1, y)
    return (
        pd.DataFrame({"x1": x1, "proxy": proxy}),
        y,
        historic,
        pd.DataFrame({"company_size": size}),
    )


@pytest.mark.parametrize(
    ("method", "constraint", "metric"),
    [
        ("threshold", "demographic_parity", "selection_rate"),
        ("threshold", "equalized_odds", "false_positive_rate"),
        ("exponentiated_gradient", "demographic_parity", "selection_rate"),
    ],
)
def test_mitigation_reduces_disparity_and_reports_cost(
    method: str, constraint: str, metric: str
) -> None:
    X, y, historic, sf = _biased(3000, 0)
    Xe, ye, _, sfe = _biased(2000, 1)
    model = LogisticRegression().fit(X, historic)  # learnt the historic bias
    res = mitigate(
        model,
        X,
        y,
        sf,
        method=method,
        constraint=constraint,  # type: ignore[arg-type]
        X_eval=Xe,
        y_eval=ye,
        sensitive_eval=sfe,
        n_boot=100,
        seed=0,
    )
    assert isinstance(res, MitigationResult) and res.evaluated_on == "held-out"
    before = res.before.feature("company_size").difference[metric].value
    after = res.after.feature("company_size").difference[metric].value
    assert before is not None and after is not None
    assert after < 0.5 * before
    for m in ("accuracy", "f1", "recall"):
        p = res.performance[m]
        assert p["before"].ci_low is not None and p["after"].ci_high is not None
        assert p["change"].value == pytest.approx(p["after"].value - p["before"].value)
    # cost or gain, it is reported with an interval around the change
    acc = res.performance["accuracy"]["change"]
    assert acc.ci_low is not None and acc.ci_low <= acc.value <= acc.ci_high
    d = res.to_dict()
    assert "estimator" not in d and d["before"]["kind"] == "FairnessResult"
    # the fitted mitigator predicts with the sensitive feature
    if method == "threshold":
        pred = res.estimator.predict(Xe, sensitive_features=sfe["company_size"], random_state=0)
        assert len(pred) == len(Xe)


def test_mitigation_rejects_unfitted_model_and_unknown_method() -> None:
    X, y, _, sf = _biased(200, 0)
    with pytest.raises(DataValidationError, match="not fitted"):
        mitigate(LogisticRegression(), X, y, sf)
    with pytest.raises(DataValidationError, match="unknown method"):
        mitigate(LogisticRegression().fit(X, y), X, y, sf, method="magic")  # type: ignore[arg-type]
