"""What the LLM back-ends share: the request, the timed generation, metrics from token timestamps, and model
name resolution inside the model directory. No heavy imports."""

from __future__ import annotations

import ntpath
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class LlmError(RuntimeError):
    """A job-level problem with a message meant for the user (bad model name, no endpoint, ...)."""


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str | None  # raw text (completions), or the one user message of a chat
    messages: list[dict[str, str]] | None  # chat messages; when set, prompt is None
    max_tokens: int
    temperature: float
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    ignore_eos: bool = False
    use_chat_template: bool | None = None


@dataclass
class Generation:
    """One generation, timed: `started` before tokenizing/connecting, one time per output token (white box)
    or per content chunk (black box), `finished` when the last token is in."""

    text: str
    started: float
    finished: float
    token_times: list[float]
    input_tokens: int | None
    output_tokens: int
    finish_reason: str | None = None
    peak_memory_mb: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def timing_metrics(gen: Generation) -> dict[str, float]:
    """latency_s, ttft_s (first token's time - start), tpot_s ((last - first)/(output_tokens - 1)),
    tokens and output tokens per second of latency. TTFT and TPOT only when tokens arrived."""
    latency = gen.finished - gen.started
    out: dict[str, float] = {"latency_s": latency, "output_tokens": float(gen.output_tokens)}
    if gen.input_tokens is not None:
        out["input_tokens"] = float(gen.input_tokens)
    if gen.token_times:
        out["ttft_s"] = gen.token_times[0] - gen.started
        if gen.output_tokens > 1:
            out["tpot_s"] = (gen.token_times[-1] - gen.token_times[0]) / (gen.output_tokens - 1)
    out["throughput_tokens_per_s"] = gen.output_tokens / latency if latency > 0 else 0.0
    return out


# --- model names -----------------------------------------------------------------------------------
def _is_absolute(name: str) -> bool:
    return posixpath.isabs(name) or ntpath.isabs(name) or bool(ntpath.splitdrive(name)[0])


def _inside(path: str, root: Path) -> bool:
    root_s = os.path.normpath(str(root))
    return os.path.normpath(path) == root_s or os.path.normpath(path).startswith(
        root_s.rstrip(os.sep) + os.sep
    )


def check_model_name(name: str | None, model_path: Path, allow_absolute: bool) -> Path:
    """The folder a job's `model` names: `<model_path>/<name>`, or an absolute path (inside model_path, or
    anywhere when allow_absolute). Refuses `..` and other absolute paths with a message naming the problem."""
    if name is None or not name.strip():
        raise LlmError(
            f"the job names no model; set `model` to a folder under the model directory {model_path}"
        )
    if "\x00" in name:
        raise LlmError("model name contains a NUL character")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise LlmError(
            f"model {name!r} is refused: '..' is not allowed in model names; "
            f"models resolve only inside the model directory {model_path}"
        )
    if _is_absolute(name):
        if allow_absolute or _inside(name, model_path):
            return Path(name)
        raise LlmError(
            f"model {name!r} is refused: absolute paths outside the model directory {model_path} are not "
            "allowed (set RUCKUS_AGENT_ALLOW_ABSOLUTE_MODEL_PATHS=true to allow them)"
        )
    return model_path / name


def hub_offline() -> None:
    """No downloads from this process: set before transformers or huggingface_hub is imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
