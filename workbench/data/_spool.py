"""The on-disk spool of live ingestion: append-only, checksummed segments.

Layout of a spool folder (one per profile, under ``$WORKBENCH_HOME/spool/<profile>/``)::

    spool.lock              held (flock) by the one ingest process that owns the folder
    seg-000000000007.open   the segment being appended to
    seg-000000000006.seg    sealed: complete, waiting to be committed to the lake
    seg-000000000006.staged the lake batches computed from it (written before the lake write)

A record is ``magic, length, crc32`` (12 bytes) followed by ``length`` bytes. Appends are
written and fsync'ed before :meth:`Spool.append` returns, so whatever it returned for survives a
crash of the process or of the machine. A record cut short by a crash fails its length or
checksum and ends the segment: everything before it is kept, the torn tail is dropped (it was
never acknowledged to its source, which sends it again).

A segment is *sealed* (renamed ``.open`` → ``.seg``) when it is turned into lake batches, and
removed once those batches are committed. On start, an ``.open`` left by a crash is repaired and
sealed, so a restarted ingest resumes exactly where the previous one stopped.

Records hold pickles written by this process for itself: the spool folder must be as private
as the lake (it is, under the workbench home).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, LakeError

__all__ = ["Spool"]

log = logging.getLogger(__name__)

_MAGIC = b"WBS1"
_HEADER = struct.Struct("<4sII")
_NAME = re.compile(r"seg-(\d{12})\.(open|seg|staged)")
_MAX_RECORD = 1 << 31


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Spool:
    """Append-only, checksummed, crash-safe segments in ``folder``.

    Parameters
    ----------
    folder
        The spool folder (created when missing).
    fsync
        Whether appends are flushed to the disk before they return (``True``: a machine crash
        loses nothing acknowledged; ``False`` only survives a crash of the process).
    owner
        ``False`` for a second process that only commits sealed segments (the flusher
        process): it neither locks the folder nor repairs it, and never appends.

    Raises
    ------
    ConfigError
        When another process holds the folder (one ingest per profile at a time).
    """

    def __init__(self, folder: Path, *, fsync: bool = True, owner: bool = True) -> None:
        self.folder = Path(folder)
        self.fsync = fsync
        self.owner = owner
        self._mutex = threading.Lock()
        self._file: Any = None
        self._path: Path | None = None
        self._records = 0
        self.bytes_appended = 0
        self._lock_file: Any = None
        if not owner:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot create the spool folder {self.folder}: {exc}") from exc
        self._lock_file = open(self.folder / "spool.lock", "a+")  # noqa: SIM115 - held open
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise ConfigError(
                f"the spool {self.folder} is in use by {holder}; one ingest per profile at a "
                "time: stop the other one first",
                spool=str(self.folder),
            ) from exc
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}\n")
        self._lock_file.flush()
        self._recover()

    # ------------------------------------------------------------------ naming and recovery

    def _segments(self, kind: str) -> list[tuple[int, Path]]:
        out = []
        for entry in os.scandir(self.folder):
            m = _NAME.fullmatch(entry.name)
            if m and m.group(2) == kind:
                out.append((int(m.group(1)), Path(entry.path)))
        return sorted(out)

    def _recover(self) -> None:
        numbers = [n for kind in ("open", "seg", "staged") for n, _ in self._segments(kind)]
        self._next = max(numbers, default=0) + 1
        for _, path in self._segments("open"):
            kept = self._repair(path)
            if kept:
                os.replace(path, path.with_suffix(".seg"))
            else:
                path.unlink()
        sealed = {n for n, _ in self._segments("seg")}
        for n, path in self._segments("staged"):
            if n not in sealed:  # its segment was committed; the crash came before the cleanup
                path.unlink()
        for path in self.folder.glob(".seg-*.staged.tmp"):  # a crash inside stage(): half-written
            path.unlink()
        _fsync_dir(self.folder)

    def _repair(self, path: Path) -> int:
        """Cut a torn tail off ``path``; return the number of whole records kept."""
        good_end, count = 0, 0
        with open(path, "rb") as src:
            for end, _ in self._scan(src, path):
                good_end, count = end, count + 1
        if path.stat().st_size != good_end:
            log.warning(
                "spool segment %s: dropped a torn tail of %d bytes (never acknowledged)",
                path.name,
                path.stat().st_size - good_end,
            )
            with open(path, "r+b") as out:
                out.truncate(good_end)
                out.flush()
                os.fsync(out.fileno())
        return count

    @staticmethod
    def _scan(src: Any, path: Path) -> Iterator[tuple[int, bytes]]:
        offset = 0
        while True:
            head = src.read(_HEADER.size)
            if len(head) < _HEADER.size:
                return
            magic, length, crc = _HEADER.unpack(head)
            if magic != _MAGIC or length > _MAX_RECORD:
                return
            body = src.read(length)
            if len(body) < length or zlib.crc32(body) != crc:
                return
            offset += _HEADER.size + length
            yield offset, body

    # ------------------------------------------------------------------ writing

    def append(self, payloads: list[bytes]) -> int:
        """Append records and make them durable; return the bytes written.

        Raises ``OSError`` when the disk refuses (full, read-only): nothing returned as
        appended is lost, and the caller keeps what it could not append.
        """
        if not payloads:
            return 0
        if not self.owner:
            raise LakeError("this spool handle only commits; the ingest process appends")
        chunks = []
        for body in payloads:
            chunks.append(_HEADER.pack(_MAGIC, len(body), zlib.crc32(body)))
            chunks.append(body)
        data = b"".join(chunks)
        with self._mutex:
            if self._file is None:
                self._path = self.folder / f"seg-{self._next:012d}.open"
                self._next += 1
                self._file = open(self._path, "ab")  # noqa: SIM115 - kept open between appends
                self._records = 0
            start = self._file.tell()
            try:
                self._file.write(data)
                self._file.flush()
                if self.fsync:
                    os.fsync(self._file.fileno())
            except OSError:
                # Cut what may have been written half, so the segment stays well-formed.
                with contextlib.suppress(OSError):
                    self._file.truncate(start)
                raise
            self._records += len(payloads)
            self.bytes_appended += len(data)
        return len(data)

    def append_object(self, obj: Any) -> int:
        return self.append([pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)])

    def seal(self) -> Path | None:
        """Close the segment being appended to and make it ready for commit (``.seg``)."""
        with self._mutex:
            if self._file is None:
                return None
            path = self._path
            assert path is not None
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            self._path = None
            if self._records == 0:
                path.unlink()
                return None
            sealed = path.with_suffix(".seg")
            os.replace(path, sealed)
            if self.fsync:
                _fsync_dir(self.folder)
            return sealed

    # ------------------------------------------------------------------ reading and committing

    def sealed(self) -> list[Path]:
        """Sealed segments waiting to be committed, oldest first."""
        return [p for _, p in self._segments("seg")]

    def read(self, segment: Path) -> list[bytes]:
        """The records of a sealed segment."""
        with open(segment, "rb") as src:
            return [body for _, body in self._scan(src, segment)]

    def read_objects(self, segment: Path) -> list[Any]:
        return [pickle.loads(body) for body in self.read(segment)]

    def stage(self, segment: Path, obj: Any) -> None:
        """Keep what ``segment`` turns into, durably, before it is written to the lake."""
        target = segment.with_suffix(".staged")
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "wb") as out:
            pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            if self.fsync:
                os.fsync(out.fileno())
        os.replace(tmp, target)

    def staged(self, segment: Path) -> Any | None:
        """What :meth:`stage` kept for ``segment``, or ``None``."""
        target = segment.with_suffix(".staged")
        try:
            with open(target, "rb") as src:
                return pickle.load(src)
        except FileNotFoundError:
            return None
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            log.warning("spool: staged file %s unreadable (%s); recomputing it", target, exc)
            return None

    def commit(self, segment: Path) -> None:
        """The segment's content is in the lake: remove it (then its staged batches)."""
        segment.unlink(missing_ok=True)
        segment.with_suffix(".staged").unlink(missing_ok=True)
        if self.fsync:
            _fsync_dir(self.folder)

    def lock_committer(self, timeout: float = 120.0) -> Any:
        """Hold the folder's committer lock (one committer at a time, across processes: a
        flusher process left by a killed ingest finishes its segment before another starts).
        Returns the open lock file; closing it releases the lock."""
        import time

        handle = open(self.folder / "committer.lock", "a+")  # noqa: SIM115 - held open
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except OSError as exc:
                if time.monotonic() > deadline:
                    handle.close()
                    raise ConfigError(
                        f"another process is committing the spool {self.folder}; stop it first",
                        spool=str(self.folder),
                    ) from exc
                time.sleep(0.05)

    def set_aside(self, segment: Path) -> Path:
        """Move a segment that cannot be committed (and its staged file) to ``failed/``,
        where it is kept for a person to look at; return its new path."""
        folder = self.folder / "failed"
        folder.mkdir(exist_ok=True)
        target = folder / segment.name
        os.replace(segment, target)
        staged = segment.with_suffix(".staged")
        if staged.exists():
            os.replace(staged, folder / staged.name)
        if self.fsync:
            _fsync_dir(self.folder)
        return target

    def backlog(self) -> tuple[int, int]:
        """(segments, bytes) not yet committed, the one being appended to included."""
        segments = self._segments("seg") + self._segments("open")
        size = 0
        for _, p in segments:
            with contextlib.suppress(OSError):
                size += p.stat().st_size
        return len(segments), size

    def close(self) -> None:
        """Close the open segment (it is sealed on the next start) and release the folder."""
        with self._mutex:
            if self._file is not None:
                self._file.close()
                self._file = None
        if self._lock_file is not None and not self._lock_file.closed:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
