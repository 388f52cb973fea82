"""The task queue: tasks wait in order; up to `slots` run at once (one on the boss's desktop,
several in the office), and the next starts when one ends.

The queue does not run anything itself: `start` (the app's, or a test's fake) is called with the
task to run, and whoever runs it calls `task_finished` when it has ended.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

ID_ROLE = Qt.ItemDataRole.UserRole + 1
RUNNING_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class QueuedTask:
    id: int
    label: str
    payload: Any  # what `start` needs: a TaskRequest in the app


class TaskQueue(QAbstractListModel):
    changed = Signal()  # a task was added, removed, started or finished

    def __init__(self, start: Callable[[QueuedTask], None], slots: int = 1) -> None:
        super().__init__()
        self._start = start
        self.slots = slots
        self._tasks: list[QueuedTask] = []  # the running ones first, in the order they started
        self._running: list[QueuedTask] = []
        self._ids = itertools.count(1)

    @property
    def running(self) -> QueuedTask | None:
        """The task that started first of those running."""
        return self._running[0] if self._running else None

    @property
    def running_tasks(self) -> list[QueuedTask]:
        return list(self._running)

    @property
    def tasks(self) -> list[QueuedTask]:
        return list(self._tasks)

    @property
    def waiting(self) -> list[QueuedTask]:
        return [task for task in self._tasks if task not in self._running]

    def set_slots(self, slots: int) -> None:
        """How many may run at once from now on (the running ones go on)."""
        self.slots = max(1, slots)
        self._start_next()

    def add(self, label: str, payload: Any) -> QueuedTask:
        task = QueuedTask(next(self._ids), label, payload)
        row = len(self._tasks)
        self.beginInsertRows(QModelIndex(), row, row)
        self._tasks.append(task)
        self.endInsertRows()
        self.changed.emit()
        self._start_next()
        return task

    def remove(self, task_id: int) -> bool:
        """Take a waiting task off the queue; the running one is stopped, not removed."""
        for row, task in enumerate(self._tasks):
            if task.id == task_id and task not in self._running:
                self._remove_row(row)
                return True
        return False

    def task_finished(self, task_id: int) -> None:
        finished = next((task for task in self._running if task.id == task_id), None)
        if finished is None:
            return
        row = self._tasks.index(finished)
        self._running.remove(finished)
        self._remove_row(row)
        self._start_next()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._tasks)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._tasks):
            return None
        task = self._tasks[index.row()]
        running = task in self._running
        if role == Qt.ItemDataRole.DisplayRole:
            return f"▶ {task.label}" if running else task.label
        if role == ID_ROLE:
            return task.id
        if role == RUNNING_ROLE:
            return running
        return None

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._tasks[row]
        self.endRemoveRows()
        self.changed.emit()

    def _start_next(self) -> None:
        while len(self._running) < self.slots and len(self._running) < len(self._tasks):
            task = self._tasks[len(self._running)]  # the first waiting one
            self._running.append(task)
            row = self.index(len(self._running) - 1, 0)
            self.dataChanged.emit(row, row)
            self.changed.emit()
            self._start(task)
