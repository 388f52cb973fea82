"""The office window: a card per employee, the questions waiting for the boss on top, and
New task…. Opened from the tray's menu, or a click on the icon."""

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
from ui.office.employee_card import EmployeeCard
from ui.office.office import ENDED, WAITING, Employee, Office
from ui.office.question_card import QuestionCard
from ui.widgets.style import STYLE_SHEET

COLUMNS = 3


class OfficeWindow(QWidget):
    new_task_requested = Signal()

    def __init__(self, office: Office, runs_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.office = office
        self.runs_dir = runs_dir
        self.setWindowTitle("Shain — the office")
        self.setObjectName("page")
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1100, 760)
        self.cards: dict[int, EmployeeCard] = {}  # by employee number
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
        self._refresh_summary()

    # --- employees ---

    def _hired(self, employee: Employee) -> None:
        card = EmployeeCard(employee)
        card.watch_requested.connect(self.watch)
        card.report_requested.connect(self.open_report)
        card.viewer_requested.connect(self.open_viewer)
        card.folder_requested.connect(self.open_folder)
        card.close_requested.connect(self.close_card)
        employee.changed.connect(lambda: self._changed(employee))
        employee.question_asked.connect(lambda q: self._asked(employee, q))
        employee.question_closed.connect(lambda number: self._question_closed(employee, number))
        self.cards[employee.number] = card
        self._place_cards()

    def _changed(self, employee: Employee) -> None:
        card = self.cards.get(employee.number)
        if card is not None and employee.display is not None and not employee.is_over:
            card.watch_screen(employee.display)
        self._refresh_summary()

    def _ended(self, employee: Employee) -> None:
        card = self.cards.get(employee.number)
        if card is not None and not employee.order.keep_screen:
            card.stop_watching_screen()
        self._refresh_summary()

    def close_card(self, employee: Employee) -> None:
        employee.close_screen()
        card = self.cards.pop(employee.number, None)
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
        self.summary.setText(" · ".join(parts) + f" (at most {self.office.queue.slots} at once)")

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

    def watch(self, employee: Employee) -> None:
        from ui.office.watch_window import WatchWindow

        if employee.hello is None:
            return
        window = WatchWindow(Path(employee.hello.control))
        self._windows.append(window)
        window.show()

    def open_report(self, employee: Employee) -> None:
        from agent.report.writer import write_report

        if employee.run_folder is None:
            return
        try:
            report = write_report(Path(employee.run_folder))
        except (AgentError, OSError) as error:
            employee.detail = f"no report: {error}"
            employee.changed.emit()
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    def open_viewer(self, employee: Employee) -> None:
        from ui.log_viewer import build_window

        if employee.run_folder is None:
            return
        window = build_window(Path(employee.run_folder), self.runs_dir)
        self._windows.append(window)
        window.show()

    def open_folder(self, employee: Employee) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(employee.order.workdir)))

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window only hides it: the employees go on working.
        event.ignore()
        self.hide()

    def shut(self) -> None:
        """For good, when the tray quits."""
        for card in self.cards.values():
            card.stop_watching_screen()
        self.hide()
