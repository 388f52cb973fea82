"""The office window: a card per employee, the questions waiting for the boss on top, and
New task…. Opened from the tray's menu, or a click on the icon. With a fleet configured
(ui/office/fleet_runs.py), the fleet's runs have cards beside the local employees."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent.errors import AgentError
from agent.run.control import QuestionMessage
from ui.office.employee_card import EmployeeCard, Staff
from ui.office.fleet_runs import FleetEmployee, FleetLink
from ui.office.office import ENDED, WAITING, Employee, Office
from ui.office.question_card import QuestionCard
from ui.widgets.style import STYLE_SHEET

COLUMNS = 3


class OfficeWindow(QWidget):
    new_task_requested = Signal()

    def __init__(
        self,
        office: Office,
        runs_dir: Path,
        fleet: FleetLink | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.office = office
        self.runs_dir = runs_dir
        self.fleet = fleet
        self.setWindowTitle("Shain — the office")
        self.setObjectName("page")
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1100, 760)
        # By employee number; a fleet run's by its run id.
        self.cards: dict[int | str, EmployeeCard] = {}
        self.questions: dict[tuple[int, int], QuestionCard] = {}  # (employee, question id)
        self._windows: list[QWidget] = []  # watch windows and viewers, kept alive

        self.summary = QLabel()
        self.summary.setObjectName("subtle")
        new_task = QPushButton("New task…")
        new_task.clicked.connect(self.new_task_requested)
        top = QHBoxLayout()
        title = QLabel("The office")
        title.setObjectName("title")
        top.addWidget(title)
        top.addWidget(self.summary, 1)
        top.addWidget(new_task)
        self.needs_you = QVBoxLayout()
        self.grid = QGridLayout()
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        page = QWidget()
        page.setObjectName("page")
        page_layout = QVBoxLayout(page)
        page_layout.addLayout(self.needs_you)
        page_layout.addLayout(self.grid)
        page_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        office.hired.connect(self._hired)
        office.employee_ended.connect(self._ended)
        for employee in office.employees:
            self._hired(employee)
        if fleet is not None:
            fleet.hired.connect(self._hired)
            fleet.employee_ended.connect(self._ended)
            fleet.status_changed.connect(self._refresh_summary)
            for fleet_run in fleet.employees.values():
                self._hired(fleet_run)
        self._refresh_summary()

    # --- employees ---

    def card_of(self, employee: Staff) -> EmployeeCard | None:
        return self.cards.get(_key(employee))

    def _hired(self, employee: Staff) -> None:
        card = EmployeeCard(employee)
        card.watch_requested.connect(self.watch)
        card.report_requested.connect(self.open_report)
        card.viewer_requested.connect(self.open_viewer)
        card.folder_requested.connect(self.open_folder)
        card.close_requested.connect(self.close_card)
        employee.changed.connect(lambda: self._changed(employee))
        if isinstance(employee, Employee):
            employee.question_asked.connect(lambda q: self._asked(employee, q))
            employee.question_closed.connect(lambda number: self._question_closed(employee, number))
        self.cards[_key(employee)] = card
        self._place_cards()

    def _changed(self, employee: Staff) -> None:
        card = self.card_of(employee)
        local = isinstance(employee, Employee) and employee.display is not None
        if card is not None and local and employee.display and not employee.is_over:
            card.watch_screen(employee.display)
        self._refresh_summary()

    def _ended(self, employee: Staff) -> None:
        card = self.card_of(employee)
        keeps_screen = isinstance(employee, Employee) and employee.order.keep_screen
        if card is not None and not keeps_screen:
            card.stop_watching_screen()
        self._refresh_summary()

    def close_card(self, employee: Staff) -> None:
        if isinstance(employee, FleetEmployee):
            employee.link.forget(employee)
        else:
            employee.close_screen()
        card = self.cards.pop(_key(employee), None)
        if card is not None:
            card.stop_watching_screen()
            card.setParent(None)
            card.deleteLater()
        self._place_cards()

    def _place_cards(self) -> None:
        for index, card in enumerate(self.cards.values()):
            self.grid.addWidget(card, index // COLUMNS, index % COLUMNS)

    def _refresh_summary(self) -> None:
        employees = self.office.employees
        working = sum(1 for e in employees if e.state not in ENDED and e.state != WAITING)
        waiting = sum(1 for e in employees if e.state == WAITING)
        asking = len(self.questions)
        parts = [f"{working} working", f"{waiting} waiting", f"{asking} need you"]
        text = " · ".join(parts) + f" (at most {self.office.queue.slots} at once)"
        if self.fleet is not None:
            runs = [run for run in self.fleet.employees.values() if not run.is_over]
            going = sum(1 for run in runs if run.state != WAITING)
            fleet = self.fleet.problem or f"{going} running, {len(runs) - going} queued"
            text += f" · fleet: {fleet}"
        self.summary.setText(text)

    # --- questions ---

    def _asked(self, employee: Employee, question: QuestionMessage) -> None:
        employee_card = self.cards.get(employee.number)
        picture = employee_card.latest_picture if employee_card is not None else None
        card = QuestionCard(employee, question, picture)
        if employee_card is not None:
            employee_card.picture_changed.connect(card.show_picture)
        card.answered.connect(lambda number: self._question_closed(employee, number))
        self.questions[(employee.number, question.id)] = card
        self.needs_you.addWidget(card)
        card.show()
        self._refresh_summary()
        self.show()
        self.raise_()

    def _question_closed(self, employee: Employee, number: int) -> None:
        card = self.questions.pop((employee.number, number), None)
        if card is not None:
            card.setParent(None)
            card.deleteLater()
        self._refresh_summary()

    # --- what the cards open ---

    def watch(self, employee: Staff) -> None:
        from ui.office.fleet_watch import FleetWatchWindow
        from ui.office.watch_window import WatchWindow

        window: QWidget
        if isinstance(employee, FleetEmployee):
            window = FleetWatchWindow(employee)
        elif employee.hello is not None:
            window = WatchWindow(Path(employee.hello.control))
        else:
            return
        self._windows.append(window)
        window.show()

    def open_report(self, employee: Staff) -> None:
        from agent.report.writer import write_report

        if employee.run_folder is None:
            return
        try:
            report = write_report(Path(employee.run_folder))
        except (AgentError, OSError) as error:
            if isinstance(employee, FleetEmployee):
                employee.note = f"no report: {error}"
            else:
                employee.detail = f"no report: {error}"
            employee.changed.emit()
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    def open_viewer(self, employee: Staff) -> None:
        from ui.log_viewer import build_window

        if employee.run_folder is None:
            return
        window = build_window(Path(employee.run_folder), self.runs_dir)
        self._windows.append(window)
        window.show()

    def open_folder(self, employee: Staff) -> None:
        """A local employee's shared folder; a fleet run's run folder (its workdir was on the
        worker, and is gone)."""
        if isinstance(employee, FleetEmployee):
            folder = employee.run_folder
            if folder is None:
                return
        else:
            folder = str(employee.order.workdir)
        QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window only hides it: the employees go on working.
        event.ignore()
        self.hide()

    def shut(self) -> None:
        """For good, when the tray quits."""
        for card in self.cards.values():
            card.stop_watching_screen()
        self.hide()


def _key(employee: Staff) -> int | str:
    return f"fleet:{employee.run_id}" if isinstance(employee, FleetEmployee) else employee.number
