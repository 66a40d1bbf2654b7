"""Settings: env, CLI overrides, one-line errors that name the setting, token and agent id files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ruckus_agent.core.config import AgentType, SettingsError, ensure_agent_id, ensure_token, load_settings


def test_defaults_match_the_seed() -> None:
    s = load_settings()
    assert s.host == "0.0.0.0"
    assert s.port == 8081
    assert s.agent_type == AgentType.WHITE_BOX
    assert s.max_concurrent_jobs == 1
    assert s.storage_url.startswith("sqlite:///") and s.storage_url.endswith("ruckus-agent/agent.db")


def test_environment_is_read_and_cli_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUCKUS_AGENT_PORT", "9000")
    monkeypatch.setenv("RUCKUS_AGENT_AGENT_TYPE", "black_box")
    monkeypatch.setenv("RUCKUS_AGENT_MAX_CONCURRENT_JOBS", "3")
    s = load_settings()
    assert (s.port, s.agent_type, s.max_concurrent_jobs) == (9000, "black_box", 3)
    s = load_settings(port=9100, agent_type=None)
    assert (s.port, s.agent_type) == (9100, "black_box")


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RUCKUS_AGENT_PORT=9200\n")
    assert load_settings().port == 9200


@pytest.mark.parametrize(
    ("overrides", "env", "expected"),
    [
        ({"port": 70000}, {}, "invalid setting --port=70000"),
        ({}, {"RUCKUS_AGENT_PORT": "70000"}, "invalid setting RUCKUS_AGENT_PORT='70000'"),
        ({"agent_type": "grey"}, {}, "invalid setting --agent-type='grey'"),
        ({"storage_url": "mysql://x/y"}, {}, "invalid setting --storage='mysql://x/y'"),
        ({}, {"RUCKUS_AGENT_STORAGE_URL": "nonsense"}, "invalid setting RUCKUS_AGENT_STORAGE_URL='nonsense'"),
        ({"storage_url": "postgresql:///db"}, {}, "names no host"),
    ],
)
def test_bad_values_give_one_line_naming_the_setting(
    overrides: dict[str, object], env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as info:
        load_settings(**overrides)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_token_is_generated_once_and_private(tmp_path: Path) -> None:
    s = load_settings(config_dir=tmp_path / "cfg")
    token, path = ensure_token(s)
    assert path == tmp_path / "cfg" / "api_token"
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, _ = ensure_token(s)
    assert again == token


def test_token_from_environment_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUCKUS_AGENT_API_TOKEN", "s3cret-token")
    s = load_settings(config_dir=tmp_path / "cfg")
    assert ensure_token(s) == ("s3cret-token", None)
    assert not (tmp_path / "cfg" / "api_token").exists()


def test_agent_id_is_stable_across_restarts(tmp_path: Path) -> None:
    s = load_settings(config_dir=tmp_path / "cfg")
    first = ensure_agent_id(s)
    assert first.startswith("agent-")
    assert ensure_agent_id(load_settings(config_dir=tmp_path / "cfg")) == first
