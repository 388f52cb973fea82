"""Each model policy drives a real app on a virtual screen through `shain run`: it clicks a
24 px button at a random place and types non-ASCII text into a field. Only the model's
judgement is scripted: a stand-in that, like a perfect model, points at the middle of what it
sees in the screenshot it was sent. The click landing on the button proves the coordinates
map back from each policy's image space to the screen."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, run_task
from tests.model_server import (
    ModelServer,
    Reply,
    Request,
    chat_text,
    chat_tool_call,
    responses_computer_call,
    responses_message,
)
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

SCREEN = (1920, 1080)
ENTRY = (960, 900)  # where the target app centres its entry field
GREETING = "こんにちは社長 café"
TARGET_APP = REPO / "tests" / "apps" / "target_app.py"

TASK = """\
name: aim-and-type
goal: Press the small red button, then type the greeting into the field and press Enter.
setup:
  - launch: {python} {app} --x {x} --y {y} --size 24 --out {{workdir}}/events.jsonl
  - wait_for: {{window: shain-target, timeout: 20}}
checks:
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"event": "button"'}}
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"text": "{greeting}"'}}
budget: {{max_steps: 12, max_seconds: 120}}
"""

Plan = list[tuple[str, Any]]


def _in_image(point: tuple[int, int], image: tuple[int, int]) -> tuple[int, int]:
    """Where a perfect model sees a screen point in the screenshot it was sent."""
    return (round(point[0] * image[0] / SCREEN[0]), round(point[1] * image[1] / SCREEN[1]))


def _relative(point: tuple[int, int]) -> tuple[int, int]:
    return (round(point[0] * 1000 / SCREEN[0]), round(point[1] * 1000 / SCREEN[1]))


def chat_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    match step:
        case ("click", point):
            x, y = _in_image(point, image)
            return chat_tool_call("computer", {"type": "click", "x": x, "y": y, "button": "left"})
        case ("type", text):
            return chat_tool_call("computer", {"type": "type", "text": text})
        case ("key", key):
            return chat_tool_call("computer", {"type": "keypress", "keys": [key.upper()]})
    return chat_tool_call("done", {"summary": "pressed the button and typed the greeting"})


def cua_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    match step:
        case ("click", point):
            x, y = _in_image(point, image)
            return responses_computer_call({"type": "click", "x": x, "y": y, "button": "left"})
        case ("type", text):
            return responses_computer_call({"type": "type", "text": text})
        case ("key", key):
            return responses_computer_call({"type": "keypress", "keys": [key.upper()]})
    return responses_message("I pressed the button and typed the greeting.")


def ui_tars_reply(relative: bool) -> Callable[[tuple[str, Any], tuple[int, int]], Reply]:
    def reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
        match step:
            case ("click", point):
                x, y = _relative(point) if relative else _in_image(point, image)
                action = f"click(start_box='<|box_start|>({x},{y})<|box_end|>')"
            case ("type", text):
                action = f"type(content='{text}')"
            case ("key", key):
                action = f"hotkey(key='{key}')"
            case _:
                action = "finished(content='done')"
        return chat_text(f"Thought: the next thing to do.\nAction: {action}")

    return reply


def qwen_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    arguments: dict[str, Any]
    match step:
        case ("click", point):
            arguments = {"action": "left_click", "coordinate": _in_image(point, image)}
        case ("type", text):
            arguments = {"action": "type", "text": text}
        case ("key", key):
            arguments = {"action": "key", "keys": [key]}
        case _:
            arguments = {"action": "terminate", "status": "success"}
    call = json.dumps({"name": "computer_use", "arguments": arguments}, ensure_ascii=False)
    return chat_text(f"I see the screen.\n<tool_call>\n{call}\n</tool_call>")


Judgement = Callable[[tuple[str, Any], tuple[int, int]], Reply]
CASES: dict[str, tuple[list[str], Judgement, tuple[int, int]]] = {
    "openai-chat": (["--policy", "openai-chat"], chat_reply, (1280, 720)),
    "openai-cua": (["--policy", "openai-cua"], cua_reply, (1280, 720)),
    "ui-tars-1.5": (["--policy", "ui-tars"], ui_tars_reply(relative=False), (1316, 728)),
    "ui-tars-1.0": (["--profile", "uitars10"], ui_tars_reply(relative=True), (1280, 720)),
    "qwen-vl": (["--policy", "qwen-vl"], qwen_reply, (1316, 728)),
}
CONFIG = '[profiles.uitars10]\npolicy = "ui-tars"\ncoordinates = "relative"\n'


def _environment(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config.toml").write_text(CONFIG)
    return {"OPENAI_API_KEY": "sk-test-policies", "SHAIN_CONFIG": str(tmp_path / "config.toml")}


def _task(tmp_path: Path, button: tuple[int, int], steps: str = "") -> Path:
    x, y = button
    text = TASK.format(python=sys.executable, app=TARGET_APP, x=x, y=y, greeting=GREETING)
    task = tmp_path / "task.yaml"
    task.write_text(text.replace("checks:", steps + "checks:"))
    return task


def _run(task: Path, tmp_path: Path, workdir: str, *arguments: str) -> dict[str, Any]:
    """`shain run` on a virtual screen; the JSON result (asserting exit 0)."""
    run = run_task(
        task, tmp_path, *arguments, env=_environment(tmp_path), workdir=workdir,
        leaves_nothing=False,
    )  # fmt: skip
    assert run.code == 0, (run.result, run.stderr)
    return run.result


def _events(workdir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (workdir / "events.jsonl").read_text().splitlines()]


def _plan(button: tuple[int, int]) -> Plan:
    return [
        ("click", button),
        ("click", ENTRY),
        ("type", GREETING),
        ("key", "enter"),
        ("done", None),
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_policy_clicks_a_small_target_and_types(case: str, tmp_path: Path) -> None:
    arguments, make_reply, image_size = CASES[case]
    rng = random.Random(f"target-{case}")
    button = (rng.randrange(40, SCREEN[0] - 40), rng.randrange(40, 780))
    plan = _plan(button)
    sizes: list[tuple[int, int]] = []

    def model(request: Request) -> Reply:
        image = request.image_sizes()[-1]
        sizes.append(image)
        return make_reply(plan[len(sizes) - 1], image)

    with ModelServer() as server:
        server.script(*([model] * len(plan)))
        data = _run(
            _task(tmp_path, button), tmp_path, "work", *arguments, "--base-url", server.base_url
        )
    assert sizes and set(sizes) == {image_size}, sizes
    events = _events(tmp_path / "work")
    clicks = [event for event in events if event["event"] == "click"]
    # The first click landed within a model pixel of the button's centre.
    tolerance = SCREEN[0] / image_size[0] + 1
    assert abs(clicks[0]["x"] - button[0]) <= tolerance
    assert abs(clicks[0]["y"] - button[1]) <= tolerance
    assert [e["text"] for e in events if e["event"] == "entry"] == [GREETING]
    assert read_run_json(Path(str(data["run_folder"]))).events_of("reply_rejected") == []


def test_a_recorded_run_replays_without_a_model(tmp_path: Path) -> None:
    task = _task(tmp_path, (1500, 200))
    with ModelServer() as server:
        server.script(
            *(
                lambda request, step=step: chat_reply(step, request.image_sizes()[-1])
                for step in _plan((1500, 200))
            )
        )
        first = _run(
            task, tmp_path, "first", "--policy", "openai-chat", "--base-url", server.base_url
        )
    data = _run(task, tmp_path, "second", "--replay", first["run_folder"])
    # The recorded run's own last decision (done, with its summary) ends the replay too.
    assert data["reason"].startswith("pressed the button and typed the greeting")
    assert [e["text"] for e in _events(tmp_path / "second") if e["event"] == "entry"] == [GREETING]
    record = read_run_json(Path(data["run_folder"]))
    assert record.events_of("run_started")[0]["policy"].startswith("replay")
    thoughts = [event["thought"] for event in record.events_of("decided")]
    assert [thought.split(":")[0] for thought in thoughts] == [f"replay {n}/5" for n in range(1, 6)]


def test_an_ai_step_inside_a_script(tmp_path: Path) -> None:
    button = (300, 650)
    steps = (
        "steps:\n"
        "  - ai: Press the small red button\n"
        f"  - click: {{x: {ENTRY[0]}, y: {ENTRY[1]}}}\n"
        f'  - type: "{GREETING}\\n"\n'
    )
    with ModelServer() as server:
        server.script(
            lambda request: chat_reply(("click", button), request.image_sizes()[-1]),
            chat_tool_call("done", {"summary": "pressed it"}),
        )
        _run(
            _task(tmp_path, button, steps),
            tmp_path,
            "work",
            "--policy",
            "openai-chat",
            "--base-url",
            server.base_url,
        )
        goals = [json.dumps(request.body, ensure_ascii=False) for request in server.requests]
    assert len(goals) == 2 and all("Press the small red button" in goal for goal in goals)
    events = _events(tmp_path / "work")
    assert [e["event"] for e in events if e["event"] in ("button", "entry")] == ["button", "entry"]
