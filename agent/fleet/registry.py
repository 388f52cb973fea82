"""What the fleet knows of its runs and workers, kept in Redis beside Celery's queues.

    shain:fleet:runs              sorted set: run ids by the time they were submitted
    shain:fleet:run:<id>          hash: the run's record (FleetRun)
    shain:fleet:claim:<id>        who may start the run: a worker, or `stopped`; set only once
    shain:fleet:lines:<id>        stream: the run's progress lines, then an `end` entry
    shain:fleet:worker:<instance> hash: a worker's heartbeat (WorkerBeat); expires unless renewed

The claim is what makes a run start at most once: Celery acknowledges a message before its
task runs, and a message delivered again (or a stop that came first) finds the claim taken.
A run whose worker stops beating while it runs is ended as crashed by whoever notices first.
"""

from __future__ import annotations

import enum
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic

from agent.record.status import RunStatus

if TYPE_CHECKING:
    import redis

PREFIX = "shain:fleet"
RUNS = f"{PREFIX}:runs"
STOPPED_CLAIM = "stopped"
BEAT_SECONDS = 2.0
# A worker that has not beaten for this long is gone (killed, or its machine is).
BEAT_EXPIRES_SECONDS = 10
ENDED_KEEP_SECONDS = 7 * 24 * 3600
LINES_KEEP_SECONDS = 24 * 3600
EXIT_CRASHED = 1  # as `shain run` says of a run that crashed inside


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    ENDED = "ended"


class FleetRun(pydantic.BaseModel):
    """A run's record. Redis keeps it as a hash of strings; pydantic reads them back."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    run_id: str
    task: str
    queue: str
    state: RunState
    submitted_at: float
    attempts: int = 0  # starts that failed before the first action and were tried again
    worker: str = ""  # the worker instance that claimed it
    pid: int | None = None  # its `shain run` process, on the worker's machine
    started_at: float | None = None
    finished_at: float | None = None
    status: RunStatus | None = None
    exit_code: int | None = None
    reason: str = ""
    run_folder: str = ""
    stop_requested: str = ""  # why the boss asked it to stop; "" while nobody has


class WorkerBeat(pydantic.BaseModel):
    """What a worker says of itself every BEAT_SECONDS."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    instance: str  # name plus a random tail: a restarted worker is a new instance
    name: str
    host: str
    pid: int
    queues: tuple[str, ...]
    slots: int
    runs: tuple[str, ...] = ()  # what its slots are running
    runs_dir: str = ""
    beat_at: float = 0.0

    @pydantic.field_validator("queues", "runs", mode="before")
    @classmethod
    def _from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


def _fields(values: dict[str, Any]) -> dict[str, str]:
    """A hash's fields: None left out (it reads back as the default), the rest as strings."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out[key] = json.dumps(list(value))
        elif isinstance(value, enum.Enum):
            out[key] = str(value.value)
        else:
            out[key] = str(value)
    return out


class Registry:
    """The fleet's records in one Redis (the broker's)."""

    def __init__(self, client: redis.Redis) -> None:
        # redis-py's types cover bytes and str replies at once; with decode_responses (see
        # broker.connect) every reply is str, which they cannot say.
        self.redis: Any = client

    # ---- runs

    def add(self, run: FleetRun) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(self._run(run.run_id), mapping=_fields(run.model_dump()))
            pipe.zadd(RUNS, {run.run_id: run.submitted_at})
            pipe.execute()

    def get(self, run_id: str) -> FleetRun | None:
        data = self.redis.hgetall(self._run(run_id))
        return FleetRun.model_validate(data) if data else None

    def update(self, run_id: str, **values: Any) -> None:
        self.redis.hset(self._run(run_id), mapping=_fields(values))

    def runs(self, *states: RunState) -> list[FleetRun]:
        """The runs in these states (all when none is given), oldest first."""
        ids = self.redis.zrange(RUNS, 0, -1)
        with self.redis.pipeline() as pipe:
            for run_id in ids:
                pipe.hgetall(self._run(run_id))
            records = pipe.execute()
        gone = [run_id for run_id, data in zip(ids, records, strict=True) if not data]
        if gone:  # their records expired
            self.redis.zrem(RUNS, *gone)
        found = [FleetRun.model_validate(data) for data in records if data]
        return [run for run in found if not states or run.state in states]

    def find(self, reference: str) -> FleetRun | None:
        """A run by its id or a unique prefix of one."""
        exact = self.get(reference)
        if exact is not None:
            return exact
        matches = [
            run_id for run_id in self.redis.zrange(RUNS, 0, -1) if run_id.startswith(reference)
        ]
        return self.get(matches[0]) if len(matches) == 1 else None

    def claim(self, run_id: str, holder: str) -> bool:
        """Take the right to start the run (or, as `stopped`, to never start it); once only."""
        return bool(self.redis.set(self._claim(run_id), holder, nx=True, ex=ENDED_KEEP_SECONDS))

    def holder(self, run_id: str) -> str | None:
        value = self.redis.get(self._claim(run_id))
        return None if value is None else str(value)

    def release(self, run_id: str) -> None:
        """Let the run be started again: it failed before its first action and is retried."""
        self.redis.delete(self._claim(run_id))

    def request_stop(self, run_id: str, reason: str) -> None:
        self.update(run_id, stop_requested=reason)

    def stop_requested(self, run_id: str) -> str:
        """Why the boss asked the run to stop; "" while nobody has."""
        return str(self.redis.hget(self._run(run_id), "stop_requested") or "")

    def end(
        self,
        run_id: str,
        status: RunStatus,
        exit_code: int,
        reason: str,
        run_folder: str = "",
    ) -> None:
        """The run's last word: its record says how it ended, and its followers hear `end`."""
        ended = {
            "state": RunState.ENDED,
            "status": status,
            "exit_code": exit_code,
            "reason": reason,
            "finished_at": time.time(),
            "run_folder": run_folder or None,
        }
        with self.redis.pipeline() as pipe:
            pipe.hset(self._run(run_id), mapping=_fields(ended))
            pipe.expire(self._run(run_id), ENDED_KEEP_SECONDS)
            pipe.xadd(self._lines(run_id), {"end": "1"})
            pipe.expire(self._lines(run_id), LINES_KEEP_SECONDS)
            pipe.execute()

    # ---- progress lines

    def add_line(self, run_id: str, line: str) -> None:
        self.redis.xadd(self._lines(run_id), {"line": line})

    def lines_after(
        self, run_id: str, after: str, block_ms: int
    ) -> list[tuple[str, dict[str, str]]]:
        """The entries of the run's progress after entry `after` ("0": from the start),
        waiting up to `block_ms` for one to come."""
        reply = self.redis.xread({self._lines(run_id): after}, block=block_ms)
        if not reply:
            return []
        _, entries = reply[0]
        return [(entry_id, fields) for entry_id, fields in entries]

    # ---- workers

    def beat(self, worker: WorkerBeat) -> None:
        key = f"{PREFIX}:worker:{worker.instance}"
        with self.redis.pipeline() as pipe:
            pipe.hset(key, mapping=_fields(worker.model_dump() | {"beat_at": time.time()}))
            pipe.expire(key, BEAT_EXPIRES_SECONDS)
            pipe.execute()

    def leave(self, instance: str) -> None:
        self.redis.delete(f"{PREFIX}:worker:{instance}")

    def workers(self) -> list[WorkerBeat]:
        keys = sorted(self.redis.scan_iter(match=f"{PREFIX}:worker:*", count=200))
        with self.redis.pipeline() as pipe:
            for key in keys:
                pipe.hgetall(key)
            records = pipe.execute()
        return [WorkerBeat.model_validate(data) for data in records if data]

    def alive(self, instance: str) -> bool:
        return bool(self.redis.exists(f"{PREFIX}:worker:{instance}"))

    def reap(self) -> list[FleetRun]:
        """End as crashed every run whose worker has gone (it stopped beating) while it ran;
        they are not run again. Whoever looks first does it: any worker, `fleet`, `submit
        --wait`. The runs ended."""
        reaped = []
        for run in self.runs(RunState.RUNNING):
            if run.worker and not self.alive(run.worker):
                status, code, reason = _ending_in_folder(run.run_folder) or (
                    RunStatus.CRASHED,
                    EXIT_CRASHED,
                    f"its worker {run.worker} went away while it ran; it is not run again",
                )
                self.end(run.run_id, status, code, reason, run.run_folder)
                reaped.append(run)
        return reaped

    def _run(self, run_id: str) -> str:
        return f"{PREFIX}:run:{run_id}"

    def _claim(self, run_id: str) -> str:
        return f"{PREFIX}:claim:{run_id}"

    def _lines(self, run_id: str) -> str:
        return f"{PREFIX}:lines:{run_id}"


def _ending_in_folder(folder: str) -> tuple[RunStatus, int, str] | None:
    """How the run says it ended in its folder's summary, when this machine can read it (shared
    storage): a worker killed outright stops its runs (their death signal) before it goes."""
    if not folder:
        return None
    try:
        summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
        return RunStatus(summary["status"]), int(summary["exit_code"]), str(summary["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
