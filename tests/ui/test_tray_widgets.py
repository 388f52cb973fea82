"""The tray's Qt parts offscreen: the New task dialog, the queue, the icons, the fallback window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from agent.config.profiles import Config, Profile
from agent.geometry import Size
from agent.record.events import RunStarted, StepStarted
from ui.tray.bridge import QtBridge
from ui.tray.control_window import WHY
from ui.tray.icons import COLOURS, render_icon
from ui.tray.queue import ID_ROLE, QueuedTask, TaskQueue
from ui.tray.request import GOAL_TASK_NAME
from ui.tray.state import TrayState
from ui.tray.task_dialog import TaskDialog

CONFIG = Config(
    default_profile="fast",
    profiles={"fast": Profile(policy="openai-chat"), "offline": Profile(policy="scripted")},
)
TASK = "name: save-note\nsteps:\n  - type: hello\nbudget: {max_steps: 7, max_seconds: 30}\n"


def _dialog(qtbot: QtBot) -> TaskDialog:
    dialog = TaskDialog(CONFIG)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


# --- the dialog ---


def test_dialog_offers_the_config_profiles(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    names = [dialog.profile.itemText(i) for i in range(dialog.profile.count())]
    assert names == ["fast", "offline"]
    assert dialog.profile.currentText() == "fast"


def test_empty_goal_is_refused_with_a_message(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.goal.setPlainText("   ")
    dialog.accept()
    assert dialog.isVisible() and dialog.request is None
    assert "write a goal" in dialog.problem.text()


def test_goal_becomes_a_minimal_task(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.goal.setPlainText("Write {hello} in mousepad")
    dialog.max_steps.setValue(12)
    dialog.max_seconds.setValue(90)
    dialog.accept()
    request = dialog.request
    assert request is not None and not dialog.isVisible()
    task = request.loaded.task
    assert (task.name, task.goal) == (GOAL_TASK_NAME, "Write {hello} in mousepad")
    assert (task.budget.max_steps, task.budget.max_seconds) == (12, 90)
    assert request.profile.policy == "openai-chat" and request.profile_name == "fast"
    assert request.label == "goal: Write {hello} in mousepad"


def test_goal_with_a_profile_without_a_model_is_refused(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.profile.setCurrentText("offline")
    dialog.goal.setPlainText("Open the calculator")
    dialog.accept()
    assert dialog.request is None
    assert "needs a model" in dialog.problem.text()


def test_task_file_keeps_its_budget(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "note.yaml"
    path.write_text(TASK)
    dialog = _dialog(qtbot)
    dialog.by_file.setChecked(True)
    assert dialog.max_steps.text() == "from the task"
    dialog.path.setText(str(path))
    dialog.accept()
    assert dialog.request is not None
    assert dialog.request.loaded.task.name == "save-note"
    assert dialog.request.loaded.task.budget.max_steps == 7
    assert dialog.request.label == "save-note"


def test_broken_task_file_shows_file_and_line(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nsteps:\n  - click: {x: 1}\n")
    dialog = _dialog(qtbot)
    dialog.by_file.setChecked(True)
    dialog.path.setText(str(path))
    dialog.accept()
    assert dialog.request is None and dialog.isVisible()
    assert f"{path}:3" in dialog.problem.text()


def test_no_file_chosen_is_refused(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.by_file.setChecked(True)
    dialog.accept()
    assert dialog.request is None
    assert "choose a task file" in dialog.problem.text()


# --- the queue ---


class QuickRunner:
    """Runs each task "instantly": finishes it on the next turn of the event loop."""

    def __init__(self) -> None:
        self.queue: TaskQueue | None = None
        self.started: list[str] = []
        self.concurrent = 0
        self.most_at_once = 0

    def start(self, task: QueuedTask) -> None:
        self.started.append(task.label)
        self.concurrent += 1
        self.most_at_once = max(self.most_at_once, self.concurrent)
        QTimer.singleShot(5, lambda: self._finish(task))

    def _finish(self, task: QueuedTask) -> None:
        self.concurrent -= 1
        assert self.queue is not None
        self.queue.task_finished(task.id)


def _labels(queue: TaskQueue) -> list[str]:
    return [queue.index(row, 0).data() for row in range(queue.rowCount())]


def test_queue_runs_in_order_one_at_a_time(qtbot: QtBot) -> None:
    runner = QuickRunner()
    queue = TaskQueue(runner.start)
    runner.queue = queue
    for label in ("a", "b", "c", "d"):
        queue.add(label, None)
    assert runner.started == ["a"]
    assert _labels(queue) == ["▶ a", "b", "c", "d"]
    qtbot.waitUntil(lambda: queue.rowCount() == 0, timeout=2000)
    assert runner.started == ["a", "b", "c", "d"]
    assert runner.most_at_once == 1
    assert queue.running is None


def test_queue_removes_waiting_tasks_but_not_the_running_one(qtbot: QtBot) -> None:
    started: list[QueuedTask] = []
    queue = TaskQueue(started.append)
    first, second, third = (queue.add(label, None) for label in ("a", "b", "c"))
    assert queue.running == first
    assert not queue.remove(first.id)
    assert queue.remove(second.id)
    assert not queue.remove(second.id)
    assert [queue.index(r, 0).data(ID_ROLE) for r in range(2)] == [first.id, third.id]
    queue.task_finished(first.id)
    assert [task.label for task in started] == ["a", "c"]
    queue.task_finished(third.id)
    assert queue.rowCount() == 0 and queue.running is None
    queue.add("e", None)
    assert started[-1].label == "e"


def test_finishing_a_task_that_is_not_running_is_ignored(qtbot: QtBot) -> None:
    started: list[QueuedTask] = []
    queue = TaskQueue(started.append)
    first, second = queue.add("a", None), queue.add("b", None)
    queue.task_finished(second.id)
    assert queue.running == first and queue.rowCount() == 2


# --- the bridge ---


def test_bridge_reemits_events_from_another_thread(qtbot: QtBot) -> None:
    import threading

    bridge = QtBridge()
    seen: list[object] = []
    bridge.event_happened.connect(seen.append)
    gui = threading.current_thread()
    where: list[threading.Thread] = []
    bridge.event_happened.connect(lambda _: where.append(threading.current_thread()))
    started = RunStarted("r", "t", None, "scripted", Size(10, 10), "/w")

    def work() -> None:
        bridge.handle(started)
        bridge.handle(StepStarted(1))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=2000)
    assert seen[0] is started and isinstance(seen[1], StepStarted)
    assert where == [gui, gui]  # delivered on the GUI thread


# --- the icons ---


def _pixels(image: QImage) -> list[int]:
    return [image.pixel(x, y) for y in range(image.height()) for x in range(image.width())]


def test_icons_differ_in_colour_and_shape() -> None:
    images = {state: render_icon(state, 32) for state in TrayState}
    for state, image in images.items():
        centre_ring = image.pixelColor(16, 4)  # top edge, inside every badge
        assert centre_ring.alpha() > 200, state
        assert abs(centre_ring.hue() - COLOURS[state].hue()) <= 5 or state is TrayState.IDLE
    masks = {
        state: [(pixel >> 24) > 128 for pixel in _pixels(image)] for state, image in images.items()
    }
    states = list(TrayState)
    for i, one in enumerate(states):
        for other in states[i + 1 :]:
            assert _pixels(images[one]) != _pixels(images[other]), (one, other)
            # the shapes alone (alpha, and white marks) tell them apart, without colour
            whites_one = [(p & 0xFFFFFF) == 0xFFFFFF for p in _pixels(images[one])]
            whites_other = [(p & 0xFFFFFF) == 0xFFFFFF for p in _pixels(images[other])]
            differs = sum(a != b for a, b in zip(masks[one], masks[other], strict=True))
            differs += sum(a != b for a, b in zip(whites_one, whites_other, strict=True))
            assert differs > 20, (one, other, differs)


# --- the app without a tray ---


def test_without_a_tray_the_control_window_says_why(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from ui.tray.app import TrayApp

    if QSystemTrayIcon.isSystemTrayAvailable():
        pytest.skip("this platform has a tray")
    app = TrayApp(tmp_path / "runs")
    assert app.window is not None and app.tray is None
    qtbot.addWidget(app.window)
    assert app.window.isVisible()
    assert app.window.why.text() == WHY
    assert "Idle" in app.window.status.text()
    assert not app.stop.isEnabled() and not app.pause.isEnabled()
