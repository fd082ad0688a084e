"""What a notebook records for the run registry (Contract 1).

A notebook calls these four functions; each call merges into ``<output_dir>/record.json``, which
the run engine reads when the kernel ends::

    from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics

    data = load_use_case(sector, use_case, source=source, size=size, seed=seed)
    record_inputs(data.inputs, replay=data.replay)
    ...
    record_metrics(evaluation)            # an EvaluationResult: value, CI low and high
    record_evidence(package)              # an EvidencePackage or its folder

Inside a run the engine sets ``WORKBENCH_RUN_DIR`` to ``reports/runs/<run-id>/``; outside a run (a
researcher in JupyterLab) outputs go to ``reports/scratch/<notebook-stem>/`` under the settings'
reports folder. Nothing here imports the heavy layers: results are read by duck typing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.config import load_settings
from workbench.errors import RecordError

__all__ = [
    "INPUT_KINDS",
    "RECORD_FILE",
    "RUN_DIR_ENV",
    "RUN_ID_ENV",
    "output_dir",
    "read_record",
    "record_evidence",
    "record_inputs",
    "record_metrics",
    "stable_digest",
]

RUN_DIR_ENV = "WORKBENCH_RUN_DIR"
RUN_ID_ENV = "WORKBENCH_RUN_ID"
RECORD_FILE = "record.json"
INPUT_KINDS = ("factory", "dataset", "file", "lake_batch")
_MANIFEST = "manifest.json"


def output_dir(*, name: str | None = None) -> Path:
    """The folder a notebook writes every output to (created if missing).

    Inside a run: ``$WORKBENCH_RUN_DIR`` (``reports/runs/<run-id>/``). Outside a run:
    ``reports/scratch/<name>/`` under the settings' reports folder, where ``name`` defaults to the
    notebook's stem when Jupyter tells it (``JPY_SESSION_NAME`` / ``__session__``), else
    ``"notebook"``.

    Parameters
    ----------
    name
        Scratch folder name outside a run (ignored inside a run).

    Returns
    -------
    Path
    """
    run_dir = os.environ.get(RUN_DIR_ENV, "").strip()
    if run_dir:
        path = Path(run_dir)
    else:
        stem = name or _notebook_stem() or "notebook"
        path = load_settings().reports_path / "scratch" / _safe_name(stem)
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_inputs(
    inputs: Iterable[Mapping[str, Any]], *, replay: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Record the data a notebook read, and how to read exactly the same bytes again.

    Parameters
    ----------
    inputs
        Dicts ``{"kind": "factory"|"dataset"|"file"|"lake_batch", "uri": str, "sha256": str,
        "rows": int}`` (extra JSON-safe keys are kept). Merged with earlier calls; an input
        already recorded (same kind, uri and sha256) is not repeated.
    replay
        Parameter name → value that reproduces the same bytes on a rerun (e.g. a live profile
        snapshotted into the lake: ``{"source": "lake", "lake_path": ..., "batches": [...]}``).
        Merged into earlier replay values.

    Returns
    -------
    dict
        The whole record after the merge.
    """
    checked = [_check_input(i, item) for i, item in enumerate(inputs)]
    replay_d = _json_value(dict(replay or {}), "replay")

    def merge(rec: dict[str, Any]) -> None:
        have = rec.setdefault("inputs", [])
        seen = {(x.get("kind"), x.get("uri"), x.get("sha256")) for x in have}
        for item in checked:
            key = (item["kind"], item["uri"], item["sha256"])
            if key not in seen:
                have.append(item)
                seen.add(key)
        rec.setdefault("replay", {}).update(replay_d)

    return _update(merge)


def record_metrics(metrics: Any, *, prefix: str = "") -> dict[str, Any]:
    """Record a notebook's metrics.

    Parameters
    ----------
    metrics
        A mapping name → number, or an ``EvaluationResult`` (anything with a ``metrics`` mapping of
        estimates carrying ``value``, ``ci_low``, ``ci_high`` and a ``protocol``): each estimate is
        stored as ``name``, ``name_ci_low`` and ``name_ci_high`` and the protocol description is
        kept under ``protocols``.
    prefix
        Put before every name (``"holdout_"``), for notebooks that evaluate more than once.

    Returns
    -------
    dict
        The whole record after the merge. Non-finite values are stored as ``null``.
    """
    flat, protocol = _flatten_metrics(metrics, prefix)

    def merge(rec: dict[str, Any]) -> None:
        rec.setdefault("metrics", {}).update(flat)
        if protocol:
            rec.setdefault("protocols", {})[prefix or "_"] = protocol

    return _update(merge)


def record_evidence(package: Any) -> dict[str, Any]:
    """Record an evidence package: its folder and its manifest hashes (for ``rerun --verify``).

    Parameters
    ----------
    package
        An ``EvidencePackage`` (anything with a ``folder``) or the path of its folder.

    Returns
    -------
    dict
        The whole record after the merge. Each package appears once (by folder).
    """
    folder = Path(getattr(package, "folder", package))
    manifest_path = folder / _MANIFEST
    if not manifest_path.is_file():
        raise RecordError(
            f"no {_MANIFEST} in {folder}: pass an EvidencePackage or the folder "
            "build_evidence_package wrote",
            folder=str(folder),
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = {str(f["path"]): str(f["sha256"]) for f in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(
            f"{manifest_path} is not an evidence manifest ({exc}); rebuild the package",
            file=str(manifest_path),
        ) from exc
    stable = {rel: stable_digest(folder / rel) for rel in sorted(files)}
    entry = {
        "folder": _relative_to_run(folder),
        "language": manifest.get("language"),
        "title": manifest.get("title"),
        "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
        "files": dict(sorted(files.items())),
        "stable": stable,
    }

    def merge(rec: dict[str, Any]) -> None:
        have = [e for e in rec.get("evidence", []) if e.get("folder") != entry["folder"]]
        have.append(entry)
        rec["evidence"] = sorted(have, key=lambda e: str(e["folder"]))

    return _update(merge)


def read_record(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``record.json`` of a run folder (an empty record when the notebook recorded nothing)."""
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        return {}
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RecordError(f"{path} is not valid JSON ({exc})", file=str(path)) from exc
    if not isinstance(out, dict):
        raise RecordError(f"{path} does not hold a JSON object", file=str(path))
    return out


# Volatile content that says when a file was made or how long it took, not what it says:
# masked in stable digests. (1) The evidence summary's "generated 2026-11-29 10:06 UTC" stamp
# (HTML); the manifest's "created" field is never compared (the manifest is not one of its own
# files). (2) Wall-clock timings inside result JSON (a DriftResult's "seconds").
_VOLATILE = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})? UTC")
_MASKED_SUFFIXES = {".html", ".htm"}
TIMING_KEYS = frozenset({"seconds", "elapsed_s"})


def stable_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file without its volatile parts; the plain SHA-256 for other files.

    Evidence summaries say when they were generated (``2026-11-29 10:06 UTC``) and result JSON
    may carry how long a computation took (``"seconds": 0.09``): two runs that computed the same
    thing differ only there. HTML date-times are replaced by a fixed token, and JSON is hashed
    without the keys in :data:`TIMING_KEYS` (at any depth, canonical key order), so reruns
    compare on content.
    """
    p = Path(path)
    data = p.read_bytes()
    suffix = p.suffix.lower()
    if suffix in _MASKED_SUFFIXES:
        data = _VOLATILE.sub(b"<time>", data)
    elif suffix == ".json":
        try:
            value = json.loads(data)
        except ValueError:
            pass
        else:
            data = json.dumps(
                _without_timings(value), sort_keys=True, ensure_ascii=False, allow_nan=True
            ).encode()
    return hashlib.sha256(data).hexdigest()


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


# -- helpers ---------------------------------------------------------------------------------


def _notebook_stem() -> str | None:
    for raw in (os.environ.get("JPY_SESSION_NAME"), _ipython_session()):
        if raw:
            stem = Path(str(raw)).name
            for suffix in (".ipynb", ".py"):
                stem = stem.removesuffix(suffix)
            if stem:
                return stem
    return None


def _ipython_session() -> str | None:
    try:
        import __main__
    except ImportError:  # pragma: no cover
        return None
    value = getattr(__main__, "__session__", None)
    return value if isinstance(value, str) else None


def _safe_name(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")
    return out or "notebook"


def _relative_to_run(folder: Path) -> str:
    base = output_dir()
    try:
        return folder.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(folder.resolve())


def _check_input(i: int, item: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise RecordError(
            f"input #{i} is a {type(item).__name__}; expected a dict with kind, uri, sha256, rows",
            index=i,
        )
    missing = [k for k in ("kind", "uri", "sha256", "rows") if k not in item]
    if missing:
        raise RecordError(
            f"input #{i} lacks {', '.join(missing)}; expected kind, uri, sha256 and rows",
            index=i,
            missing=missing,
        )
    kind = item["kind"]
    if kind not in INPUT_KINDS:
        raise RecordError(
            f"input #{i} has kind {kind!r}; use one of {', '.join(INPUT_KINDS)}",
            index=i,
            kind=kind,
        )
    sha = item["sha256"]
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise RecordError(
            f"input #{i} ({item['uri']}) has sha256 {sha!r}; expected 64 lowercase hex digits",
            index=i,
        )
    rows = item["rows"]
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        try:
            import numpy as np

            ok = isinstance(rows, np.integer) and int(rows) >= 0
        except ImportError:  # pragma: no cover
            ok = False
        if not ok:
            raise RecordError(
                f"input #{i} ({item['uri']}) has rows {rows!r}; expected a count (int >= 0)",
                index=i,
            )
    out = _json_value(dict(item), f"input #{i}")
    out["uri"] = str(item["uri"])
    out["rows"] = int(rows)
    return out


def _number(value: Any, name: str) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"metric {name!r} is {value!r}; expected a number", metric=name) from exc
    return x if math.isfinite(x) else None


def _flatten_metrics(metrics: Any, prefix: str) -> tuple[dict[str, float | None], str | None]:
    inner = getattr(metrics, "metrics", None)
    if isinstance(inner, Mapping) and not isinstance(metrics, Mapping):
        flat: dict[str, float | None] = {}
        for name, est in inner.items():
            key = f"{prefix}{name}"
            flat[key] = _number(getattr(est, "value", est), key)
            for bound in ("ci_low", "ci_high"):
                if hasattr(est, bound):
                    flat[f"{key}_{bound}"] = _number(getattr(est, bound), f"{key}_{bound}")
        protocol = getattr(metrics, "protocol_description", None)
        if protocol is None:
            proto = getattr(metrics, "protocol", None)
            protocol = proto.get("description") if isinstance(proto, Mapping) else proto
        return flat, (str(protocol) if protocol else None)
    if isinstance(metrics, Mapping):
        flat = {}
        for name, value in metrics.items():
            key = f"{prefix}{name}"
            if isinstance(value, Mapping) and "value" in value:
                flat[key] = _number(value["value"], key)
                for bound in ("ci_low", "ci_high"):
                    if bound in value:
                        flat[f"{key}_{bound}"] = _number(value[bound], f"{key}_{bound}")
            else:
                flat[key] = _number(value, key)
        return flat, None
    raise RecordError(
        f"record_metrics got a {type(metrics).__name__}; pass a mapping name -> number or an "
        "EvaluationResult",
    )


def _json_value(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=_default))
    except (TypeError, ValueError) as exc:
        raise RecordError(f"{what} is not JSON-safe ({exc})", what=what) from exc


def _default(obj: Any) -> Any:
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    for attr in ("item", "tolist"):  # numpy scalars and arrays
        fn = getattr(obj, attr, None)
        if callable(fn):
            return fn()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} is not JSON-safe")


def _update(merge: Any) -> dict[str, Any]:
    folder = output_dir()
    record = read_record(folder)
    merge(record)
    data = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=".record-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(data + "\n")
        os.replace(tmp, folder / RECORD_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return record
