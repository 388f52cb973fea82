"""New task…: a goal in plain words or a task file, where it runs, a profile, and the budget.

Accepting checks everything first (an empty goal, a broken task file with its file:line
message, a goal with a profile that has no model); a problem stays in the dialog, in words.
On the fleet (offered when its broker answers), the worker's configuration picks the model and
the task file its budget: the profile and budget here are off.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from agent.config.profiles import Config, Profile, load_config, resolve_profile
from agent.desktop.app_entries import AppEntry
from agent.errors import AgentError
from ui.office.fleet_runs import FleetLink
from ui.office.placement import PlacementChooser
from ui.tray.request import TaskRequest, make_request

FROM_TASK = "from the task"


class TaskDialog(QDialog):
    def __init__(
        self,
        config: Config | None = None,
        parent: QWidget | None = None,
        apps: list[AppEntry] | None = None,
        fleet: FleetLink | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shain — new task")
        self.request: TaskRequest | None = None
        self.config, config_problem = self._config(config)

        self.by_goal = QRadioButton("A goal in plain words")
        self.by_file = QRadioButton("A task file")
        self.by_goal.setChecked(True)
        self.kind = QButtonGroup(self)
        self.kind.addButton(self.by_goal)
        self.kind.addButton(self.by_file)
        self.goal = QPlainTextEdit()
        self.goal.setPlaceholderText("e.g. Open Mousepad and write a note saying hello")
        self.goal.setFixedHeight(80)
        self.path = QLineEdit()
        self.path.setPlaceholderText("tasks/….yaml")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(self.browse)

        self.profile = QComboBox()
        names = sorted(self.config.profiles)
        self.profile.addItems(names or ["default"])
        if self.config.default_profile in names:
            self.profile.setCurrentText(self.config.default_profile)
        self.max_steps = self._spin(0, 10000, 50)
        self.max_seconds = self._spin(0, 24 * 3600, 600)
        self.max_seconds.setSuffix(" s")

        self.placement = PlacementChooser(apps, fleet=fleet is not None and fleet.reachable)
        self.placement.on_fleet.toggled.connect(self._fleet_chosen)
        form = QFormLayout()
        form.addRow("Where", self.placement)
        form.addRow("Profile", self.profile)
        form.addRow("Max steps", self.max_steps)
        form.addRow("Max seconds", self.max_seconds)
        self.problem = QLabel(config_problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.by_goal)
        layout.addWidget(self.goal)
        layout.addWidget(self.by_file)
        layout.addLayout(file_row)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.by_goal.toggled.connect(self._kind_chosen)
        self._kind_chosen()

    @staticmethod
    def _config(config: Config | None) -> tuple[Config, str]:
        if config is not None:
            return config, ""
        try:
            return load_config(), ""
        except AgentError as error:
            return Config(), f"{error} (using the default profile)"

    @staticmethod
    def _spin(low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSpecialValueText(FROM_TASK)  # shown at the minimum, 0
        spin.setValue(value)
        return spin

    def _kind_chosen(self) -> None:
        goal = self.by_goal.isChecked()
        self.goal.setEnabled(goal)
        self.path.setEnabled(not goal)
        self.browse.setEnabled(not goal)
        # a task file has its own budget; a goal gets the usual one
        self.max_steps.setValue(50 if goal else 0)
        self.max_seconds.setValue(600 if goal else 0)

    def _fleet_chosen(self, on_fleet: bool) -> None:
        for field in (self.profile, self.max_steps, self.max_seconds):
            field.setEnabled(not on_fleet)

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Task file", self.path.text(), "Task files (*.yaml *.yml);;All files (*)"
        )
        if chosen:
            self.path.setText(chosen)

    def chosen_profile(self) -> tuple[str, Profile]:
        name = self.profile.currentText()
        known = name if name in self.config.profiles else None
        return name, resolve_profile(self.config, known)

    def build_request(self) -> TaskRequest:
        """The request from what is filled in; AgentError (TaskFileError...) if it is wrong."""
        name, profile = self.chosen_profile()
        path_text = self.path.text().strip()
        if self.by_file.isChecked() and not path_text:
            raise AgentError("choose a task file")
        fleet_queue = self.placement.fleet_queue()
        local = fleet_queue is None  # on the fleet, the worker and the task file decide
        return make_request(
            goal=self.goal.toPlainText() if self.by_goal.isChecked() else None,
            path=Path(path_text).expanduser() if self.by_file.isChecked() else None,
            profile=profile,
            profile_name=name,
            max_steps=(self.max_steps.value() or None) if local else None,
            max_seconds=(self.max_seconds.value() or None) if local else None,
            own_screen=self.placement.choice() if local else None,
            fleet_queue=fleet_queue,
        )

    def accept(self) -> None:
        try:
            self.request = self.build_request()
        except AgentError as error:
            self.request = None
            self.problem.setText(str(error))
            return
        self.problem.clear()
        super().accept()
