"""White box: a causal LM in this (worker) process, on Hugging Face transformers or, when installed, vLLM.

Imported only by LLM tasks' load(), so torch and transformers stay out of the agent process. Every output
token is stamped with time.perf_counter() the moment generate() hands it to the streamer, so TTFT and TPOT
come from per-token timestamps.

Peak memory of a run: on CUDA torch.cuda.max_memory_allocated (reset before the run); on the CPU the
process's peak resident set, reset before each run through /proc/self/clear_refs (Linux) or, where that is
not possible, the process's lifetime peak from getrusage(ru_maxrss). The run's details say which.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers.generation.streamers import BaseStreamer

from ruckus_agent.jobs.tasks.llm_common import Generation, GenerationRequest, LlmError

MIB = 1024 * 1024


# --- memory --------------------------------------------------------------------------------------
def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / MIB


def _read_hwm_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            match = re.search(r"^VmHWM:\s+(\d+)\s+kB", fh.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def reset_rss_peak() -> bool:
    """Reset the process's peak RSS (Linux: write 5 to /proc/self/clear_refs). False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return _read_hwm_kb() is not None


def rss_peak_mb(reset_worked: bool) -> tuple[float, str]:
    """(peak RSS in MiB, which peak it is)."""
    if reset_worked:
        hwm = _read_hwm_kb()
        if hwm is not None:
            return hwm / 1024, "process_rss_peak_of_run"
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return (peak / MIB if sys.platform == "darwin" else peak / 1024), "process_rss_peak_lifetime"


# --- device and dtype ----------------------------------------------------------------------------
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def pick_device(requested: str | None) -> str:
    if requested in (None, "auto"):
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    assert requested is not None
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise LlmError(f"device {requested!r} was asked for, but torch sees no CUDA device here")
        index = int(requested.split(":")[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise LlmError(
                f"device {requested!r} does not exist ({torch.cuda.device_count()} CUDA device(s))"
            )
        return f"cuda:{index}"
    return "cpu"


def pick_dtype(requested: str, device: str) -> torch.dtype:
    """auto: bf16 on CUDA where supported, else fp16; fp32 on the CPU. fp16 is refused on the CPU."""
    if device.startswith("cuda"):
        if requested == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return _DTYPES[requested]
    if requested == "float16":
        raise LlmError("dtype float16 is not offered on the CPU; use float32 or bfloat16")
    return torch.bfloat16 if requested == "bfloat16" else torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


# --- transformers --------------------------------------------------------------------------------
class TimingStreamer(BaseStreamer):
    """Records the perf_counter() time of each generated token (the first put() is the prompt)."""

    def __init__(self) -> None:
        self.token_times: list[float] = []
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        now = time.perf_counter()
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.token_times.extend([now] * int(value.numel()))

    def end(self) -> None:
        pass


def plain_chat_prompt(messages: list[dict[str, str]]) -> str:
    """A prompt for tokenizers without a chat template: one `role: content` line per message."""
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join([*lines, "assistant:"])


@dataclass
class TransformersBackend:
    model_dir: str  # a local folder, or a hub id when downloads are allowed
    device_request: str | None
    dtype_request: str
    local_files_only: bool = True
    device: str = "cpu"
    dtype: torch.dtype = torch.float32
    model: Any = None
    tokenizer: Any = None
    facts: dict[str, Any] = field(default_factory=dict)

    def load(self) -> dict[str, Any]:
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        self.device = pick_device(self.device_request)
        self.dtype = pick_dtype(self.dtype_request, self.device)
        cuda = self.device.startswith("cuda")
        if cuda:
            torch.cuda.synchronize(self.device)
            before = torch.cuda.memory_allocated(self.device) / MIB
        else:
            before = rss_mb()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                self.model_dir, local_files_only=self.local_files_only, trust_remote_code=False
            )
            self.model = AutoModelForCausalLM.from_pretrained(
                self.model_dir,
                local_files_only=self.local_files_only,
                trust_remote_code=False,
                **self._placement(transformers.__version__),
            )
        except Exception as exc:  # missing files, a corrupt checkpoint (SafetensorError), a bad config
            raise LlmError(
                f"could not load the model from {self.model_dir}: {type(exc).__name__}: {exc}"
            ) from None
        self.model.to(self.device)
        self.model.eval()
        if cuda:
            torch.cuda.synchronize(self.device)
            load_mb = torch.cuda.memory_allocated(self.device) / MIB - before
            source = "cuda_memory_allocated_delta"
        else:
            load_mb = rss_mb() - before
            source = "process_rss_delta"
        self.facts = {
            "framework": "transformers",
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "device": self.device,
            "dtype": dtype_name(self.dtype),
            "parameter_count": int(sum(p.numel() for p in self.model.parameters())),
            "chat_template": bool(getattr(self.tokenizer, "chat_template", None)),
            "model_load_memory_mb": load_mb,
            "model_load_memory_source": source,
        }
        return dict(self.facts)

    def _placement(self, version: str) -> dict[str, Any]:
        """dtype (named torch_dtype before transformers 4.56) and, with accelerate, straight onto the GPU."""
        major, minor = (int(x) for x in re.findall(r"\d+", version)[:2])
        kwargs: dict[str, Any] = {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": self.dtype}
        if self.device.startswith("cuda") and importlib.util.find_spec("accelerate") is not None:
            kwargs["device_map"] = self.device
        return kwargs

    def _inputs(self, request: GenerationRequest) -> tuple[Any, str]:
        """Tokenized prompt and how it was formed: chat_template, plain_chat or raw."""
        tok = self.tokenizer
        messages = request.messages
        if messages is None and request.prompt is not None and request.use_chat_template is not False:
            if getattr(tok, "chat_template", None):
                messages = [{"role": "user", "content": request.prompt}]
            elif request.use_chat_template:
                raise LlmError("use_chat_template is true but the model's tokenizer has no chat template")
        if messages is None:
            return tok(request.prompt or "", return_tensors="pt"), "raw"
        if request.use_chat_template is not False and getattr(tok, "chat_template", None):
            enc = tok.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return enc, "chat_template"
        if request.use_chat_template:
            raise LlmError("use_chat_template is true but the model's tokenizer has no chat template")
        return tok(plain_chat_prompt(messages), return_tensors="pt"), "plain_chat"

    def generate(self, request: GenerationRequest) -> Generation:
        cuda = self.device.startswith("cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
            reset = False
        else:
            reset = reset_rss_peak()
        if request.seed is not None:
            torch.manual_seed(request.seed)
        streamer = TimingStreamer()
        started = time.perf_counter()
        enc, prompt_format = self._inputs(request)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        input_len = int(enc["input_ids"].shape[1])
        kwargs: dict[str, Any] = {"max_new_tokens": request.max_tokens, "streamer": streamer}
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature)
            if request.top_p is not None:
                kwargs["top_p"] = request.top_p
            if request.top_k is not None:
                kwargs["top_k"] = request.top_k
        else:
            kwargs["do_sample"] = False
        if request.ignore_eos:
            kwargs["min_new_tokens"] = request.max_tokens
        pad = self.tokenizer.pad_token_id
        kwargs["pad_token_id"] = pad if pad is not None else self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        finished = time.perf_counter()
        new_tokens = out[0, input_len:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        if cuda:
            peak, source = torch.cuda.max_memory_allocated(self.device) / MIB, "cuda_max_memory_allocated"
        else:
            peak, source = rss_peak_mb(reset)
        last = int(new_tokens[-1]) if len(new_tokens) else None
        return Generation(
            text=text,
            started=started,
            finished=finished,
            token_times=streamer.token_times,
            input_tokens=input_len,
            output_tokens=int(new_tokens.numel()),
            finish_reason="stop" if last is not None and last == self.tokenizer.eos_token_id else "length",
            peak_memory_mb=peak,
            details={"prompt_format": prompt_format, "peak_memory_source": source},
        )

    def close(self) -> None:
        self.model = None
        self.tokenizer = None
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()


# --- vLLM (untested here: vllm is not installable on the development machine) -------------------
def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


@dataclass
class VllmBackend:
    """vLLM's synchronous engine, stepped by hand so each new token is stamped as it appears."""

    model_dir: str
    dtype_request: str
    seed: int | None = None
    llm: Any = None
    facts: dict[str, Any] = field(default_factory=dict)

    def load(self) -> dict[str, Any]:
        if not vllm_available():
            raise LlmError("framework 'vllm' is not installed on this agent")
        import vllm

        dtype = "auto" if self.dtype_request == "auto" else self.dtype_request
        self.llm = vllm.LLM(model=self.model_dir, dtype=dtype, trust_remote_code=False, seed=self.seed or 0)
        self.facts = {"framework": "vllm", "vllm_version": getattr(vllm, "__version__", None), "dtype": dtype}
        return dict(self.facts)

    def generate(self, request: GenerationRequest) -> Generation:
        from vllm import SamplingParams

        tokenizer = self.llm.get_tokenizer()
        template = bool(getattr(tokenizer, "chat_template", None))
        messages = request.messages
        if messages is None and request.prompt is not None and request.use_chat_template is not False:
            if template:
                messages = [{"role": "user", "content": request.prompt}]
            elif request.use_chat_template:
                raise LlmError("use_chat_template is true but the model's tokenizer has no chat template")
        if messages is None:
            prompt, prompt_format = request.prompt or "", "raw"
        elif request.use_chat_template is not False and template:
            prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            prompt_format = "chat_template"
        elif request.use_chat_template:
            raise LlmError("use_chat_template is true but the model's tokenizer has no chat template")
        else:
            prompt, prompt_format = plain_chat_prompt(messages), "plain_chat"
        params = SamplingParams(
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p if request.top_p is not None else 1.0,
            top_k=request.top_k if request.top_k else -1,
            seed=request.seed,
            ignore_eos=request.ignore_eos,
        )
        engine = self.llm.llm_engine
        rid = uuid.uuid4().hex
        times: list[float] = []
        final: Any = None
        started = time.perf_counter()
        engine.add_request(rid, prompt, params)
        while engine.has_unfinished_requests():
            for out in engine.step():
                if out.request_id != rid:
                    continue
                now = time.perf_counter()
                produced = len(out.outputs[0].token_ids)
                times.extend([now] * (produced - len(times)))
                if out.finished:
                    final = out
        finished = time.perf_counter()
        if final is None:
            raise LlmError("vLLM finished without an output for the request")
        completion = final.outputs[0]
        return Generation(
            text=completion.text,
            started=started,
            finished=finished,
            token_times=times,
            input_tokens=len(final.prompt_token_ids or []),
            output_tokens=len(completion.token_ids),
            finish_reason=completion.finish_reason,
            peak_memory_mb=None,  # the engine may run in its own process; the GPU telemetry covers it
            details={"prompt_format": prompt_format},
        )

    def close(self) -> None:
        self.llm = None


def local_backend(
    framework: str | None,
    model_dir: Path | str,
    device: str | None,
    dtype: str,
    *,
    local_files_only: bool,
    seed: int | None,
) -> TransformersBackend | VllmBackend:
    name = (framework or "transformers").lower()
    if name == "vllm":
        return VllmBackend(str(model_dir), dtype, seed)
    return TransformersBackend(str(model_dir), device, dtype, local_files_only=local_files_only)
