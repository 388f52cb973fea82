"""Layouts the live windows share: a title with a pill, a titled column (the steps) beside a
screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from ui.widgets.elided_label import ElidedLabel


def heading(text: str) -> tuple[QHBoxLayout, ElidedLabel, QLabel]:
    """A window's title line: the title, and a status pill at its right (hidden at first)."""
    title = ElidedLabel(text)
    title.setObjectName("title")
    pill = QLabel()
    pill.setObjectName("pill")
    pill.hide()
    row = QHBoxLayout()
    row.addWidget(title, 1)
    row.addWidget(pill)
    return row, title, pill


def titled_column(title: str, body: QWidget, *below: QWidget) -> QWidget:
    """`body` under a section title, taking the height left; `below` under it."""
    heading = QLabel(title)
    heading.setObjectName("sectionTitle")
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(heading)
    layout.addWidget(body, 1)
    for widget in below:
        layout.addWidget(widget)
    return column


def screen_beside(screen: QWidget, side: QWidget, side_share: int, sizes: list[int]) -> QSplitter:
    """The screen on the left (3 parts of the width to the side's `side_share`)."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(screen)
    splitter.addWidget(side)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, side_share)
    splitter.setSizes(sizes)
    return splitter
