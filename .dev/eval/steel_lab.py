"""Steel feature experiments on VALIDATION splits only (train Jan-Jun -> Jul-Sep; Jan-Aug -> Sep).
The test quarter (Oct-Dec) is never touched here."""
from __future__ import annotations
import sys, time
import numpy as np, pandas as pd
import lightgbm as lgb
from workbench.data.datasets import load_steel_energy
from workbench.models._recipes import steel_forecast_frame

frame = load_steel_energy("/work/shared/data/steel_industry_energy").frame
ff = steel_forecast_frame(frame)
X = ff.X.copy()
y = ff.Y["h1"].to_numpy()
ts = ff.target_time["h1"]
keep = np.isfinite(y)
v = frame.sort_values("timestamp")["usage_kwh"].to_numpy(float)

def lag(k):
    return X[f"usage_kwh_lag{k}"] if f"usage_kwh_lag{k}" in X else pd.Series(np.r_[np.full(k, np.nan), v[:-k]] if k else v, index=X.index)

def add_deltas(X):
    X = X.copy()
    # yesterday's and last week's change across the same transition (origin slot -> target slot)
    X["d_yday"] = lag(95) - lag(96)
    X["d_week"] = lag(671) - lag(672)
    X["naive_yday"] = lag(0) + X["d_yday"]
    X["naive_week"] = lag(0) + X["d_week"]
    return X

def add_multi(X):
    X = X.copy()
    ds = np.stack([lag(96 * d - 1) - lag(96 * d) for d in range(1, 8)], axis=1)
    X["d_med7"] = np.nanmedian(ds, axis=1)
    X["d_mean7"] = np.nanmean(ds, axis=1)
    X["d_absmax7"] = np.nanmax(np.abs(ds), axis=1)
    lv = np.stack([lag(96 * d - 1) for d in range(1, 8)], axis=1)
    X["lvl_med7"] = np.nanmedian(lv, axis=1)
    return X

def fit_eval(Xf, train_end, test_end="2018-10-01 00:00+09:00", seeds=(0,), relative=False, n=600):
    tr = keep & (ts < pd.Timestamp(train_end)).to_numpy()
    te = keep & (ts >= pd.Timestamp(train_end)).to_numpy() & (ts < pd.Timestamp(test_end)).to_numpy()
    base = Xf["usage_kwh_lag0"].to_numpy() if relative else 0.0
    target = y - base
    preds = []
    for s in seeds:
        m = lgb.LGBMRegressor(n_estimators=n, learning_rate=0.03, num_leaves=31, min_child_samples=20,
                              subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=s,
                              n_jobs=1, verbose=-1)
        m.fit(Xf[tr], target[tr])
        preds.append(m.predict(Xf[te]))
    p = np.mean(preds, axis=0) + (base[te] if relative else 0.0)
    return float(np.sqrt(np.mean((p - y[te]) ** 2)))

variants = {
    "base": X,
    "+deltas": add_deltas(X),
    "+deltas+multi": add_multi(add_deltas(X)),
}
for name in sys.argv[1:] or variants:
    Xf = variants[name]
    t0 = time.time()
    r1 = fit_eval(Xf, "2018-07-01 00:00+09:00")
    r2 = fit_eval(Xf, "2018-09-01 00:00+09:00")
    r1r = fit_eval(Xf, "2018-07-01 00:00+09:00", relative=True)
    print(f"{name:20s} JulSep {r1:.3f}  Sep {r2:.3f}  JulSep(rel) {r1r:.3f}  ({time.time()-t0:.0f}s)", flush=True)
