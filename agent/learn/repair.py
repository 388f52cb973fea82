"""`shain run FILE --heal`: the repaired task file a healed run proposes, beside the original.

A healed step is replaced by what the model did in its place, learned as `shain learn` learns
(the element each click hit, by role and name); every other part of the file stays as it was
read. The original is never changed: the boss reads the diff and keeps the file or not.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.errors import TaskFileError
from agent.learn.steps import LearnedStep, Spelling, learned_steps
from agent.learn.writer import check_and_write, document_text
from agent.record.events import RepairProposed
from agent.record.log import read_run
from agent.taskfile.lines import parse_yaml

DIFF_LIMIT = 4000  # characters of the diff kept in the log


@dataclass(frozen=True, slots=True)
class HealedStep:
    """A step of the task file (1-based) that the model did, in the runner's steps
    `first_step` to `last_step`."""

    step: int
    first_step: int
    last_step: int


def repaired_path(task_file: Path) -> Path:
    return task_file.with_name(f"{task_file.stem}.healed{task_file.suffix or '.yaml'}")


def propose_repair(
    task_file: Path, healed: Sequence[HealedStep], run_folder: Path
) -> RepairProposed:
    """Write the repaired file beside `task_file`; the event that says where, and the diff."""
    original_text = task_file.read_text(encoding="utf-8-sig")
    _, original = parse_yaml(original_text, str(task_file))
    if not isinstance(original, dict) or not isinstance(original.get("steps"), list):
        raise TaskFileError(f"{task_file}: no steps to repair")
    record = read_run(run_folder)
    variables = record.header.get("vars") or {}
    workdir = record.header.get("workdir")
    secrets = list(original.get("secrets") or [])
    spelling = Spelling(variables, secrets, workdir if isinstance(workdir, str) else "")
    steps: list[LearnedStep] = [LearnedStep(step) for step in original["steps"]]
    for heal in sorted(healed, key=lambda h: h.step, reverse=True):
        done = [
            e for e in record.events if heal.first_step <= getattr(e, "step", 0) <= heal.last_step
        ]
        replacement = learned_steps(done, spelling)
        marked = [
            LearnedStep(
                s.data, f"healed step {heal.step}" + (f"; {s.comment}" if s.comment else "")
            )
            for s in replacement
        ]
        steps[heal.step - 1 : heal.step] = marked
    document = {**original, "steps": steps}
    heading = [
        f"Proposed by `shain run --heal` (run {record.run_id}) from {task_file.name}: the model",
        f"did step {', '.join(str(h.step) for h in healed)} in the script's place. Check it.",
    ]
    text = document_text(document, heading)
    path = repaired_path(task_file)
    check_and_write(text, path, secrets)
    diff = "".join(
        difflib.unified_diff(
            original_text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            str(task_file),
            str(path),
        )
    )
    return RepairProposed(str(path), tuple(h.step for h in healed), diff[:DIFF_LIMIT])
