"""Small building blocks the tabs share: read-only forms, tables, error labels, dialogs that do not block."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ruckus_agent.gui import theme


def value_label(text: str, *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(wrap)
    return label


def form_group(title: str, rows: Iterable[tuple[str, str]], *, name: str | None = None) -> QGroupBox:
    """A titled box of 'label: value' rows; values are selectable."""
    box = QGroupBox(title)
    if name:
        box.setObjectName(name)
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
    for key, value in rows:
        form.addRow(QLabel(f"{key}:"), value_label(value))
    return box


def read_only_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]] = (), *, stretch_last: bool = True
) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(stretch_last)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(str(value)))
    return table


def set_row(table: QTableWidget, row: int, values: Sequence[Any]) -> list[QTableWidgetItem]:
    items = []
    for c, value in enumerate(values):
        item = QTableWidgetItem(str(value))
        table.setItem(row, c, item)
        items.append(item)
    return items


class ErrorLabel(QLabel):
    """A field's validation message: empty and hidden when the field is fine."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, message: str | None) -> None:
        if message:
            pal = self.palette()
            pal.setColor(QPalette.ColorRole.WindowText, theme.error_color())
            self.setPalette(pal)
            self.setText(message)
            self.show()
        else:
            self.clear()
            self.hide()


async def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str | None:
    """A save dialog that does not block the loop (the dialog runs on Qt's loop; we await its answer)."""
    dialog = QFileDialog(parent, title, suggested, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def done(code: int) -> None:
        if not answer.done():
            files = dialog.selectedFiles()
            answer.set_result(files[0] if code and files else None)

    dialog.finished.connect(done)
    dialog.open()
    try:
        return await answer
    finally:
        dialog.deleteLater()
