"""A question from an employee for the boss: an action its guard held (Approve or Deny), or the
model's own question (an answer box). It names the employee, shows its screen, and sends the
answer back through the employee's channel; the employee waits meanwhile, it never guesses."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent.run.control import QuestionMessage
from ui.office.employee_card import THUMBNAIL_SIZE
from ui.office.office import Employee
from ui.tray.approval_card import STYLE


class QuestionCard(QFrame):
    answered = Signal(int)  # the question's id, once the boss has answered it

    def __init__(
        self,
        employee: Employee,
        question: QuestionMessage,
        picture: QImage | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.employee = employee
        self.question = question
        self.setObjectName("card")
        self.setMaximumWidth(720)
        self.setStyleSheet(STYLE + "QFrame#card { border: 2px solid #bc4c00; border-radius: 8px; }")
        asks = "needs your approval" if question.kind == "approval" else "asks you"
        self.title = QLabel(f"{employee.name} {asks}")
        self.title.setObjectName("title")
        self.task = QLabel(
            f"on “{employee.label}”" + (f", step {question.step}" if question.step else "")
        )
        self.task.setObjectName("subtle")
        self.text = QLabel(question.text)
        self.text.setWordWrap(True)
        self.text.setObjectName("reason" if question.kind == "approval" else "")
        self.picture = QLabel()
        self.picture.setObjectName("screen")
        self.picture.setFixedSize(THUMBNAIL_SIZE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if picture is not None:
            self.show_picture(picture)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.task)
        if question.action:
            action = QLabel(question.action)
            action.setObjectName("action")
            action.setWordWrap(True)
            layout.addWidget(action)
        layout.addWidget(self.text)
        layout.addWidget(self.picture)
        row = QHBoxLayout()
        self.answer_box: QLineEdit | None = None
        self.approve: QPushButton | None = None
        self.deny: QPushButton | None = None
        if question.kind == "approval":
            self.deny = QPushButton("Deny")
            self.deny.setObjectName("deny")
            self.deny.clicked.connect(lambda: self._send(approved=False))
            self.approve = QPushButton("Approve")
            self.approve.setObjectName("approve")
            self.approve.clicked.connect(lambda: self._send(approved=True))
            row.addStretch(1)
            row.addWidget(self.deny)
            row.addWidget(self.approve)
        else:
            self.answer_box = QLineEdit()
            self.answer_box.setPlaceholderText("Your answer")
            self.answer_box.returnPressed.connect(self._send_text)
            self.send = QPushButton("Send")
            self.send.setObjectName("deny")
            self.send.clicked.connect(self._send_text)
            row.addWidget(self.answer_box, 1)
            row.addWidget(self.send)
        layout.addLayout(row)
        self.problem = QLabel()
        self.problem.setObjectName("reason")
        layout.addWidget(self.problem)

    def show_picture(self, image: QImage) -> None:
        self.picture.setPixmap(QPixmap.fromImage(image))

    def _send_text(self) -> None:
        assert self.answer_box is not None
        text = self.answer_box.text().strip()
        if not text:
            self.problem.setText("Write an answer first.")
            return
        self._send(text=text)

    def _send(self, *, approved: bool | None = None, text: str | None = None) -> None:
        if self.employee.answer(self.question.id, approved=approved, text=text):
            self.answered.emit(self.question.id)
        else:
            self.problem.setText("The employee is gone: it can no longer take an answer.")
