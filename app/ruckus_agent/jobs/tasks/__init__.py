"""Task types: a registry of name -> Task class (imported lazily), plus plugin modules.

A plugin module (named in RUCKUS_AGENT_TASK_PLUGINS, comma-separated) defines `TASKS = {name: TaskClass}`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ruckus_agent.jobs.tasks.base import RunOutput, Task, TaskContext, TaskParams

__all__ = ["BUILTIN_TASKS", "RunOutput", "Task", "TaskContext", "TaskParams", "load_task_class", "task_types"]

BUILTIN_TASKS: dict[str, str] = {
    "gpu_benchmark": "ruckus_agent.jobs.tasks.bench_tasks:GpuBenchmarkTask",
    "memory_benchmark": "ruckus_agent.jobs.tasks.bench_tasks:MemoryBenchmarkTask",
    "compute_benchmark": "ruckus_agent.jobs.tasks.bench_tasks:ComputeBenchmarkTask",
    "noop": "ruckus_agent.jobs.tasks.noop:NoopTask",
    "llm_generation": "ruckus_agent.jobs.tasks.llm:LlmGenerationTask",
    "summarization": "ruckus_agent.jobs.tasks.llm:SummarizationTask",
}


class UnknownTaskType(LookupError):
    pass


def _plugin_tasks(plugins: Iterable[str]) -> dict[str, type[Task]]:
    found: dict[str, type[Task]] = {}
    for module_name in plugins:
        module = importlib.import_module(module_name)
        found.update(getattr(module, "TASKS", {}))
    return found


def load_task_class(task_type: str, plugins: Iterable[str] = ()) -> type[Task]:
    if task_type in BUILTIN_TASKS:
        module_name, _, cls_name = BUILTIN_TASKS[task_type].partition(":")
        cls: type[Task] = getattr(importlib.import_module(module_name), cls_name)
        return cls
    extra = _plugin_tasks(plugins)
    if task_type in extra:
        return extra[task_type]
    raise UnknownTaskType(task_type)


def task_types(agent_type: str, plugins: Iterable[str] = ()) -> list[str]:
    """Task types this agent can run."""
    names = list(BUILTIN_TASKS)
    names += [n for n in _plugin_tasks(plugins) if n not in names]
    out = []
    for name in names:
        cls = load_task_class(name, plugins)
        if agent_type in cls.agent_types and cls.missing(agent_type) is None:
            out.append(name)
    return out
