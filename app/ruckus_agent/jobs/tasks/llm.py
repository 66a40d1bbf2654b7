"""LLM task types: `llm_generation` and `summarization`.

How a job runs depends on the agent type (DESIGN.md, Decisions):
- white_box: the model in this worker process (transformers, or vLLM when installed), loaded from the model
  directory in load() (the cold start); each run streams its tokens through a timing streamer.
- black_box: each run is one streamed request to an OpenAI-compatible endpoint.
- gray_box: black box, plus the endpoint's Prometheus /metrics scraped before and after each run.

Metrics per run: latency_s, ttft_s and tpot_s from per-token (per-chunk) timestamps, input_tokens,
output_tokens, throughput_tokens_per_s, peak_memory_mb (white box), rouge_l (summarization with a
reference), server_* (gray box). Run 0 also carries model_load_memory_mb (white box).

What the agent's settings contribute (agent type, endpoint, API key, downloads) reaches the worker in
TaskContext.extra, built by `llm_context(settings)`. This module imports nothing heavy: torch and
transformers are imported in load().
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from ruckus_agent.jobs.tasks.base import RunOutput, Task, TaskContext, TaskParams
from ruckus_agent.jobs.tasks.llm_common import (
    Generation,
    GenerationRequest,
    LlmError,
    check_model_name,
    hub_offline,
    timing_metrics,
)

if TYPE_CHECKING:
    from ruckus_agent.core.config import Settings

AGENT_TYPES = ("white_box", "gray_box", "black_box")
DEFAULT_SUMMARY_TEMPLATE = "Summarize the following text in a few sentences.\n\n{text}\n\nSummary:"
MAX_TEXT_IN_DETAILS = 4000
LOCAL_FRAMEWORKS = ("transformers", "pytorch", "torch", "hf", "huggingface", "vllm")


def llm_context(settings: Settings) -> dict[str, Any]:
    """TaskContext.extra for LLM tasks: what the worker needs from the settings (plain, picklable data).

    The API key travels as a SecretStr, so a repr of the context never shows it.
    """
    return {
        "agent_type": str(settings.agent_type),
        "endpoint_url": settings.endpoint_url,
        "endpoint_api_key": settings.endpoint_api_key,
        "endpoint_metrics_url": settings.endpoint_metrics_url,
        "allow_model_download": settings.allow_model_download,
    }


def submit_check(model: str | None, settings: Settings) -> str | None:
    """Why an LLM job must be refused at submit time (for a 422), or None.

    On a white_box agent the job's model must name a folder inside the model directory (no `..`, no
    absolute path unless allowed); whether the folder exists is left to the run.
    """
    if str(settings.agent_type) != "white_box":
        return None
    try:
        check_model_name(model, settings.model_path, settings.allow_absolute_model_paths)
    except LlmError as exc:
        return str(exc)
    return None


def _check_http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise ValueError("credentials do not belong in the URL; set RUCKUS_AGENT_ENDPOINT_API_KEY")
    return value


class ChatMessage(TaskParams):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=1_000_000)


class LlmParams(TaskParams):
    """Sampling, device and endpoint parameters shared by the LLM tasks."""

    max_tokens: int = Field(128, ge=1, le=32768, description="Most tokens to generate")
    temperature: float = Field(0.0, ge=0, le=2, description="0 = greedy decoding")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling (default: the model's)")
    top_k: int | None = Field(None, ge=0, description="Top-k sampling, 0 = off (default: the model's)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="Seed set before each run")
    ignore_eos: bool = Field(False, description="Generate exactly max_tokens (for benchmarking)")
    use_chat_template: bool | None = Field(
        None,
        description="White box: wrap the prompt in the tokenizer's chat template (default: when it has one)",
    )
    device: str | None = Field(
        None, pattern=r"^(auto|cpu|cuda(:\d{1,2})?)$", description="White box: auto (default), cpu, cuda:N"
    )
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="White box: auto = bf16/fp16 on CUDA, fp32 on the CPU"
    )
    endpoint_url: str | None = Field(
        None, max_length=2048, description="Black/gray box: endpoint (default: RUCKUS_AGENT_ENDPOINT_URL)"
    )
    endpoint_api: Literal["chat", "completions"] = Field(
        "chat", description="Black/gray box: /v1/chat/completions or /v1/completions"
    )
    endpoint_model: str | None = Field(
        None, max_length=512, description="Black/gray box: model name sent to the server (default: the job's)"
    )
    metrics_url: str | None = Field(
        None, max_length=2048, description="Gray box: Prometheus page (default: <endpoint origin>/metrics)"
    )
    request_timeout_s: float = Field(300, gt=0, le=3600, description="Black/gray box: per request")
    stream_usage: bool = Field(True, description="Black/gray box: ask for usage in the stream")

    _check_urls = field_validator("endpoint_url", "metrics_url")(_check_http_url)


class GenerationParams(LlmParams):
    prompt: str | None = Field(None, min_length=1, max_length=1_000_000)
    messages: list[ChatMessage] | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_input(self) -> GenerationParams:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        if self.messages is not None and self.endpoint_api == "completions":
            raise ValueError("messages need endpoint_api 'chat'; /v1/completions takes a prompt")
        return self


class SummarizationParams(LlmParams):
    text: str = Field(min_length=1, max_length=1_000_000, description="The text to summarize")
    reference: str | None = Field(
        None, min_length=1, max_length=1_000_000, description="A reference summary: adds ROUGE-L"
    )
    prompt_template: str = Field(
        DEFAULT_SUMMARY_TEMPLATE, max_length=100_000, description="Must contain {text}"
    )

    @field_validator("prompt_template")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if "{text}" not in value:
            raise ValueError("prompt_template must contain {text}")
        return value


class LlmGenerationTask(Task):
    params_model: ClassVar[type[TaskParams]] = GenerationParams
    agent_types = AGENT_TYPES

    @classmethod
    def missing(cls, agent_type: str) -> str | None:
        if agent_type != "white_box":
            return None  # endpoint modes use the standard library only
        absent = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
        if absent:
            return f"{' and '.join(absent)} not installed (pip install 'ruckus-agent[llm]')"
        return None

    @classmethod
    def context_extra(cls, settings: Settings) -> dict[str, Any]:
        return llm_context(settings)

    @classmethod
    def check_model(cls, model: str | None, settings: Settings) -> str | None:
        return submit_check(model, settings)

    description = (
        "Text generation from a prompt or chat messages: in-process (white_box) or against an "
        "OpenAI-compatible endpoint (black_box, gray_box); TTFT and TPOT from streamed token times"
    )

    def __init__(self, params: TaskParams, context: TaskContext) -> None:
        super().__init__(params, context)
        assert isinstance(params, LlmParams)
        self.llm_params: LlmParams = params
        self.mode = self._mode()
        self._backend: Any = None
        self._load_facts: dict[str, Any] = {}

    # --- set-up --------------------------------------------------------------------------------------
    def _mode(self) -> str:
        """The agent type from the context; when the harness gives none, what the parameters imply."""
        agent_type = self.context.extra.get("agent_type")
        if agent_type in AGENT_TYPES:
            return str(agent_type)
        if self.llm_params.metrics_url:
            return "gray_box"
        return "black_box" if self.llm_params.endpoint_url else "white_box"

    def device(self) -> str | None:
        return self.llm_params.device if self.mode == "white_box" else None

    def load(self) -> dict[str, Any]:
        self._backend = self._local_backend() if self.mode == "white_box" else self._endpoint_backend()
        self._load_facts = {"agent_type": self.mode, **self._backend.load()}
        return dict(self._load_facts)

    def _local_backend(self) -> Any:
        p = self.llm_params
        if p.endpoint_url or p.metrics_url:
            raise LlmError(
                "endpoint_url and metrics_url are for black_box and gray_box agents; this one is white_box"
            )
        framework = (self.context.framework or "transformers").lower()
        if framework not in LOCAL_FRAMEWORKS:
            raise LlmError(
                f"framework {self.context.framework!r} is not supported in-process; use transformers or vllm"
            )
        if framework == "vllm" and importlib.util.find_spec("vllm") is None:
            raise LlmError("framework 'vllm' is not installed on this agent; use transformers")
        model_path = Path(self.context.model_path or ".")
        model_dir = check_model_name(self.context.model, model_path, self.context.allow_absolute_model_paths)
        download = bool(self.context.extra.get("allow_model_download"))
        source: str | Path = model_dir
        if not model_dir.is_dir():
            if not download or model_dir.is_absolute():
                hint = (
                    ""
                    if download
                    else " (downloads are off: RUCKUS_AGENT_ALLOW_MODEL_DOWNLOAD=true allows them)"
                )
                raise LlmError(f"model {self.context.model!r} not found: no folder {model_dir}{hint}")
            source = str(self.context.model)  # a hub id, fetched by from_pretrained
        elif not (model_dir / "config.json").is_file():
            raise LlmError(f"{model_dir} is not a Hugging Face model folder (no config.json)")
        if not download:
            hub_offline()
        from ruckus_agent.jobs.tasks.llm_local import local_backend

        return local_backend(framework, source, p.device, p.dtype, local_files_only=not download, seed=p.seed)

    def _endpoint_backend(self) -> Any:
        from ruckus_agent.jobs.tasks.llm_http import EndpointBackend, default_metrics_url, origin

        p, extra = self.llm_params, self.context.extra
        if self.mode == "black_box" and p.metrics_url:
            raise LlmError("metrics_url is for gray_box agents; this one is black_box")
        settings_url = extra.get("endpoint_url")
        url = p.endpoint_url or settings_url
        if not url:
            raise LlmError("no endpoint: give parameters.endpoint_url or set RUCKUS_AGENT_ENDPOINT_URL")
        secret = extra.get("endpoint_api_key")
        api_key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        metrics_url = None
        if self.mode == "gray_box":
            metrics_url = p.metrics_url or extra.get("endpoint_metrics_url") or default_metrics_url(url)
        return EndpointBackend(
            url=url,
            api=p.endpoint_api,
            model=p.endpoint_model or self.context.model,
            api_key=api_key or None,
            # the key goes only to the server the settings name, never to a URL a job brings
            api_key_origin=origin(settings_url) if settings_url else None,
            timeout_s=p.request_timeout_s,
            stream_usage=p.stream_usage,
            metrics_url=metrics_url,
        )

    # --- runs ----------------------------------------------------------------------------------------
    def request(self) -> GenerationRequest:
        p = self.params
        assert isinstance(p, GenerationParams)
        return self._request(p.prompt, [m.model_dump() for m in p.messages] if p.messages else None)

    def _request(self, prompt: str | None, messages: list[dict[str, str]] | None) -> GenerationRequest:
        p = self.llm_params
        return GenerationRequest(
            prompt=prompt,
            messages=messages,
            max_tokens=p.max_tokens,
            temperature=p.temperature,
            top_p=p.top_p,
            top_k=p.top_k,
            seed=p.seed,
            ignore_eos=p.ignore_eos,
            use_chat_template=p.use_chat_template,
        )

    def run(self, run_id: int) -> RunOutput:
        if self._backend is None:
            raise LlmError("the task was not loaded")
        gen: Generation = self._backend.generate(self.request())
        metrics = timing_metrics(gen)
        if gen.peak_memory_mb is not None:
            metrics["peak_memory_mb"] = gen.peak_memory_mb
        metrics.update(gen.metrics)
        metrics.update(self.quality_metrics(gen.text))
        details: dict[str, Any] = {
            "output_text": gen.text[:MAX_TEXT_IN_DETAILS],
            "finish_reason": gen.finish_reason,
            **gen.details,
        }
        if run_id == 0:  # the cold start: the load's facts go with the first inference
            if "model_load_memory_mb" in self._load_facts:
                metrics["model_load_memory_mb"] = float(self._load_facts["model_load_memory_mb"])
            details["load"] = self._load_facts
        return RunOutput(metrics=metrics, details=details)

    def quality_metrics(self, text: str) -> dict[str, float]:
        """Metrics of the generated text itself (none for plain generation)."""
        return {}

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


class SummarizationTask(LlmGenerationTask):
    params_model = SummarizationParams
    description = (
        "Summarize the given text (a summarize-this prompt); with a reference summary also ROUGE-L. "
        "In-process (white_box) or against an OpenAI-compatible endpoint (black_box, gray_box)"
    )

    def request(self) -> GenerationRequest:
        p = self.params
        assert isinstance(p, SummarizationParams)
        return self._request(p.prompt_template.replace("{text}", p.text), None)

    def quality_metrics(self, text: str) -> dict[str, float]:
        """ROUGE-L F1 (and its precision and recall) against the reference summary, when there is one."""
        p = self.params
        assert isinstance(p, SummarizationParams)
        if p.reference is None:
            return {}
        from ruckus_agent.jobs.tasks.llm_rouge import rouge_l

        score = rouge_l(text, p.reference)
        return {"rouge_l": score.f1, "rouge_l_precision": score.precision, "rouge_l_recall": score.recall}
