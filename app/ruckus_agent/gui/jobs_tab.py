"""Jobs tab: a submit form with messages next to its fields, the queue with progress and Cancel, the job
history from storage (paged, filtered by status, live from job events) and the selected job's detail."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.forms import FormInput, check_form, errors_by_field, parameter_defaults, parameter_help
from ruckus_agent.gui.job_detail import JobDetail
from ruckus_agent.gui.widgets import ErrorLabel, read_only_table
from ruckus_agent.jobs.errors import JobError
from ruckus_agent.jobs.tasks import load_task_class
from ruckus_agent.models.jobs import JobState, JobStatus

PAGE_SIZE = 50
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class SubmitForm(QGroupBox):
    """Fields of a JobRequest; checked as you type with the task type's own parameter model."""

    submitted = Signal(object)  # JobState

    def __init__(self, agent: Agent, parent: QWidget | None = None) -> None:
        super().__init__("Submit a job", parent)
        self.agent = agent
        self.errors: dict[str, ErrorLabel] = {}
        self._defaults_text = ""
        form = QFormLayout(self)

        self.task_combo = QComboBox()
        self.task_combo.addItems(agent.jobs.task_types())
        self.task_combo.currentTextChanged.connect(self._task_changed)
        self._add(form, "Task type:", self.task_combo, "task_type")
        self.description = QLabel("")
        self.description.setWordWrap(True)
        form.addRow("", self.description)
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("model name in the model directory (LLM tasks)")
        self._add(form, "Model:", self.model_edit, "model")
        self.experiment_edit = QLineEdit()
        self.experiment_edit.setPlaceholderText("optional")
        self._add(form, "Experiment id:", self.experiment_edit, "experiment_id")
        self.runs_spin = QSpinBox()
        self.runs_spin.setRange(1, 1000)
        self.runs_spin.setToolTip("Run 0 is the cold start; statistics cover runs 1..N-1")
        self._add(form, "Runs per job:", self.runs_spin, "runs_per_job")
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(1, 7 * 24 * 3600)
        self.timeout_spin.setDecimals(0)
        self.timeout_spin.setValue(3600)
        self.timeout_spin.setSuffix(" s")
        self._add(form, "Timeout:", self.timeout_spin, "timeout_seconds")
        self.params_edit = QPlainTextEdit()
        self.params_edit.setObjectName("parametersEdit")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.params_edit.setFont(mono)
        self.params_edit.setMinimumHeight(90)
        self._add(form, "Parameters (JSON):", self.params_edit, "parameters")
        self.params_help = QLabel("")
        self.params_help.setWordWrap(True)
        self.params_help.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.params_help)
        self.form_error = ErrorLabel()
        form.addRow(self.form_error)
        row = QHBoxLayout()
        self.submit_button = QPushButton("Submit")
        self.submit_button.clicked.connect(self.submit_clicked)
        row.addWidget(self.submit_button)
        self.result_label = QLabel("")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.result_label, 1)
        form.addRow(row)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self.check)
        for signal in (
            self.params_edit.textChanged,
            self.model_edit.textChanged,
            self.experiment_edit.textChanged,
            self.runs_spin.valueChanged,
            self.timeout_spin.valueChanged,
        ):
            signal.connect(self._check_timer.start)
        default = "noop" if "noop" in agent.jobs.task_types() else self.task_combo.currentText()
        self.task_combo.setCurrentText(default)
        self._task_changed(self.task_combo.currentText())

    def _add(self, form: QFormLayout, label: str, widget: QWidget, key: str) -> None:
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        error = ErrorLabel()
        error.setObjectName(f"error_{key}")
        box.addWidget(error)
        self.errors[key] = error
        form.addRow(label, box)

    def _params_model(self, task_type: str) -> Any:
        try:
            return load_task_class(task_type, self.agent.jobs.plugins).params_model
        except Exception:
            return None

    def _task_changed(self, task_type: str) -> None:
        model = self._params_model(task_type)
        cls = None
        try:
            cls = load_task_class(task_type, self.agent.jobs.plugins)
        except Exception:
            pass
        self.description.setText(getattr(cls, "description", "") or "")
        self.params_help.setText(parameter_help(model) if model is not None else "")
        current = self.params_edit.toPlainText().strip()
        if not current or current == self._defaults_text.strip():
            self._defaults_text = json.dumps(parameter_defaults(model) if model else {}, indent=2)
            self.params_edit.setPlainText(self._defaults_text)
        self.check()

    def form_input(self) -> FormInput:
        return FormInput(
            task_type=self.task_combo.currentText(),
            parameters_text=self.params_edit.toPlainText(),
            model=self.model_edit.text(),
            experiment_id=self.experiment_edit.text(),
            runs_per_job=self.runs_spin.value(),
            timeout_seconds=self.timeout_spin.value(),
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, label in self.errors.items():
            label.show_error(errors.get(key))
        self.form_error.show_error(errors.get("form"))

    def check(self) -> bool:
        """Validate now; show each problem next to its field."""
        result = check_form(self.form_input(), self._params_model(self.task_combo.currentText()))
        self.show_errors(result.errors)
        self.submit_button.setEnabled(result.ok)
        return result.ok

    @asyncSlot()
    async def submit_clicked(self) -> None:
        await self.submit()

    async def submit(self) -> JobState | None:
        result = check_form(self.form_input(), self._params_model(self.task_combo.currentText()))
        self.show_errors(result.errors)
        if not result.ok or result.request is None:
            return None
        self.submit_button.setEnabled(False)
        try:
            state = await self.agent.submit_job(result.request)
        except JobError as exc:  # the agent's own checks (queue full, shutting down, task not allowed)
            details = exc.details if isinstance(exc.details, list) else []
            errors = errors_by_field(details) if details else {}
            errors.setdefault("form", exc.message)
            self.show_errors(errors)
            return None
        finally:
            self.submit_button.setEnabled(True)
        self.result_label.setText(f"Submitted {state.job_id} ({state.status})")
        self.submitted.emit(state)
        return state


class QueueView(QGroupBox):
    """Queued and running jobs, each with a progress bar (runs done of runs total) and a Cancel button."""

    job_selected = Signal(str)

    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__("Queue", parent)
        self.agent = agent
        self.rows: dict[str, JobState] = {}
        layout = QVBoxLayout(self)
        self.table = read_only_table(["Job", "Task", "Status", "Progress", ""], stretch_last=False)
        self.table.setObjectName("queueTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.cellClicked.connect(lambda row, _col: self._clicked(row))
        layout.addWidget(self.table)
        self.empty = QLabel("No job queued or running.")
        layout.addWidget(self.empty)
        bridge.job_changed.connect(self.on_job)

    @asyncSlot()
    async def load(self) -> None:
        status = self.agent.status()
        for job_id in [*status.running_jobs, *status.queued_jobs]:
            try:
                self.on_job(await self.agent.job_state(job_id))
            except Exception:
                continue

    def on_job(self, state: JobState) -> None:
        if state.status in ACTIVE:
            self.rows[state.job_id] = state
        else:
            self.rows.pop(state.job_id, None)
        self._render()

    def _render(self) -> None:
        table = self.table
        states = sorted(self.rows.values(), key=lambda s: (s.status != JobStatus.RUNNING, s.submitted_at))
        if table.rowCount() != len(states):
            table.setRowCount(len(states))
        for row, s in enumerate(states):
            for col, text in enumerate([s.job_id, s.task_type or "", f"{s.status} · {s.stage or ''}"]):
                item = table.item(row, col)
                if item is None:
                    table.setItem(row, col, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
            bar = table.cellWidget(row, 3)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar()
                bar.setFormat("%v/%m runs")
                table.setCellWidget(row, 3, bar)
            bar.setRange(0, max(1, s.runs_total))
            bar.setValue(s.runs_completed)
            button = table.cellWidget(row, 4)
            if not isinstance(button, QPushButton):
                button = QPushButton("Cancel")
                table.setCellWidget(row, 4, button)
            button.setProperty("job_id", s.job_id)
            if not button.property("wired"):
                button.setProperty("wired", True)
                button.clicked.connect(lambda _=False, b=button: self.cancel(str(b.property("job_id"))))
        self.empty.setVisible(not states)

    def progress_of(self, job_id: str) -> tuple[int, int] | None:
        """(value, maximum) of a job's progress bar, for tests and tooltips."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == job_id:
                bar = self.table.cellWidget(row, 3)
                if isinstance(bar, QProgressBar):
                    return bar.value(), bar.maximum()
        return None

    def _clicked(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.job_selected.emit(item.text())

    @asyncSlot(str)
    async def cancel(self, job_id: str) -> None:
        try:
            state = await self.agent.cancel_job(job_id)
        except JobError:
            return  # finished meanwhile: its final event updates the table
        self.on_job(state)


class HistoryView(QGroupBox):
    """Every job in storage, newest first: a page at a time, filtered by status, updated from job events."""

    job_selected = Signal(str)
    HEADERS = ["Job", "Task", "Status", "Runs", "Submitted", "Duration", "Error"]

    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__("History", parent)
        self.agent = agent
        self.offset = 0
        self.total = 0
        self.states: list[JobState] = []
        self._reloading = False
        self._again = False
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Status:"))
        self.status_combo = QComboBox()
        self.status_combo.addItem("all", None)
        for status in JobStatus:
            self.status_combo.addItem(str(status), str(status))
        self.status_combo.currentIndexChanged.connect(self._filter_changed)
        bar.addWidget(self.status_combo)
        bar.addStretch(1)
        self.prev_button = QPushButton("◀ Newer")
        self.next_button = QPushButton("Older ▶")
        self.prev_button.clicked.connect(lambda: self.go(-1))
        self.next_button.clicked.connect(lambda: self.go(+1))
        self.page_label = QLabel("")
        bar.addWidget(self.prev_button)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)
        layout.addLayout(bar)
        self.table = read_only_table(self.HEADERS)
        self.table.setObjectName("historyTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.reload)
        bridge.job_changed.connect(self.on_job)

    @property
    def status_filter(self) -> str | None:
        data = self.status_combo.currentData()
        return str(data) if data else None

    def on_job(self, state: JobState) -> None:
        """Update the job's row at once if shown; a job new to this page reloads it (debounced)."""
        for row, shown in enumerate(self.states):
            if shown.job_id == state.job_id:
                if self.status_filter in (None, str(state.status)):
                    self.states[row] = state
                    self._fill_row(row, state)
                else:
                    self._debounce.start()
                return
        if self.offset == 0 and self.status_filter in (None, str(state.status)):
            self._debounce.start()

    def _filter_changed(self, _index: int) -> None:
        self.offset = 0
        self.reload()

    def go(self, pages: int) -> None:
        self.offset = max(0, self.offset + pages * PAGE_SIZE)
        self.reload()

    @asyncSlot()
    async def reload(self) -> None:
        if self._reloading:  # one at a time; the latest wish runs after
            self._again = True
            return
        self._reloading = True
        try:
            while True:
                self._again = False
                states, total = await self.agent.list_jobs(
                    self.status_filter, limit=PAGE_SIZE, offset=self.offset
                )
                if not self._again:
                    break
        except Exception:
            return
        finally:
            self._reloading = False
        self.show_page(states, total)

    def show_page(self, states: list[JobState], total: int) -> None:
        selected = self.selected_job()
        self.states, self.total = states, total
        self.table.blockSignals(True)
        self.table.setRowCount(len(states))
        for row, state in enumerate(states):
            self._fill_row(row, state)
        self.table.blockSignals(False)
        if selected:
            for row, state in enumerate(states):
                if state.job_id == selected:
                    self.table.blockSignals(True)
                    self.table.selectRow(row)
                    self.table.blockSignals(False)
        first = self.offset + 1 if states else 0
        self.page_label.setText(f"{first}-{self.offset + len(states)} of {total}")
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + len(states) < total)

    def _fill_row(self, row: int, s: JobState) -> None:
        took = (s.completed_at - s.started_at).total_seconds() if s.completed_at and s.started_at else None
        cells = [
            s.job_id,
            s.task_type or "",
            str(s.status),
            f"{s.runs_completed}/{s.runs_total}",
            fmt.when(s.submitted_at),
            fmt.duration(took),
            s.error or "",
        ]
        for col, text in enumerate(cells):
            item = self.table.item(row, col)
            if item is None:
                self.table.setItem(row, col, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)

    def selected_job(self) -> str | None:
        rows = {i.row() for i in self.table.selectedItems()}
        if not rows:
            return None
        row = min(rows)
        return self.states[row].job_id if row < len(self.states) else None

    def _selected(self) -> None:
        job_id = self.selected_job()
        if job_id:
            self.job_selected.emit(job_id)


class JobsTab(QWidget):
    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.bridge = bridge  # keep it alive as long as the widget
        self._started = False
        self.form = SubmitForm(agent)
        self.queue = QueueView(agent, bridge)
        self.history = HistoryView(agent, bridge)
        self.detail = JobDetail(agent, bridge)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.form)
        ll.addWidget(self.queue, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.history)
        detail_box = QGroupBox("Job detail")
        dl = QVBoxLayout(detail_box)
        dl.addWidget(self.detail)
        right.addWidget(detail_box)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        layout = QHBoxLayout(self)
        layout.addWidget(split)

        self.history.job_selected.connect(self.detail.load)
        self.queue.job_selected.connect(self.detail.load)
        self.form.submitted.connect(lambda state: self.detail.load(state.job_id))
        bridge.state_changed.connect(self._state_changed)
        if agent.state in ("idle", "busy"):
            self.start()

    def _state_changed(self, state: str) -> None:
        if state in ("idle", "busy") and not self._started:
            self.start()

    def start(self) -> None:
        """Storage is open: fill the queue and the first history page."""
        self._started = True
        self.queue.load()
        self.history.reload()
