"""The evidence package: JSON + figures + HTML summary, small, raw-data free, hash-verified."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _services import ensure_cjk_font
from sklearn.ensemble import HistGradientBoostingClassifier

import workbench.reporting._figures as _figures
from workbench.assess.drift import detect_drift
from workbench.assess.explain import explain_model
from workbench.assess.fairness import assess_fairness
from workbench.errors import ConfigError, PrivacyError
from workbench.reporting import (
    STRINGS,
    EvidencePackage,
    build_evidence_package,
    verify_evidence_package,
)

PLANTED_VALUE = 987654.321987  # a raw feature value that must never leave the data
PLANTED_GROUP = "ZQ-PLANTED-4242"  # a tiny operator group (fewer than k rows)


@pytest.fixture(scope="module")
def run() -> dict:
    rng = np.random.default_rng(7)
    n = 3000
    X = pd.DataFrame(
        {
            "temperature": rng.normal(60, 5, n),
            "vibration": rng.gamma(2.0, 1.0, n),
            "load": rng.uniform(0, 1, n),
        }
    )
    X.loc[5, "temperature"] = PLANTED_VALUE
    y = ((X["vibration"] + 2 * X["load"] + rng.normal(0, 0.5, n)) > 3).astype(int).to_numpy()
    sf = pd.DataFrame(
        {
            "shift": rng.choice(["A", "B", "C"], n),
            "company_size": rng.choice(["SME", "large"], n, p=[0.3, 0.7]),
            "operator_group": rng.choice(["crew-1", "crew-2"], n),
        }
    )
    sf.loc[:3, "operator_group"] = PLANTED_GROUP
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    pred = model.predict(X)
    fairness = assess_fairness(y, pred, sensitive_features=sf, k=10, n_boot=50, seed=0)
    explanation = explain_model(model, X, sample=500, seed=0, cases=[5], interactions=False)
    current = X.copy()
    current["load"] = current["load"] + 0.3
    drift = detect_drift(X.iloc[:1500], current.iloc[1500:])
    return {
        "fairness": fairness,
        "explanation": explanation,
        "drift": drift,
        "metrics": {"accuracy": {"value": 0.91, "ci_low": 0.9, "ci_high": 0.92}, "f1": 0.83},
    }


def _build(folder: Path, run: dict, language: str = "ko", **kw: object) -> EvidencePackage:
    return build_evidence_package(
        folder,
        title="설비 고장 예측" if language == "ko" else "Failure prediction",
        language=language,
        model_info={"name": "failure-hgb", "version": "1.0", "rows": 3000},
        metrics=run["metrics"],
        explanation=run["explanation"],
        fairness=run["fairness"],
        drift=run["drift"],
        **kw,  # type: ignore[arg-type]
    )


def test_korean_summary_holds_korean_strings(tmp_path: Path, run: dict) -> None:
    pkg = _build(tmp_path / "ko", run)
    page = pkg.summary.read_text(encoding="utf-8")
    assert '<html lang="ko">' in page
    for key in ("fairness", "drift", "explanation", "privacy", "metrics"):
        assert STRINGS["ko"][key] in page
    assert "기업 규모" in page and "중소기업" in page and "대기업" in page
    assert STRINGS["en"]["fairness"] not in page


def test_english_summary(tmp_path: Path, run: dict) -> None:
    pkg = _build(tmp_path / "en", run, language="en")
    page = pkg.summary.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Fairness by group" in page
    assert "기업" not in page


def test_no_raw_data_in_any_file(tmp_path: Path, run: dict) -> None:
    pkg = _build(tmp_path / "pkg", run)
    written = [p for p in pkg.folder.rglob("*") if p.is_file()]
    assert len(written) >= 8
    needles = [f"{PLANTED_VALUE}", "987654", "987,654", PLANTED_GROUP, "PLANTED"]
    for path in written:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, (path, needle)
    # the chosen case kept its SHAP values but not its raw feature values
    exp = json.loads((pkg.folder / "results" / "explanation.json").read_text(encoding="utf-8"))
    assert exp["cases"] and all(c[2] is None for c in exp["cases"][0]["contributions"])


def test_figures_written_as_png_and_svg(tmp_path: Path, run: dict) -> None:
    pkg = _build(tmp_path / "pkg", run)
    names = set(pkg.files)
    for stem in ("shap_global_bar", "shap_beeswarm", "drift_columns"):
        assert f"figures/{stem}.png" in names and f"figures/{stem}.svg" in names
    assert any(n.startswith("figures/fairness_company_size") for n in names)
    png = (pkg.folder / "figures" / "shap_global_bar.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_hashes_verify(tmp_path: Path, run: dict) -> None:
    pkg = _build(tmp_path / "pkg", run)
    manifest = json.loads(pkg.manifest.read_text(encoding="utf-8"))
    listed = {e["path"] for e in manifest["files"]}
    on_disk = {p.relative_to(pkg.folder).as_posix() for p in pkg.folder.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"}
    assert pkg.verify() == []
    target = pkg.folder / "results" / "fairness.json"
    target.write_bytes(target.read_bytes().replace(b"selection_rate", b"selection_rat3", 1))
    assert verify_evidence_package(pkg.folder) == ["results/fairness.json"]


def test_refuses_raw_identifiers(tmp_path: Path, run: dict) -> None:
    folder = tmp_path / "refused"
    with pytest.raises(PrivacyError, match="email"):
        _build(folder, run, extra={"contact": "kim.minsu@example.co.kr"})
    assert not folder.exists()
    with pytest.raises(PrivacyError, match="listed_identifier"):
        build_evidence_package(
            folder,
            title="t",
            language="en",
            model_info={"owner": "Hanbit Precision Co"},
            metrics={"accuracy": 0.9},
            identifiers=["Hanbit Precision Co"],
        )
    assert not folder.exists()


def test_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ko, en"):
        build_evidence_package(
            tmp_path, title="t", language="fr", model_info={}, metrics={"accuracy": 0.9}
        )


def test_html_size_does_not_grow_with_data(tmp_path: Path) -> None:
    sizes = []
    for n in (2_000, 200_000):
        rng = np.random.default_rng(0)
        sf = pd.DataFrame(
            {
                "shift": rng.choice(["A", "B", "C"], n),
                "company_size": rng.choice(["SME", "large"], n),
                "site": rng.choice([f"S{i}" for i in range(6)], n),
            }
        )
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < 0.8, y, 1 - y)
        fair = assess_fairness(y, pred, sensitive_features=sf, n_boot=20)
        pkg = build_evidence_package(
            tmp_path / str(n), title="t", model_info={}, metrics={"f1": 0.8}, fairness=fair
        )
        sizes.append(pkg.html_bytes)
    assert max(sizes) < 60_000
    assert abs(sizes[0] - sizes[1]) < 0.1 * sizes[0]


def test_cjk_font_available_under_ci() -> None:
    font = ensure_cjk_font()  # installs Debian's fonts-noto-cjk when missing
    assert "CJK" in font or "KR" in font or "Nanum" in font


def test_figure_labels_korean_and_no_suppressed_group(
    tmp_path: Path, run: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_cjk_font()
    # write SVG text as text (not glyph paths) so that the labels can be read back
    monkeypatch.setattr(_figures, "SVG_FONTTYPE", "none")
    pkg = _build(tmp_path / "pkg", run)
    svgs = {p.name: p.read_text(encoding="utf-8") for p in (pkg.folder / "figures").glob("*.svg")}
    company = [t for n, t in svgs.items() if n.startswith("fairness_company_size")]
    assert company and all("중소기업" in t and "대기업" in t for t in company)
    assert any("Noto Sans CJK" in t for t in company)  # the CJK font, not a fallback's boxes
    for text in svgs.values():
        assert PLANTED_GROUP not in text


def test_metrics_from_an_evaluation_result_dict(tmp_path: Path) -> None:
    evaluation = {
        "model": "LGBMClassifier",
        "task": "classification",
        "n_rows": 5000,
        "metrics": {
            "f1": {"name": "f1", "value": 0.8123, "ci_low": 0.8, "ci_high": 0.83, "n_boot": 200},
            "roc_auc": {"name": "roc_auc", "value": 0.9, "ci_low": 0.89, "ci_high": 0.91},
        },
        "fold_mean": {"f1": 0.81},
        "folds": [{"fold": 0, "metrics": {"f1": 0.5555}}],
    }
    pkg = build_evidence_package(
        tmp_path, title="t", language="ko", model_info={"name": "m"}, metrics=evaluation
    )
    page = pkg.summary.read_text(encoding="utf-8")
    assert "F1 점수" in page and "0.812" in page and "[0.800, 0.830]" in page
    assert "0.5555" not in page and "0.556" not in page  # fold details stay in the JSON
    saved = json.loads((pkg.folder / "results" / "metrics.json").read_text(encoding="utf-8"))
    assert saved == evaluation
