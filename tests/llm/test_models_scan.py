"""Model metadata from disk: parameter counts from safetensors headers or config.json, never from weights."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from ruckus_agent.core.models_scan import estimate_parameters, scan_models


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A valid .safetensors file written by hand: u64 header length, JSON header, zero bytes of data."""
    width = {"F32": 4, "F16": 2, "BF16": 2, "I8": 1}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = width[dtype]
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(offset))


# Published parameter counts (model cards / papers), with the config values those models ship with.
GPT2_SMALL = {
    "model_type": "gpt2",
    "vocab_size": 50257,
    "n_positions": 1024,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
}
LLAMA2_7B = {
    "model_type": "llama", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
    "hidden_act": "silu", "tie_word_embeddings": False,
}  # fmt: skip
MISTRAL_7B = {
    "model_type": "mistral", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "hidden_act": "silu", "tie_word_embeddings": False,
}  # fmt: skip


@pytest.mark.parametrize(
    ("config", "published"),
    [(GPT2_SMALL, 124_439_808), (LLAMA2_7B, 6_738_415_616), (MISTRAL_7B, 7_241_732_096)],
)
def test_config_estimate_matches_published_counts(config: dict[str, Any], published: int) -> None:
    assert estimate_parameters(config) == published


def test_config_without_sizes_gives_no_estimate() -> None:
    assert estimate_parameters({"model_type": "mystery"}) is None


def test_safetensors_headers_are_summed_over_shards(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "sharded"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], **LLAMA2_7B}))
    write_safetensors(
        folder / "model-00001-of-00002.safetensors", {"a": ("BF16", [3, 4]), "b": ("BF16", [5])}
    )
    write_safetensors(folder / "model-00002-of-00002.safetensors", {"c": ("F32", [2, 2, 2])})
    (info,) = scan_models(tmp_path / "models")
    assert info.name == "sharded" and info.format == "safetensors"
    assert info.parameter_count == 12 + 5 + 8  # from the headers, not the config's 6.7 B
    assert info.parameter_count_source == "safetensors_header"
    assert info.architecture == "LlamaForCausalLM"
    assert info.dtype == "bfloat16"  # the dtype most parameters have, the config naming none
    assert info.size_bytes == sum(p.stat().st_size for p in folder.iterdir())


def test_folders_files_and_org_name_layout(tmp_path: Path) -> None:
    root = tmp_path / "models"
    (root / "org" / "binonly").mkdir(parents=True)
    (root / "org" / "binonly" / "config.json").write_text(
        json.dumps({**GPT2_SMALL, "torch_dtype": "float16"})
    )
    (root / "org" / "binonly" / "pytorch_model.bin").write_bytes(b"\0" * 10)
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text(json.dumps(GPT2_SMALL))
    (root / "broken" / "model.safetensors").write_bytes(b"\xff" * 16)  # not a safetensors file
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("not a model")
    (root / "q4.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    write_safetensors(root / "single.safetensors", {"w": ("F16", [7, 3])})
    (root / ".cache").mkdir()
    (root / ".cache" / "config.json").write_text("{}")

    found = {m.name: m for m in scan_models(root)}
    assert set(found) == {"org/binonly", "broken", "q4", "single"}
    assert found["org/binonly"].format == "pytorch"
    assert found["org/binonly"].parameter_count == 124_439_808
    assert found["org/binonly"].parameter_count_source == "config_estimate"
    assert found["org/binonly"].dtype == "float16"
    assert found["broken"].parameter_count_source == "config_estimate"  # unreadable header: fall back
    assert found["q4"].format == "gguf" and found["q4"].size_bytes == 64
    assert found["q4"].parameter_count is None and found["q4"].parameter_count_source is None
    assert found["single"].parameter_count == 21 and found["single"].dtype == "float16"


def test_missing_directory_is_empty(tmp_path: Path) -> None:
    assert scan_models(tmp_path / "nowhere") == []


def test_tiny_model_count_matches_torch(tiny_models: tuple[Path, int]) -> None:
    root, torch_count = tiny_models
    (info,) = scan_models(root)
    assert info.parameter_count == torch_count
    assert info.parameter_count_source == "safetensors_header"
    assert info.architecture == "GPT2LMHeadModel"
    config = json.loads((root / info.name / "config.json").read_text())
    assert estimate_parameters(config) == torch_count  # GPT-2 estimates are exact
