"""Sending a task file to the fleet, and following its run from anywhere.

The task file is checked here first, as `shain run` would check it: a broken file is a
TaskFileError (exit 2, file:line) and never reaches the queue.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from redis.exceptions import RedisError

from agent.errors import EnvironmentProblem, TaskFileError
from agent.fleet.app import fleet_app, send
from agent.fleet.order import FleetOrder
from agent.fleet.registry import BEAT_SECONDS, FleetRun, Registry, RunState
from agent.record.log import new_run_id
from agent.record.status import RunStatus
from agent.taskfile.task import load_task

FOLLOW_BLOCK_MS = 1000
# How long a follower waits out a broker that went away (restarting) before it gives up.
BROKER_PATIENCE_SECONDS = 60.0


class _SecretsOnTheWorker(Mapping[str, str]):
    """The environment for checking a task file here: its secrets are read on the worker, so a
    secret this machine lacks is no error (a stand-in value takes its place)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name) or "secret-on-the-worker"

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def checked_order(
    path: Path,
    *,
    variables: Mapping[str, str],
    queue: str,
    seed: int = 0,
    policy: str | None = None,
) -> FleetOrder:
    """The order for this task file, once it has been checked as a run would check it."""
    loaded = load_task(
        path,
        overrides=variables,
        builtins={"workdir": "/the-runs-own-workdir"},
        environ=_SecretsOnTheWorker(os.environ),
        seed=seed,
    )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise TaskFileError(f"{path}: cannot read the task file: {error.strerror}") from None
    name = loaded.task.name
    return FleetOrder(
        run_id=new_run_id(name),
        task_name=name,
        file_name=path.name,
        task_text=text,
        queue=queue,
        variables=dict(variables),
        seed=seed,
        policy=policy,
        submitted_at=time.time(),
    )


def submit(registry: Registry, broker: str, order: FleetOrder) -> None:
    """Put the run on record and in its queue."""
    registry.add(
        FleetRun(
            run_id=order.run_id,
            task=order.task_name,
            queue=order.queue,
            state=RunState.QUEUED,
            submitted_at=order.submitted_at,
        )
    )
    try:
        send(fleet_app(broker), order)
    except EnvironmentProblem as problem:
        registry.end(order.run_id, RunStatus.ENVIRONMENT_ERROR, 4, str(problem))
        raise


def follow(registry: Registry, run_id: str, on_line: Callable[[str], None]) -> FleetRun:
    """Hand each progress line of the run to `on_line` as it comes, until the run ends; its
    record then. A run whose worker goes away meanwhile ends as crashed (`Registry.reap`)."""
    after = "0"
    reaped_at = time.monotonic()
    broker_lost_at: float | None = None
    while True:
        try:
            entries = registry.lines_after(run_id, after, FOLLOW_BLOCK_MS)
            for entry_id, fields in entries:
                after = entry_id
                if "end" in fields:
                    record = registry.get(run_id)
                    if record is None:
                        raise EnvironmentProblem(f"the fleet has no record of run {run_id}")
                    return record
                on_line(fields.get("line", ""))
            if time.monotonic() - reaped_at > BEAT_SECONDS:
                registry.reap()
                reaped_at = time.monotonic()
            broker_lost_at = None
        except RedisError as error:
            broker_lost_at = broker_lost_at or time.monotonic()
            if time.monotonic() - broker_lost_at > BROKER_PATIENCE_SECONDS:
                raise EnvironmentProblem(
                    f"lost the broker while following run {run_id}: {error}"
                ) from None
            time.sleep(1.0)
