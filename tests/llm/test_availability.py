"""White-box LLM tasks are offered only where torch and transformers are installed; endpoint modes always."""

from __future__ import annotations

import importlib.util

import pytest

from ruckus_agent.jobs.tasks import task_types


def test_llm_tasks_hidden_without_transformers_on_white_box(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "llm_generation" in task_types("white_box")  # installed here
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "transformers" else real(name, *a)
    )
    assert "llm_generation" not in task_types("white_box")
    assert "summarization" not in task_types("white_box")
    assert "compute_benchmark" in task_types("white_box")
    assert {"llm_generation", "summarization"} <= set(task_types("black_box"))
