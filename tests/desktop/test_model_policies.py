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

from agent.runlog import read_run
from tests.helpers import REPO, environment_without_display, run_shain
from tests.model_server import (
    ModelServer,
    Reply,
    Request,
    chat_text,
    chat_tool_call,
    responses_computer_call,
    responses_message,
)

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


@pytest.mark.parametrize("case", list(CASES))
def test_policy_clicks_a_small_target_and_types(case: str, tmp_path: Path) -> None:
    arguments, make_reply, image_size = CASES[case]
    rng = random.Random(f"target-{case}")
    button = (rng.randrange(40, SCREEN[0] - 40), rng.randrange(40, 780))
    plan: Plan = [
        ("click", button),
        ("click", ENTRY),
        ("type", GREETING),
        ("key", "enter"),
        ("done", None),
    ]
    sizes: list[tuple[int, int]] = []

    def model(request: Request) -> Reply:
        image = request.image_sizes()[-1]
        sizes.append(image)
        return make_reply(plan[len(sizes) - 1], image)

    task = tmp_path / "task.yaml"
    x, y = button
    task.write_text(TASK.format(python=sys.executable, app=TARGET_APP, x=x, y=y, greeting=GREETING))
    (tmp_path / "config.toml").write_text(CONFIG)
    environment = environment_without_display()
    environment["OPENAI_API_KEY"] = "sk-test-policies"
    environment["SHAIN_CONFIG"] = str(tmp_path / "config.toml")
    with ModelServer() as server:
        server.script(*([model] * len(plan)))
        result = run_shain(
            "run",
            str(task),
            "--virtual-display",
            "--json",
            *arguments,
            "--base-url",
            server.base_url,
            "--runs-dir",
            str(tmp_path / "runs"),
            "--workdir",
            str(tmp_path / "work"),
            env=environment,
        )
    data = json.loads(result.stdout) if result.stdout.strip() else {}
    assert result.returncode == 0, (data, result.stderr)
    assert sizes and set(sizes) == {image_size}, sizes

    lines = (tmp_path / "work" / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    clicks = [event for event in events if event["event"] == "click"]
    # The first click landed within a model pixel of the button's centre.
    tolerance = SCREEN[0] / image_size[0] + 1
    assert abs(clicks[0]["x"] - x) <= tolerance and abs(clicks[0]["y"] - y) <= tolerance
    assert [e["text"] for e in events if e["event"] == "entry"] == [GREETING]
    record = read_run(Path(str(data["run_folder"])))
    assert record.events_of("reply_rejected") == []


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = environment_without_display()
    environment["OPENAI_API_KEY"] = "sk-test-policies"
    environment["SHAIN_CONFIG"] = str(tmp_path / "no-config.toml")
    return environment


def _events(workdir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (workdir / "events.jsonl").read_text().splitlines()]


def test_a_recorded_run_replays_without_a_model(tmp_path: Path) -> None:
    x, y = 1500, 200
    plan: Plan = [
        ("click", (x, y)),
        ("click", ENTRY),
        ("type", GREETING),
        ("key", "enter"),
        ("done", None),
    ]
    task = tmp_path / "task.yaml"
    task.write_text(TASK.format(python=sys.executable, app=TARGET_APP, x=x, y=y, greeting=GREETING))
    runs = str(tmp_path / "runs")
    with ModelServer() as server:
        server.script(
            *(
                lambda request, step=step: chat_reply(step, request.image_sizes()[-1])
                for step in plan
            )
        )
        recorded = run_shain(
            "run",
            str(task),
            "--virtual-display",
            "--json",
            "--policy",
            "openai-chat",
            "--base-url",
            server.base_url,
            "--runs-dir",
            runs,
            "--workdir",
            str(tmp_path / "first"),
            env=_environment(tmp_path),
        )
    assert recorded.returncode == 0, recorded.stderr
    first = json.loads(recorded.stdout)["run_folder"]

    replayed = run_shain(
        "run",
        str(task),
        "--virtual-display",
        "--json",
        "--replay",
        first,
        "--runs-dir",
        runs,
        "--workdir",
        str(tmp_path / "second"),
        env=_environment(tmp_path),
    )
    data = json.loads(replayed.stdout)
    assert replayed.returncode == 0, (data, replayed.stderr)
    # The recorded run's own last decision (done, with its summary) ends the replay too.
    assert data["reason"].startswith("pressed the button and typed the greeting")
    assert [e["text"] for e in _events(tmp_path / "second") if e["event"] == "entry"] == [GREETING]
    record = read_run(Path(data["run_folder"]))
    assert record.events_of("run_started")[0]["policy"].startswith("replay")
    thoughts = [event["thought"] for event in record.events_of("decided")]
    assert [thought.split(":")[0] for thought in thoughts] == [f"replay {n}/5" for n in range(1, 6)]


def test_an_ai_step_inside_a_script(tmp_path: Path) -> None:
    x, y = 300, 650
    task = tmp_path / "task.yaml"
    text = TASK.format(python=sys.executable, app=TARGET_APP, x=x, y=y, greeting=GREETING)
    steps = (
        "steps:\n"
        "  - ai: Press the small red button\n"
        f"  - click: {{x: {ENTRY[0]}, y: {ENTRY[1]}}}\n"
        f'  - type: "{GREETING}\\n"\n'
    )
    task.write_text(text.replace("checks:", steps + "checks:"))
    with ModelServer() as server:
        server.script(
            lambda request: chat_reply(("click", (x, y)), request.image_sizes()[-1]),
            chat_tool_call("done", {"summary": "pressed it"}),
        )
        result = run_shain(
            "run",
            str(task),
            "--virtual-display",
            "--json",
            "--policy",
            "openai-chat",
            "--base-url",
            server.base_url,
            "--runs-dir",
            str(tmp_path / "runs"),
            "--workdir",
            str(tmp_path / "work"),
            env=_environment(tmp_path),
        )
        goals = [json.dumps(request.body, ensure_ascii=False) for request in server.requests]
    data = json.loads(result.stdout)
    assert result.returncode == 0, (data, result.stderr)
    assert len(goals) == 2 and all("Press the small red button" in goal for goal in goals)
    events = _events(tmp_path / "work")
    assert [e["event"] for e in events if e["event"] in ("button", "entry")] == ["button", "entry"]
