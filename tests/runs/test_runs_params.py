"""Parameters are read with ast from the `parameters` cell and checked before any kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import ParameterError
from workbench.runs import check_parameters, prepare_run, read_parameters
from workbench.runs._engine import _verify_injection
from workbench.runs._params import parse_assignment_texts, parse_assignments

PAYLOADS = [
    "__import__('os').system('touch /tmp/pwned')",
    '"; import os; os.system("touch /tmp/pwned") #',
    "'; import os; os.system('touch /tmp/pwned') #",
    '"""; import os; """',
    "x\nimport os\nos.system('touch /tmp/pwned')",
    '\\"; import os #',
    "\\",
    "{0.__class__}",
    "한국어 텍스트 ${HOME} $(id)",
]


def write(tmp_path: Path, cell: str, *, tags: str = '["parameters"]') -> Path:
    path = tmp_path / "nb.py"
    path.write_text(f"# %% [markdown]\n# title\n\n# %% tags={tags}\n{cell}\n\n# %%\nprint(1)\n")
    return path


def test_names_defaults_types_and_comments(notebooks: Path) -> None:
    params = read_parameters(notebooks / "metrics.py")
    assert params.names == ["seed", "n", "scale", "label", "fail", "source"]
    assert params.defaults == {
        "seed": 7,
        "n": 200,
        "scale": 1.0,
        "label": "small",
        "fail": False,
        "source": None,
    }
    assert params["n"].type_name == "int"
    assert params["source"].type_name == "str | None"
    assert params["scale"].help == "noise scale"
    assert params.cell_index == 1
    assert len(params.sha256) == 64


def test_unknown_name_is_refused_with_the_closest_valid_names(notebooks: Path) -> None:
    params = read_parameters(notebooks / "metrics.py")
    with pytest.raises(ParameterError, match="did you mean scale") as err:
        check_parameters(params, {"scael": 2.0}, notebook="test/metrics")
    assert err.value.context["suggestions"][0] == "scale"
    assert "valid: seed, n, scale, label, fail, source" in str(err.value)
    with pytest.raises(ParameterError, match="no parameter 'zzz'; valid"):
        check_parameters(params, {"zzz": 1})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"n": "many"}, "n expects int, got 'many'"),
        ({"n": "2.5"}, "n expects int"),
        ({"fail": "maybe"}, "fail expects bool"),
        ({"scale": "nan"}, "scale expects float"),
        ({"n": "__import__('os').system('touch /tmp/pwned')"}, "n expects int"),
    ],
)
def test_wrong_types_from_text_are_refused_with_the_expected_type(
    notebooks: Path, given: dict[str, str], expected: str
) -> None:
    params = read_parameters(notebooks / "metrics.py")
    with pytest.raises(ParameterError, match=expected):
        check_parameters(params, given, from_text=True)


def test_text_is_converted_by_the_declared_type(notebooks: Path) -> None:
    params = read_parameters(notebooks / "metrics.py")
    out = check_parameters(
        params,
        {"n": "24", "scale": "2", "fail": "true", "label": " 007 ", "source": "none", "seed": "-3"},
        from_text=True,
    )
    assert out == {
        "n": 24,
        "scale": 2.0,
        "fail": True,
        "label": " 007 ",
        "source": None,
        "seed": -3,
    }
    assert isinstance(out["scale"], float)
    assert check_parameters(params, {"source": "lake"}, from_text=True) == {"source": "lake"}


def test_python_values_are_checked_strictly(notebooks: Path) -> None:
    params = read_parameters(notebooks / "metrics.py")
    assert check_parameters(params, {"scale": 3}) == {"scale": 3.0}
    for bad in ({"n": "24"}, {"n": True}, {"fail": 1}, {"label": 3}, {"scale": float("inf")}):
        with pytest.raises(ParameterError, match="expects"):
            check_parameters(params, bad)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_in_a_value_stays_a_string_literal(notebooks: Path, payload: str) -> None:
    params = read_parameters(notebooks / "metrics.py")
    out = check_parameters(params, {"label": payload}, from_text=True)
    assert out == {"label": payload}
    _verify_injection(out, "t")  # papermill's injected cell parses back to exactly this text
    from papermill.translators import translate_parameters

    code = translate_parameters("workbench-python", "python", out, "Parameters")
    (spec,) = parse_assignments(code)
    assert spec.name == "label" and spec.default == payload


def test_cli_assignments_keep_every_character() -> None:
    assert parse_assignment_texts(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="name=value"):
        parse_assignment_texts(["novalue"])
    with pytest.raises(ParameterError, match="name=value"):
        parse_assignment_texts(["os.system('x')=1"])


@pytest.mark.parametrize(
    ("cell", "tags", "message"),
    [
        ("x = 1", '["other"]', "no cell tagged 'parameters'"),
        ("x = 1\nprint(x)", '["parameters"]', "only `name = literal`"),
        ("x = len('a')", '["parameters"]', "literal default"),
        ("x: dict = {}", '["parameters"]', "unsupported annotation"),
        ("x: int = 'a'", '["parameters"]', "is not int"),
        ("x = 1\nx = 2", '["parameters"]', "assigned twice"),
        ("x = (", '["parameters"]', "not valid Python"),
    ],
)
def test_bad_parameters_cells_are_refused(
    tmp_path: Path, cell: str, tags: str, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        read_parameters(write(tmp_path, cell, tags=tags))


def test_two_parameters_cells_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text('# %% tags=["parameters"]\na = 1\n\n# %% tags=["parameters"]\nb = 2\n')
    with pytest.raises(ParameterError, match="2 cells tagged 'parameters'"):
        read_parameters(path)


def test_annotations_and_lists(tmp_path: Path) -> None:
    params = read_parameters(
        write(
            tmp_path,
            "a: float | None = None  # x\nb: Optional[int] = 3\nc: list[str] | None = None",
        )
    )
    assert [p.type_name for p in params.specs] == ["float | None", "int | None", "list | None"]
    out = check_parameters(params, {"a": "1.5", "b": "none", "c": '["x", "y"]'}, from_text=True)
    assert out == {"a": 1.5, "b": None, "c": ["x", "y"]}
    assert check_parameters(params, {"c": "p,q"}, from_text=True) == {"c": ["p", "q"]}


def test_prepare_run_refuses_before_any_kernel(notebooks: Path) -> None:
    with pytest.raises(ParameterError, match="did you mean"):
        prepare_run(notebooks / "metrics.py", {"lable": "x"})
    prepared = prepare_run(notebooks / "metrics.py", {"seed": "11"}, from_text=True)
    assert prepared.seed == 11 and prepared.name == "metrics"
    assert prepare_run(notebooks / "sleep.py").seed == 0


def test_catalog_targets_resolve_and_unknown_ones_are_named() -> None:
    from workbench.errors import CatalogError

    with pytest.raises(CatalogError, match="did you mean automotive/maintenance"):
        prepare_run("automotive/maintenace")
