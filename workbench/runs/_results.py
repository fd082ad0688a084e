"""Results of runs: frozen, JSON-ready records (the registry stores and returns these)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STATUSES", "BatchResult", "RunRecord", "VerifyResult"]

STATUSES = ("running", "succeeded", "failed")


@dataclass(frozen=True)
class RunRecord:
    """One notebook run, as the registry keeps it.

    Attributes
    ----------
    run_id
        ``<UTC time>-<sector>-<use_case>-<8 hex>``, also the name of its folder.
    notebook
        ``sector/use_case`` (or the notebook's stem when run by path).
    notebook_path, notebook_sha256
        The notebook file and the SHA-256 of its bytes when it ran.
    parameters
        The parameters given (checked), as injected into the notebook.
    inputs, replay
        What the notebook recorded that it read (kinds, URIs, SHA-256, rows) and the parameter
        values that read the same bytes again.
    environment
        Lock-file hash, package versions, Python, git commit, kernel threads.
    seed
        The seed the notebook ran with (given, else its default), if it has one.
    status
        ``running``, ``succeeded`` or ``failed``.
    started_at, ended_at
        UTC times.
    durations
        Seconds: ``kernel_start`` (until the first cell ran), ``execution`` (first cell start to
        last cell end), ``teardown`` (kernel shutdown and writing), ``total`` (papermill, all
        attempts), ``html`` (nbconvert), ``run`` (everything, registry writes included).
    attempts
        Kernel starts tried (more than one after a kernel-start race).
    failed_cell, error, traceback
        For a failed run: the cell index in the executed notebook, ``Name: message`` and the
        traceback text.
    metrics
        Name → number (``None`` when not finite) as the notebook recorded them.
    evidence
        The recorded evidence packages: folder, manifest file hashes and stable digests.
    outputs
        Paths: ``folder``, ``notebook`` (executed .ipynb), ``html``, ``record``, ``input``.
    rerun_of, batch_id
        The run this one re-executed, and the batch it belonged to.
    """

    run_id: str
    notebook: str
    notebook_path: str
    notebook_sha256: str
    parameters: Mapping[str, Any]
    status: str
    started_at: _dt.datetime
    ended_at: _dt.datetime | None = None
    seed: int | None = None
    inputs: tuple[Mapping[str, Any], ...] = ()
    replay: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
    attempts: int = 1
    failed_cell: int | None = None
    error: str | None = None
    traceback: str | None = None
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    evidence: tuple[Mapping[str, Any], ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)
    rerun_of: str | None = None
    batch_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_at"] = self.started_at.isoformat()
        out["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        out["inputs"] = [dict(i) for i in self.inputs]
        out["evidence"] = [dict(e) for e in self.evidence]
        return out


@dataclass(frozen=True)
class VerifyResult:
    """What ``rerun --verify`` found.

    Attributes
    ----------
    original, rerun
        The two runs.
    identical
        Metrics equal exactly, evidence stable digests equal, inputs equal, both succeeded.
    metric_diffs
        ``(name, original, rerun)`` for each metric that differs or exists in only one run.
    evidence_diffs
        ``(file, original digest, rerun digest)``; ``file`` is ``folder/path``.
    input_diffs
        ``(uri, original sha256, rerun sha256)``.
    notes
        What else a reviewer should know (notebook changed, replay values used, timestamps
        masked).
    """

    original: RunRecord
    rerun: RunRecord
    identical: bool
    metric_diffs: tuple[tuple[str, Any, Any], ...] = ()
    evidence_diffs: tuple[tuple[str, str | None, str | None], ...] = ()
    input_diffs: tuple[tuple[str, str | None, str | None], ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original.run_id,
            "rerun": self.rerun.run_id,
            "identical": self.identical,
            "metric_diffs": [list(d) for d in self.metric_diffs],
            "evidence_diffs": [list(d) for d in self.evidence_diffs],
            "input_diffs": [list(d) for d in self.input_diffs],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """Lines for a person: identical, or each difference."""
        head = f"rerun {self.rerun.run_id} of {self.original.run_id}: " + (
            "IDENTICAL" if self.identical else "DIFFERENT"
        )
        lines = [head]
        if self.rerun.status != "succeeded":
            lines.append(f"  rerun {self.rerun.status}: {self.rerun.error}")
        n_metrics = len(self.original.metrics)
        n_files = sum(len(e.get("stable", {})) for e in self.original.evidence)
        if self.identical:
            lines.append(
                f"  {n_metrics} metrics equal exactly; {n_files} evidence files equal "
                "(SHA-256; generation stamp and timings masked); "
                f"{len(self.original.inputs)} inputs equal"
            )
        for name, a, b in self.metric_diffs:
            lines.append(f"  metric {name}: {a!r} -> {b!r}")
        for path, a, b in self.evidence_diffs:
            lines.append(f"  evidence {path}: {_short(a)} -> {_short(b)}")
        for uri, a, b in self.input_diffs:
            lines.append(f"  input {uri}: {_short(a)} -> {_short(b)}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _short(digest: str | None) -> str:
    return digest[:12] if digest else "(absent)"


@dataclass(frozen=True)
class BatchResult:
    """A batch of runs: each run's record, and how long the whole took.

    Attributes
    ----------
    batch_id
        Shared by every run of the batch (``runs list --batch``).
    records
        One per job, in job order (a job that could not even start has a failed record).
    wall_s
        Seconds from submission to the last result.
    workers
        Workers the scheduler had (threads in total).
    scheduler
        ``local`` or the scheduler address.
    startup_s
        Seconds to start (or connect to) the cluster, not part of ``wall_s``.
    """

    batch_id: str
    records: tuple[RunRecord, ...]
    wall_s: float
    workers: int
    scheduler: str
    startup_s: float = 0.0

    @property
    def n_failed(self) -> int:
        return sum(1 for r in self.records if r.status != "succeeded")

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    def busy_s(self) -> float:
        """Sum of every run's total duration (what one worker would take in sequence)."""
        return float(
            sum(r.durations.get("run", r.durations.get("total", 0.0)) for r in self.records)
        )

    def efficiency(self) -> float:
        """Parallel efficiency: busy time / (wall time × workers)."""
        denom = self.wall_s * max(self.workers, 1)
        return self.busy_s() / denom if denom > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "records": [r.to_dict() for r in self.records],
            "wall_s": self.wall_s,
            "workers": self.workers,
            "scheduler": self.scheduler,
            "startup_s": self.startup_s,
            "n_failed": self.n_failed,
            "efficiency": self.efficiency(),
        }
