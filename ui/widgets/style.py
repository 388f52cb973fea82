"""Colours, the style sheet and the number formats of the log viewer (durations: agent)."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor

from agent.record.status import RunStatus
from agent.record.steps import FAILED, OK, PENDING, REJECTED

# Run statuses -> (text colour, pale background): every one has its own.
RUN_STATUS_COLOURS: dict[RunStatus, tuple[str, str]] = {
    RunStatus.SUCCESS: ("#1a7f37", "#dafbe1"),
    RunStatus.FAILED: ("#cf222e", "#ffebe9"),
    RunStatus.CRASHED: ("#82071e", "#ffcecb"),
    RunStatus.STOPPED: ("#9a6700", "#fff8c5"),
    RunStatus.BAD_INPUT: ("#8250df", "#fbefff"),
    RunStatus.ENVIRONMENT_ERROR: ("#8250df", "#fbefff"),
    RunStatus.INCOMPLETE: ("#0969da", "#ddf4ff"),
}
# Step statuses (agent/record/steps.py) and run statuses -> colours.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    **{status.value: colours for status, colours in RUN_STATUS_COLOURS.items()},
    OK: RUN_STATUS_COLOURS[RunStatus.SUCCESS],
    FAILED: RUN_STATUS_COLOURS[RunStatus.FAILED],
    REJECTED: ("#bc4c00", "#fff1e5"),
    PENDING: RUN_STATUS_COLOURS[RunStatus.INCOMPLETE],
}
NEUTRAL = ("#57606a", "#f6f8fa")

# What the overlays are drawn in: a red that stands out on most screens, outlined in white.
MARKER_COLOUR = QColor("#ff1f5a")
OUTLINE_COLOUR = QColor(255, 255, 255, 230)
CAPTION_BACKGROUND = QColor(20, 24, 31, 215)

STYLE_SHEET = """
QMainWindow, QWidget#page { background: #ffffff; }
QWidget { font-size: 10pt; color: #1f2328; }
QLabel#title { font-size: 14pt; font-weight: 600; }
QLabel#subtle { color: #57606a; }
QLabel#pill { border-radius: 9px; padding: 2px 10px; font-weight: 600; }
QLabel#sectionTitle { font-weight: 600; color: #57606a; text-transform: uppercase; }
QLabel#metricValue { font-size: 12pt; font-weight: 600; }
QLabel#metricName { color: #57606a; font-size: 9pt; }
QFrame#metric { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
QTableView {
    border: 1px solid #d0d7de; border-radius: 6px; gridline-color: #eaeef2;
    selection-background-color: #0969da; selection-color: #ffffff;
    alternate-background-color: #f6f8fa;
}
QHeaderView::section {
    background: #f6f8fa; border: none; border-bottom: 1px solid #d0d7de;
    padding: 4px 6px; font-weight: 600; color: #57606a;
}
QLineEdit, QComboBox { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 8px; }
QPlainTextEdit {
    border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa;
    font-family: "DejaVu Sans Mono", monospace; font-size: 9pt;
}
QTabWidget::pane { border: none; }
QSplitter::handle { background: #eaeef2; }
"""


def status_colours(status: str) -> tuple[QColor, QColor]:
    text, background = STATUS_COLOURS.get(status, NEUTRAL)
    return QColor(text), QColor(background)


def pill_style(status: str) -> str:
    text, background = STATUS_COLOURS.get(status, NEUTRAL)
    return f"color: {text}; background: {background};"


def tokens_text(tokens: int) -> str:
    if tokens >= 10_000:
        return f"{tokens / 1000:.0f}k"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k"
    return str(tokens)


def cost_text(cost: float) -> str:
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


def when_text(at: float | None, short: bool = False) -> str:
    if at is None:
        return "–"
    return time.strftime("%b %d %H:%M" if short else "%Y-%m-%d %H:%M:%S", time.localtime(at))


# An office employee's state (ui/office/office.py) -> colours, from the ones runs use.
EMPLOYEE_STATE_COLOURS: dict[str, tuple[str, str]] = {
    "waiting": NEUTRAL,
    "starting": NEUTRAL,
    "working": RUN_STATUS_COLOURS[RunStatus.INCOMPLETE],
    "needs you": STATUS_COLOURS[REJECTED],
    "paused": RUN_STATUS_COLOURS[RunStatus.STOPPED],
    "taken over": RUN_STATUS_COLOURS[RunStatus.BAD_INPUT],
    "done": RUN_STATUS_COLOURS[RunStatus.SUCCESS],
    "failed": RUN_STATUS_COLOURS[RunStatus.FAILED],
    "stopped": RUN_STATUS_COLOURS[RunStatus.STOPPED],
    "crashed": RUN_STATUS_COLOURS[RunStatus.CRASHED],
}


def employee_pill_style(state: str) -> str:
    text, background = EMPLOYEE_STATE_COLOURS.get(state, NEUTRAL)
    return f"color: {text}; background: {background};"
