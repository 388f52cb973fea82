"""Clicking things by what they are, through `shain run` on a virtual screen with real apps.

The windows are moved to random places first: a script that clicked fixed pixels would miss.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_task

pytestmark = pytest.mark.desktop

MENUS_AND_BUTTONS = """\
name: by-name
setup:
  - launch: mousepad {workdir}/note.txt
  - wait_for: {window: "note\\\\.txt", timeout: 20}
  - launch: galculator
  - wait_for: {window: "^galculator$", timeout: 20}
  # (wmctrl: xdotool's search can find a window's unmapped sibling first and move that)
  - run: >-
      wmctrl -r 'note.txt - Mousepad' -e 0,{mx},{my},-1,-1 &&
      wmctrl -r galculator -e 0,{gx},{gy},-1,-1
steps:
  - click: {role: button, name: "7"}
  - click: {role: button, name: "*"}
  - click: {role: button, name: "8"}
  - click: {role: button, name: "="}
  - key: ctrl+c
  - click: {text: Edit, role: menu, within: {window: Mousepad}}
  - click: {role: menu item, name: Paste}
  - click: {role: menu, name: File, within: {window: Mousepad}}
  - click: {role: menu item, name: Save}
  - wait_for: {file: "{workdir}/note.txt", timeout: 10}
checks:
  - clipboard_equals: {text: "56"}
  - file_equals: {path: "{workdir}/note.txt", text: "56"}
  - screen_text: {text: "56", role: text, within: {window: Mousepad}}
"""


def _run(tmp_path: Path, task_text: str, *extra: str) -> tuple[int, dict[str, Any], float]:
    run = run_task(task_text, tmp_path, *extra)
    assert run.result, run.stderr
    return run.code, run.result, run.seconds


@pytest.mark.parametrize("attempt", range(3))
def test_menus_and_buttons_by_name_after_moving_the_windows(tmp_path: Path, attempt: int) -> None:
    # Anywhere, but side by side: a window over mousepad's menus hides them (rightly: the
    # locator only sees what a user can see; test_visible_elements covers that).
    place = {
        "mx": random.randint(0, 320),
        "my": random.randint(0, 560),
        "gx": random.randint(1000, 1580),
        "gy": random.randint(0, 700),
    }
    variables = [argument for k, v in place.items() for argument in ("--var", f"{k}={v}")]
    code, result, _ = _run(tmp_path, MENUS_AND_BUTTONS, *variables)
    assert (code, result["status"]) == (0, "success"), (place, result["reason"])


AMBIGUOUS = """\
name: ambiguous
setup:
  - launch: galculator
  - wait_for: {window: "^galculator$", timeout: 20}
steps:
  - click: {role: button, within: {window: galculator}}
"""


def test_an_ambiguous_target_fails_with_the_candidates(tmp_path: Path) -> None:
    code, result, _ = _run(tmp_path, AMBIGUOUS)
    assert code == 1
    reason = result["reason"]
    assert "{role: 'button', within window: 'galculator'} matches" in reason
    assert "add nth:" in reason
    # The top row first, left to right, each with its place.
    assert "1: toggle button 'C' at (" in reason and "3: toggle button '<-' at (" in reason


MISSING = """\
name: missing
setup:
  - launch: galculator
  - wait_for: {window: "^galculator$", timeout: 20}
steps:
  - click: {role: button, name: "Frobnicate", timeout: 2}
"""


def test_a_missing_target_fails_after_its_timeout_saying_what_is_there(tmp_path: Path) -> None:
    code, result, seconds = _run(tmp_path, MISSING)
    assert code == 1 and seconds >= 2
    reason = result["reason"]
    assert "nothing on the screen matches {role: 'button', name: 'Frobnicate'} after 2s" in reason
    assert "windows: 'galculator'" in reason and "toggle button '7'" in reason


WAIT_FOR_TEXT = """\
name: wait-for-text
setup:
  - launch: mousepad {workdir}/note.txt
  - wait_for: {window: "note\\\\.txt", timeout: 20}
steps:
  - type: "overtime approved"
  - wait_for: {text: "overtime approved", timeout: 5}
checks:
  - screen_text: {text: "overtime approved"}
  - screen_text: {text: "overtime denied", present: false}
"""


def test_wait_for_text_and_the_screen_text_check(tmp_path: Path) -> None:
    code, result, _ = _run(tmp_path, WAIT_FOR_TEXT)
    assert (code, result["status"]) == (0, "success"), result["reason"]
    assert [check["passed"] for check in result["checks"]] == [True, True]


XTERM_OCR = """\
name: xterm-ocr
setup:
  - launch: xterm
  - wait_for: {window: "xterm", timeout: 20}
steps:
  - type: "echo ydaer troper ylretrauq | rev\\n"
  - wait_for: {text: "quarterly report ready", timeout: 20}
  - double_click: {text: "quarterly", within: {window: xterm}}
checks:
  - command: {run: "xclip -o -selection primary", stdout: "quarterly"}
  - screen_text: {text: "quarterly report ready"}
"""


def test_ocr_finds_a_sentence_in_xterm_and_a_step_clicks_on_it(tmp_path: Path) -> None:
    # xterm has no accessibility tree: only OCR can find the line `rev` printed (the command
    # line holds it reversed). A double click on its first word selects that word, which
    # xterm then offers as the primary selection.
    code, result, _ = _run(tmp_path, XTERM_OCR)
    assert (code, result["status"]) == (0, "success"), result["reason"]
    events = [
        json.loads(line)
        for line in (Path(result["run_folder"]) / "events.jsonl").read_text().splitlines()
    ]
    thoughts = [e["thought"] for e in events if e.get("kind") == "decided" and e.get("thought")]
    assert any("text 'quarterly' at (" in t and "[ocr]" in t for t in thoughts), thoughts


WORD_IN_A_DOCUMENT = """\
name: word-in-a-document
setup:
  - write_file: {path: note.txt, text: "Dear boss,\\nthe quarterly report is ready.\\nRegards\\n"}
  - launch: mousepad {workdir}/note.txt
  - wait_for: {window: "note\\\\.txt", timeout: 20}
steps:
  - double_click: {text: "quarterly"}
  - key: ctrl+c
checks:
  - clipboard_equals: {text: "quarterly"}
"""


def test_a_word_inside_a_text_widget_is_clicked_where_it_is_drawn(tmp_path: Path) -> None:
    # The tree says the document holds the word; OCR inside the document says where. A click
    # at the document's centre would select nothing (an empty line there).
    code, result, _ = _run(tmp_path, WORD_IN_A_DOCUMENT)
    assert (code, result["status"]) == (0, "success"), result["reason"]
