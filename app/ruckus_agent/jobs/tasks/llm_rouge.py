"""ROUGE-L (Lin, 2004): precision, recall and F1 from the longest common subsequence of two token lists.

Tokens: the text lowercased, every run of non-word characters turned into a space, then split on whitespace
(as rouge-score's default tokenizer does, without its stemmer, and keeping non-ASCII letters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class RougeL:
    precision: float
    recall: float
    f1: float


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens; punctuation separates words and is dropped."""
    return _NON_WORD.sub(" ", text.lower()).split()


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (two-row dynamic programme, O(len(a)·len(b)))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> RougeL:
    """ROUGE-L of a candidate summary against one reference: P = LCS/|cand|, R = LCS/|ref|, F1 = 2PR/(P+R).

    An empty candidate or reference scores 0.
    """
    cand, ref = tokenize(candidate), tokenize(reference)
    if not cand or not ref:
        return RougeL(0.0, 0.0, 0.0)
    lcs = lcs_length(cand, ref)
    if lcs == 0:
        return RougeL(0.0, 0.0, 0.0)
    precision, recall = lcs / len(cand), lcs / len(ref)
    return RougeL(precision, recall, 2 * precision * recall / (precision + recall))
