"""Watching one employee: its screen live with its last action drawn, its steps and thoughts
beside it, a line saying what it is doing, and Pause/Resume, Stop and Take over/Hand back.

Everything goes through the employee's control channel (ui/office/channel.py); the window
never waits for the employee. Take-over is the boss's own act (only the button starts it),
and it becomes real only when the employee says the screen is taken over after this window
asked: until then the picture only shows, and a refusal (another watcher holds the screen)
is shown with its reason. Handing back first lets go of everything the boss held on the
employee's screen and then tells the employee; closing the window does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from agent.desktop.screen import Screen
from agent.geometry import Size
from agent.record.events import Event, RunFinished, StepStarted
from agent.report.overlays import Overlay, overlays_of_logged
from agent.run.control import Hello, RefusedMessage, StateMessage
from ui.office.channel import EmployeeChannel
from ui.office.live_view import LiveView
from ui.tray.progress_window import PROGRESS_STYLE, StepList
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.panels import heading, screen_beside, titled_column
from ui.widgets.style import STYLE_SHEET, pill_style

# The employee's states (agent/run/control.py) -> (pill text, text colour, background).
STATE_PILLS = {
    "starting": ("starting", "#57606a", "#f6f8fa"),
    "working": ("working", "#0969da", "#ddf4ff"),
    "paused": ("paused", "#9a6700", "#fff8c5"),
    "taken_over": ("taken over", "#bc4c00", "#fff1e5"),
    "needs_you": ("needs you", "#8250df", "#fbefff"),
}
STEERABLE = frozenset({"working", "paused", "needs_you"})
HOLDING_TEXT = (
    "You have the screen: your mouse and keys in the picture act on it. "
    "The employee waits until you hand it back."
)


class WatchWindow(QWidget):
    """The employee serving its control channel at `control`; `alive` (optional) says whether
    it is still there while the window waits for the channel to open."""

    def __init__(
        self,
        control: Path,
        *,
        alive: Callable[[], bool] | None = None,
        timeout: float = 30.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shain — watching")
        self.setObjectName("page")
        self.setStyleSheet(STYLE_SHEET + PROGRESS_STYLE)
        self.state: StateMessage | None = None
        self.step = 0
        self.finished: RunFinished | None = None
        self.gone = ""  # why the channel closed; empty while it is open
        self.note = ""  # a refusal or an input that failed, until the state changes
        self._asking = False  # asked for the screen, not answered yet
        self.live_view: LiveView | None = None

        top, self.title, self.pill = heading("Connecting…")
        self.state_line = ElidedLabel("Connecting to the employee…")
        self.state_line.setObjectName("subtle")

        self.screen_area = QStackedWidget()
        self.placeholder = QLabel("Waiting for the employee's screen…")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setMinimumSize(320, 180)
        self.screen_area.addWidget(self.placeholder)

        self.steps = StepList()
        self.model = self.steps.step_model
        splitter = screen_beside(
            self.screen_area, titled_column("Steps", self.steps), 1, [900, 320]
        )

        self.take_over_button = QPushButton("Take over")
        self.take_over_button.clicked.connect(self._take_over_clicked)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self._pause_clicked)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.clicked.connect(self._stop_clicked)
        for button in (self.take_over_button, self.pause_button, self.stop_button):
            # Space and Tab belong to the employee's screen while the boss holds it.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QHBoxLayout()
        buttons.addWidget(self.take_over_button)
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.state_line)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(1280, 720)

        self.channel = EmployeeChannel(self)
        self.channel.hello_received.connect(self._hello)
        self.channel.event_received.connect(self._event)
        self.channel.state_changed.connect(self._state)
        self.channel.command_refused.connect(self._refused)
        self.channel.closed.connect(self._closed)
        self.channel.connect_to(control, timeout=timeout, alive=alive)
        self._refresh()

    @property
    def holding(self) -> bool:
        """Whether the boss holds the employee's screen through this window."""
        return self.live_view is not None and self.live_view.taking_over

    def shutdown(self, timeout: float = 2.0) -> None:
        """Wait for the window's threads after it closed (before the process exits, so the
        boss's held keys are let go and the employee is told)."""
        if self.live_view is not None:
            self.live_view.wait_stopped(timeout)
        self.channel.wait_closed(timeout)

    # --- from the employee ----------------------------------------------------------------------

    def _hello(self, hello: Hello) -> None:
        self.setWindowTitle(f"Shain — watching {hello.task}")
        self.title.setText(hello.task)
        self.title.setToolTip(hello.goal or "")
        if self.live_view is None and hello.display is not None:
            screen = Screen(
                hello.display, size=Size(hello.width, hello.height), private=hello.private
            )
            self.live_view = LiveView(screen)
            self.live_view.input_failed.connect(self._input_failed)
            self.live_view.screen_lost.connect(lambda _: self._refresh())
            self.screen_area.addWidget(self.live_view)
            self.screen_area.setCurrentWidget(self.live_view)
            self.live_view.start()
        elif hello.display is None:
            self.placeholder.setText("This employee's screen cannot be shown (it has no X display)")
        self._refresh()

    def _event(self, event: Event) -> None:
        self.model.on_event(event)
        match event:
            case StepStarted(step=step):
                self.step = step
            case RunFinished():
                self.finished = event
        if self.live_view is not None:
            self.live_view.show_overlays(self._last_action())
        self._refresh()

    def _state(self, state: StateMessage) -> None:
        self.state = state
        self.note = ""
        if state.state == "taken_over" and self._asking and self.live_view is not None:
            self._asking = False
            self.live_view.begin_take_over()
        elif state.state != "taken_over" and self.holding:
            self._let_go()  # the run ended or was stopped while the boss held the screen
        self._refresh()

    def _refused(self, refusal: RefusedMessage) -> None:
        if refusal.command == "take_over":
            self._asking = False
            self.note = f"Take over refused: {refusal.reason}"
        else:
            self.note = f"{refusal.command or 'command'} refused: {refusal.reason}"
        self._refresh()

    def _closed(self, why: str) -> None:
        self.gone = why
        self._asking = False
        if self.live_view is not None:
            self.live_view.end_take_over()
        self._refresh()

    def _input_failed(self, why: str) -> None:
        self.note = why
        self._refresh()

    # --- the boss's buttons -------------------------------------------------------------------

    def _take_over_clicked(self) -> None:
        if self.holding:
            self._let_go(self.channel.hand_back)
        elif not self._asking:
            self._asking = self.channel.take_over()
            self.note = ""
        self._refresh()

    def _pause_clicked(self) -> None:
        if self.state is not None and self.state.state == "paused":
            self.channel.resume()
        else:
            self.channel.pause()

    def _stop_clicked(self) -> None:
        self.channel.stop()
        self.stop_button.setEnabled(False)

    def _let_go(self, then: Callable[[], object] | None = None) -> None:
        """End the take-over here: the boss's held keys are let go, then `then` runs."""
        if self.live_view is not None:
            self.live_view.end_take_over(then)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.holding:

            def hand_back_and_go() -> None:
                self.channel.hand_back()
                self.channel.close()

            self._let_go(hand_back_and_go)
        else:
            self.channel.close()
        if self.live_view is not None:
            self.live_view.stop()
        super().closeEvent(event)

    # --- what is shown ---------------------------------------------------------------------------

    def _last_action(self) -> list[Overlay]:
        for step in reversed(self.model.folder.steps):
            if step.drawn_actions:
                return [shape for a in step.drawn_actions for shape in overlays_of_logged(a)]
        return []

    def _status_text(self) -> str:
        state = self.state.state if self.state is not None else None
        detail = self.state.detail if self.state is not None else ""
        if self.finished is not None or state == "ended":
            ended = self.finished
            return f"Ended — {ended.status}: {ended.reason}" if ended else f"Ended — {detail}"
        if self.gone:
            return f"Disconnected: {self.gone}"
        if self.holding:
            return HOLDING_TEXT
        if self._asking:
            return "Asking for the screen…"
        match state:
            case None:
                return "Connecting to the employee…"
            case "starting":
                return "Setting up…"
            case "working":
                return f"Working — step {self.step}" if self.step else "Working"
            case "paused":
                return f"Paused — {detail}" if detail else "Paused"
            case "taken_over":
                return f"Another watcher has the screen ({detail})" if detail else "Taken over"
            case "needs_you":
                return f"Needs you: {detail}"
        return detail

    def _refresh(self) -> None:
        text = self.note or self._status_text()
        self.state_line.setText(text)
        self.state_line.setToolTip(text)
        self.state_line.update()
        self._refresh_pill()
        state = self.state.state if self.state is not None else None
        lost = self.live_view is None or bool(self.live_view.lost)
        live = not self.gone and self.finished is None and state not in (None, "ended")
        self.stop_button.setEnabled(live)
        self.pause_button.setEnabled(live and state in STEERABLE)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        if self.holding:
            self.take_over_button.setText("Hand back")
            self.take_over_button.setEnabled(True)
        else:
            self.take_over_button.setText("Taking over…" if self._asking else "Take over")
            steerable = state in STEERABLE or state == "taken_over"
            self.take_over_button.setEnabled(live and steerable and not lost and not self._asking)

    def _refresh_pill(self) -> None:
        if self.finished is not None:
            status = self.finished.status
            self.pill.setText(status.replace("_", " "))
            self.pill.setStyleSheet(pill_style(status))
        elif self.state is not None and self.state.state in STATE_PILLS:
            text, colour, background = STATE_PILLS[self.state.state]
            self.pill.setText("you have the screen" if self.holding else text)
            self.pill.setStyleSheet(f"color: {colour}; background: {background};")
        else:
            self.pill.hide()
            return
        self.pill.show()
