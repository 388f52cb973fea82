"""Set-of-marks: the model sees numbered boxes and a list, and clicks a number; Shain clicks the
element's centre. Real galculator on a virtual screen, the real `openai` client, a local server;
the fake stands in only for the model's judgement (it reads the list as a model would)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agent.perception.marks import MARK_COLOUR
from tests.helpers import environment_without_display, left_behind, run_shain
from tests.model_server import ModelServer, Request, chat_tool_call

pytestmark = pytest.mark.desktop

TASK = """\
name: marks
goal: Compute 7 + 8 with galculator's buttons and copy the result to the clipboard
setup:
  - launch: galculator
  - wait_for: {window: "^galculator$", timeout: 20}
  - wait_for: {role: button, name: "7", timeout: 10}
checks:
  - clipboard_equals: {text: "15"}
budget: {max_steps: 12}
"""
PRESSES = ["7", "+", "8", "=", "no such mark", "copy", "done"]


def _prompt(request: Request) -> str:
    return json.dumps(request.body["messages"], ensure_ascii=False)


def _mark_of(prompt: str, name: str) -> int:
    found = re.search(r"\[(\d+)\] toggle button '" + re.escape(name) + "'", prompt)
    assert found is not None, prompt[:2000]
    return int(found.group(1))


class MarkingModel:
    """Presses the buttons by their marks, once names a mark that does not exist, copies."""

    def __init__(self) -> None:
        self.turn = 0
        self.marked_pixels: list[tuple[int, int, int]] = []

    def __call__(self, request: Request) -> Any:
        prompt = _prompt(request)
        press = PRESSES[self.turn]
        self.turn += 1
        if press == "7":
            tool = request.body["tools"][0]["function"]["parameters"]["properties"]
            assert "mark" in tool
            self.marked_pixels = self._corner_pixels(request, prompt)
        match press:
            case "no such mark":
                return chat_tool_call("computer", {"type": "click", "mark": 999})
            case "copy":
                assert "no such mark (marks: 1 to" in prompt  # the error came back
                return chat_tool_call("computer", {"type": "keypress", "keys": ["CTRL", "C"]})
            case "done":
                return chat_tool_call("done", {"summary": "15 copied"})
        return chat_tool_call("computer", {"type": "click", "mark": _mark_of(prompt, press)})

    @staticmethod
    def _corner_pixels(request: Request, prompt: str) -> list[tuple[int, int, int]]:
        """The colours at the top-left corner of each mark's number tag in the sent image."""
        image = Image.open(io.BytesIO(request.images()[-1])).convert("RGB")
        # The tag with the number sits inside each box's top-left corner: sample many boxes.
        return [image.getpixel((x, y)) for x, y in _tag_points(image)]  # type: ignore[misc]


def _tag_points(image: Image.Image) -> list[tuple[int, int]]:
    pixels = image.load()
    assert pixels is not None
    found = []
    for y in range(0, image.height, 2):
        for x in range(0, image.width, 2):
            red, green, blue = pixels[x, y]  # type: ignore[misc]
            if (
                abs(red - MARK_COLOUR[0]) + abs(green - MARK_COLOUR[1]) + abs(blue - MARK_COLOUR[2])
                < 90
            ):
                found.append((x, y))
    return found


def test_a_model_clicks_marks_and_shain_clicks_their_elements(tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(TASK, encoding="utf-8")
    environment = environment_without_display()
    environment["OPENAI_API_KEY"] = "sk-test-marks"
    environment["SHAIN_CONFIG"] = str(tmp_path / "config.toml")
    model = MarkingModel()
    with ModelServer() as server:
        server.script(*[model] * len(PRESSES))
        result = run_shain(
            "run", str(task), "--virtual-display", "--json", "--runs-dir", str(tmp_path / "runs"),
            "--policy", "openai-chat", "--base-url", server.base_url, "--marks", env=environment,
        )  # fmt: skip
    assert not left_behind(environment)
    outcome = json.loads(result.stdout)
    assert (result.returncode, outcome["status"]) == (0, "success"), outcome["reason"]
    # The boxes were drawn: hundreds of pixels of the mark colour in the screenshot.
    assert len(model.marked_pixels) > 200
    events = [
        json.loads(line)
        for line in (Path(outcome["run_folder"]) / "events.jsonl").read_text().splitlines()
    ]
    rejected = [e for e in events if e.get("kind") == "reply_rejected"]
    assert len(rejected) == 1 and "mark 999: no such mark" in rejected[0]["error"]


def test_marks_with_a_policy_that_cannot_take_them_is_a_config_error(tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(TASK, encoding="utf-8")
    environment = environment_without_display()
    environment["OPENAI_API_KEY"] = "sk-test-marks"
    environment["SHAIN_CONFIG"] = str(tmp_path / "config.toml")
    result = run_shain(
        "run", str(task), "--virtual-display", "--runs-dir", str(tmp_path / "runs"),
        "--policy", "ui-tars", "--base-url", "http://127.0.0.1:9/v1", "--marks", env=environment,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")  # refused before any screen starts
    assert "set-of-marks (marks = true) works with the openai-chat policy" in result.stderr
