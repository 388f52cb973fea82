"""What the progress window shows, folded from a run's events: the steps so far (a list model,
newest last), what the run has spent against its budget, and frames as QImages.

Plain folding of agent.record.events; nothing here calls back into the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

from agent.actions import describe_action
from agent.desktop.protocol import Frame
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    Decided,
    Event,
    Observed,
    ReplyRejected,
    RunFinished,
    RunStarted,
    StepStarted,
)
from agent.record.formatting import duration_text

Index = QModelIndex | QPersistentModelIndex

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1
THOUGHT_ROLE = Qt.ItemDataRole.UserRole + 2
ACTIONS_ROLE = Qt.ItemDataRole.UserRole + 3
DURATION_ROLE = Qt.ItemDataRole.UserRole + 4
STATUS_ROLE = Qt.ItemDataRole.UserRole + 5


def frame_image(frame: Frame) -> QImage:
    """A QImage that owns a copy of the frame's BGRA pixels (the capture buffer is reused)."""
    pixels = np.ascontiguousarray(frame.pixels)
    height, width = pixels.shape[:2]
    # BGRA bytes are 0xAARRGGBB words on little-endian machines; RGB32 ignores the alpha byte.
    view = QImage(pixels.data, width, height, int(pixels.strides[0]), QImage.Format.Format_RGB32)
    return view.copy()


@dataclass
class StepRow:
    number: int
    thought: str = ""
    actions: list[str] = field(default_factory=list)
    seconds: float = 0.0  # capture + decide + act + settle, as measured by the run
    status: str = "running"  # running | ok | failed | rejected

    @property
    def action_text(self) -> str:
        return "\n".join(self.actions) if self.actions else "…"


class StepListModel(QAbstractListModel):
    """One row per step of the current run, in order; `on_event` appends and updates rows."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StepRow] = []

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def on_event(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.clear()
            return
        if isinstance(event, StepStarted):
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
            self.rows.append(StepRow(event.step))
            self.endInsertRows()
            return
        row = self._row_of(event)
        if row is None:
            return
        step = self.rows[row]
        match event:
            case Observed(capture_seconds=seconds):
                step.seconds += seconds
            case Decided(thought=thought, decide_seconds=seconds):
                step.thought = thought.strip()
                step.seconds += seconds
            case ReplyRejected(error=error, decide_seconds=seconds):
                step.seconds += seconds
                step.actions.append(f"reply rejected: {error}")
                step.status = "rejected"
            case ActionExecuted(action=action, action_seconds=acting, settle_seconds=settling):
                step.actions.append(describe_action(action))
                step.seconds += acting + settling
                if step.status == "running":
                    step.status = "ok"
            case ActionFailed(action=action, error=error):
                step.actions.append(f"{describe_action(action)} — failed: {error}")
                step.status = "failed"
            case ActionRejected(action=action, reason=reason):
                step.actions.append(f"{describe_action(action)} — refused: {reason}")
                step.status = "rejected"
            case _:
                return
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _row_of(self, event: Event) -> int | None:
        step = getattr(event, "step", None)
        if not self.rows or step is None:
            return None
        if self.rows[-1].number == step:
            return len(self.rows) - 1
        for row, info in enumerate(self.rows):
            if info.number == step:
                return row
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        step = self.rows[index.row()]
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


@dataclass
class Spent:
    """What the current run has used so far, from its events."""

    steps: int = 0
    seconds: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    started_at: float | None = None

    def on_event(self, event: Event) -> None:
        match event:
            case RunStarted(at=at):
                self.steps, self.seconds, self.tokens, self.cost_usd = 0, 0.0, 0, 0.0
                self.started_at = at
                return
            case StepStarted(step=step):
                self.steps = max(self.steps, step)
            case Decided(input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost):
                self.tokens += tokens_in + tokens_out
                self.cost_usd += cost
            case RunFinished(steps=steps, seconds=seconds, cost_usd=cost):
                self.steps, self.seconds = steps, seconds
                self.tokens = max(self.tokens, event.input_tokens + event.output_tokens)
                self.cost_usd = max(self.cost_usd, cost)
                return
        if self.started_at is not None:
            self.seconds = max(self.seconds, event.at - self.started_at)
