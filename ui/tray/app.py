"""`shain tray`: the tray icon and its menu, or an always-on-top window where there is no tray.

New task… asks where. On a screen of its own (the default), the task goes to the office: an
employee process per task, several at once, with cards, questions and the live view (ui/office).
On the fleet (when a broker is configured: ui/office/fleet_runs.py), it is submitted there and
the office shows its run like a local employee's.
On the boss's desktop, it goes on the desktop queue: one runs at a time on a worker thread. The
icon follows that run's events (through the QtBridge) and pauses; the boss's Stop and Pause only
set the running worker's StopToken. A notification says when a task has ended. What the guard
holds is asked of the boss on an approval card; with no answer in time the card pauses the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from agent.config.profiles import Config
from agent.desktop.boss_input import DEFAULT_HOTKEY
from agent.desktop.exclusions import ExcludedRegions
from agent.errors import ConfigError
from agent.office.capacity import office_slots
from agent.office.employee import EmployeeOrder
from agent.record.events import Event
from ui.office.employee_card import Staff
from ui.office.fleet_runs import FleetLink
from ui.office.hiring import order_for, task_file_of
from ui.office.office import CRASHED, FAILED, Employee, Office
from ui.office.office_window import OfficeWindow
from ui.tray.approval_card import DEFAULT_TIMEOUT_SECONDS, ApprovalCard
from ui.tray.approvals import Answer, PendingApproval
from ui.tray.bridge import QtBridge
from ui.tray.control_window import ControlWindow
from ui.tray.icons import state_icon
from ui.tray.own_windows import OwnWindowTracker
from ui.tray.progress_window import ProgressWindow
from ui.tray.queue import QueuedTask, TaskQueue
from ui.tray.request import TaskRequest
from ui.tray.settings_dialog import SettingsDialog
from ui.tray.state import TrayState, TrayStatus
from ui.tray.task_dialog import TaskDialog
from ui.tray.worker import TaskWorker, WorkerOutcome

QUIT_WAIT_SECONDS = 15.0


class TrayApp(QObject):
    def __init__(
        self,
        runs_dir: Path,
        *,
        hotkey: str = DEFAULT_HOTKEY,
        use_tray: bool | None = None,
        exit_when_idle: bool = False,
        approval_timeout: float = DEFAULT_TIMEOUT_SECONDS,
        hotkey_from_config: bool = False,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.config = config or Config()
        self.hotkey_from_config = hotkey_from_config  # Settings… changes it (no --hotkey)
        self.approval_timeout = approval_timeout
        self.cards: list[ApprovalCard] = []  # open approval cards
        self.runs_dir = runs_dir
        self.hotkey = hotkey
        self.exit_when_idle = exit_when_idle
        self.status = TrayStatus()
        self.bridge = QtBridge()
        self.bridge.event_happened.connect(self._on_event)
        # Shain's own windows: painted over in the agent's captures, never its targets.
        self.excluded = ExcludedRegions()
        self.own_windows = OwnWindowTracker(self.excluded, self)
        self.progress = ProgressWindow(
            on_pause=self.pause_run, on_resume=self.resume_run, on_stop=self.stop_run
        )
        self.own_windows.track(self.progress, "progress")
        self.bridge.event_happened.connect(self.progress.on_event)
        self.queue = TaskQueue(self._start)
        self.queue.changed.connect(self._refresh)
        self.worker: TaskWorker | None = None
        self._windows: list[QWidget] = []  # the dialog and log viewers, kept alive
        self.office = Office(office_slots(self.config.office))
        self.office.employee_ended.connect(self._employee_ended)
        self.fleet = _fleet_link(self.config)
        if self.fleet is not None:
            self.fleet.employee_ended.connect(self._employee_ended)
            self.fleet.submitted.connect(self._submitted)
            self.fleet.start()
        self.office_window = OfficeWindow(self.office, runs_dir, self.fleet)
        self.office_window.new_task_requested.connect(self.ask_for_task)
        self.office.queue.changed.connect(self._refresh)

        self.new_task = self._action("New task…", self.ask_for_task)
        self.open_office_action = self._action("Office…", self.open_office)
        self.pause = self._action("Pause", self.pause_run)
        self.resume = self._action("Resume", self.resume_run)
        self.stop = self._action("Stop", self.stop_run)
        self.show_progress = self._action("Show progress", self.open_progress)
        self.history = self._action("Run history", self.open_history)
        self.settings = self._action("Settings…", self.open_settings)
        self.quit = self._action("Quit", self.quit_app)
        self.queue_menu = QMenu("Queue")
        self.menu = QMenu()
        self.menu.addAction(self.new_task)
        self.menu.addAction(self.open_office_action)
        self.menu.addMenu(self.queue_menu)
        self.menu.addSeparator()
        for action in (self.pause, self.resume, self.stop):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.show_progress)
        self.menu.addAction(self.history)
        self.menu.addAction(self.settings)
        self.menu.addAction(self.quit)

        available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray_available = available
        self.tray: QSystemTrayIcon | None = None
        self.window: ControlWindow | None = None
        if available if use_tray is None else use_tray:
            self.tray = QSystemTrayIcon(state_icon(TrayState.IDLE))
            self.tray.setContextMenu(self.menu)
            self.tray.activated.connect(self._icon_clicked)
            self.tray.show()
        else:
            actions = [
                self.new_task,
                self.open_office_action,
                self.pause,
                self.resume,
                self.stop,
                self.show_progress,
                self.history,
                self.settings,
                self.quit,
            ]
            self.window = ControlWindow(actions, self.queue)
            self.window.show()
        self._refresh()

    def _action(self, text: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        return action

    # --- the boss's commands ---

    def ask_for_task(self) -> None:
        dialog = TaskDialog(fleet=self.fleet)
        dialog.accepted.connect(lambda: self._dialog_done(dialog))
        self._windows.append(dialog)
        dialog.show()

    def _dialog_done(self, dialog: TaskDialog) -> None:
        if dialog.request is not None:
            self.enqueue(dialog.request)

    def enqueue(self, request: TaskRequest) -> QueuedTask | Employee | None:
        """On the desktop queue, to an employee of the office (a screen of its own), or to the
        fleet (its card comes once the fleet has it)."""
        if request.fleet_queue is not None and self.fleet is not None:
            self.fleet.submit(task_file_of(request), request.fleet_queue, request.label)
            return None
        if request.own_screen is not None:
            return self.hire(order_for(request, self.runs_dir, self.config), request.label)
        return self.queue.add(request.label, request)

    def hire(self, order: EmployeeOrder, label: str) -> Employee:
        employee = self.office.hire(label, order)
        print(f"hired {employee.name} for {label}", flush=True)
        return employee

    def open_office(self) -> None:
        self.office_window.show()
        self.office_window.raise_()
        self.office_window.activateWindow()

    def _icon_clicked(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_office()

    def _submitted(self, run_id: str, problem: str) -> None:
        if run_id:
            print(f"sent to the fleet as {run_id}", flush=True)
        else:
            self.notify("The fleet did not take the task", problem, failed=True)
            print(f"not sent to the fleet: {problem}", flush=True)

    def _employee_ended(self, employee: Staff) -> None:
        print(f"employee {employee.label}: {employee.state} {employee.run_folder}", flush=True)
        self.notify(
            f"'{employee.label}': {employee.state}",
            employee.detail,
            failed=employee.state in (FAILED, CRASHED),
        )
        self._refresh()
        if self.exit_when_idle and self._idle():
            QTimer.singleShot(0, self.quit_app)

    def _idle(self) -> bool:
        return self.queue.running is None and not self.office.queue.tasks

    def pause_run(self) -> None:
        if self.worker is not None:
            self.worker.pause()
            self.status.paused("you pressed Pause")
            self.progress.show_paused("you pressed Pause")
            self._refresh()

    def resume_run(self) -> None:
        if self.worker is not None:
            self.worker.resume()
            self.status.resumed()
            self.progress.show_resumed()
            self._refresh()

    def stop_run(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def open_progress(self) -> None:
        self.progress.show()
        self.progress.raise_()
        self.progress.activateWindow()

    def open_history(self) -> None:
        from ui.log_viewer import build_window

        window = build_window(None, self.runs_dir)
        self._windows.append(window)
        window.show()

    def open_settings(self) -> None:
        dialog = SettingsDialog()
        dialog.accepted.connect(lambda: self._settings_saved(dialog))
        self._windows.append(dialog)
        dialog.show()

    def _settings_saved(self, dialog: SettingsDialog) -> None:
        if dialog.saved is not None and self.hotkey_from_config:
            self.hotkey = dialog.saved.stop_hotkey  # for the next task

    def quit_app(self) -> None:
        """Stop the running task and every employee cleanly (each log ends with its last
        event), wait for them (the desktop releases held keys), quit."""
        self.office.quit()  # the fleet's runs go on: they are the fleet's
        self.office_window.shut()
        if self.fleet is not None:
            self.fleet.close()
        for task in self.queue.waiting:
            self.queue.remove(task.id)
        worker = self.worker
        if worker is not None:
            worker.stop("the tray app is quitting")
            worker.wait(QUIT_WAIT_SECONDS)
        if self.tray is not None:
            self.tray.hide()
        QApplication.quit()

    # --- runs ---

    def _start(self, task: QueuedTask) -> None:
        request: TaskRequest = task.payload
        worker = TaskWorker(
            request,
            runs_dir=self.runs_dir,
            sinks=[self.bridge],
            hotkey=self.hotkey,
            ask_boss=True,
            excluded=self.excluded,
        )
        self.progress.set_budget(request.loaded.task.budget)
        worker.finished.connect(lambda outcome: self._finished(task, outcome))
        worker.boss_input.connect(self._boss_input)
        worker.approval_needed.connect(self._ask_boss)
        self.worker = worker
        worker.start()
        self._refresh()

    def _ask_boss(self, pending: PendingApproval) -> None:
        name = self.worker.request.loaded.task.name if self.worker is not None else ""
        card = ApprovalCard(pending, task_name=name, timeout_seconds=self.approval_timeout)
        card.decided.connect(lambda answer: self._card_answered(card, answer))
        card.timed_out.connect(self._card_timed_out)
        self.cards.append(card)
        self.own_windows.track(card, f"approval-{id(card)}")
        _place(card)
        card.show()
        card.raise_()
        card.activateWindow()
        print("approval card shown", flush=True)
        QTimer.singleShot(500, lambda: _print_buttons(card))

    def _card_answered(self, card: ApprovalCard, answer: Answer) -> None:
        if card in self.cards:
            self.cards.remove(card)
        print(f"approval card answered: {answer.value}", flush=True)
        if card.paused_run:
            self.status.resumed()
        self._refresh()

    def _card_timed_out(self) -> None:
        self.status.paused("nobody answered the approval card")
        self._refresh()

    def _finished(self, task: QueuedTask, outcome: WorkerOutcome) -> None:
        for card in list(self.cards):
            card.close()  # the run is over: nobody waits for an answer
        self.worker = None
        result = outcome.result
        name = outcome.request.loaded.task.name
        if result is None:
            self.status.task_failed(name, outcome.error)
            self.notify(f"Shain could not run '{name}'", outcome.error, failed=True)
            print(f"task {name}: error {outcome.error}", flush=True)
        else:
            failed = self.status.state is TrayState.FAILED
            title = f"'{name}': {result.status}"
            self.notify(title, f"{result.reason} ({result.steps} steps)", failed=failed)
            print(f"task {name}: {result.status} {result.run_folder}", flush=True)
        self.queue.task_finished(task.id)
        self._refresh()
        if self.exit_when_idle and self._idle():
            QTimer.singleShot(0, self.quit_app)

    def _on_event(self, event: Event) -> None:
        self.status.on_event(event)
        self._refresh()

    def _boss_input(self, description: str) -> None:
        self.progress.show_paused(description)
        self.status.paused(description)
        self._refresh()

    def notify(self, title: str, text: str, *, failed: bool = False) -> None:
        if self.tray is not None:
            kind = QSystemTrayIcon.MessageIcon
            self.tray.showMessage(title, text, kind.Critical if failed else kind.Information)
        if self.window is not None:
            self.window.notify(title, text)

    # --- what is shown ---

    def _refresh(self) -> None:
        running = self.worker is not None
        paused = running and self.worker is not None and self.worker.stop_token.paused
        self.pause.setEnabled(running and not paused)
        self.resume.setEnabled(paused)
        self.stop.setEnabled(running)
        self._fill_queue_menu()
        icon: QIcon = state_icon(self.status.state)
        text = f"Shain — {self.status.tooltip}"
        if self.tray is not None:
            self.tray.setIcon(icon)
            self.tray.setToolTip(text)
        if self.window is not None:
            self.window.show_state(icon, text)

    def _remover(self, task_id: int) -> Callable[[], None]:
        def remove() -> None:
            self.queue.remove(task_id)

        return remove

    def _fill_queue_menu(self) -> None:
        self.queue_menu.clear()
        running = self.queue.running
        if running is not None:
            self.queue_menu.addAction(f"▶ {running.label} (running)").setEnabled(False)
        for task in self.queue.waiting:
            remove = self.queue_menu.addAction(f"Remove “{task.label}”")
            remove.triggered.connect(self._remover(task.id))
        if not self.queue.tasks:
            self.queue_menu.addAction("(empty)").setEnabled(False)


def _fleet_link(config: Config) -> FleetLink | None:
    """The office's link to the fleet, when a broker is configured (it connects on a thread)."""
    from agent.fleet.broker import configured_broker

    try:
        url = configured_broker(config)
    except ConfigError as error:
        print(f"no fleet: {error}", flush=True)
        return None
    return FleetLink(url) if url is not None else None


def _place(card: ApprovalCard) -> None:
    """Top right of the screen, under the tray: where the boss's eyes go for Shain."""
    card.adjustSize()
    screen = card.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    card.move(area.right() - card.width() - 24, area.top() + 48)


def _print_buttons(card: ApprovalCard) -> None:
    """Where the card's buttons are on the screen (for scripts that click them)."""
    if not card.isVisible():
        return
    for answer, button in card.buttons.items():
        top_left = button.mapToGlobal(button.rect().topLeft())
        box = f"{top_left.x()} {top_left.y()} {button.width()} {button.height()}"
        print(f"approval button {answer.value}: {box}", flush=True)
