"""Model names resolve only inside the model directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ruckus_agent.jobs.tasks.llm_common import LlmError, check_model_name

ROOT = Path("/srv/models")


@pytest.mark.parametrize(
    ("name", "allow_absolute", "expected"),
    [
        ("tiny", False, ROOT / "tiny"),
        ("org/name", False, ROOT / "org/name"),
        ("/srv/models/org/name", False, Path("/srv/models/org/name")),  # absolute but inside
        ("/opt/other", True, Path("/opt/other")),
    ],
)
def test_accepted_names(name: str, allow_absolute: bool, expected: Path) -> None:
    assert check_model_name(name, ROOT, allow_absolute) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x", "'..' is not allowed"),
        ("org/../../etc", "'..' is not allowed"),
        ("..\\windows", "'..' is not allowed"),
        ("/etc/passwd", "absolute paths outside the model directory"),
        ("/srv/models-evil/x", "absolute paths outside the model directory"),
        ("C:\\models\\x", "absolute paths outside the model directory"),
        ("", "names no model"),
        (None, "names no model"),
    ],
)
def test_refused_names_say_why(name: str | None, message: str) -> None:
    with pytest.raises(LlmError, match=message):
        check_model_name(name, ROOT, False)


def test_dot_dot_is_refused_even_when_absolute_paths_are_allowed() -> None:
    with pytest.raises(LlmError, match=re.escape("'..'")):
        check_model_name("/srv/models/../../etc", ROOT, True)
