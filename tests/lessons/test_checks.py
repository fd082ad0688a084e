"""The checkers on the lessons' real data: the right answer passes, typical wrong answers fail
with their specific hint, and no hint holds the answer."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.errors import LessonError
from workbench.lessons import (
    EXERCISES,
    LANGUAGES,
    LESSONS,
    UNANSWERED,
    get_exercise,
    load_checks,
    start_lesson,
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the lessons compute, computed once (the same calls as the notebooks)."""
    from workbench.assess.drift import detect_drift
    from workbench.assess.explain import explain_model
    from workbench.assess.fairness import assess_fairness
    from workbench.data import make_engine, validate
    from workbench.governance import Trail, create_governance_tables
    from workbench.lessons import (
        damaged_batch,
        machine_readings,
        machining,
        machining_schema,
        mes_tables,
        robot_readings,
    )
    from workbench.models import ChronologicalSplit, FailureClassifier, ai4i_features, evaluate
    from workbench.reporting import build_evidence_package

    work = tmp_path_factory.mktemp("lesson-ctx")
    c: dict[str, Any] = {}
    c["readings"] = machine_readings()
    c["robot"] = robot_readings()
    c["counts"] = mes_tables(work / "mes", hours=2)["production_counts"]
    raw = machining(days=1)
    c["raw"] = raw
    c["report"] = validate(damaged_batch(raw), machining_schema())
    frame = machining()
    c["frame"] = frame
    X = ai4i_features(frame, feature_set="physics")
    y = frame["machine_failure"]
    first = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
    model = FailureClassifier(threshold="f1", n_estimators=60, random_state=0)
    model.fit(X[first], y[first])
    c.update(model=model, X_train=X[first], y_train=y[first], X_test=X[~first], y_test=y[~first])
    c["proba"] = model.predict_proba(X[~first])[:, 1]
    c["cost_fn"], c["cost_fp"] = 2_000_000, 100_000
    c["result"] = evaluate(
        FailureClassifier(threshold="f1", n_estimators=60, random_state=0),
        X.assign(timestamp=frame["timestamp"]),
        y,
        protocol=ChronologicalSplit(time="timestamp", test_fraction=0.5),
        n_boot=100,
        dataset="automotive_machining",
    )
    case = int(np.flatnonzero(y[~first].to_numpy())[0])
    c["explanation"] = explain_model(
        model.model_, X[~first], cases=[case], sample=300, interactions=False, seed=0
    )
    pred = model.predict(X[~first])
    c["fairness"] = assess_fairness(
        y[~first],
        pred,
        sensitive_features=frame.loc[~first, ["shift", "operator_group", "company_size"]],
        k=10,
        n_boot=100,
        seed=0,
        intersections=False,
    )
    history = machining(days=3, drifted=True)
    day = history["timestamp"].dt.floor("D")
    last = day.max()
    cols = ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm"]
    c["drift"] = detect_drift(history.loc[day < last, cols], history.loc[day == last, cols])
    Xh = ai4i_features(history, feature_set="physics")
    yh = history["machine_failure"]
    mh = FailureClassifier(threshold="f1", n_estimators=60, random_state=0)
    mh.fit(Xh[day < last], yh[day < last])
    c["monitor"] = pd.DataFrame(
        {
            "site": history["site"].astype(str),
            "period": np.where(day == last, "current", "reference"),
            "failure": yh.to_numpy(),
            "alarm": mh.predict(Xh),
        }
    )
    folder = work / "evidence"
    build_evidence_package(
        folder,
        title="t",
        language="en",
        model_info={"name": "m", "version": "1"},
        metrics=c["result"],
    )
    metrics_file = folder / "results" / "metrics.json"
    data = json.loads(metrics_file.read_text(encoding="utf-8"))
    data["metrics"]["recall"]["value"] = 0.99
    metrics_file.write_text(json.dumps(data), encoding="utf-8")
    c["folder"] = folder
    engine = make_engine(f"sqlite:///{work / 'gov.db'}")
    create_governance_tables(engine)
    trail = Trail(engine)
    trail.append("review_requested", actor="minji", role="researcher", subject="model:m@1")
    trail.append("approved", actor="junho", role="reviewer", subject="model:m@1")
    c["events"] = trail.events()
    return c


def _recall(y: Any, p: Any) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return float((y & p).sum() / y.sum())


def _rows(c: dict[str, Any], site: str, period: str) -> pd.DataFrame:
    m = c["monitor"]
    return m[(m["site"] == site) & (m["period"] == period)]


def _precision(rows: pd.DataFrame) -> float:
    return float((rows["alarm"] & rows["failure"]).sum() / rows["alarm"].sum())


def _sel(c: dict[str, Any], asset: str | None, signal: str | None) -> float:
    r = c["readings"]
    if asset:
        r = r[r["asset"] == asset]
    if signal:
        r = r[r["signal"] == signal]
    return float(r["value"].mean())


def _joint(c: dict[str, Any], asset: str | None, stat: str) -> str:
    r = c["robot"]
    r = r[r["signal"].astype(str).str.endswith("_temperature")]
    if asset:
        r = r[r["asset"] == asset]
    return str(r.groupby(r["signal"].astype(str))["value"].agg(stat).idxmax()).split("_")[0]


def _line(c: dict[str, Any]) -> pd.DataFrame:
    return c["counts"][c["counts"]["line"] == "ULS-A1-L1"]


def _contrib(c: dict[str, Any]) -> dict[str, float]:
    return {n: v for n, v, _ in c["explanation"].cases[0].contributions}


def _top_abs(c: dict[str, Any]) -> str:
    return max(c["explanation"].importance, key=lambda f: f.mean_abs_shap).feature


def _cost(c: dict[str, Any], *, swap: bool = False, misses: bool = False) -> float:
    y, alarm = c["y_test"].to_numpy(), c["proba"] >= 0.5
    fn, fp = int((y & ~alarm).sum()), int((~y & alarm).sum())
    a, b = (c["cost_fp"], c["cost_fn"]) if swap else (c["cost_fn"], c["cost_fp"])
    return fn * a + (0 if misses else fp * b)


Answer = Callable[[dict[str, Any]], Any]
MODES = {"twf", "hdf", "pwf", "osf", "rnf"}
PROCESS = [
    "air_temperature_k",
    "process_temperature_k",
    "rotational_speed_rpm",
    "torque_nm",
    "tool_wear_min",
]

#: exercise -> (the right answer, [(a typical wrong answer, the mistake it must be named as)])
CASES: dict[str, tuple[Answer, list[tuple[Answer, str]]]] = {
    "l01.e1": (
        lambda c: _sel(c, "ULS-A1-L1-CNC01", "spindle_temperature"),
        [
            (lambda c: _sel(c, "ULS-A1-L1-CNC01", None), "all_signals"),
            (lambda c: _sel(c, None, "spindle_temperature"), "all_machines"),
            (lambda c: _sel(c, "ULS-A1-L1-CNC01", "spindle_temperature") + 273.15, "kelvin"),
        ],
    ),
    "l01.e2": (
        lambda c: _joint(c, "ULS-A1-L1-RB01", "mean"),
        [(lambda c: "j6", "generic")],
    ),
    "l01.e3": (
        lambda c: int(_line(c)["good_count"].sum()),
        [
            (lambda c: len(_line(c)), "rows"),
            (lambda c: int(_line(c)[["good_count", "scrap_count"]].sum().sum()), "with_scrap"),
            (lambda c: int(c["counts"]["good_count"].sum()), "all_lines"),
        ],
    ),
    "l02.e1": (
        lambda c: len(c["report"].quarantine),
        [
            (lambda c: sum(c["report"].counts.values()), "rule_counts"),
            (lambda c: c["report"].rows_valid, "valid_rows"),
            (lambda c: c["report"].rows_in - len(c["raw"]), "difference_raw"),
        ],
    ),
    "l02.e2": (
        lambda c: c["report"].quarantine["rule"].value_counts().idxmax(),
        [(lambda c: "torque_nm", "column_not_rule"), (lambda c: "speed", "not_a_rule")],
    ),
    "l02.e3": (
        lambda c: c["report"].rows_valid / c["report"].rows_in,
        [
            (lambda c: 100 * c["report"].rows_valid / c["report"].rows_in, "percent"),
            (lambda c: c["report"].rows_quarantined / c["report"].rows_in, "quarantined_share"),
            (lambda c: c["report"].rows_valid / len(c["raw"]), "wrong_base"),
        ],
    ),
    "l03.e1": (
        lambda c: c["frame"]["machine_failure"].mean(),
        [
            (lambda c: int(c["frame"]["machine_failure"].sum()), "count"),
            (lambda c: 100 * c["frame"]["machine_failure"].mean(), "percent"),
            (lambda c: 1 - c["frame"]["machine_failure"].mean(), "complement"),
        ],
    ),
    "l03.e2": (
        lambda c: PROCESS,
        [
            (lambda c: [*PROCESS, "machine_failure"], "target"),
            (lambda c: [*PROCESS, "twf", "hdf"], "label_derived"),
            (lambda c: [*PROCESS, "operator_id"], "identifier"),
            (lambda c: PROCESS[:2], "too_few"),
            (lambda c: [*PROCESS, "spindle_rpm"], "unknown_column"),
        ],
    ),
    "l03.e3": (
        lambda c: _recall(c["y_test"], c["model"].predict(c["X_test"])),
        [
            (lambda c: _recall(c["y_train"], c["model"].predict(c["X_train"])), "train_data"),
            (
                lambda c: float((c["y_test"].to_numpy() == c["model"].predict(c["X_test"])).mean()),
                "accuracy",
            ),
        ],
    ),
    "l04.e1": (
        lambda c: float((~c["y_test"]).mean()),
        [
            (lambda c: float(c["y_test"].mean()), "failure_rate"),
            (lambda c: 100 * float((~c["y_test"]).mean()), "percent"),
        ],
    ),
    "l04.e2": (
        lambda c: set(MODES),
        [
            (lambda c: {"twf"}, "partial"),
            (lambda c: MODES | {"torque_nm"}, "extra"),
            (lambda c: MODES | {"machine_failure"}, "target"),
        ],
    ),
    "l04.e3": (
        lambda c: (c["result"]["recall"].ci_low, c["result"]["recall"].ci_high),
        [
            (lambda c: (c["result"]["recall"].ci_high, c["result"]["recall"].ci_low), "swapped"),
            (lambda c: (c["result"]["f1"].ci_low, c["result"]["f1"].ci_high), "other_metric"),
        ],
    ),
    "l04.e4": (
        lambda c: _cost(c),
        [
            (lambda c: _cost(c, swap=True), "swapped"),
            (lambda c: _cost(c, misses=True), "misses_only"),
            (
                lambda c: (
                    _cost(c)
                    + int((c["y_test"].to_numpy() & (c["proba"] >= 0.5)).sum()) * c["cost_fp"]
                ),
                "true_alarms",
            ),
        ],
    ),
    "l04.e5": (
        lambda c: c["cost_fp"] / (c["cost_fp"] + c["cost_fn"]),
        [
            (lambda c: 0.5, "half"),
            (lambda c: c["cost_fn"] / (c["cost_fp"] + c["cost_fn"]), "swapped"),
            (lambda c: c["cost_fp"] / c["cost_fn"], "ratio"),
        ],
    ),
    "l05.e1": (
        _top_abs,
        [(lambda c: "spindle_rpm", "not_a_feature")],
    ),
    "l05.e2": (
        lambda c: max(_contrib(c), key=_contrib(c).get),
        [(lambda c: min(_contrib(c), key=_contrib(c).get), "pushed_down")],
    ),
    "l05.e3": (
        lambda c: sum(_contrib(c).values()),
        [
            (lambda c: c["explanation"].cases[0].prediction, "prediction"),
            (lambda c: sum(abs(v) for v in _contrib(c).values()), "absolute"),
        ],
    ),
    "l06.e1": (
        lambda c: c["fairness"].by_group("company_size")["recall"].idxmin(),
        [(lambda c: "medium", "not_a_group")],
    ),
    "l06.e2": (
        lambda c: c["fairness"].feature("company_size").difference["recall"].value,
        [
            (lambda c: c["fairness"].feature("company_size").ratio["recall"].value, "ratio"),
            (lambda c: -c["fairness"].feature("company_size").difference["recall"].value, "sign"),
        ],
    ),
    "l06.e3": (
        lambda c: bool(c["fairness"].feature("company_size").difference["recall"].ci_low > 0),
        [
            (
                lambda c: (
                    not (c["fairness"].feature("company_size").difference["recall"].ci_low > 0)
                ),
                "generic",
            )
        ],
    ),
    "l07.e1": (
        lambda c: set(c["drift"].drifted_columns),
        [
            (lambda c: set(c["drift"].drifted_columns[:1]), "partial"),
            (lambda c: set(c["drift"].drifted_columns) | {"rotational_speed_rpm"}, "extra"),
        ],
    ),
    "l07.e2": (
        lambda c: _precision(_rows(c, "ULS-A1", "current")),
        [
            (
                lambda c: _recall(*_rows(c, "ULS-A1", "current")[["failure", "alarm"]].T.values),
                "recall",
            ),
            (lambda c: _precision(_rows(c, "ULS-A1", "reference")), "reference"),
        ],
    ),
    "l07.e3": (lambda c: "ULS-A1", [(lambda c: "GNM-A1", "inputs_only")]),
    "l08.e1": (
        lambda c: ["results/metrics.json"],
        [(lambda c: ["manifest.json"], "manifest"), (lambda c: "metrics.json", "bare_name")],
    ),
    "l08.e2": (
        lambda c: {"reviewer", "ethics_officer"},
        [
            (lambda c: {"reviewer", "ethics_officer", "researcher"}, "researcher"),
            (lambda c: {"reviewer", "ethics_officer", "admin"}, "admin"),
            (lambda c: {"reviewer"}, "partial"),
            (lambda c: {"boss"}, "not_a_role"),
        ],
    ),
    "l08.e3": (
        lambda c: c["events"][0].hash,
        [(lambda c: c["events"][1].hash, "own_hash"), (lambda c: "0" * 64, "genesis")],
    ),
}


def _synthetic_costs(c: dict[str, Any]) -> dict[str, Any]:
    # misses, false alarms and hits all present (the lesson's model has no false alarm at 0.5)
    y = pd.Series([True, True, True, False, False, False, False, False])
    proba = np.array([0.9, 0.6, 0.2, 0.7, 0.55, 0.1, 0.3, 0.05])
    return {**c, "y_test": y, "proba": proba}


#: exercises checked on a small made-up context where the real one cannot tell mistakes apart
CONTEXTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"l04.e4": _synthetic_costs}


def test_every_exercise_has_cases() -> None:
    load_checks()
    assert set(CASES) == set(EXERCISES)
    assert sum(len(lesson.exercises) for lesson in LESSONS) == len(EXERCISES) >= 24


def _shown(value: Any) -> list[str]:
    """How a solution value could appear written in a hint."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):  # answers named in every hint as the choices are not a leak
        return [value] if len(value) > 3 and value not in ("SME", "large") else []
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        if not math.isfinite(v) or v in (0.0, 1.0):
            return []
        out = {f"{v:.2f}", f"{v:.3f}", f"{v:.4f}", f"{v:,.0f}"}
        if v == int(v):
            out.add(str(int(v)))
        return [s for s in out if len(s.strip("0.,")) >= 2]
    if isinstance(value, set | list | tuple):
        return [s for v in value for s in _shown(v)]
    return []


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_right_answer_passes_wrong_answers_get_their_hint(
    exercise_id: str, ctx: dict[str, Any]
) -> None:
    ex = get_exercise(exercise_id)
    context = CONTEXTS.get(exercise_id, dict)(dict(ctx))
    right, wrongs = CASES[exercise_id]
    answer = right(context)
    verdict = ex.judge(answer, context)
    assert verdict.passed, (exercise_id, verdict)
    shown = _shown(answer)
    assert ex.judge(..., context).mistake == UNANSWERED
    for wrong, mistake in wrongs:
        verdict = ex.judge(wrong(context), context)
        assert not verdict.passed, (exercise_id, mistake)
        assert verdict.mistake == mistake, (exercise_id, mistake, verdict)
    for code in ex.hints:
        for lang in LANGUAGES:
            hint = ex.hint(code, lang)
            assert hint.strip()
            for text in shown:
                assert text not in hint, (exercise_id, code, lang, text)


def test_every_hint_exists_in_both_languages() -> None:
    load_checks()
    for ex in EXERCISES.values():
        assert "generic" in ex.hints
        for code, text in ex.hints.items():
            assert set(text) == set(LANGUAGES), (ex.id, code)
        assert set(ex.title) == set(LANGUAGES)


def test_check_records_attempts_and_reports_a_hint(tmp_path: Path) -> None:
    from workbench.lessons import ProgressStore

    url = f"sqlite:///{tmp_path / 'p.db'}"
    session = start_lesson(4, language="ko", trainee="kim", database_url=url)
    cost = {"cost_fn": 2_000_000, "cost_fp": 100_000}
    wrong = session.check("e5", 0.5, **cost)
    assert not wrong.passed and wrong.mistake == "half" and wrong.attempt == 1
    assert "0.5" in wrong.message and "비용" in wrong.message
    assert "wb-feedback" in wrong._repr_html_() and "✘" in str(wrong)
    assert session.check("e5", ..., **cost).attempt is None  # not answered: not an attempt
    right = session.check("l04.e5", 100_000 / 2_100_000, **cost)
    assert right.passed and right.attempt == 2 and right.message == "정답입니다!"
    (row,) = ProgressStore(url).progress(_Me("kim"))
    assert (row.exercise, row.attempts, row.passed) == ("l04.e5", 2, True)
    assert row.passed_at is not None and row.first_attempt_at <= row.passed_at


class _Me:
    def __init__(self, username: str) -> None:
        self.username = username


def test_missing_context_is_the_lessons_error_not_the_trainees() -> None:
    with pytest.raises(LessonError, match="needs cost_fn"):
        get_exercise("l04.e5").judge(0.1, {})
    with pytest.raises(LessonError, match="unknown exercise"):
        get_exercise("l04.e9")


def test_lessons_share_the_projects_home(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.delenv("WORKBENCH_HOME")
    monkeypatch.delenv("WORKBENCH_LESSONS", raising=False)
    monkeypatch.chdir(repo / "lessons" / "ko")
    start_lesson(1, language="ko", trainee="kim", record=False)
    assert os.environ["WORKBENCH_HOME"] == str(repo / ".workbench")
    monkeypatch.setenv("WORKBENCH_HOME", "/elsewhere")
    start_lesson(1, language="en", trainee="kim", record=False)
    assert os.environ["WORKBENCH_HOME"] == "/elsewhere"
