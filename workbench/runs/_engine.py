"""Run one notebook: check its parameters, execute it with papermill, record it in the registry.

The notebook (py:percent text) is converted to ``input.ipynb`` in the run folder with jupytext,
its parameters are checked against the ``parameters`` cell before any kernel starts, papermill
executes it in a kernel of this very Python (see ``_kernel``), nbconvert renders the executed
notebook to HTML, and the registry gets one row with everything a reviewer needs to trust or
reproduce the result.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.config import Settings, load_settings
from workbench.errors import CatalogError, ParameterError, RunError
from workbench.runs._environment import code_sha256, environment_info, project_root
from workbench.runs._kernel import KERNEL_NAME, kernel_manager_class
from workbench.runs._params import (
    NotebookParameters,
    check_parameters,
    parse_assignments,
    read_notebook,
    read_parameters,
)
from workbench.runs._record import RECORD_FILE, RUN_DIR_ENV, RUN_ID_ENV, read_record
from workbench.runs._registry import RunRegistry
from workbench.runs._results import RunRecord

__all__ = [
    "INPUT_NOTEBOOK",
    "PreparedRun",
    "new_run_id",
    "prepare_run",
    "resolve_notebook",
    "run_notebook",
]

INPUT_NOTEBOOK = "input.ipynb"
SEED_ENV = "WORKBENCH_SEED"
KERNEL_START_ATTEMPTS = 3
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def resolve_notebook(
    target: str | os.PathLike[str], *, root: Path | None = None
) -> tuple[str, Path]:
    """``(name, path)`` of a run target: ``"sector/use_case"`` from the catalog, or a file.

    Raises
    ------
    CatalogError
        Neither a catalog key nor an existing notebook file (names the closest keys).
    RunError
        A catalog entry whose notebook file does not exist (yet).
    """
    text = os.fspath(target)
    candidate = Path(text)
    if candidate.suffix in (".py", ".ipynb") and candidate.is_file():
        return candidate.stem, candidate.resolve()
    from workbench.catalog import load_catalog

    try:
        entry = load_catalog().get(text)
    except CatalogError:
        if candidate.suffix in (".py", ".ipynb"):
            raise CatalogError(f"no notebook file {text}", notebook=text) from None
        raise
    base = root or project_root()
    path = (base / entry.notebook).resolve()
    if not path.is_file():
        raise RunError(
            f"the catalog names {entry.notebook} for {entry.key}, but there is no such file "
            f"under {base}",
            notebook=entry.key,
            path=str(path),
        )
    return entry.key, path


def new_run_id(name: str, *, now: _dt.datetime | None = None) -> str:
    """``20261129T101500Z-automotive-maintenance-1a2b3c4d``: sortable, readable, unique."""
    stamp = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "notebook"
    return f"{stamp}-{slug}-{secrets.token_hex(4)}"


class PreparedRun:
    """A run whose parameters are checked and whose notebook is read; no kernel yet.

    Built by :func:`prepare_run`; :func:`run_notebook` and the batch execute it.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        nb: Any,
        params: NotebookParameters,
        parameters: dict[str, Any],
    ) -> None:
        self.name = name
        self.path = path
        self.nb = nb
        self.params = params
        self.parameters = parameters

    @property
    def seed(self) -> int | None:
        if "seed" not in self.params.names:
            return None
        value = self.parameters.get("seed", self.params.defaults["seed"])
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def prepare_run(
    target: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    from_text: bool = False,
    root: Path | None = None,
    notebook_file: Path | None = None,
) -> PreparedRun:
    """Read a notebook and check parameters against its ``parameters`` cell (no kernel).

    Parameters
    ----------
    target
        ``"sector/use_case"`` or a notebook path.
    parameters
        Name → value (``from_text``: command-line text converted by type).
    from_text
        Values are ``-p name=value`` text.
    root
        Folder the catalog's notebook paths are relative to (default: the project root).
    notebook_file
        Execute this file instead of the target's (a rerun executes the archived input).

    Raises
    ------
    ParameterError
        An unknown name (with the closest valid ones) or a wrong type (with the expected one).
    """
    if notebook_file is not None:
        name, path = os.fspath(target), Path(notebook_file).resolve()
    else:
        name, path = resolve_notebook(target, root=root)
    nb = read_notebook(path)
    params = read_parameters(path, nb=nb)
    checked = check_parameters(params, parameters or {}, from_text=from_text, notebook=name)
    _verify_injection(checked, name)
    return PreparedRun(name, path, nb, params, checked)


def run_notebook(
    target: str | os.PathLike[str] | PreparedRun,
    parameters: Mapping[str, Any] | None = None,
    *,
    from_text: bool = False,
    registry: RunRegistry | str | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
    timeout: float | None = None,
    threads: int | None = None,
    html: bool = True,
    batch_id: str | None = None,
    rerun_of: str | None = None,
    notebook_file: Path | None = None,
    kernel_start_attempts: int = KERNEL_START_ATTEMPTS,
    raise_on_failure: bool = False,
    kernel_preset: Mapping[str, Any] | None = None,
) -> RunRecord:
    """Execute one notebook through papermill and record the run.

    Parameters
    ----------
    target
        ``"sector/use_case"`` (the catalog's notebook), a notebook path, or a
        :class:`PreparedRun`.
    parameters
        Name → value, checked against the ``parameters`` cell before the kernel starts.
    from_text
        Values are command-line text (``-p horizon_hours=24``), converted by the expected type.
    registry
        A :class:`RunRegistry` or a database URL (default: ``Settings.database_url``).
    settings
        Where reports and data live (default: :func:`~workbench.config.load_settings`).
    run_id
        Use this id (default: a new one).
    timeout
        Seconds a cell may run (default: no limit).
    threads
        Threads the kernel's numeric libraries may use (``OMP_NUM_THREADS`` ...); ``None``
        leaves them alone. Recorded, and reused by a rerun.
    html
        Render the executed notebook to HTML (also for a failed run).
    batch_id, rerun_of
        Recorded links to a batch and to the run re-executed.
    notebook_file
        Execute this file instead of the target's (reruns use the archived ``input.ipynb``).
    kernel_start_attempts
        Kernel starts to try when one dies before the first cell (a port race).
    raise_on_failure
        Raise :class:`RunError` (with cell, error, traceback) when the run failed; by default
        the failed record is returned.
    kernel_preset
        Attributes set on the kernel manager of the FIRST attempt only (tests of the retry).

    Returns
    -------
    RunRecord
        Also in the registry, with the outputs under ``reports/runs/<run-id>/``.
    """
    entered = time.perf_counter()
    prepared = (
        target
        if isinstance(target, PreparedRun)
        else prepare_run(target, parameters, from_text=from_text, notebook_file=notebook_file)
    )
    s = settings or load_settings()
    reg = registry if isinstance(registry, RunRegistry) else RunRegistry(registry or s.database_url)
    rid = run_id or new_run_id(prepared.name)
    folder = (s.reports_path / "runs" / rid).resolve()
    folder.mkdir(parents=True, exist_ok=False)

    import nbformat

    nb = prepared.nb
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (workbench)",
        "language": "python",
    }
    nb.metadata.setdefault("language_info", {"name": "python"})
    input_path = folder / INPUT_NOTEBOOK
    nbformat.write(nb, str(input_path))
    executed = folder / f"{_output_stem(prepared)}.ipynb"
    env = _kernel_env(s, folder, rid, prepared.seed, threads)
    environment = dict(environment_info())
    environment["kernel_threads"] = threads
    environment["workbench_code_sha256"] = code_sha256()
    started = _dt.datetime.now(_dt.UTC)
    record = RunRecord(
        run_id=rid,
        notebook=prepared.name,
        notebook_path=str(prepared.path),
        notebook_sha256=prepared.params.sha256,
        parameters=dict(prepared.parameters),
        status="running",
        started_at=started,
        seed=prepared.seed,
        environment=environment,
        outputs={"folder": str(folder), "input": str(input_path)},
        rerun_of=rerun_of,
        batch_id=batch_id,
    )
    reg.start(record)

    t0 = time.perf_counter()
    attempts = 0
    failure: dict[str, Any] | None = None
    while True:
        attempts += 1
        submit = _dt.datetime.now(_dt.UTC)
        try:
            failure = _execute(
                input_path,
                executed,
                prepared,
                env,
                timeout=timeout,
                preset=kernel_preset if attempts == 1 else None,
            )
        except BaseException as exc:  # Ctrl-C, a killed worker: never leave it "running"
            reg.finish(
                replace(
                    record,
                    status="failed",
                    ended_at=_dt.datetime.now(_dt.UTC),
                    attempts=attempts,
                    error=f"interrupted: {type(exc).__name__}: {_first_line(exc)}",
                    outputs={**record.outputs, "notebook": str(executed)},
                )
            )
            raise
        if failure is None or not failure.pop("kernel_start", False):
            break
        if attempts >= kernel_start_attempts:
            failure["error"] = (
                f"the kernel did not start in {attempts} attempts: {failure['error']}"
            )
            break
        time.sleep(0.2 * attempts)  # fresh ports on the next start
    done = _dt.datetime.now(_dt.UTC)
    total = time.perf_counter() - t0

    durations = _durations(executed, submit, done)
    durations["total"] = round(total, 4)
    outputs = dict(record.outputs)
    if executed.is_file():
        outputs["notebook"] = str(executed)
        if html:
            t_html = time.perf_counter()
            html_path = _render_html(executed)
            durations["html"] = round(time.perf_counter() - t_html, 4)
            if html_path is not None:
                outputs["html"] = str(html_path)
    rec = read_record(folder)
    if (folder / RECORD_FILE).is_file():
        outputs["record"] = str(folder / RECORD_FILE)
    evidence = tuple(rec.get("evidence", ()))
    durations["run"] = round(time.perf_counter() - entered, 4)
    for i, entry in enumerate(evidence):
        outputs[f"evidence_{i}"] = str(folder / str(entry.get("folder", "")))
    final = replace(
        record,
        status="failed" if failure else "succeeded",
        ended_at=done,
        inputs=tuple(rec.get("inputs", ())),
        replay=dict(rec.get("replay", {})),
        durations=durations,
        attempts=attempts,
        failed_cell=failure.get("cell") if failure else None,
        error=failure.get("error") if failure else None,
        traceback=failure.get("traceback") if failure else None,
        metrics=dict(rec.get("metrics", {})),
        evidence=evidence,
        outputs=outputs,
    )
    reg.finish(final)
    if failure and raise_on_failure:
        raise RunError(
            f"run {rid} of {prepared.name} failed"
            + (f" in cell {final.failed_cell}" if final.failed_cell is not None else "")
            + f": {final.error}; executed notebook kept at {outputs.get('notebook', folder)}",
            run_id=rid,
            cell=final.failed_cell,
            error=final.error,
            traceback=final.traceback,
        )
    return final


# -- execution -------------------------------------------------------------------------------


def _output_stem(prepared: PreparedRun) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", prepared.name.rsplit("/", 1)[-1]).strip("._")
    stem = stem.removesuffix(".py").removesuffix(".ipynb") or prepared.path.stem
    return "notebook" if stem == Path(INPUT_NOTEBOOK).stem else stem


def _execute(
    input_path: Path,
    executed: Path,
    prepared: PreparedRun,
    env: Mapping[str, str],
    *,
    timeout: float | None,
    preset: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """Execute once; ``None`` on success, else what failed (``kernel_start`` when no cell ran)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _quiet_papermill()

    if executed.exists():
        executed.unlink()
    try:
        papermill.execute_notebook(
            str(input_path),
            str(executed),
            parameters=dict(prepared.parameters) or None,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            log_output=False,
            start_timeout=60,
            execution_timeout=timeout,
            request_save_on_cell_execute=True,
            kernel_manager_class=kernel_manager_class(env, preset=preset),
        )
    except PapermillExecutionError as exc:
        return {
            "cell": _source_cell(prepared, exc.cell_index),
            "error": f"{exc.ename}: {exc.evalue}",
            "traceback": _ANSI.sub("", "\n".join(exc.traceback or [])),
        }
    except Exception as exc:  # kernel died, timed out, could not start
        import traceback

        return {
            "kernel_start": not _any_cell_started(executed),
            "cell": _running_cell(prepared, executed),
            "error": f"{type(exc).__name__}: {_first_line(exc)}",
            "traceback": "".join(traceback.format_exception(exc)),
        }
    return None


class _CheckedParameters(logging.Filter):
    """Drop papermill's parameter-inference warnings: the engine parsed and checked the
    parameters already (papermill's own regex reads neither ``name: str | None = None`` nor a
    comment holding a quote, and says so once per line and run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not text.startswith(("Passed unknown parameter", "Unable to parse line"))


def _quiet_papermill() -> None:
    for name in ("papermill", "papermill.translators"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _CheckedParameters) for f in log.filters):
            log.addFilter(_CheckedParameters())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _source_cell(prepared: PreparedRun, executed_index: int | None) -> int | None:
    """Index in the notebook as written (papermill's index counts the injected cell)."""
    if executed_index is None:
        return None
    injected = prepared.params.cell_index + 1 if prepared.parameters else None
    if injected is not None and executed_index > injected:
        return executed_index - 1
    return executed_index


def _cells(executed: Path) -> list[Any]:
    if not executed.is_file():
        return []
    import nbformat

    try:
        return list(nbformat.read(str(executed), as_version=4).cells)
    except Exception:  # a half-written notebook after a crash
        return []


def _any_cell_started(executed: Path) -> bool:
    return any(
        c.get("metadata", {}).get("papermill", {}).get("start_time") for c in _cells(executed)
    )


def _running_cell(prepared: PreparedRun, executed: Path) -> int | None:
    cells = [c for c in _cells(executed) if "papermill-error-cell-tag" not in _tags(c)]
    for i, cell in enumerate(cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return _source_cell(prepared, i)
    return None


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _durations(executed: Path, submit: _dt.datetime, done: _dt.datetime) -> dict[str, float]:
    starts, ends = [], []
    for cell in _cells(executed):
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("start_time"):
            starts.append(_dt.datetime.fromisoformat(pm["start_time"]))
        if pm.get("end_time"):
            ends.append(_dt.datetime.fromisoformat(pm["end_time"]))
    out: dict[str, float] = {}
    if starts:
        first = min(starts)
        out["kernel_start"] = round(max((first - submit).total_seconds(), 0.0), 4)
        last = max(ends) if ends else first
        out["execution"] = round(max((last - first).total_seconds(), 0.0), 4)
        out["teardown"] = round(max((done - last).total_seconds(), 0.0), 4)
    return out


def _render_html(executed: Path) -> Path | None:
    import nbformat
    from nbconvert import HTMLExporter

    try:
        node = nbformat.read(str(executed), as_version=4)
        body, _ = HTMLExporter().from_notebook_node(node)
    except Exception:  # a damaged partial notebook still leaves its .ipynb
        return None
    out = executed.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


def _kernel_env(
    s: Settings, folder: Path, run_id: str, seed: int | None, threads: int | None
) -> dict[str, str]:
    env = {
        RUN_DIR_ENV: str(folder),
        RUN_ID_ENV: run_id,
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "WORKBENCH_HOME": str(s.home.resolve()),
        "WORKBENCH_LAKE": str(s.lake_path.resolve()),
        "WORKBENCH_REPORTS": str(s.reports_path.resolve()),
        "WORKBENCH_DATABASE_URL": s.database_url,
        "WORKBENCH_PSEUDONYM_KEY_FILE": str(s.pseudonym_key_file.resolve()),
    }
    if s.dask_scheduler:
        env["WORKBENCH_DASK_SCHEDULER"] = s.dask_scheduler
    if seed is not None:
        env[SEED_ENV] = str(seed)
    if threads is not None:
        for var in _THREAD_VARS:
            env[var] = str(threads)
    return env


def _verify_injection(parameters: Mapping[str, Any], name: str) -> None:
    """The cell papermill will inject must be plain literal assignments of exactly these values.

    Values are data: whatever text a value holds, the injected cell parses (with ``ast``, never
    executed) back to the same values, or the run is refused.
    """
    if not parameters:
        return
    from papermill.translators import translate_parameters

    code = translate_parameters(KERNEL_NAME, "python", dict(parameters), "Parameters")
    try:
        specs = parse_assignments(code, where="injected parameters")
    except ParameterError as exc:
        raise ParameterError(
            f"{name}: the parameter values cannot be injected as plain literals ({exc})",
            notebook=name,
        ) from exc
    back = {s.name: s.default for s in specs}
    if back != dict(parameters):
        bad = sorted(k for k in parameters if back.get(k) != parameters[k])
        raise ParameterError(
            f"{name}: the values of {', '.join(bad)} would not reach the notebook unchanged; "
            "pass plain text, numbers or booleans",
            notebook=name,
            parameters=bad,
        )
