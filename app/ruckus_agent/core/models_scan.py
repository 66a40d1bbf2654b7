"""Models on disk, described without loading a weight: for /api/v1/info.

A model is a Hugging Face style folder (config.json and/or weight files) directly under the model directory
or one level down (`org/name`), or a single .gguf / .onnx / .safetensors file. Its parameter count is summed
from the safetensors headers (8-byte little-endian header length, then a JSON header of tensor shapes; the
weights are never read), or estimated from config.json when there are no safetensors files;
`parameter_count_source` says which.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter
from pathlib import Path
from typing import Any

from ruckus_agent.models.system import ModelInfo

WEIGHT_FORMATS = {
    ".safetensors": "safetensors",
    ".bin": "pytorch",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".gguf": "gguf",
    ".onnx": "onnx",
}
_FORMAT_ORDER = ("safetensors", "pytorch", "gguf", "onnx")
_SINGLE_FILE = (".gguf", ".onnx", ".safetensors")
_MAX_HEADER_BYTES = 100 * 1024 * 1024

SAFETENSORS_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}


# --- safetensors ---------------------------------------------------------------------------------
def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a .safetensors file. Raises ValueError when the file is not one."""
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) != 8:
            raise ValueError(f"{path.name}: too short for a safetensors header")
        (length,) = struct.unpack("<Q", head)
        if length > _MAX_HEADER_BYTES or length > path.stat().st_size - 8:
            raise ValueError(f"{path.name}: header length {length} is not plausible")
        header = json.loads(fh.read(length))
    if not isinstance(header, dict):
        raise ValueError(f"{path.name}: header is not a JSON object")
    return header


def safetensors_parameters(files: list[Path]) -> tuple[int, Counter[str]]:
    """Total elements over every tensor of the files, and elements per dtype."""
    total = 0
    by_dtype: Counter[str] = Counter()
    for path in files:
        for name, tensor in read_safetensors_header(path).items():
            if name == "__metadata__" or not isinstance(tensor, dict):
                continue
            count = math.prod(int(d) for d in tensor.get("shape", []))
            total += count
            by_dtype[str(tensor.get("dtype", "?"))] += count
    return total, by_dtype


# --- estimate from config.json -------------------------------------------------------------------
_GATED_MLP = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
    "gemma3_text", "phi3", "olmo", "olmo2", "cohere", "granite", "stablelm", "deepseek_v2", "deepseek_v3",
    "internlm2", "yi", "starcoder2",
}  # fmt: skip
_LEARNED_POSITIONS = {"gpt2", "gpt_bigcode", "gpt_neo", "opt", "biogpt"}
_BIASES_AND_LAYERNORM = {"gpt2", "gpt_bigcode", "gpt_neo", "opt", "biogpt", "phi", "gpt_neox", "falcon"}


def _first(cfg: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = cfg.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def estimate_parameters(config: dict[str, Any]) -> int | None:
    """Parameters of a decoder-only transformer from its config (None when it lacks the sizes).

    Exact for GPT-2 and Llama/Mistral-style models (embeddings, attention with grouped KV heads, gated or
    plain MLP, norms, untied head); an estimate for others (it ignores architecture-specific extras).
    """
    cfg = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    assert isinstance(cfg, dict)
    model_type = str(cfg.get("model_type") or config.get("model_type") or "")
    h = _first(cfg, "hidden_size", "n_embd", "d_model")
    layers = _first(cfg, "num_hidden_layers", "n_layer", "num_layers")
    vocab = _first(cfg, "vocab_size")
    if not (h and layers and vocab):
        return None
    heads = _first(cfg, "num_attention_heads", "n_head") or 1
    head_dim = _first(cfg, "head_dim") or h // heads
    kv_heads = _first(cfg, "num_key_value_heads", "num_kv_heads") or heads
    inter = _first(cfg, "intermediate_size", "n_inner", "ffn_dim") or 4 * h
    gated = model_type in _GATED_MLP or cfg.get("hidden_act") == "silu"
    biased = model_type in _BIASES_AND_LAYERNORM or cfg.get("attention_bias") is True
    q, kv = heads * head_dim, kv_heads * head_dim
    attention = h * q + 2 * h * kv + q * h + ((q + 2 * kv + h) if biased else 0)
    mlp = (3 if gated else 2) * h * inter + ((inter + h) if biased else 0)
    experts = _first(cfg, "num_local_experts", "num_experts")
    if experts:
        mlp = mlp * experts + h * experts  # experts plus the router
    norm = 2 * h if biased else h  # LayerNorm has a bias, RMSNorm does not
    total = layers * (attention + mlp + 2 * norm) + norm + vocab * h
    if model_type in _LEARNED_POSITIONS:
        total += (_first(cfg, "n_positions", "max_position_embeddings") or 0) * h
    if cfg.get("tie_word_embeddings", config.get("tie_word_embeddings", True)) is False:
        total += vocab * h
    return total


# --- folders -------------------------------------------------------------------------------------
def _size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _weight_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_FORMATS)
    except OSError:
        return []


def _is_model_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() or bool(_weight_files(folder))


def _read_config(folder: Path) -> dict[str, Any]:
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def describe_folder(folder: Path, name: str) -> ModelInfo:
    """One Hugging Face style model folder."""
    cfg = _read_config(folder)
    weights = _weight_files(folder)
    formats = {WEIGHT_FORMATS[p.suffix] for p in weights}
    fmt = next((f for f in _FORMAT_ORDER if f in formats), None)
    archs = cfg.get("architectures")
    arch = archs[0] if isinstance(archs, list) and archs else cfg.get("model_type")
    dtype = cfg.get("torch_dtype") or cfg.get("dtype")
    if dtype is None and isinstance(cfg.get("text_config"), dict):
        dtype = cfg["text_config"].get("torch_dtype") or cfg["text_config"].get("dtype")
    count: int | None = None
    source: str | None = None
    tensors = [p for p in weights if p.suffix == ".safetensors"]
    if tensors and "quantization_config" not in cfg:  # packed quantized weights would undercount
        try:
            count, by_dtype = safetensors_parameters(tensors)
            source = "safetensors_header"
            if dtype is None and by_dtype:
                top = by_dtype.most_common(1)[0][0]
                dtype = SAFETENSORS_DTYPES.get(top, top.lower())
        except (OSError, ValueError):
            count = None
    if count is None and cfg:
        count = estimate_parameters(cfg)
        source = "config_estimate" if count is not None else None
    return ModelInfo(
        name=name,
        path=str(folder),
        format=fmt,
        size_bytes=_size_bytes(folder),
        architecture=str(arch) if arch else None,
        parameter_count=count,
        parameter_count_source=source,
        dtype=str(dtype) if dtype else None,
    )


def describe_file(path: Path) -> ModelInfo:
    """A single-file model (.gguf, .onnx, .safetensors)."""
    count: int | None = None
    dtype: str | None = None
    source: str | None = None
    if path.suffix == ".safetensors":
        try:
            count, by_dtype = safetensors_parameters([path])
            source = "safetensors_header"
            if by_dtype:
                top = by_dtype.most_common(1)[0][0]
                dtype = SAFETENSORS_DTYPES.get(top, top.lower())
        except (OSError, ValueError):
            count = None
    return ModelInfo(
        name=path.stem,
        path=str(path),
        format=WEIGHT_FORMATS[path.suffix],
        size_bytes=_size_bytes(path),
        parameter_count=count,
        parameter_count_source=source,
        dtype=dtype,
    )


def scan_models(model_path: Path) -> list[ModelInfo]:
    """Every model under model_path (folders, `org/name` folders, single files), sorted by name.

    Never raises for what it finds on disk: an unreadable file leaves fields null.
    """
    if not model_path.is_dir():
        return []
    found: list[ModelInfo] = []
    try:
        entries = sorted(model_path.iterdir())
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                if _is_model_folder(entry):
                    found.append(describe_folder(entry, entry.name))
                    continue
                for sub in sorted(entry.iterdir()):
                    if sub.is_dir() and not sub.name.startswith(".") and _is_model_folder(sub):
                        found.append(describe_folder(sub, f"{entry.name}/{sub.name}"))
            elif entry.suffix in _SINGLE_FILE:
                found.append(describe_file(entry))
        except OSError:
            continue
    return found
