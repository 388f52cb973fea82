"""`shain worker`: a Celery worker whose every slot runs one task at a time (`slot.py`).

The pool is threads: a slot's thread lives as long as the worker and starts each run, so the
run's death signal fires when the worker dies, however it dies (`kill -9` included), and its
screen and apps go with it. A heartbeat in Redis says which runs the slots hold; a run whose
worker stopped beating is ended as crashed by the first that notices (`Registry.reap`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from agent.fleet.app import TASK_NAME, fleet_app
from agent.fleet.broker import connect, masked
from agent.fleet.order import FleetOrder
from agent.fleet.registry import BEAT_SECONDS, Registry, WorkerBeat
from agent.fleet.slot import Board, Place, serve

RETRY_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerOptions:
    broker: str
    slots: int
    queues: tuple[str, ...]
    runs_dir: Path
    name: str = ""  # default: shain-<pid>@<host>


def run_worker(options: WorkerOptions) -> int:
    registry = Registry(connect(options.broker))  # exit 4 now when the broker is not there
    name = options.name or f"shain-{os.getpid()}@{socket.gethostname()}"
    instance = f"{name}#{secrets.token_hex(3)}"
    options.runs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    place = Place(registry, instance, options.runs_dir.resolve(), Board())
    app = fleet_app(options.broker)

    @app.task(name=TASK_NAME, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def run(task: Any, order: dict[str, Any]) -> dict[str, Any]:
        parsed = FleetOrder.model_validate(order)
        ending = serve(parsed, place)
        _say(f"run {parsed.run_id}: {ending.status or 'not started'} {ending.reason}")
        if ending.retry:
            raise task.retry(countdown=RETRY_AFTER_SECONDS)
        return {"status": ending.status, "exit_code": ending.exit_code}

    beat = WorkerBeat(
        instance=instance,
        name=name,
        host=socket.gethostname(),
        pid=os.getpid(),
        queues=options.queues,
        slots=options.slots,
        runs_dir=str(place.runs_dir),
    )
    leaving = threading.Event()
    beating = threading.Thread(
        target=_beat, args=(registry, beat, place.board, leaving), name="shain-beat", daemon=True
    )
    beating.start()
    _say(
        f"{name}: {options.slots} slot(s) on queue(s) {', '.join(options.queues)}, broker "
        f"{masked(options.broker)}, runs in {place.runs_dir}"
    )
    try:
        app.worker_main(_celery_arguments(name, options))
    finally:
        leaving.set()
        beating.join(BEAT_SECONDS * 2)
        with contextlib.suppress(RedisError):
            registry.leave(instance)
    return 0


def _celery_arguments(name: str, options: WorkerOptions) -> Sequence[str]:
    return [
        "worker",
        "--pool=threads",
        f"--concurrency={options.slots}",
        f"--queues={','.join(options.queues)}",
        f"--hostname={name}",
        "--without-gossip",  # the fleet's own heartbeat says who is there (`shain fleet`)
        "--without-mingle",
        "--loglevel=WARNING",
    ]


def _beat(registry: Registry, beat: WorkerBeat, board: Board, leaving: threading.Event) -> None:
    """Say the worker is there and what it runs; end the runs of workers that went away."""
    while not leaving.is_set():
        try:
            registry.beat(beat.model_copy(update={"runs": board.runs()}))
            for run in registry.reap():
                _say(f"run {run.run_id}: its worker {run.worker} went away; ended as crashed")
        except RedisError as error:
            _say(f"the broker is away ({error}); trying again")
        leaving.wait(BEAT_SECONDS)


def _say(text: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] shain worker: {text}", file=sys.stderr, flush=True)
