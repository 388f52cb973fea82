"""Watching a real employee: a `shain run --virtual-display --control SOCKET` process on its own
Xvfb, driven by a scripted model that keeps clicking the target app's empty background until the
test writes a `finish` file, then presses the app's red button and says done. The watch window
(real Qt, offscreen) shows its screen live with the last action drawn, takes the screen over,
clicks and types through the picture (input-method text too), is the only watcher that may, and
hands back; the run then finishes with success, having done nothing while the boss held the
screen. Screenshots: artifacts/watch-window.png and artifacts/watch-window-take-over.png.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QInputMethodEvent,
    QKeyEvent,
    QMouseEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent.geometry import Point
from agent.report.overlays import Marker
from tests.helpers import ARTIFACTS, REPO, environment_without_display, left_behind, run_shain
from tests.model_server import ModelServer, Reply, Request, chat_tool_call
from ui.office.boss_keys import KeyCombination, TypedText, boss_key
from ui.office.live_view import LiveView
from ui.office.watch_window import HOLDING_TEXT, WatchWindow
from ui.widgets.overlay_painter import RING_RADIUS
from ui.widgets.style import MARKER_COLOUR

pytestmark = [pytest.mark.desktop]

SCREEN = (1920, 1080)
BUTTON = (1700, 150)  # the target app's red button, pressed by the model at the end
BOSS_CLICK = (1234, 567)  # where the boss clicks, on the app's empty background
ENTRY = (960, 900)  # the target app's entry (width / 2, height * 5 / 6)
TYPED = "こんにちは café"
TARGET_APP = REPO / "tests" / "apps" / "target_app.py"

TASK = """\
name: watched
goal: Keep busy until told to finish, then press the small red button and say done.
setup:
  - launch: {python} {app} --x {x} --y {y} --size 24 --out {{workdir}}/events.jsonl
  - wait_for: {{window: shain-target, timeout: 20}}
checks:
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"event": "button"'}}
  - file_contains: {{path: "{{workdir}}/events.jsonl", text: '"text": "{typed}"'}}
budget: {{max_steps: 500, max_seconds: 300}}
"""


class BusyModel:
    """Stands in for the model: clicks here and there on the app's empty background (never the
    same point twice running, so the run is not stuck) until `finish` exists, then presses the
    red button until the app says it was pressed (a decision made before a take-over is not
    carried out), and says done."""

    def __init__(self, finish: Path, app_events: Path) -> None:
        self.finish = finish
        self.app_events = app_events
        self.steps = 0

    def __call__(self, request: Request) -> Reply:
        width, height = request.image_sizes()[-1]

        def click(x: int, y: int, thought: str) -> Reply:
            at = {"x": round(x * width / SCREEN[0]), "y": round(y * height / SCREEN[1])}
            return chat_tool_call(
                "computer", {"type": "click", **at, "button": "left"}, content=thought
            )

        if self.finish.exists():
            if '"event": "button"' in self.app_events.read_text(encoding="utf-8"):
                return chat_tool_call("done", {"summary": "pressed the button"})
            return click(*BUTTON, "Told to finish: pressing the red button.")
        self.steps += 1
        return click(100 + 37 * (self.steps % 20), 120, f"Keeping busy ({self.steps}).")


@dataclass
class Employee:
    process: subprocess.Popen[bytes]
    control: Path
    runs_dir: Path
    workdir: Path
    finish: Path
    output: Path
    environment: dict[str, str]
    result: dict[str, Any] = field(default_factory=dict)

    def app_events(self) -> list[dict[str, Any]]:
        out = self.workdir / "events.jsonl"
        if not out.exists():
            return []
        lines = out.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def run_folder(self) -> Path:
        (folder,) = [f for f in self.runs_dir.iterdir() if (f / "events.jsonl").is_file()]
        return folder

    def run_events(self) -> list[dict[str, Any]]:
        lines = (self.run_folder() / "events.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[1:] if line.strip()]  # after the header

    def wait_until_done(self, timeout: float = 60) -> dict[str, Any]:
        """Tell the model to finish, and the run's JSON result once the process has ended."""
        self.finish.touch()
        if not self.result:
            code = self.process.wait(timeout)
            printed = self.output.read_text(encoding="utf-8").strip()
            self.result = {"exit_code": code, **(json.loads(printed) if printed else {})}
        return self.result


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def employee(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Employee]:
    """One employee for the module: it keeps busy until a test tells it to finish."""
    tmp = tmp_path_factory.mktemp("watched")
    task = tmp / "task.yaml"
    task.write_text(
        TASK.format(python=sys.executable, app=TARGET_APP, x=BUTTON[0], y=BUTTON[1], typed=TYPED),
        encoding="utf-8",
    )
    (tmp / "config.toml").write_text("")
    finish = tmp / "finish"
    model = BusyModel(finish, tmp / "work" / "events.jsonl")
    # Unix socket paths are short (108 bytes): a folder of its own under /tmp.
    sockets = Path(tempfile.mkdtemp(prefix="shain-watch-"))
    control = sockets / "control.sock"
    environment = {
        **environment_without_display(),
        "OPENAI_API_KEY": "sk-test-watch",
        "SHAIN_CONFIG": str(tmp / "config.toml"),
    }
    with ModelServer() as server:
        server.script(*[model] * 600)
        output = tmp / "stdout.json"
        with output.open("wb") as stdout, (tmp / "stderr.txt").open("wb") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "agent", "run", str(task), "--virtual-display",
                    "--json", "--runs-dir", str(tmp / "runs"), "--workdir", str(tmp / "work"),
                    "--control", str(control), "--policy", "openai-chat", "--model", "test-model",
                    "--base-url", server.base_url,
                ],
                stdout=stdout, stderr=stderr, env=environment, cwd=REPO,
            )  # fmt: skip
        employee = Employee(
            process, control, tmp / "runs", tmp / "work", finish, output, environment
        )
        try:
            _wait(
                lambda: (
                    process.poll() is not None
                    or any(e["event"] == "ready" for e in employee.app_events())
                ),
                60,
                "the target app on the employee's screen",
            )
            assert process.poll() is None, (tmp / "stderr.txt").read_text()
            yield employee
        finally:
            finish.touch()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            control.unlink(missing_ok=True)
            sockets.rmdir()
    assert not left_behind(environment), "the employee's screen or apps outlived it"


def _open(qtbot: QtBot, employee: Employee) -> WatchWindow:
    window = WatchWindow(employee.control, timeout=20)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(
        lambda: window.live_view is not None and window.live_view.frames_shown > 0, timeout=20_000
    )
    return window


def _view(window: WatchWindow) -> LiveView:
    assert window.live_view is not None
    return window.live_view


def _rgb(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    colour = QColor(image.pixel(round(x), round(y)))
    return colour.red(), colour.green(), colour.blue()


def _near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _save(window: WatchWindow, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / name))


def test_the_window_shows_the_screen_live_with_the_last_action_and_the_steps(
    employee: Employee, qtbot: QtBot
) -> None:
    window = _open(qtbot, employee)
    view = _view(window)
    qtbot.waitUntil(lambda: window.model.rowCount() >= 2 and bool(view.overlays), timeout=20_000)
    assert window.state is not None and window.state.state == "working"
    assert window.state_line.text().startswith("Working — step")
    assert "Keeping busy" in window.model.rows[0].thought  # the model's thoughts show

    # Live: frames keep coming at the watching rate (5 a second).
    shown = view.frames_shown
    qtbot.wait(3000)
    assert view.frames_shown - shown >= 12

    # The picture is the employee's screen, scaled to fit: the app's red button is where
    # the view says that screen pixel is drawn.
    image = view.grab().toImage()
    assert view.scale < 1
    red = _rgb(image, *_point(view.to_widget(Point(*BUTTON))))
    assert red[0] > 150 and red[1] < 110 and red[2] < 110, red
    # And the last action is drawn on it: a ring around the point the employee last clicked.
    (marker,) = [shape for shape in view.overlays if isinstance(shape, Marker)]
    image = view.grab().toImage()  # painted with the overlays read just before
    centre = view.to_widget(marker.at)
    ring = _rgb(image, centre.x() + RING_RADIUS, centre.y())
    assert _near(ring, (MARKER_COLOUR.red(), MARKER_COLOUR.green(), MARKER_COLOUR.blue()))
    _save(window, "watch-window.png")


def _entries(employee: Employee) -> list[str]:
    return [e["text"] for e in employee.app_events() if e["event"] == "entry"]


def _clicked(employee: Employee, at: tuple[int, int]) -> bool:
    """Whether the app had a click within 2 px of `at`."""
    return any(
        e["event"] == "click" and abs(e["x"] - at[0]) <= 2 and abs(e["y"] - at[1]) <= 2
        for e in employee.app_events()
    )


def _point(point: Any) -> tuple[float, float]:
    return point.x(), point.y()


def _click_on_screen(
    qtbot: QtBot, view: LiveView, x: int, y: int, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    qtbot.mouseClick(view, button, pos=view.to_widget(Point(x, y)).toPoint())


def test_shain_watch_opens_on_the_running_employee(employee: Employee) -> None:
    """`shain watch last` finds the run going on and keeps its window open on it."""
    environment = {**environment_without_display(), "QT_QPA_PLATFORM": "offscreen"}
    arguments = ["watch", "last", "--runs-dir", str(employee.runs_dir)]
    watching = subprocess.Popen(
        [sys.executable, "-m", "agent", *arguments],
        stderr=subprocess.PIPE, text=True, env=environment, cwd=REPO,
    )  # fmt: skip
    try:
        time.sleep(4)
        assert watching.poll() is None, watching.communicate()
    finally:
        watching.terminate()
        _, errors = watching.communicate(timeout=10)
    assert "shain:" not in errors


def _double_click(view: LiveView, at: QPointF) -> None:
    """A double click as Qt delivers one from a mouse (QTest's sends the double click alone):
    press, release, double click (Qt's name for the second press), release."""
    kinds = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind in (*kinds, QEvent.Type.MouseButtonDblClick, kinds[1]):
        held = none if kind == kinds[1] else left
        event = QMouseEvent(
            kind, at, view.mapToGlobal(at), left, held, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(view, event)


def _type_keys(view: LiveView, text: str) -> None:
    """Key presses as a keyboard sends them (QTest's keyClicks takes ASCII only): Qt's key
    code of the character (Latin-1 keys carry their upper case code) and its text."""
    for character in text:
        key = ord(character.upper()) if ord(character) < 0x100 else 0
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, character)
            QApplication.sendEvent(view, event)


def test_the_boss_takes_over_clicks_and_types_then_hands_back(
    employee: Employee, qtbot: QtBot
) -> None:
    window = _open(qtbot, employee)
    view = _view(window)
    qtbot.waitUntil(lambda: any(row.step.executed for row in window.model.rows), timeout=20_000)
    assert not view.taking_over  # only the boss starts a take-over

    qtbot.mouseClick(window.take_over_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.holding, timeout=10_000)
    assert window.state_line.text() == HOLDING_TEXT
    assert window.take_over_button.text() == "Hand back"
    assert not window.pause_button.isEnabled()

    # A second watcher cannot take the screen while this one holds it, and says why.
    second = _open(qtbot, employee)
    qtbot.waitUntil(lambda: second.state is not None and second.state.state == "taken_over")
    qtbot.mouseClick(second.take_over_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Take over refused" in second.state_line.text(), timeout=10_000)
    assert "holds the screen" in second.state_line.text()
    assert not second.holding and second.take_over_button.text() == "Take over"

    # A click on the picture lands on the matching pixel of the employee's screen.
    _click_on_screen(qtbot, view, *BOSS_CLICK)
    _wait(
        lambda: _clicked(employee, BOSS_CLICK),
        10,
        f"the boss's click at {BOSS_CLICK} on the employee's screen",
    )

    # Typing: keys, a shortcut (Ctrl+A: to the start of a Tk entry), input-method text.
    _click_on_screen(qtbot, view, *ENTRY)
    # (The window manager replays a click to the app while keys go straight there: a hand
    # is slower than that, a test is not.)
    _wait(lambda: _clicked(employee, ENTRY), 10, "the click on the entry")
    _type_keys(view, "café")
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    composing = QInputMethodEvent("こんにち", [])  # the boss's input method composes...
    QApplication.sendEvent(view, composing)
    qtbot.wait(1500)  # (what was typed shows in the live view)
    _save(window, "watch-window-take-over.png")
    committed = QInputMethodEvent("", [])  # ... and commits
    committed.setCommitString("こんにちは ")
    QApplication.sendEvent(view, committed)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    _wait(
        lambda: any(e["event"] == "entry" for e in employee.app_events()),
        10,
        "Enter in the app's entry",
    )
    entries = [e["text"] for e in employee.app_events() if e["event"] == "entry"]
    assert entries == [TYPED]

    # The other buttons and the wheel go to the pixel too.
    def clicks() -> list[dict[str, Any]]:
        return [event for event in employee.app_events() if event["event"] == "click"]

    presses = len(clicks())
    _click_on_screen(qtbot, view, 300, 700, Qt.MouseButton.RightButton)
    _double_click(view, view.to_widget(Point(1500, 700)))
    wheel_at = view.to_widget(Point(500, 500))
    down = QWheelEvent(
        wheel_at, view.mapToGlobal(wheel_at), QPoint(), QPoint(0, -2 * 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(view, down)
    wanted = [(300, 700, 3), (1500, 700, 1), (1500, 700, 1), (500, 500, 5), (500, 500, 5)]
    _wait(lambda: len(clicks()) >= presses + len(wanted), 10, f"presses {wanted}")
    pressed = [(e["x"], e["y"], e["button"]) for e in clicks()[presses:]]
    assert all(
        abs(x - wx) <= 2 and abs(y - wy) <= 2 and button == wanted_button
        for (x, y, button), (wx, wy, wanted_button) in zip(pressed, wanted, strict=True)
    ), pressed

    # A drag across the entry selects its text; what is typed then replaces it.
    left, top, width, height = employee.app_events()[0]["entry"]
    start, end = Point(left + 2, top + height // 2), Point(left + width - 4, top + height // 2)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=view.to_widget(start).toPoint())
    for step in range(1, 6):
        x = start.x + (end.x - start.x) * step // 5
        qtbot.mouseMove(view, pos=view.to_widget(Point(x, start.y)).toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=view.to_widget(end).toPoint())
    _type_keys(view, "ok")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    _wait(lambda: _entries(employee) == [TYPED, "ok"], 10, f"'ok' in place of {TYPED!r}")

    qtbot.mouseClick(window.take_over_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: not window.holding and window.state is not None and window.state.state == "working",
        timeout=10_000,
    )
    assert window.take_over_button.text() == "Take over"

    # Now the second watcher may take the screen; closing its window hands it back.
    qtbot.mouseClick(second.take_over_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.holding, timeout=10_000)
    qtbot.waitUntil(lambda: "Another watcher has the screen" in window.state_line.text())
    second.close()
    qtbot.waitUntil(
        lambda: window.state is not None and window.state.state == "working", timeout=10_000
    )

    # Handed back, the employee finishes its task, and succeeds.
    result = employee.wait_until_done()
    story = [
        {k: v for k, v in e.items() if k in ("kind", "step", "action", "actions", "reason")}
        for e in employee.run_events()[-30:]
        if e["kind"] not in ("observed", "step_started")
    ]
    assert result["exit_code"] == 0, (result["reason"], story, employee.app_events()[-8:])
    assert result["status"] == "success"
    qtbot.waitUntil(lambda: window.state_line.text().startswith("Ended — success"), timeout=10_000)
    assert window.pill.text() == "success"
    assert not window.take_over_button.isEnabled() and not window.stop_button.isEnabled()

    # While the boss held the screen the employee did nothing; it was busy before and after.
    kinds = [event["kind"] for event in employee.run_events()]
    taken = [n for n, kind in enumerate(kinds) if kind == "taken_over"]
    handed = [n for n, kind in enumerate(kinds) if kind == "handed_back"]
    assert len(taken) == len(handed) == 2
    assert "action_executed" in kinds[: taken[0]]
    for start, end in zip(taken, handed, strict=True):
        assert start < end and "action_executed" not in kinds[start:end]
    assert "action_executed" in kinds[handed[-1] :]


def test_watching_an_ended_run_says_so(employee: Employee) -> None:
    employee.wait_until_done()
    run_id = employee.run_folder().name
    watched = run_shain("watch", run_id[:20], "--runs-dir", str(employee.runs_dir))
    assert watched.returncode == 2
    assert f"run {run_id} has ended: `shain show {run_id}` shows it" in watched.stderr


def test_watch_help_explains_it() -> None:
    helped = run_shain("watch", "--help")
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    assert "its screen live" in text and "Take over/Hand back" in text
    assert "a run id, a unique prefix of one, a run folder, or 'last'" in text


@pytest.mark.parametrize(
    ("key", "modifiers", "text", "sent"),
    [
        (Qt.Key.Key_S, ["ControlModifier", "ShiftModifier"], "\x13", ("ctrl", "shift", "s")),
        (Qt.Key.Key_Backtab, ["ShiftModifier"], "", ("shift", "tab")),
        (Qt.Key.Key_Left, ["ShiftModifier"], "", ("shift", "left")),
        (Qt.Key.Key_F5, [], "", ("f5",)),
        (Qt.Key.Key_A, ["ShiftModifier"], "A", "A"),
        (Qt.Key.Key_Shift, ["ShiftModifier"], "", None),
    ],
)
def test_keys_go_as_text_or_as_combinations(
    key: int, modifiers: list[str], text: str, sent: tuple[str, ...] | str | None
) -> None:
    held = Qt.KeyboardModifier.NoModifier
    for name in modifiers:
        held |= getattr(Qt.KeyboardModifier, name)
    expected = (
        KeyCombination(sent)
        if isinstance(sent, tuple)
        else None
        if sent is None
        else TypedText(sent)
    )
    assert boss_key(key, held, text) == expected


def test_qt_calls_leave_pythons_reference_counts_alone() -> None:
    """A watch window makes millions of Qt calls over an hour: each must leave None, True and
    False as it found them (PySide6 6.12.0 on Python 3.11 did not, and Python aborted within
    a minute of watching)."""
    from PySide6.QtGui import QPainter

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        painter.save()  # returns nothing
        painter.restore()
        painter.isActive()  # returns a bool
    after = sys.getrefcount(None), sys.getrefcount(True)
    painter.end()
    assert after == before
