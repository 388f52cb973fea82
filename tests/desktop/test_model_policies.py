"""Each model policy drives a real app on a virtual screen through `shain run`: it clicks a
24 px button at a random place and types non-ASCII text into a field. Only the model's
judgement is scripted: a stand-in that, like a perfect model, points at the middle of what it
sees in the screenshot it was sent. The click landing on the button proves the coordinates
map back from each policy's image space to the screen."""

from __future__ import annotations

import io
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, run_task, side_by_side
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


def _qwen3_arguments(step: tuple[str, Any]) -> dict[str, Any]:
    match step:
        case ("click", point):
            return {"action": "left_click", "coordinate": list(_relative(point))}
        case ("type", text):
            return {"action": "type", "text": text}
        case ("key", key):
            return {"action": "key", "keys": [key]}
    return {"action": "terminate", "status": "success"}


def qwen3_text_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    """As Ollama serves Qwen3-VL and Qwen3.5: raw text, clicks in JSON, the rest in XML."""
    arguments = _qwen3_arguments(step)
    if step[0] == "click":
        call = json.dumps({"name": "computer_use", "arguments": arguments}, ensure_ascii=False)
    else:
        parameters = "".join(
            f"<parameter={name}>\n{value if isinstance(value, str) else json.dumps(value)}\n"
            "</parameter>\n"
            for name, value in arguments.items()
        )
        call = f"<function=computer_use>\n{parameters}</function>"
    return chat_text(f"I see the screen.\n<tool_call>\n{call}\n</tool_call>")


def qwen3_tools_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    """As vLLM serves Qwen3-VL with the hermes tool parser: the calls already parsed."""
    return chat_tool_call("computer_use", _qwen3_arguments(step), content="I see the screen.")


def glm_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    match step:
        case ("click", point):
            x, y = _relative(point)
            action = f"left_click(start_box='[{x},{y}]', element_info='target')"
        case ("type", text):
            action = f"type(content='{text}')"
        case ("key", key):
            action = f"key(keys='{key}')"
        case _:
            action = "DONE()"
    return chat_text(f"The next thing to do.\n<|begin_of_box|>{action}<|end_of_box|>\nMemory:\n[]")


def opencua_reply(step: tuple[str, Any], image: tuple[int, int]) -> Reply:
    match step:
        case ("click", point):
            x, y = _in_image(point, image)
            code = f"pyautogui.click(x={x}, y={y})"
        case ("type", text):
            code = f"pyautogui.write(message={text!r})"
        case ("key", key):
            code = f"pyautogui.press({key!r})"
        case _:
            code = "computer.terminate(status='success')"
    thought = "## Thought:\nThe next thing to do.\n## Action:\nDo it."
    return chat_text(f"{thought}\n## Code:\n```python\n{code}\n```")


Judgement = Callable[[tuple[str, Any], tuple[int, int]], Reply]
CASES: dict[str, tuple[list[str], Judgement, tuple[int, int]]] = {
    "openai-chat": (["--policy", "openai-chat"], chat_reply, (1280, 720)),
    "openai-cua": (["--policy", "openai-cua"], cua_reply, (1280, 720)),
    "ui-tars-1.5": (["--policy", "ui-tars"], ui_tars_reply(relative=False), (1316, 728)),
    "ui-tars-1.0": (["--profile", "uitars10"], ui_tars_reply(relative=True), (1280, 720)),
    "qwen-vl": (["--policy", "qwen-vl"], qwen_reply, (1316, 728)),
    "qwen3-vl-text": (["--model", "qwen3-vl:8b"], qwen3_text_reply, (1312, 736)),
    "qwen3-vl-tools": (["--model", "Qwen/Qwen3-VL-8B-Instruct"], qwen3_tools_reply, (1312, 736)),
    "opencua": (["--model", "xlangai/OpenCUA-7B"], opencua_reply, (1316, 728)),
    "glm-v": (["--model", "zai-org/GLM-4.5V"], glm_reply, (1280, 720)),
}
# Models that answer on a 0-1000 grid: a click lands within 3 px (the bound), not
# within a model pixel.
GRID_CASES = {"ui-tars-1.0", "qwen3-vl-text", "qwen3-vl-tools", "glm-v"}
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


def test_every_policy_clicks_a_small_target_and_types(tmp_path: Path) -> None:
    side_by_side(CASES, _clicks_a_small_target_and_types, tmp_path)


def _clicks_a_small_target_and_types(case: str, tmp_path: Path) -> None:
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
    tolerance = 3 if case in GRID_CASES else SCREEN[0] / image_size[0] + 1
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


SLOW_TASK = """\
name: slow-app
goal: Press the small red button, then type the greeting into the field and press Enter.
setup:
  - launch: >-
      sh -c "sleep 20; exec {python} {app} --x {x} --y {y} --size 24
      --out {{workdir}}/events.jsonl"
checks:
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"text": "{greeting}"'}}
budget: {{max_steps: 20, max_seconds: 120}}
"""
# Every way UI-TARS-1.5 writes a point (bytedance/UI-TARS action_parser.py), one per click.
UI_TARS_CLICKS = (
    "click(point='<point>{x} {y}</point>')",
    "click(start_box='<|box_start|>({x},{y})<|box_end|>')",
    "click(start_box='({x},{y})')",
    "click(start_box='<bbox>{left} {top} {right} {bottom}</bbox>')",
)


def _app_is_showing(request: Request) -> bool:
    """What a model sees: the target app's light grey, or the bare (black) screen."""
    from PIL import Image

    with Image.open(io.BytesIO(request.images()[-1])) as image:
        return sum(image.convert("RGB").getpixel((10, 10))) > 600  # type: ignore[arg-type]


def test_ui_tars_waits_for_a_slow_app_and_clicks_in_every_point_syntax(tmp_path: Path) -> None:
    button = (random.Random("slow").randrange(40, SCREEN[0] - 40), 300)
    task = tmp_path / "task.yaml"
    task.write_text(
        SLOW_TASK.format(python=sys.executable, app=TARGET_APP, x=button[0], y=button[1],
                         greeting=GREETING)
    )  # fmt: skip
    # Button and field in turn: the same click three times on a still screen would be stuck.
    actions = [
        click.format(x=x, y=y, left=x - 3, top=y - 3, right=x + 3, bottom=y + 3)
        for click in UI_TARS_CLICKS
        for x, y in (_in_image(button, (1316, 728)), _in_image(ENTRY, (1316, 728)))
    ]
    actions += [
        f"type(content='{GREETING}')",
        "hotkey(key='enter')",
        "finished(content='pressed it and typed the greeting')",
    ]
    waits = []

    def model(request: Request) -> Reply:
        if not _app_is_showing(request):
            waits.append(request)
            return chat_text("Thought: the app is still starting.\nAction: wait()")
        return chat_text(f"Thought: the next thing to do.\nAction: {actions.pop(0)}")

    with ModelServer() as server:
        server.script(*([model] * 20))
        data = _run(task, tmp_path, "work", "--model", "ByteDance-Seed/UI-TARS-1.5-7B",
                    "--base-url", server.base_url)  # fmt: skip
    assert len(waits) >= 3  # more than the three repeats that end a run giving input
    events = _events(tmp_path / "work")
    clicks = [(event["x"], event["y"]) for event in events if event["event"] == "click"]
    assert len(clicks) == 2 * len(UI_TARS_CLICKS)
    for index, (x, y) in enumerate(clicks):
        target = button if index % 2 == 0 else ENTRY
        assert abs(x - target[0]) <= 3 and abs(y - target[1]) <= 3, (index, clicks, target)
    assert [e["text"] for e in events if e["event"] == "entry"] == [GREETING]
    assert data["status"] == "success"


def test_the_ga_computer_tool_batch_holds_shift_drags_four_points_and_uses_side_buttons(
    tmp_path: Path,
) -> None:
    rng = random.Random("ga-computer-tool")
    button = (rng.randrange(40, SCREEN[0] - 40), rng.randrange(40, 600))
    drag = [(300, 700), (700, 650), (1100, 760), (1500, 700)]
    image = (1280, 720)

    def point(at: tuple[int, int]) -> dict[str, int]:
        x, y = _in_image(at, image)
        return {"x": x, "y": y}

    batch = [
        {"type": "click", **point(button), "button": "left", "keys": ["SHIFT"]},
        {"type": "drag", "path": [point(at) for at in drag]},
        {"type": "click", **point((400, 300)), "button": "back"},
        {"type": "click", **point((400, 300)), "button": "forward"},
        {"type": "click", **point(ENTRY), "button": "left"},
        {"type": "type", "text": GREETING},
        {"type": "keypress", "keys": ["ENTER"]},
    ]
    with ModelServer() as server:
        server.script(
            responses_computer_call(actions=batch),
            responses_message("I pressed the button and typed the greeting."),
        )
        data = _run(
            _task(tmp_path, button), tmp_path, "work", "--model", "gpt-5.4",
            "--base-url", server.base_url,
        )  # fmt: skip
    events = _events(tmp_path / "work")
    presses = [event for event in events if event["event"] == "click"]
    first = presses[0]
    tolerance = SCREEN[0] / image[0] + 1
    assert abs(first["x"] - button[0]) <= tolerance and abs(first["y"] - button[1]) <= tolerance
    assert first["shift"] is True  # shift was down as the button was pressed
    assert [press["shift"] for press in presses[1:]] == [False] * (len(presses) - 1)
    assert {"event": "button"} in events
    # The drag: pressed at its first point, through the two in between, let go at its last.
    start, *between, end = drag
    assert abs(presses[1]["x"] - start[0]) <= tolerance
    motions = [(event["x"], event["y"]) for event in events if event["event"] == "motion"]
    for x, y in between:
        assert any(abs(mx - x) <= tolerance and abs(my - y) <= tolerance for mx, my in motions)
    releases = [e for e in events if e["event"] == "release" and e["button"] == 1]
    assert abs(releases[1]["x"] - end[0]) <= tolerance  # (the first: the shift-click's)
    assert abs(releases[1]["y"] - end[1]) <= tolerance
    assert [press["button"] for press in presses[2:4]] == [8, 9]  # back, then forward
    assert [e["text"] for e in events if e["event"] == "entry"] == [GREETING]
    record = read_run_json(Path(str(data["run_folder"])))
    described = [event["action"] for event in record.events_of("action_executed")]
    assert described[0]["hold"] == ["shift"] and len(described[1]["path"]) == 4
