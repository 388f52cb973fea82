"""The tray app on a real X screen with a tray host (trayer), in a subprocess on Qt's xcb.

The tray is really there, a task given at start runs to success, the global stop hotkey stops a
long typing task within 200 ms, and the tray menu is photographed to artifacts/tray.png.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.desktop.virtual_display import VirtualDisplay
from tests.helpers import ARTIFACTS, REPO

pytestmark = [
    pytest.mark.desktop,
]

QUICK = "name: quick\nsteps:\n  - key: shift\n"
TYPING_STEPS = "\n".join('  - type: "abcdefghijklmnopqrstuvwxyz"' for _ in range(150))
LONG = f"name: long-typing\nsteps:\n{TYPING_STEPS}\nbudget: {{max_steps: 400, max_seconds: 120}}\n"
TRIES = 3
TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel"]
TRAYER += ["--width", "160", "--height", "32", "--SetDockType", "true"]
STOP_WITHIN = 0.2


@pytest.fixture(scope="module")
def tray_screen() -> Iterator[dict[str, str]]:
    """A screen of its own with trayer on it: the environment for the tray app."""
    with VirtualDisplay() as display:
        environment = display.child_environment()
        trayer = subprocess.Popen(
            TRAYER,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)  # trayer takes the tray selection
            environment["QT_QPA_PLATFORM"] = "xcb"
            yield environment
        finally:
            trayer.terminate()
            trayer.wait(5)


def _tray(environment: dict[str, str], tmp: Path, *args: str) -> subprocess.Popen[str]:
    (tmp / "config.toml").write_text("")
    return subprocess.Popen(
        [sys.executable, "-m", "ui.tray", "--runs-dir", str(tmp / "runs"), *args],
        env={**environment, "SHAIN_CONFIG": str(tmp / "config.toml")},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines[1:] if line.endswith("}")]


def _wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _typing_run(runs: Path, seen: set[Path]) -> Path | None:
    """A new long-typing run folder that has typed a few steps already."""
    for folder in sorted(runs.glob("*long-typing*")):
        if folder in seen or not (folder / "events.jsonl").exists():
            continue
        executed = [e for e in _events(folder) if e["kind"] == "action_executed"]
        if len(executed) >= 3:
            return folder
    return None


def test_tray_runs_tasks_and_the_hotkey_stops_them(
    tray_screen: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "quick.yaml").write_text(QUICK)
    (tmp_path / "long.yaml").write_text(LONG)
    runs = tmp_path / "runs"
    args = ["--run", str(tmp_path / "quick.yaml")]
    args += ["--run", str(tmp_path / "long.yaml")] * TRIES
    tray = _tray(tray_screen, tmp_path, *args, "--exit-when-idle")
    latencies, finishes, seen = [], [], set[Path]()
    try:
        for _ in range(TRIES):
            folder = _wait_for(lambda: _typing_run(runs, seen), 30, "a typing run")
            seen.add(folder)
            sent = time.time()
            subprocess.run(["xdotool", "key", "ctrl+alt+Escape"], env=tray_screen, check=True)
            ended = _wait_for(
                lambda f=folder: [e for e in _events(f) if e["kind"] == "run_finished"],
                10,
                "the stopped run's end",
            )[0]
            assert ended["status"] == "stopped", ended
            assert "hotkey" in ended["reason"], ended
            acted = [e["at"] for e in _events(folder) if e["kind"] == "action_executed"]
            latencies.append(max(acted) - sent)
            finishes.append(ended["at"] - sent)
        out, err = tray.communicate(timeout=30)
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.communicate()
    assert tray.returncode == 0, err
    assert "system tray available: True" in out, out
    quick = [line for line in out.splitlines() if line.startswith("task quick:")]
    assert quick and quick[0].split()[2] == "success", out
    quick_folder = Path(quick[0].split()[3])
    assert [e["status"] for e in _events(quick_folder) if e["kind"] == "run_finished"] == [
        "success"
    ]
    median = statistics.median(latencies)
    print(
        f"\nhotkey stop: last action ended {[round(x * 1000) for x in latencies]} ms after the key "
        f"(median {median * 1000:.0f} ms); run_finished "
        f"{[round(x * 1000) for x in finishes]} ms after it"
    )
    assert max(latencies) <= STOP_WITHIN, latencies  # no action went on after the key
    assert max(finishes) <= STOP_WITHIN, finishes  # and the run had ended


def test_tray_menu_screenshot(tray_screen: dict[str, str], tmp_path: Path) -> None:
    import mss
    import mss.tools

    tray = _tray(tray_screen, tmp_path)
    try:
        assert tray.stdout is not None
        line = ""
        while not line.startswith("tray geometry:"):
            line = tray.stdout.readline()
            assert line, tray.stderr.read() if tray.stderr else ""
        x, y, width, height = (int(v) for v in line.split(":")[1].split())
        assert width > 0 and height > 0, line
        subprocess.run(
            ["xdotool", "mousemove", str(x + width // 2), str(y + height // 2), "click", "3"],
            env=tray_screen,
            check=True,
        )
        time.sleep(0.7)
        ARTIFACTS.mkdir(exist_ok=True)
        with mss.MSS(display=tray_screen["DISPLAY"]) as screen:
            shot = screen.grab(screen.monitors[1])
            mss.tools.to_png(shot.rgb, shot.size, output=str(ARTIFACTS / "tray.png"))
        # the menu is open under the icon: light pixels on the black root window there
        left, right = max(0, x - 200), min(shot.width, x + width)
        light = sum(
            1
            for px in range(left, right, 4)
            for py in range(y + height, min(shot.height, y + height + 120), 4)
            if sum(shot.pixel(px, py)) > 600
        )
        assert light > 200, f"no menu under the tray icon at {line.strip()}"
    finally:
        tray.terminate()
        tray.communicate(timeout=10)
