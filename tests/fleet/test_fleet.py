"""The fleet with real parts: a redis-server of its own on 127.0.0.1, real `shain worker`
processes (Celery), real runs on real Xvfb screens, driven through the `shain` command as a
user would. Scripted task files: no model is needed."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.record.log import RunRecord, read_run
from tests.fleet.servers import RedisServer, Worker, free_port
from tests.helpers import REPO, left_behind, run_shain

pytestmark = [pytest.mark.desktop, pytest.mark.slow]

QUICK = """\
name: {name}
goal: press a key, then wait a moment
steps:
  - key: shift
  - wait: {seconds}
checks:
  - command: {{run: "true"}}
"""


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(broker: str, name: str, **options: Any) -> Worker:
        worker = Worker(broker, tmp_path / "runs", tmp_path / f"{name}.log", name=name, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


def task_file(folder: Path, name: str, seconds: float = 1.0) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(QUICK.format(name=name, seconds=seconds), encoding="utf-8")
    return path


def shain(broker: str, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_shain(*arguments, "--broker", broker, timeout=timeout)


def submit_waiting(broker: str, task: Path) -> subprocess.Popen[str]:
    """`shain submit TASK --wait --json` going on in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "submit", str(task), "--wait", "--json",
         "--broker", broker],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip


def ended(waiting: subprocess.Popen[str], timeout: float = 60) -> tuple[int, dict[str, Any], str]:
    """(exit code, the run's record as --json printed it, the progress lines)."""
    out, err = waiting.communicate(timeout=timeout)
    return waiting.returncode, json.loads(out) if out.strip() else {}, err


def fleet(broker: str) -> dict[str, Any]:
    listed = shain(broker, "fleet", "--json")
    assert listed.returncode == 0, listed.stderr
    return dict(json.loads(listed.stdout))


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def acting_run(runs_dir: Path, task: str) -> str:
    """The id of the task's run once it has carried out its first action (its log says so;
    read from the folder: polling `shain fleet` would cost a Python start each time)."""

    def acting() -> str | None:
        for events in runs_dir.glob(f"*-{task}-*/events.jsonl"):
            if '"action_executed"' in events.read_text():
                return events.parent.name
        return None

    return str(wait_until(acting, 30, "a run's first action"))


def finished_run(folder: Path) -> RunRecord:
    """The run folder read back, with its last event and its summary."""
    run = read_run(folder)
    assert run.summary is not None, f"{folder} has no summary"
    assert run.events[-1].kind == "run_finished"
    return run


def idle(listed: dict[str, Any]) -> bool:
    return not listed["queued"] and not listed["running"]


def running_record(broker: str, run_id: str) -> dict[str, Any] | None:
    return next((run for run in fleet(broker)["running"] if run["run_id"] == run_id), None)


def test_two_workers_share_four_runs_side_by_side(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    first, second = workers(broker, "first"), workers(broker, "second")
    tasks = [task_file(tmp_path, f"fleet-run-{n}", seconds=2) for n in range(4)]

    waiting = [submit_waiting(broker, task) for task in tasks]
    results = [ended(process, timeout=90) for process in waiting]

    for code, record, lines in results:
        assert code == 0, (record, lines, first.output(), second.output())
        assert record["status"] == "success"
        assert "step    1 key shift" in lines  # the run's steps, followed from here
    served = {record["worker"].split("#")[0] for _, record, _ in results}
    assert served == {"first", "second"}
    spans = sorted((record["started_at"], record["finished_at"]) for _, record, _ in results)
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)), spans
    for _, record, _ in results:
        folder = Path(record["run_folder"])
        assert folder.parent == tmp_path / "runs"
        run = finished_run(folder)
        assert run.status == "success"
        assert (folder / "frames" / "step-0001.jpg").is_file()
        shown = run_shain("show", record["run_id"], "--runs-dir", str(tmp_path / "runs"))
        assert shown.returncode == 0 and "success" in shown.stdout
    assert idle(fleet(broker))


def test_stop_ends_a_long_run_cleanly_within_seconds(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    worker = workers(broker, "stopper")
    waiting = submit_waiting(broker, task_file(tmp_path, "fleet-long", seconds=120))
    run_id = acting_run(tmp_path / "runs", "fleet-long")

    started = time.monotonic()
    stopped = shain(broker, "stop", run_id)
    seconds = time.monotonic() - started

    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert seconds < 8, f"took {seconds:.1f}s"
    code, record, _ = ended(waiting)
    assert code == 3 and record["status"] == "stopped"
    run = finished_run(tmp_path / "runs" / run_id)
    assert run.status == "stopped" and run.summary is not None
    assert run.summary["exit_code"] == 3 and "shain stop" in run.summary["reason"]
    assert not left_behind(worker.environment), "the run's screen or apps are still there"
    assert not fleet(broker)["running"]


def test_a_killed_run_is_crashed_not_run_again_and_the_worker_goes_on(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    worker = workers(broker, "survivor")
    doomed = submit_waiting(broker, task_file(tmp_path, "fleet-doomed", seconds=120))
    next_one = submit_waiting(broker, task_file(tmp_path, "fleet-next", seconds=0.5))
    run_id = acting_run(tmp_path / "runs", "fleet-doomed")
    pid = running_record(broker, run_id)["pid"]  # type: ignore[index]

    os.kill(pid, signal.SIGKILL)

    code, record, _ = ended(doomed)
    assert code == 1 and record["status"] == "crashed", record
    assert "SIGKILL" in record["reason"] and "not run again" in record["reason"]
    code, record, lines = ended(next_one)
    assert code == 0, (lines, worker.output())
    assert record["worker"].startswith("survivor#")
    # It was not started again: one folder, no retried attempt, and the worker is idle.
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        [run_id, record["run_id"]]
    )
    assert idle(fleet(broker))
    assert not left_behind(worker.environment)


def test_a_run_that_cannot_start_is_tried_again_and_then_given_up(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    workers(broker, "retrier")
    task = tmp_path / "no-app.yaml"
    task.write_text(
        "name: fleet-no-app\ngoal: g\nsetup:\n  - launch: shain-no-such-app\n"
        "steps:\n  - key: shift\n"
    )

    code, record, _ = ended(submit_waiting(broker, task), timeout=90)

    assert code == 4 and record["status"] == "environment_error", record
    assert record["attempts"] == 2  # three starts in all, none of which acted
    aside = sorted(p.name for p in (tmp_path / "runs" / ".attempts").iterdir())
    assert aside == [f"{record['run_id']}-1", f"{record['run_id']}-2"]
    assert (tmp_path / "runs" / record["run_id"] / "summary.json").is_file()


def test_a_killed_worker_takes_its_screens_along_and_a_restarted_one_serves(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    worker = workers(broker, "mortal")
    orphan = submit_waiting(broker, task_file(tmp_path, "fleet-orphan", seconds=120))
    run_id = acting_run(tmp_path / "runs", "fleet-orphan")

    worker.kill()  # kill -9 of the whole worker

    assert not left_behind(worker.environment, timeout=10), "its screen or apps outlived it"
    again = workers(broker, "reborn")
    after = submit_waiting(broker, task_file(tmp_path, "fleet-after"))
    code, record, _ = ended(orphan, timeout=30)  # its worker stopped beating: it has ended
    assert record["state"] == "ended" and code != 0, record
    code, record, lines = ended(after)
    assert code == 0, (lines, again.output())
    assert record["worker"].startswith("reborn#")
    assert [p.name for p in (tmp_path / "runs").iterdir()].count(run_id) == 1


def test_queued_runs_survive_a_redis_crash_with_the_recommended_persistence(
    workers: Callable[..., Worker], tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        broker = server.url()
        run_ids = []
        for n in range(2):
            submitted = shain(broker, "submit", str(task_file(tmp_path, f"fleet-kept-{n}")))
            assert submitted.returncode == 0, submitted.stderr
            run_ids.append(submitted.stdout.strip())
        time.sleep(1.5)  # the append-only file is synced once a second
        server.kill()  # as a crash: nothing more is saved
        server.start()
        workers(broker, "late", slots=2)
        summaries = [tmp_path / "runs" / run_id / "summary.json" for run_id in run_ids]
        wait_until(lambda: all(path.is_file() for path in summaries), 60, "both runs end")
        for run_id in run_ids:
            assert finished_run(tmp_path / "runs" / run_id).status == "success"
        # (The record ends once the run's process has torn its screen down, just after.)
        wait_until(lambda: idle(fleet(broker)), 10, "the fleet says both ended")
    finally:
        server.stop()


def test_bad_input_is_refused_and_said_plainly(
    broker: str, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ngoal: g\nsteps:\n  - key: shift\n  - clik: {text: Save}\n")
    refused = shain(broker, "submit", str(broken))
    assert refused.returncode == 2
    assert f"{broken}:5" in refused.stderr
    assert not fleet(broker)["queued"]

    port = free_port()  # nothing listens there
    unreachable = f"redis://:hunter2@127.0.0.1:{port}/0"
    lost = shain(unreachable, "submit", str(task_file(tmp_path, "fleet-nowhere")))
    assert lost.returncode == 4
    assert f"redis://:***@127.0.0.1:{port}/0" in lost.stderr
    assert "hunter2" not in lost.stderr + lost.stdout

    workers(broker, "general", queues="shain")
    wait_until(lambda: fleet(broker)["workers"], 30, "the worker says it is there")
    gpu = shain(broker, "submit", str(task_file(tmp_path, "fleet-gpu")), "--queue", "gpu")
    assert gpu.returncode == 0
    assert fleet(broker)["unserved_queues"] == {"gpu": 1}
    listing = shain(broker, "fleet")
    assert "no worker serves queue 'gpu': 1 run(s) wait there" in listing.stdout
    stopped = shain(broker, "stop", gpu.stdout.strip())
    assert stopped.returncode == 0 and "before it started" in stopped.stdout
    assert fleet(broker)["unserved_queues"] == {}


def test_a_broker_with_a_password_works_and_the_password_never_shows(
    workers: Callable[..., Worker], tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis", "--requirepass", "hunter2")
    server.start()
    try:
        broker = f"redis://:hunter2@127.0.0.1:{server.port}/0"
        worker = workers(broker, "guarded")
        code, record, lines = ended(submit_waiting(broker, task_file(tmp_path, "fleet-pw")))
        assert code == 0, (lines, worker.output())
        wrong = shain(broker.replace("hunter2", "guess"), "fleet")
        assert wrong.returncode == 4 and "refused the password" in wrong.stderr
        said = (
            worker.output() + lines + json.dumps(record) + wrong.stderr + fleet(broker).__repr__()
        )
        assert f"redis://:***@127.0.0.1:{server.port}/0" in worker.output()
        assert "hunter2" not in said and "guess" not in wrong.stderr
    finally:
        server.stop()


def test_the_core_runs_without_celery_or_redis() -> None:
    probe = (
        "import sys, agent.cli.main, agent.run.session, agent.office.employee, ui.tray.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu', 'redis')))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert imported.stdout.strip() == "[]"
