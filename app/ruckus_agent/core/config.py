"""Settings: environment (prefix RUCKUS_AGENT_), a .env file, and command-line overrides.

Any layer may import this module. It imports nothing of ours.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "ruckus-agent"


class AgentType(StrEnum):
    WHITE_BOX = "white_box"
    GRAY_BOX = "gray_box"
    BLACK_BOX = "black_box"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


def user_config_dir() -> Path:
    """Where the token and the agent id live (XDG_CONFIG_HOME aware)."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def user_data_dir() -> Path:
    """Where the default SQLite database lives (XDG_DATA_HOME aware)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_storage_url() -> str:
    return f"sqlite:///{user_data_dir() / 'agent.db'}"


STORAGE_SCHEMES = ("memory", "sqlite", "postgresql", "postgres")


class Settings(BaseSettings):
    """Every knob of the agent. Field names map to RUCKUS_AGENT_<NAME> variables."""

    model_config = SettingsConfigDict(
        env_prefix="RUCKUS_AGENT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    host: str = Field("0.0.0.0", description="Address the REST API listens on")
    port: int = Field(8081, ge=0, le=65535, description="Port of the REST API (0 picks a free one)")
    agent_type: AgentType = Field(AgentType.WHITE_BOX, description="white_box | gray_box | black_box")
    agent_name: str | None = Field(None, description="Human name of this agent (default: the hostname)")
    max_concurrent_jobs: int = Field(1, ge=1, le=64, description="Jobs run at once")
    max_queue_size: int = Field(10_000, ge=1, description="Queued jobs before POST /jobs answers 429")
    storage_url: str = Field("", description="memory:// | sqlite:///path.db | postgresql://user:pass@host/db")
    api_token: str | None = Field(None, description="Bearer token for mutating routes (generated if unset)")
    auth_reads: bool = Field(False, description="Put the GET routes behind the token too")
    model_path: Path = Field(Path("/models"), description="Directory that holds models")
    allow_absolute_model_paths: bool = Field(False, description="Let jobs name models outside model_path")
    log_level: LogLevel = Field(LogLevel.INFO, description="Logging level")
    sample_interval_s: float = Field(1.0, gt=0, le=3600, description="Monitor period when idle")
    job_sample_interval_s: float = Field(0.1, gt=0, le=3600, description="Monitor period while a job runs")
    history_seconds: int = Field(
        3600, ge=10, le=7 * 24 * 3600, description="Length of the sample ring buffer"
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body accepted")
    config_dir: Path | None = Field(
        None, description="Where token and agent id are kept (default: user config dir)"
    )
    bench_on_start: bool = Field(False, description="Run the quick benchmark suite at start-up")
    task_plugins: str = Field(
        "", description="Comma-separated modules that define extra task types (TASKS dict)"
    )
    endpoint_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint of black_box/gray_box LLM jobs, e.g. http://localhost:8000/v1",
    )
    endpoint_api_key: SecretStr | None = Field(
        None, description="Bearer key for endpoint_url (sent only to that server; never echoed)"
    )
    endpoint_metrics_url: str | None = Field(
        None, description="Prometheus page of the endpoint for gray_box (default: <endpoint origin>/metrics)"
    )
    allow_model_download: bool = Field(
        False, description="Let white_box LLM jobs download models from the Hugging Face Hub"
    )

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        if not value:
            return default_storage_url()
        parts = urlsplit(value)
        if parts.scheme not in STORAGE_SCHEMES:
            raise ValueError(
                f"unsupported scheme {parts.scheme!r} in {value!r}; "
                "use memory://, sqlite:///path/agent.db or postgresql://user:pass@host/db"
            )
        if parts.scheme == "sqlite" and not (parts.path or parts.netloc):
            raise ValueError(f"{value!r} names no database file; use sqlite:///path/agent.db")
        if parts.scheme.startswith("postgres") and not parts.hostname and "host=" not in (parts.query or ""):
            raise ValueError(f"{value!r} names no host; use postgresql://user:pass@host/db")
        return value

    @field_validator("endpoint_url", "endpoint_metrics_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL with a host")
        return value.strip()

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    def resolved_config_dir(self) -> Path:
        return self.config_dir if self.config_dir is not None else user_config_dir()


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming it."""


#: Settings whose command-line flag is not simply --field-name
CLI_FLAGS = {"storage_url": "--storage"}


def _env_name(field: str) -> str:
    return f"RUCKUS_AGENT_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment, with non-None overrides (from the CLI) on top.

    Raises SettingsError with a one-line message that names the offending setting.
    """
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else "?"
        flag = CLI_FLAGS.get(field, "--" + field.replace("_", "-"))
        source = flag if field in clean else _env_name(field)
        value = clean.get(field, os.environ.get(_env_name(field), err.get("input")))
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {source}={value!r}: {msg}") from None


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.chmod(path, 0o600)


def ensure_token(settings: Settings) -> tuple[str, Path | None]:
    """The API token and where it is kept: the env's token (no file), or one generated once and stored 0600."""
    if settings.api_token:
        return settings.api_token, None
    path = settings.resolved_config_dir() / "api_token"
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, path
    token = secrets.token_urlsafe(32)
    _write_private(path, token)
    return token, path


def ensure_agent_id(settings: Settings) -> str:
    """A stable id for this install, kept beside the token."""
    path = settings.resolved_config_dir() / "agent_id"
    if path.exists():
        agent_id = path.read_text(encoding="utf-8").strip()
        if agent_id:
            return agent_id
    agent_id = f"agent-{secrets.token_hex(8)}"
    _write_private(path, agent_id)
    return agent_id
