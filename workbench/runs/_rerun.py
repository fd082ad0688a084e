"""Re-execute a recorded run and say whether its metrics and evidence are identical.

The rerun executes the archived ``input.ipynb`` of the original run (the notebook exactly as it
ran, even if the file changed since), with the recorded parameters merged with the recorded
``replay`` values (a live source snapshotted into the lake is read back from that snapshot),
the same seed and the same kernel thread count.

Comparison: metrics exactly (``==``, ``None`` for non-finite); evidence by each file's *stable*
digest (SHA-256 with the summary's "generated <time> UTC" stamp masked, the only timestamp in a
package's hashed files; the manifest's ``created`` field is not compared); inputs by SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.config import Settings
from workbench.runs._engine import INPUT_NOTEBOOK, prepare_run, run_notebook
from workbench.runs._params import read_parameters
from workbench.runs._registry import RunRegistry
from workbench.runs._results import RunRecord, VerifyResult

__all__ = ["compare_runs", "rerun", "verify_rerun"]


def rerun(
    run_id: str,
    *,
    registry: RunRegistry | str | None = None,
    settings: Settings | None = None,
    verify: bool = True,
) -> VerifyResult | RunRecord:
    """Execute a recorded run again.

    Parameters
    ----------
    run_id
        The run to reproduce.
    registry
        Where it is recorded (a :class:`RunRegistry` or a URL; default the settings' database).
    settings
        Where the new run's outputs go.
    verify
        Compare the two runs and return a :class:`VerifyResult` (else the new record).
    """
    from workbench.config import load_settings

    s = settings or load_settings()
    reg = registry if isinstance(registry, RunRegistry) else RunRegistry(registry or s.database_url)
    original = reg.get(run_id)
    notes: list[str] = []
    archived = Path(original.outputs.get("input", "")) if original.outputs.get("input") else None
    source: Path | None = archived if archived is not None and archived.is_file() else None
    if source is None:
        notes.append(f"the archived {INPUT_NOTEBOOK} is gone; executing {original.notebook_path}")
        source = Path(original.notebook_path)
    current = Path(original.notebook_path)
    if current.is_file():
        sha = read_parameters(current).sha256
        if sha != original.notebook_sha256:
            notes.append(
                f"{current} changed since the run ({original.notebook_sha256[:12]} -> "
                f"{sha[:12]}); the rerun executes the notebook as it ran"
            )
    params = read_parameters(source)
    parameters: dict[str, Any] = dict(original.parameters)
    ignored = []
    for name, value in original.replay.items():
        if name in params.names:
            parameters[name] = value
        else:
            ignored.append(name)
    if original.replay:
        used = sorted(k for k in original.replay if k not in ignored)
        if used:
            notes.append("replay values used: " + ", ".join(f"{k}={parameters[k]!r}" for k in used))
    if ignored:
        notes.append(
            "recorded replay values that are not parameters of the notebook were ignored: "
            + ", ".join(sorted(ignored))
        )
    prepared = prepare_run(original.notebook, parameters, notebook_file=source)
    new = run_notebook(
        prepared,
        registry=reg,
        settings=s,
        threads=original.environment.get("kernel_threads"),
        rerun_of=original.run_id,
    )
    if not verify:
        return new
    return compare_runs(original, new, notes=notes)


def verify_rerun(run_id: str, **kwargs: Any) -> VerifyResult:
    """:func:`rerun` with ``verify=True`` (typed for callers who want the comparison)."""
    out = rerun(run_id, verify=True, **kwargs)
    assert isinstance(out, VerifyResult)
    return out


def compare_runs(
    original: RunRecord, new: RunRecord, *, notes: list[str] | tuple[str, ...] = ()
) -> VerifyResult:
    """Compare two runs' metrics (exactly), evidence (stable digests) and inputs (SHA-256)."""
    metric_diffs = []
    for name in sorted(set(original.metrics) | set(new.metrics)):
        a = original.metrics.get(name, _ABSENT)
        b = new.metrics.get(name, _ABSENT)
        if a != b or (name in original.metrics) != (name in new.metrics):
            metric_diffs.append((name, _show(a), _show(b)))
    evidence_diffs = []
    old_ev, new_ev = _evidence(original), _evidence(new)
    for path in sorted(set(old_ev) | set(new_ev)):
        if old_ev.get(path) != new_ev.get(path):
            evidence_diffs.append((path, old_ev.get(path), new_ev.get(path)))
    input_diffs = []
    old_in, new_in = _inputs(original.inputs), _inputs(new.inputs)
    for uri in sorted(set(old_in) | set(new_in)):
        if old_in.get(uri) != new_in.get(uri):
            input_diffs.append((uri, old_in.get(uri), new_in.get(uri)))
    extra = list(notes)
    if original.environment.get("lock_sha256") != new.environment.get("lock_sha256"):
        extra.append("the lock file differs from the original run's")
    old_code = original.environment.get("workbench_code_sha256")
    new_code = new.environment.get("workbench_code_sha256")
    if old_code and new_code and old_code != new_code:
        extra.append(
            f"the workbench library's source changed since the original run ({old_code[:12]} -> "
            f"{new_code[:12]}): differences may come from the code, not from the data"
        )
    if original.environment.get("git_commit") != new.environment.get("git_commit"):
        extra.append(
            f"git commit {original.environment.get('git_commit')} -> "
            f"{new.environment.get('git_commit')}"
        )
    identical = (
        original.status == "succeeded"
        and new.status == "succeeded"
        and not metric_diffs
        and not evidence_diffs
        and not input_diffs
    )
    if original.status != "succeeded":
        extra.append(f"the original run {original.status}")
    return VerifyResult(
        original=original,
        rerun=new,
        identical=identical,
        metric_diffs=tuple(metric_diffs),
        evidence_diffs=tuple(evidence_diffs),
        input_diffs=tuple(input_diffs),
        notes=tuple(extra),
    )


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _show(value: Any) -> Any:
    return "(absent)" if value is _ABSENT else value


def _evidence(record: RunRecord) -> dict[str, str]:
    """``folder/file`` -> stable digest: recomputed from the files when they are still on disk
    (so both runs are digested by the same code), else as recorded."""
    from workbench.runs._record import stable_digest

    out = {}
    base = Path(record.outputs.get("folder", ""))
    for entry in record.evidence:
        folder = str(entry.get("folder", ""))
        digests = dict(entry.get("stable") or entry.get("files") or {})
        for rel in entry.get("files") or digests:
            path = base / folder / rel
            if record.outputs.get("folder") and path.is_file():
                digests[rel] = stable_digest(path)
        for rel, digest in digests.items():
            out[f"{folder}/{rel}"] = str(digest)
    return out


def _inputs(items: tuple[Mapping[str, Any], ...]) -> dict[str, str]:
    return {str(i.get("uri")): str(i.get("sha256")) for i in items}
