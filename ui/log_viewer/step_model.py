"""The step timeline: a table model over one run's steps, fed events as they arrive, and a
proxy that can keep only the problem steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from agent.record.deciders import describe_decider
from agent.record.events import LoggedEvent
from agent.record.formatting import duration_text
from agent.record.steps import StepFolder, StepInfo
from ui.log_viewer.column_model import ColumnTableModel, Index
from ui.widgets.style import status_colours

STEP_ROLE = Qt.ItemDataRole.UserRole + 10
COLUMNS = ("Step", "Action", "Duration", "Status", "By")


class StepsModel(ColumnTableModel):
    """One row per step, in step order. `feed()` appends rows and updates changed ones
    in place, so views keep their selection while a run is followed."""

    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.folder = StepFolder()
        self._rows = 0
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def steps(self) -> list[StepInfo]:
        return self.folder.steps

    def feed(self, events: Iterable[LoggedEvent]) -> int:
        """Fold in new events; returns how many steps were added."""
        # The folder grows first; views see the new rows only once `_rows` follows it,
        # between beginInsertRows and endInsertRows.
        before = self._rows
        added, changed = self.folder.feed(events)
        if added:
            self.beginInsertRows(QModelIndex(), before, before + added - 1)
            self._rows = len(self.steps)
            self.endInsertRows()
        last = len(COLUMNS) - 1
        for row in sorted(changed):
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))
        return added

    def row_count(self) -> int:
        return self._rows

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._rows:
            return None
        step = self.steps[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(step, column)
        if role == STEP_ROLE:
            return step.number
        if role == Qt.ItemDataRole.ToolTipRole and column == 4:
            return describe_decider(step.by) if step.by is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(step.action_lines + step.errors)
        if role == Qt.ItemDataRole.ForegroundRole and (column == 3 or step.is_problem):
            return status_colours(step.status)[0]
        if role == Qt.ItemDataRole.BackgroundRole and step.is_problem:
            return status_colours(step.status)[1]
        if role == Qt.ItemDataRole.FontRole and column == 3 and step.is_problem:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def step_at(self, row: int) -> StepInfo | None:
        return self.steps[row] if 0 <= row < self._rows else None


def _display(step: StepInfo, column: int) -> str:
    match column:
        case 0:
            return str(step.number)
        case 1:
            return "\n".join(step.action_lines)
        case 2:
            return duration_text(step.seconds)
        case 3:
            return step.status
        case _:
            return step.by.kind if step.by is not None else ""


class ProblemFilter(QSortFilterProxyModel):
    """Passes every step, or with `only_problems` just the failed and rejected ones."""

    def __init__(self) -> None:
        super().__init__()
        self._only_problems = False

    @property
    def only_problems(self) -> bool:
        return self._only_problems

    def set_only_problems(self, only: bool) -> None:
        self.beginFilterChange()
        self._only_problems = only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._only_problems:
            return True
        model = self.sourceModel()
        step = model.step_at(source_row) if isinstance(model, StepsModel) else None
        return step is not None and step.is_problem
