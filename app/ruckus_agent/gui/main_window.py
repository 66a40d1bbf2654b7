"""The main window: four tabs over one Agent, a status bar with the API address and token, and its own
size, position and tab remembered between runs (QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QToolButton, QWidget

from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui import theme
from ruckus_agent.gui.bench_tab import BenchmarksTab
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.jobs_tab import JobsTab
from ruckus_agent.gui.monitor_tab import MonitorTab
from ruckus_agent.gui.system_tab import SystemTab

ORGANIZATION = "RUCKUS"
APPLICATION = "ruckus-agent"
DEFAULT_SIZE = (1280, 820)


def default_settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


class ApiStatus(QWidget):
    """Status-bar pieces: agent state, API address, the token masked with a copy button."""

    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.state_label = QLabel(f"Agent: {agent.state}")
        self.url_label = QLabel("API: starting…")
        self.url_label.setObjectName("apiUrl")
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.token_label = QLabel(f"Token: {fmt.mask_token(agent.api_token)}")
        self.token_label.setObjectName("apiToken")
        where = agent.describe().get("token_path")
        self.token_label.setToolTip(
            f"Send it as 'Authorization: Bearer <token>'. Kept in {where}"
            if where
            else "Send it as 'Authorization: Bearer <token>'. Set by RUCKUS_AGENT_API_TOKEN"
        )
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copyToken")
        self.copy_button.setText("Copy token")
        self.copy_button.setToolTip("Copy the API token to the clipboard")
        self.copy_button.clicked.connect(self.copy_token)
        bridge.state_changed.connect(lambda state: self.state_label.setText(f"Agent: {state}"))

    def set_url(self, url: str | None) -> None:
        self.url_label.setText(f"API: {url}" if url else "API: not running")

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.agent.api_token)


class MainWindow(QMainWindow):
    """Emits `quit_requested` on close or File > Quit; the async main decides when the program ends."""

    quit_requested = Signal()

    def __init__(
        self, agent: Agent, *, settings: QSettings | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.agent = agent
        self.settings = settings if settings is not None else default_settings()
        self.setWindowTitle("RUCKUS Agent")
        self.setWindowIcon(theme.app_icon())
        self.bridge = AgentBridge(agent, self)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.system_tab = SystemTab(agent, self.bridge)
        self.monitor_tab = MonitorTab(agent, self.bridge)
        self.bench_tab = BenchmarksTab(agent, self.bridge)
        self.jobs_tab = JobsTab(agent, self.bridge)
        self.tabs.addTab(self.system_tab, "System")
        self.tabs.addTab(self.monitor_tab, "Monitor")
        self.tabs.addTab(self.bench_tab, "Benchmarks")
        self.tabs.addTab(self.jobs_tab, "Jobs")
        self.setCentralWidget(self.tabs)

        self.api_status = ApiStatus(agent, self.bridge)
        bar = self.statusBar()
        bar.addWidget(self.api_status.state_label)
        bar.addPermanentWidget(self.api_status.url_label)
        bar.addPermanentWidget(self.api_status.token_label)
        bar.addPermanentWidget(self.api_status.copy_button)

        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.quit_action = quit_action
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About RUCKUS Agent", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

        self.restore_state()

    # QSettings --------------------------------------------------------------------------------------------
    def restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(*DEFAULT_SIZE)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))
        try:
            tab = int(self.settings.value("window/tab", 0))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            tab = 0
        self.tabs.setCurrentIndex(tab if 0 <= tab < self.tabs.count() else 0)

    def save_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        self.settings.sync()

    # lifecycle ------------------------------------------------------------------------------------------
    def set_api_url(self, url: str | None) -> None:
        self.api_status.set_url(url)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        event.accept()
        self.quit_requested.emit()

    def shutdown(self) -> None:
        """Stop listening to the agent (it may be stopped after the window is gone)."""
        self.bridge.close()
        self.monitor_tab.timer.stop()

    def _about(self) -> None:
        where = self.agent.describe()
        box = QMessageBox(self)
        box.setWindowTitle("About RUCKUS Agent")
        box.setIconPixmap(theme.app_icon().pixmap(64, 64))
        box.setText(
            f"<b>RUCKUS Agent {self.agent.version}</b><br>"
            f"Agent id: {where['agent_id']}<br>"
            f"{self.api_status.url_label.text()}<br>"
            f"Storage: {where['storage']}<br>"
            f"Token file: {where['token_path'] or 'from RUCKUS_AGENT_API_TOKEN'}"
        )
        box.open()
