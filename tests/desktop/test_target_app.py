"""The target app on the real virtual screen: its button sits exactly where it was asked to be."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.actions import Click, KeyPress, TypeText
from agent.desktop.apps import AppLauncher
from agent.desktop.local import LocalDesktop
from agent.desktop.virtual_display import VirtualDisplay
from agent.stop import StopToken

pytestmark = pytest.mark.desktop

TARGET_APP = Path(__file__).resolve().parent.parent / "apps" / "target_app.py"


@pytest.fixture(scope="module")
def desktop(virtual_display: VirtualDisplay) -> Iterator[LocalDesktop]:
    with LocalDesktop(virtual_display.screen) as opened:
        yield opened


def _events(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]


def _wait_for_event(out: Path, kind: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
    """The last event of this kind (with these fields) in the app's file, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            event
            for event in _events(out)
            if event["event"] == kind and all(event.get(k) == v for k, v in fields.items())
        ]
        if found:
            return found[-1]
        time.sleep(0.02)
    raise AssertionError(f"no {kind!r} event {fields} in {timeout:g}s; events: {_events(out)}")


def _launch(launcher: AppLauncher, out: Path, x: int, y: int, size: int = 24) -> dict[str, Any]:
    command = [sys.executable, str(TARGET_APP), "--x", str(x), "--y", str(y)]
    launcher.launch([*command, "--size", str(size), "--out", str(out)])
    return _wait_for_event(out, "ready")


def test_the_button_is_centred_on_the_asked_point_and_reports_clicks(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    rng = random.Random(20240611)
    x, y = rng.randrange(60, 1840), rng.randrange(60, 800)
    out = tmp_path / "events.jsonl"
    ready = _launch(launcher, out, x, y)
    left, top, width, height = ready["button"]
    assert (width, height) == (24, 24)
    assert (left + width // 2, top + height // 2) == (x, y)
    assert ready["window"] == [0, 0, 1920, 1080]
    # The pixels agree: the red square on the screen is centred on (x, y).
    pixels = desktop.capture().pixels
    blue, green, red = (pixels[:, :, channel].astype(int) for channel in range(3))
    rows, columns = np.nonzero((red > 180) & (green < 110) & (blue < 110))
    assert rows.size > 0
    assert (columns.min() + columns.max() + 1) / 2 == pytest.approx(x, abs=1)
    assert (rows.min() + rows.max() + 1) / 2 == pytest.approx(y, abs=1)

    stop = StopToken()
    desktop.execute(Click(x, y), stop)
    _wait_for_event(out, "button")
    assert {"event": "click", "x": x, "y": y, "button": 1, "shift": False} in _events(out)
    assert {"event": "release", "x": x, "y": y, "button": 1} in _events(out)

    out.write_text("", encoding="utf-8")
    desktop.execute(Click(x + 20, y), stop)
    _wait_for_event(out, "click", x=x + 20, y=y, button=1)
    time.sleep(0.3)  # time for a (wrong) button event to come after the press
    kinds = [event["event"] for event in _events(out)]
    assert kinds.count("click") == 1 and "button" not in kinds


def test_the_entry_takes_non_ascii_text(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    ready = _launch(launcher, out, 300, 200)
    left, top, width, height = ready["entry"]
    assert (left + width // 2, top + height // 2) == (960, 900)
    stop = StopToken()
    desktop.execute(Click(960, 900), stop)
    # Openbox sees a click first and replays it to the app, while keys go straight there: keys
    # sent at once can overtake the click, so wait for the app to have the click (as the agent
    # waits for the screen to settle between actions).
    _wait_for_event(out, "click", x=960, y=900)
    text = "こんにちは社長 café"
    desktop.execute(TypeText(text), stop)
    desktop.execute(KeyPress(("enter",)), stop)
    assert _wait_for_event(out, "entry")["text"] == text
