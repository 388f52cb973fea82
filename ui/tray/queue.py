"""The task queue: tasks wait in order, one runs at a time, the next starts when it ends.

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

    def __init__(self, start: Callable[[QueuedTask], None]) -> None:
        super().__init__()
        self._start = start
        self._tasks: list[QueuedTask] = []  # the running one (if any) first
        self._running: QueuedTask | None = None
        self._ids = itertools.count(1)

    @property
    def running(self) -> QueuedTask | None:
        return self._running

    @property
    def tasks(self) -> list[QueuedTask]:
        return list(self._tasks)

    @property
    def waiting(self) -> list[QueuedTask]:
        return [task for task in self._tasks if task is not self._running]

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
            if task.id == task_id and task is not self._running:
                self._remove_row(row)
                return True
        return False

    def task_finished(self, task_id: int) -> None:
        if self._running is None or self._running.id != task_id:
            return
        row = self._tasks.index(self._running)
        self._running = None
        self._remove_row(row)
        self._start_next()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._tasks)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._tasks):
            return None
        task = self._tasks[index.row()]
        running = task is self._running
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
        if self._running is not None or not self._tasks:
            return
        self._running = self._tasks[0]
        top = self.index(0, 0)
        self.dataChanged.emit(top, top)
        self.changed.emit()
        self._start(self._running)
