"""`shain learn`: a successful run (a model's, or the oracle's) as a task file that replays it.

The run's log names the task file it ran and the variables it was given; the learned file has
that task's goal, setup and checks, those variables, and the run's executed actions as steps
(`agent.learn.steps`). A run that did not succeed is refused with its status: its actions did
not do the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, TaskFileError
from agent.learn.steps import Spelling, is_point, learned_steps
from agent.learn.writer import check_and_write, task_text
from agent.record.events import RunStarted
from agent.record.log import RunRecord, read_run
from agent.record.status import RunStatus
from agent.taskfile.lines import parse_yaml


@dataclass(frozen=True)
class Learned:
    """What `shain learn` wrote: where, how many steps, and how many clicks it could only
    write as points (no element was there to name)."""

    path: Path
    steps: int
    points: int


def original_task(record: RunRecord, task_file: Path | None) -> tuple[Path, dict[str, Any]]:
    """The task file the run ran (or `task_file`), as its YAML mapping, unsubstituted."""
    named = record.header.get("task_file")
    path = task_file or (Path(named) if isinstance(named, str) else None)
    if path is None:
        raise ConfigError(f"run {record.run_id}: its log names no task file; give one with --task")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(
            f"run {record.run_id} ran {path}, which cannot be read ({error.strerror or error});"
            " give the task file with --task"
        ) from None
    _, data = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise TaskFileError(f"{path}: not a task file (a mapping)")
    return path, data


def learn_from_run(folder: Path, output: Path, task_file: Path | None = None) -> Learned:
    """Write the task file learned from the run in `folder` to `output`."""
    record = read_run(folder)
    if record.status != RunStatus.SUCCESS:
        reason = (record.summary or {}).get("reason", "")
        raise ConfigError(
            f"run {record.run_id} did not succeed ({record.status}"
            + (f": {reason}" if reason else "")
            + "): only a successful run can be learned"
        )
    path, original = original_task(record, task_file)
    variables = record.header.get("vars") or {}
    secrets = list(original.get("secrets") or [])
    workdir = record.header.get("workdir")
    spelling = Spelling(variables, secrets, workdir if isinstance(workdir, str) else "")
    steps = learned_steps(record.events, spelling)
    if not steps:
        raise ConfigError(f"run {record.run_id} carried out no actions: nothing to learn")
    started = record.events_of(RunStarted)
    policy = started[0].policy if started else "?"
    heading = [
        f"Learned by `shain learn` from run {record.run_id} ({policy}) of {path}.",
        "It replays without a model: `shain run` this file (add --heal and a model to let the",
        "model stand in for a step whose target is gone).",
    ]
    name = f"{original.get('name', record.header.get('task', 'task'))}-learned"
    check_and_write(task_text(original, name, variables, steps, heading), output, secrets)
    return Learned(output, len(steps), sum(is_point(step) for step in steps))
