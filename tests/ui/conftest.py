"""Qt without a screen, and real run folders for the log viewer's tests to open.

QT_QPA_PLATFORM is set here, before anything imports Qt (pytest-qt makes the QApplication
when the first test asks for `qtbot`).
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO, run_task
from tests.model_server import ModelServer, Reply, Request, chat_tool_call

EXAMPLES = sorted((REPO / "tasks" / "examples").glob("*.yaml"))
SCREEN = (1920, 1080)
BUTTON = (1500, 260)  # where the model run's target button is, in screen pixels
CLICK = (640, 360)  # where the scripted run clicks, in screen pixels
TARGET_APP = REPO / "tests" / "apps" / "target_app.py"

# A scripted run whose steps draw every overlay kind, and whose check is wrong on purpose.
FAILING_TASK = f"""\
name: overlay-shapes
goal: Click, drag and scroll in the terminal, then check something that is not so.
setup:
  - launch: xterm -title shain-overlays
  - wait_for: {{window: "shain-overlays", timeout: 20}}
steps:
  - click: {{x: {CLICK[0]}, y: {CLICK[1]}}}
  - drag: {{path: [[300, 300], [500, 420], [700, 380]]}}
  - scroll: {{x: 900, y: 500, down: 3}}
  - type: "echo shain\\n"
checks:
  - command: {{run: "echo 41", stdout: "42"}}
budget: {{max_steps: 20, max_seconds: 60}}
"""

MODEL_TASK = """\
name: model-with-a-bad-reply
goal: Press the small red button, then say done.
setup:
  - launch: {python} {app} --x {x} --y {y} --size 24 --out {{workdir}}/events.jsonl
  - wait_for: {{window: shain-target, timeout: 20}}
checks:
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"event": "button"'}}
budget: {{max_steps: 8, max_seconds: 60}}
"""


@dataclass(frozen=True)
class RealRuns:
    runs_dir: Path
    folders: dict[str, Path]  # task name -> run folder
    statuses: dict[str, str]  # task name -> status


def _run(task: Path, runs_dir: Path, workdir: Path, *extra: str, **env: str) -> dict[str, object]:
    run = run_task(
        task, workdir.parent, *extra, env=env, workdir=workdir.name, runs_dir=runs_dir,
        leaves_nothing=False,
    )  # fmt: skip
    assert "run_folder" in run.result, (run.code, run.result, run.stderr)
    return run.result


def _model_run(tmp: Path, runs_dir: Path) -> dict[str, object]:
    """openai-chat against the scripted server: one malformed reply, a click, done."""
    task = tmp / "model.yaml"
    task.write_text(
        MODEL_TASK.format(python=sys.executable, app=TARGET_APP, x=BUTTON[0], y=BUTTON[1])
    )
    (tmp / "config.toml").write_text("")

    def click(request: Request) -> Reply:
        width, height = request.image_sizes()[-1]
        x, y = round(BUTTON[0] * width / SCREEN[0]), round(BUTTON[1] * height / SCREEN[1])
        return chat_tool_call("computer", {"type": "click", "x": x, "y": y, "button": "left"})

    with ModelServer() as server:
        server.script(
            chat_tool_call("computer", '{"type": "click", "x": 10, '),  # not JSON: rejected
            click,
            chat_tool_call("done", {"summary": "pressed the button"}, usage=(1500, 40)),
        )
        return _run(
            task,
            runs_dir,
            tmp / "model-work",
            "--policy",
            "openai-chat",
            "--model",
            "test-model",
            "--base-url",
            server.base_url,
            OPENAI_API_KEY="sk-test-log-viewer",
            SHAIN_CONFIG=str(tmp / "config.toml"),
        )


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> RealRuns:
    """Real `shain run --virtual-display` runs, made once: every example task, a scripted run
    with a failing check that draws every overlay kind, and a model run with a rejected reply."""
    tmp = tmp_path_factory.mktemp("viewer-runs")
    runs_dir = tmp / "runs"
    results = [_run(task, runs_dir, tmp / f"work-{task.stem}") for task in EXAMPLES]
    failing = tmp / "overlay-shapes.yaml"
    failing.write_text(FAILING_TASK)
    results.append(_run(failing, runs_dir, tmp / "work-overlays"))
    results.append(_model_run(tmp, runs_dir))
    folders, statuses = {}, {}
    for data in results:
        folder = Path(str(data["run_folder"]))
        header = json.loads((folder / "events.jsonl").read_text("utf-8").splitlines()[0])
        folders[str(header["task"])] = folder
        statuses[str(header["task"])] = str(data["status"])
    return RealRuns(runs_dir, folders, statuses)
