"""The tray app on a Wayland desktop (weston headless, standing in for Ubuntu's or Fedora's),
started as the boss starts it: `shain tray`, a subprocess on Qt's wayland plugin, no X display.

There is no system tray there, so the tray app shows its control window instead: it comes up,
stays up, says why it is a window, and goes away when told to quit or sent SIGTERM, leaving no
process behind. The window is photographed to artifacts/tray-wayland.png.

Weston's headless backend has no input device, so nothing here clicks: "told to quit" is
`--exit-when-idle`, which goes through the same quit as the Quit button.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

from agent.desktop.protocol import Frame
from agent.geometry import Box
from agent.perception.ocr import OcrReader
from tests.helpers import ARTIFACTS, REPO, group_members
from tests.wayland import BACKGROUND, WaylandSession, weston_session

pytestmark = [pytest.mark.desktop]

QUICK = "name: quick\nsteps:\n  - key: shift\n"
START_SECONDS = 30.0  # to the window on the screen, on a loaded machine
QUIT_SECONDS = 15.0
GONE_SECONDS = 5.0
# Smaller than any window, larger than a stray pixel (there is no pointer drawn: no input).
WINDOW_AT_LEAST = (200, 100)


@pytest.fixture(scope="module")
def boss_desktop() -> Iterator[WaylandSession]:
    """One Wayland desktop for the tray's tests: each leaves it bare."""
    with weston_session() as session:
        yield session


def _tray(session: WaylandSession, tmp: Path, *args: str) -> subprocess.Popen[str]:
    """`shain tray` on the Wayland desktop, in a process group of its own."""
    (tmp / "config.toml").write_text("")
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "tray", "--runs-dir", str(tmp / "runs"), *args],
        env={**session.client_environment(), "SHAIN_CONFIG": str(tmp / "config.toml")},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _windows(shot: Path) -> Box | None:
    """Where the screenshot shows anything but the bare desktop: the windows' bounding box."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, BACKGROUND)).getbbox()
    if box is None:
        return None
    left, top, right, bottom = box
    return Box(left, top, right - left, bottom - top)


def _wait_for_window(session: WaylandSession, shot: Path, deadline: float) -> Box:
    while True:
        session.screenshot(shot)
        box = _windows(shot)
        if box is not None and box.width >= WINDOW_AT_LEAST[0] and box.height >= WINDOW_AT_LEAST[1]:
            return box
        assert time.monotonic() < deadline, f"no window on the Wayland desktop (last: {box})"
        time.sleep(0.2)


def _text_in(shot: Path, region: Box) -> str:
    with Image.open(shot) as image:
        rgb = np.asarray(image.convert("RGB"))
    bgra = np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 255, np.uint8)])
    lines = OcrReader().read(Frame(np.ascontiguousarray(bgra), time.monotonic()), region)
    return " ".join(line.text for line in lines)


def _ended(tray: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The tray's output once it has ended; a tray still running after `timeout` is killed and
    fails the test (on Wayland, Qt could hang at exit)."""
    try:
        return tray.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(tray.pid, signal.SIGKILL)
        out, err = tray.communicate()
        raise AssertionError(f"the tray did not end within {timeout} s\n{out}\n{err}") from None


def test_the_weston_session_leaves_nothing_behind() -> None:
    with weston_session() as session:
        socket = session.runtime_dir / session.socket
        # the shell client (weston-desktop-shell) has painted the desktop by now
        assert sorted(session.processes().values()) == ["weston", "weston-desktop-"]
        assert socket.exists()
        assert session.runtime_dir.stat().st_mode & 0o777 == 0o700
        env = session.client_environment()
        assert "DISPLAY" not in env and env["QT_QPA_PLATFORM"] == "wayland", env
    assert not session.processes(), session.processes()
    assert not session.runtime_dir.exists()


def test_weston_dies_with_a_killed_test_process() -> None:
    """Even `kill -9` of the process that started weston leaves no weston behind."""
    script = (
        "import sys, time\n"
        "from tests.wayland import weston_session\n"
        "with weston_session() as session:\n"
        "    print(session.process.pid, session.runtime_dir, flush=True)\n"
        "    time.sleep(60)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        group, runtime_dir = owner.stdout.readline().split()
        assert group_members(int(group)), "weston did not start"
    finally:
        owner.kill()
        owner.communicate()
    try:
        deadline = time.monotonic() + 5
        while group_members(int(group)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not group_members(int(group))
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)  # its owner had no time to


def test_tray_shows_its_window_on_wayland_and_ends_on_sigterm(
    boss_desktop: WaylandSession, tmp_path: Path
) -> None:
    tray = _tray(boss_desktop, tmp_path)
    try:
        shot = tmp_path / "tray.png"
        _wait_for_window(boss_desktop, shot, time.monotonic() + START_SECONDS)
        time.sleep(1.0)  # it stays up (and weston's fade-in is over)
        assert tray.poll() is None, _ended(tray, 1)
        boss_desktop.screenshot(ARTIFACTS / "tray-wayland.png")
        window = _windows(ARTIFACTS / "tray-wayland.png")
        assert window is not None, "the tray's window went away"
        text = _text_in(ARTIFACTS / "tray-wayland.png", window)
        assert "no system tray" in text and "Quit" in text, text
    finally:
        tray.send_signal(signal.SIGTERM)
        out, err = _ended(tray, QUIT_SECONDS)
    assert "system tray available: False" in out, (out, err)
    # SIGTERM quits the way the Quit button does.
    assert tray.returncode == 0, (tray.returncode, err)
    assert not group_members(tray.pid)
    # (weston fades a closed window out over a few hundred milliseconds)
    deadline = time.monotonic() + GONE_SECONDS
    while boss_desktop.screenshot(shot) and _windows(shot) is not None:
        assert time.monotonic() < deadline, "the tray's window is still on the desktop"
        time.sleep(0.1)


def test_tray_on_wayland_refuses_a_desktop_task_and_quits_when_idle(
    boss_desktop: WaylandSession, tmp_path: Path
) -> None:
    """A task for the boss's own desktop cannot run on Wayland without X: the tray says so,
    and then quits (--exit-when-idle: the Quit button's path) with exit code 0."""
    (tmp_path / "quick.yaml").write_text(QUICK)
    tray = _tray(boss_desktop, tmp_path, "--run", str(tmp_path / "quick.yaml"), "--exit-when-idle")
    out, err = _ended(tray, START_SECONDS + QUIT_SECONDS)
    assert tray.returncode == 0, (out, err)
    said = [line for line in out.splitlines() if line.startswith("task quick:")]
    assert said and "error" in said[0] and "no display" in said[0], out
    assert not group_members(tray.pid)
    assert boss_desktop.processes(), "weston went down with the tray"


def test_tray_on_wayland_runs_a_task_in_the_office_on_a_screen_of_its_own(
    boss_desktop: WaylandSession, tmp_path: Path
) -> None:
    """No X on the boss's desktop, and none needed: the employee has a screen of its own."""
    task = REPO / "tasks" / "bench" / "zenity-question.yaml"
    tray = _tray(
        boss_desktop, tmp_path, "--office", str(task), "--policy", "oracle", "--exit-when-idle"
    )
    out, err = _ended(tray, START_SECONDS + 60)
    assert tray.returncode == 0, (out, err)
    said = [line for line in out.splitlines() if line.startswith("employee zenity-question:")]
    assert said and ": done " in said[0], (out, err)
    assert not group_members(tray.pid)
