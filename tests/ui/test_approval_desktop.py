"""The approval card on a real X screen: the tray app (a subprocess on Qt's xcb, trayer as the
tray host) runs a task that would type `rm -rf ~/important` into an xterm; the guard holds it,
the card appears, a real click on Deny answers it, and not one key reaches the terminal.

The xterm runs `cat` with the terminal out of canonical mode, so every key it gets is written
through to typed.txt at once. The card is photographed to artifacts/approval-card.png.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS
from tests.ui.test_tray_desktop import _events, _tray, tray_screen  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.desktop]

TASK = """\
name: guarded-tray
setup:
  - launch:
      command: "xterm -title guarded-terminal -e sh -c 'stty -icanon; exec cat > {typed}'"
      env:
        HOME: "{home}"
  - wait_for:
      window: guarded-terminal
      timeout: 20
steps:
  - type: "rm -rf ~/important\\n"
budget:
  max_steps: 5
  max_seconds: 60
"""


def _lines(stream: object) -> queue.Queue[str]:
    """The subprocess's output lines, read on a thread so a wait can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_line(lines: queue.Queue[str], prefix: str, seen: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} line in {seen}")


@pytest.mark.parametrize("answer", ["deny", "approve"])
def test_the_boss_answers_on_the_card(
    tray_screen: dict[str, str],  # noqa: F811
    tmp_path: Path,
    answer: str,
) -> None:
    """Deny: not one key is typed. Approve (the control): the terminal gets every one."""
    import mss
    import mss.tools

    home = tmp_path / "home"
    (home / "important").mkdir(parents=True)
    typed = tmp_path / "typed.txt"
    task = tmp_path / "guarded.yaml"
    task.write_text(TASK.format(typed=typed, home=home))
    tray = _tray(tray_screen, tmp_path, "--run", str(task), "--exit-when-idle")
    seen: list[str] = []
    try:
        assert tray.stdout is not None
        lines = _lines(tray.stdout)
        _wait_line(lines, "approval card shown", seen, 30)
        button = _wait_line(lines, f"approval button {answer}:", seen, 5)
        x, y, width, height = (int(v) for v in button.split(":")[1].split())
        assert typed.exists() and typed.read_text() == ""  # the terminal is there, untouched
        if answer == "deny":
            time.sleep(0.3)  # let the card finish drawing
            ARTIFACTS.mkdir(exist_ok=True)
            with mss.MSS(display=tray_screen["DISPLAY"]) as screen:
                shot = screen.grab(screen.monitors[1])
                mss.tools.to_png(shot.rgb, shot.size, output=str(ARTIFACTS / "approval-card.png"))
        centre = [str(x + width // 2), str(y + height // 2)]
        subprocess.run(["xdotool", "mousemove", *centre, "click", "1"], env=tray_screen, check=True)
        _wait_line(lines, f"approval card answered: {answer}", seen, 5)
        finished = _wait_line(lines, "task guarded-tray:", seen, 30)
        tray.wait(30)
    finally:
        if tray.poll() is None:
            tray.kill()
        tray.wait(10)
    err = tray.stderr.read() if tray.stderr else ""
    assert tray.returncode == 0, err
    assert (home / "important").is_dir()
    events = _events(Path(finished.split()[3]))
    (asked,) = [e for e in events if e["kind"] == "approval_requested"]
    assert asked["action"]["text"] == "rm -rf ~/important\n"
    assert "rm -rf deletes files for good" in asked["reason"]
    (answered,) = [e for e in events if e["kind"] == "approval_answered"]
    assert answered["by"] == "boss"
    (ended,) = [e for e in events if e["kind"] == "run_finished"]
    executed = [e for e in events if e["kind"] == "action_executed"]
    if answer == "approve":
        assert answered["approved"] is True
        assert finished.split()[2] == "success", (finished, ended)
        assert len(executed) == 1
        assert typed.read_text() == "rm -rf ~/important\n"  # cat only wrote it down
        return
    assert finished.split()[2] == "failed", finished
    assert typed.read_text() == ""  # not one character of it was typed
    assert answered["approved"] is False
    assert executed == []
    assert ended["status"] == "failed"
    assert "the boss did not approve type 'rm -rf ~/important" in ended["reason"], ended
