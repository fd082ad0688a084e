# %% [markdown]
# # A small deterministic study (test fixture of the run engine)
#
# It draws data with its seed, "fits" a mean, records an input, metrics and a small evidence
# package, the way every workbench notebook does.

# %% tags=["parameters"]
seed = 7  # random seed
n = 200  # rows to draw
scale = 1.0  # noise scale
label = "small"  # any text, echoed into the record
fail = False  # raise in the last cell (to test failures)
source: str | None = None  # where the data comes from (replay may set it)

# %%
import hashlib

import numpy as np

from workbench.reporting import build_evidence_package
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics

rng = np.random.default_rng(seed)
x = rng.normal(scale=scale, size=n)
digest = hashlib.sha256(x.tobytes()).hexdigest()
record_inputs(
    [
        {
            "kind": "factory",
            "uri": f"factory://test/metrics?seed={seed}&n={n}",
            "sha256": digest,
            "rows": n,
        }
    ],
    replay={"source": "factory"},
)

# %%
mae = float(np.mean(np.abs(x - x.mean())))
boot = [float(np.mean(np.abs(s - s.mean()))) for s in (rng.choice(x, size=n) for _ in range(50))]
record_metrics(
    {
        "mae": {
            "value": mae,
            "ci_low": float(np.quantile(boot, 0.025)),
            "ci_high": float(np.quantile(boot, 0.975)),
        },
        "n_rows": n,
        "label_length": len(label),
    }
)
print(label)

# %%
package = build_evidence_package(
    output_dir() / "evidence" / "en",
    title="Test study",
    language="en",
    model_info={"name": "mean", "seed": seed},
    metrics={"mae": {"value": mae}},
)
record_evidence(package)

# %%
if fail:
    raise ValueError(f"asked to fail after {n} rows")

# ruff: noqa: E402
