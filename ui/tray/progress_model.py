"""What the progress window shows of a run: its steps so far (a list model over the one fold
of a run's events, agent/record/steps.py, newest last), and frames as QImages.

Nothing here calls back into the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

from agent.desktop.protocol import Frame
from agent.record.describe import describe_logged
from agent.record.events import Event, RunStarted
from agent.record.formatting import duration_text
from agent.record.steps import PENDING, StepFolder, StepInfo

Index = QModelIndex | QPersistentModelIndex

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1
THOUGHT_ROLE = Qt.ItemDataRole.UserRole + 2
ACTIONS_ROLE = Qt.ItemDataRole.UserRole + 3
DURATION_ROLE = Qt.ItemDataRole.UserRole + 4
STATUS_ROLE = Qt.ItemDataRole.UserRole + 5
RUNNING = "running"  # a step still going, as the window says it


def frame_image(frame: Frame) -> QImage:
    """A QImage that owns a copy of the frame's BGRA pixels (the capture buffer is reused)."""
    pixels = np.ascontiguousarray(frame.pixels)
    height, width = pixels.shape[:2]
    # BGRA bytes are 0xAARRGGBB words on little-endian machines; RGB32 ignores the alpha byte.
    view = QImage(pixels.data, width, height, int(pixels.strides[0]), QImage.Format.Format_RGB32)
    return view.copy()


@dataclass(frozen=True)
class StepRow:
    """A step as a card in the window: what happened in it, in the order it happened."""

    step: StepInfo

    @property
    def number(self) -> int:
        return self.step.number

    @property
    def thought(self) -> str:
        return self.step.thought.strip()

    @property
    def actions(self) -> list[str]:
        # In a step a rejected reply comes alone; else actions go until one fails or is
        # refused (by the guard, or by the boss).
        step = self.step
        lines = [f"reply rejected: {error}" for error in step.rejections]
        for outcome in step.outcomes:
            text = describe_logged(outcome.action)
            lines.append(text if outcome.ok else f"{text} — failed: {outcome.error}")
        lines += [
            f"{describe_logged(refusal.action)} — refused: {refusal.reason}"
            for refusal in step.refusals
        ]
        for request in step.denials:
            asked = f"{describe_logged(request.action)} — " if request.action else ""
            lines.append(f"{asked}not approved: {request.reason}")
        return lines

    @property
    def action_text(self) -> str:
        return "\n".join(self.actions) or "…"

    @property
    def seconds(self) -> float:
        """Capture, decide, act and settle, as measured by the run."""
        return self.step.measured_seconds

    @property
    def status(self) -> str:  # ok | failed | rejected | running
        status = self.step.status
        return RUNNING if status == PENDING else status


class StepListModel(QAbstractListModel):
    """One row per step of the current run, in order; `on_event` appends and updates rows.
    A new run (RunStarted) starts a new fold."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = StepFolder()
        self._rows = 0  # rows the views know of: the fold grows first

    @property
    def rows(self) -> list[StepRow]:
        return [StepRow(step) for step in self.folder.steps[: self._rows]]

    def clear(self) -> None:
        self.beginResetModel()
        self.folder = StepFolder()
        self._rows = 0
        self.endResetModel()

    def on_event(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.clear()
        before = self._rows
        added, changed = self.folder.feed([event])
        if added:
            self.beginInsertRows(QModelIndex(), before, before + added - 1)
            self._rows = len(self.folder.steps)
            self.endInsertRows()
        for row in sorted(changed):
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._rows:
            return None
        step = StepRow(self.folder.steps[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            thought = f"{step.thought}\n" if step.thought else ""
            return f"Step {step.number}: {thought}{step.action_text}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n\n".join(part for part in (step.thought, step.action_text) if part)
        if role == NUMBER_ROLE:
            return step.number
        if role == THOUGHT_ROLE:
            return step.thought
        if role == ACTIONS_ROLE:
            return step.action_text
        if role == DURATION_ROLE:
            return duration_text(step.seconds) if step.seconds else ""
        if role == STATUS_ROLE:
            return step.status
        return None
