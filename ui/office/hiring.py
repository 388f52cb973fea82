"""From what the boss asked for (a TaskRequest with a screen of its own) to an employee's order:
the task file it runs (a goal is written to a private file first), the model it asks, the apps
to start, the folder it shares, and the office's settings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from agent.config.profiles import Config
from agent.office.employee import EmployeeOrder
from ui.tray.request import TaskRequest, goal_task_text


def task_file_of(request: TaskRequest) -> Path:
    """The task file the employee runs: the one the boss chose, or the goal, written down."""
    if request.path is not None:
        return request.path
    goal = request.loaded.task.goal or ""
    folder = Path(tempfile.mkdtemp(prefix="shain-goal-"))
    path = folder / "goal.yaml"
    path.write_text(goal_task_text(goal), encoding="utf-8")
    return path


def order_for(
    request: TaskRequest,
    runs_dir: Path,
    config: Config,
    model_arguments: tuple[str, ...] | None = None,
) -> EmployeeOrder:
    screen = request.own_screen
    assert screen is not None, "an order is for a screen of its own"
    if model_arguments is None:
        named = request.profile_name in config.profiles
        model_arguments = ("--profile", request.profile_name) if named else ()
    budget = request.loaded.task.budget
    return EmployeeOrder(
        task_file=task_file_of(request),
        workdir=request.workdir,
        runs_dir=runs_dir,
        size=screen.size,
        apps=tuple(app.command_line for app in screen.apps),
        model_arguments=(
            *model_arguments,
            *("--max-steps", str(budget.max_steps)),
            *("--max-seconds", str(round(budget.max_seconds))),
        ),
        keep_screen=config.office.keep_screens,
        pause_after=config.office.pause_after_seconds,
    )
