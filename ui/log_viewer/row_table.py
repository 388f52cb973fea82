"""A QTableView for lists of records: whole rows are selected, one at a time, and Home/End go
to the first and last row (QTableView alone moves to the first and last column)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget


class RowTable(QTableView):
    def __init__(self, stretch_column: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stretch_column = stretch_column
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        self.horizontalHeader().setHighlightSections(False)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self._stretch_column, QHeaderView.ResizeMode.Stretch)

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        column = max(self.currentIndex().column(), 0)
        if rows and cursorAction == QAbstractItemView.CursorAction.MoveHome:
            return model.index(0, column)
        if rows and cursorAction == QAbstractItemView.CursorAction.MoveEnd:
            return model.index(rows - 1, column)
        return super().moveCursor(cursorAction, modifiers)
