"""Records run in a child process that is replaced before it grows without bound.

Why: both frameworks keep every compilation for the life of a process (about 0.5 MB per
``torch.compile``, 0.24 MB per XLA-compiled ``tf.function``, even after ``torch._dynamo.reset``),
so a process that runs the whole catalogue grew to 8.3 GiB, and one per core on a 16-core
runner would need 80. pytest-xdist cannot retire a worker between tests, so each pytest
process (the xdist worker, or ``conform run`` without ``-n``) hands its records to a child
that imports the frameworks, and starts a fresh child after ``MAX_RECORDS`` records or once
the child's resident memory passes ``MAX_BYTES``. The pytest process itself never imports a
framework.

A child that dies mid-record (a segfault in a framework, the kernel's OOM killer) costs that
record, which becomes an ``error`` naming the signal, not the run: the next record gets a
fresh child. The child ignores SIGINT: Ctrl-C interrupts pytest, which stops the child.

Because the records are made in the child, so are the settings they depend on and the
snapshot that describes them (``environment.json``): the child applies the run's
:class:`Settings` (TF32 on a GPU, the thread count of an xdist worker) before its first
record, and takes the snapshot when asked (:meth:`Worker.environment`). Set in the pytest
process, TF32 off never reached a record; taken there, the snapshot described a process
that made none (and imported both frameworks for it: 5 s of every ``conform run``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "MAX_RECORDS", "Job", "Settings", "Worker", "rss"]

MAX_RECORDS = int(os.environ.get("CONFORM_RECYCLE_RECORDS", "200"))
MAX_BYTES = int(float(os.environ.get("CONFORM_RECYCLE_GIB", "2.5")) * 2**30)


@dataclass(frozen=True)
class Job:
    """One record to make, as plain data a child can rebuild its target from."""

    pair: str
    check: str
    dtype: str
    device: str
    mode: str
    pairs_from: tuple[str, ...]
    max_examples: int | None
    case: str | None
    run_id: str
    timeout: float | None
    profile: str | None


@dataclass(frozen=True)
class Settings:
    """What a record process sets before its first record: the numerics the run asked for.

    ``threads``: intra-op threads where this process is not itself the one whose share of the
    cores they are (the xdist controller's snapshot describes its workers' children); None:
    :func:`harness.frameworks.thread_count` decides, as in every record process.
    """

    device: str = "cpu"
    tf32: bool = False
    threads: int | None = None

    def apply(self) -> None:
        if self.threads is not None:
            os.environ.setdefault("CONFORM_THREADS", str(self.threads))
        if self.device != "cpu":
            from harness import devices

            devices.set_tf32(self.tf32)


@dataclass(frozen=True)
class _Snapshot:
    """A request for the environment snapshot, with the run's own entries (``extra``)."""

    extra: dict[str, Any]


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 where /proc cannot tell)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _serve(conn: Any, settings: Settings) -> None:
    """The child: make records (and snapshots) until told to stop (None) or until the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import json

    from harness import environment, registry
    from harness.cases import Case
    from harness.check import Target, run_check

    settings.apply()
    catalogues: dict[tuple[str, ...], registry.Catalogue] = {}
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if isinstance(job, _Snapshot):  # as plain values: torch's version string, unpickled there, imports torch
            conn.send(json.loads(json.dumps(environment.collect(job.extra))))
            continue
        catalogue = catalogues.get(job.pairs_from) or catalogues.setdefault(job.pairs_from,
                                                                            registry.load(job.pairs_from))
        pair = catalogue.pairs[job.pair]
        target = Target(pair, job.check, job.dtype, job.device, job.mode, catalogue.sources.get(pair.name))
        record = run_check(target, max_examples=job.max_examples, case=Case.from_json(job.case) if job.case else None,
                           run_id=job.run_id, timeout=job.timeout, profile=job.profile)
        conn.send(json.loads(json.dumps(record.to_json())))


class Worker:
    """A child process that makes records, replaced after ``max_records`` or past ``max_bytes`` resident."""

    def __init__(self, max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES, settings: Settings = Settings()):
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.settings = settings
        self.process: Any = None
        self.conn: Any = None
        self.done = 0
        self.started = 0

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state of pytest's inherited
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.settings), name="conform-records", daemon=True)
        self.process.start()
        child.close()
        self.done = 0
        self.started += 1

    def _ask(self, message: Any) -> tuple[bool, Any]:
        """Send ``message`` to the child (started if need be): (True, its answer), or (False, its exit code) where
        it died first."""
        if self.process is None or not self.process.is_alive():
            self._start()
        try:
            self.conn.send(message)
            return True, self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.process = None
            return False, code

    def run(self, job: Job) -> dict[str, Any]:
        """The record of ``job`` as JSON; a child that dies while making it gives an error record instead."""
        answered, record = self._ask(job)
        if not answered:
            return _died(job, record)
        self.done += 1
        if self.done >= self.max_records or rss(self.process.pid) > self.max_bytes:
            self.stop()
        return record

    def environment(self, extra: dict[str, Any]) -> dict[str, Any]:
        """The environment snapshot (:func:`harness.environment.collect`) as the child that makes the records sees it.

        A child that dies taking it (a framework that crashes on import) leaves it to this process, as before
        records moved to a child.
        """
        answered, snapshot = self._ask(_Snapshot(extra))
        if answered:
            return snapshot
        from harness import environment

        self.settings.apply()
        return environment.collect(extra)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process = None


def _died(job: Job, code: int | None) -> dict[str, Any]:
    from harness.results import Record

    how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
    message = (f"the process making this record died ({how}) before it finished: a framework crashed or the "
               "machine ran out of memory; the run went on in a fresh process")
    record = Record(pair=job.pair, check=job.check, dtype=job.dtype, device=job.device, mode=job.mode,
                    verdict="error", message=message, run_id=job.run_id,
                    error={"type": "ProcessDied", "framework": None, "stage": None, "message": message,
                           "traceback": ""})
    return record.to_json()
