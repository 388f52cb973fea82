"""What the boss asked for, loaded and checked: a task file or a goal in plain words.

A goal becomes a minimal task (`name: goal`, `goal: ...`); the budget from the dialog replaces
the task's own when given. Plain Python, so the dialog's checks are testable without Qt.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from secrets import token_hex

from agent.config.profiles import MODEL_POLICIES, Profile
from agent.desktop.app_entries import AppEntry
from agent.errors import TaskFileError
from agent.geometry import Size
from agent.taskfile.task import BudgetSpec, LoadedTask, load_task, load_task_text

GOAL_TASK_NAME = "goal"


@dataclass(frozen=True)
class OwnScreen:
    """Where an employee works in the office: a private screen of its own."""

    size: Size = field(default_factory=lambda: Size(1920, 1080))
    apps: tuple[AppEntry, ...] = ()  # started on it before the task
    shared_folder: Path | None = None  # the boss's folder it works in: its Documents


@dataclass(frozen=True)
class TaskRequest:
    loaded: LoadedTask
    profile: Profile
    profile_name: str
    workdir: Path  # named now (the task may refer to {workdir}), made when the run starts
    own_screen: OwnScreen | None = None  # None: on the boss's own desktop (or the fleet)
    path: Path | None = None  # the task file, when the task came from one
    fleet_queue: str | None = None  # sent to the fleet, on this queue

    @property
    def label(self) -> str:
        task = self.loaded.task
        if task.name == GOAL_TASK_NAME and task.goal:
            short = task.goal if len(task.goal) <= 40 else task.goal[:39] + "…"
            return f"goal: {short}"
        return task.name


def new_workdir() -> Path:
    return Path(tempfile.gettempdir()) / f"shain-work-{token_hex(4)}"


def check_shared_folder(text: str) -> Path:
    """The folder the boss shares with an employee, or TaskFileError saying what is wrong."""
    folder = Path(text).expanduser()
    if not folder.exists():
        raise TaskFileError(f"the shared folder {folder} does not exist")
    if not folder.is_dir():
        raise TaskFileError(f"the shared folder {folder} is not a folder")
    try:  # really writing, as the employee will (permission bits say nothing to root)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".shain-probe-"):
            pass
    except OSError:
        raise TaskFileError(
            f"the shared folder {folder} is not writable: the employee works in it"
        ) from None
    return folder.resolve()


def _literal(text: str) -> str:
    """Text that the task file's `{variable}` substitution leaves as it is."""
    return text.replace("{", "{{").replace("}", "}}")


def goal_task_text(goal: str) -> str:
    """A minimal task file for a goal (JSON is YAML, and quotes whatever the goal holds)."""
    return json.dumps({"name": GOAL_TASK_NAME, "goal": _literal(goal)}, ensure_ascii=False)


def make_request(
    *,
    goal: str | None = None,
    path: Path | None = None,
    profile: Profile,
    profile_name: str = "default",
    max_steps: int | None = None,
    max_seconds: float | None = None,
    workdir: Path | None = None,
    own_screen: OwnScreen | None = None,
    fleet_queue: str | None = None,
) -> TaskRequest:
    """The request, or TaskFileError saying what is wrong (file:line for a broken file).
    On the fleet, the worker's own configuration says which model a goal gets."""
    shared = own_screen.shared_folder if own_screen is not None else None
    workdir = workdir or shared or new_workdir()
    builtins = {"workdir": str(workdir)}
    if path is not None:
        loaded = load_task(path, builtins=builtins)
    else:
        text = (goal or "").strip()
        if not text:
            raise TaskFileError("write a goal in plain words, or choose a task file")
        if profile.policy not in MODEL_POLICIES and fleet_queue is None:
            raise TaskFileError(
                f"a goal needs a model: the profile {profile_name!r} uses the "
                f"{profile.policy!r} policy. Choose a profile with a model"
            )
        loaded = load_task_text(goal_task_text(text), "<goal>", builtins=builtins)
    budget = loaded.task.budget
    changes: dict[str, object] = {}
    if max_steps is not None:
        changes["max_steps"] = max_steps
    if max_seconds is not None:
        changes["max_seconds"] = max_seconds
    if changes:
        new_budget = BudgetSpec.model_validate({**budget.model_dump(), **changes})
        loaded = replace(loaded, task=loaded.task.model_copy(update={"budget": new_budget}))
    return TaskRequest(loaded, profile, profile_name, workdir, own_screen, path, fleet_queue)
