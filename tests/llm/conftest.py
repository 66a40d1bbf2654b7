"""LLM test fixtures: a tiny GPT-2 made here (random weights, a word-level tokenizer trained on a few
sentences; nothing downloaded) and a fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.openai_server import FakeOpenAI

TINY = "tiny-gpt2"
SENTENCES = [
    "the cat sat on the mat and the dog sat on the log",
    "summarize the following text in a few sentences",
    "a quick brown fox jumps over the lazy dog",
    "the weather was cold so the children stayed inside and read books",
    "summary : user assistant system",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)


def make_tiny_model(folder: Path) -> int:
    """Save a 2-layer GPT-2 with random weights and its tokenizer into folder; returns its parameter count."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    fast.chat_template = CHAT_TEMPLATE
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return int(sum(p.numel() for p in model.parameters()))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(a model directory holding TINY, TINY's parameter count as torch counts it)."""
    root = tmp_path_factory.mktemp("models")
    count = make_tiny_model(root / TINY)
    return root, count


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
