"""New task… asks where: on a screen of its own (the office; the default) or on the boss's
own desktop. A screen of its own has a size, the apps to start on it (the installed ones,
searchable) and the one folder of the boss's it may work in. On a desktop Shain cannot drive
(Wayland without X), "on my desktop" is off, with the reason. With a fleet configured and its
broker answering, a third choice sends the task to the fleet, on a queue (`shain submit`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from agent.desktop.app_entries import AppEntry, installed_apps
from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem, TaskFileError
from agent.fleet.order import DEFAULT_QUEUE, valid_queue
from agent.geometry import Size
from ui.tray.request import OwnScreen, check_shared_folder

SIZES = ("1920x1080", "1280x720", "1366x768", "1600x900", "2560x1440")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


def desktop_problem() -> str | None:
    """Why tasks cannot run on the boss's own desktop here, or None when they can."""
    try:
        Screen.of_this_session()
    except EnvironmentProblem as problem:
        return str(problem).split(". Run on", 1)[0]
    return None


class PlacementChooser(QWidget):
    def __init__(
        self,
        apps: list[AppEntry] | None = None,
        parent: QWidget | None = None,
        *,
        fleet: bool = False,
    ) -> None:
        """`fleet`: whether a fleet's broker is configured and answering (the choice is
        offered only then)."""
        super().__init__(parent)
        self.own_screen = QRadioButton("On its own screen, in the background")
        self.my_desktop = QRadioButton("On my desktop (hands off while it works)")
        self.on_fleet = QRadioButton("On the fleet (a worker's screen, on another machine)")
        self.own_screen.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.own_screen)
        group.addButton(self.my_desktop)
        group.addButton(self.on_fleet)
        self.queue = QLineEdit(DEFAULT_QUEUE)
        self.queue.setToolTip("the queue of the workers that have what the task needs")
        self.fleet_options = QWidget()
        fleet_form = QFormLayout(self.fleet_options)
        fleet_form.setContentsMargins(18, 0, 0, 0)
        fleet_form.addRow("Queue", self.queue)
        self.fleet_options.setEnabled(False)
        self.on_fleet.toggled.connect(self.fleet_options.setEnabled)
        self.why_not_desktop = QLabel()
        self.why_not_desktop.setObjectName("subtle")
        self.why_not_desktop.setWordWrap(True)
        problem = desktop_problem()
        if problem is not None:
            self.my_desktop.setEnabled(False)
            self.why_not_desktop.setText(f"Not on your desktop: {problem}.")
        self.why_not_desktop.setVisible(problem is not None)

        self.screen_size = QComboBox()
        self.screen_size.addItems(SIZES)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search apps to start on its screen")
        self.search.textChanged.connect(self._filter)
        self.apps = QListWidget()
        self.apps.setFixedHeight(110)
        for entry in installed_apps() if apps is None else apps:
            item = QListWidgetItem(entry.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(ENTRY_ROLE, entry)
            item.setToolTip(entry.comment or entry.command_line)
            self.apps.addItem(item)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("a folder of yours it works in (its Documents)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.screen_options = QWidget()
        form = QFormLayout(self.screen_options)
        form.setContentsMargins(18, 0, 0, 0)
        form.addRow("Screen size", self.screen_size)
        form.addRow("Apps", self.search)
        form.addRow("", self.apps)
        form.addRow("Shared folder", folder_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.own_screen)
        layout.addWidget(self.screen_options)
        layout.addWidget(self.my_desktop)
        layout.addWidget(self.why_not_desktop)
        layout.addWidget(self.on_fleet)
        layout.addWidget(self.fleet_options)
        self.on_fleet.setVisible(fleet)
        self.fleet_options.setVisible(fleet)
        self.own_screen.toggled.connect(self.screen_options.setEnabled)

    def chosen_apps(self) -> list[AppEntry]:
        return [
            self.apps.item(row).data(ENTRY_ROLE)
            for row in range(self.apps.count())
            if self.apps.item(row).checkState() == Qt.CheckState.Checked
        ]

    def fleet_queue(self) -> str | None:
        """The fleet's queue when the task goes to the fleet, else None; TaskFileError when
        the queue's name will not do."""
        if not self.on_fleet.isChecked():
            return None
        queue = self.queue.text().strip()
        if not valid_queue(queue):
            raise TaskFileError(f"the queue {queue!r}: queue names are letters, digits, _ . -")
        return queue

    def choice(self) -> OwnScreen | None:
        """Where the task goes: a screen of its own, or None for the boss's desktop.
        TaskFileError when the shared folder will not do."""
        if not self.own_screen.isChecked():
            return None
        width, _, height = self.screen_size.currentText().partition("x")
        text = self.folder.text().strip()
        shared = check_shared_folder(text) if text else None
        return OwnScreen(Size(int(width), int(height)), tuple(self.chosen_apps()), shared)

    def _filter(self, text: str) -> None:
        for row in range(self.apps.count()):
            item = self.apps.item(row)
            entry: AppEntry = item.data(ENTRY_ROLE)
            item.setHidden(bool(text.strip()) and not entry.matches(text))

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "The folder to share", self.folder.text())
        if chosen:
            self.folder.setText(chosen)
