"""ROUGE-L against examples worked by hand (LCS counted on paper)."""

from __future__ import annotations

import pytest

from ruckus_agent.jobs.tasks.llm_rouge import lcs_length, rouge_l, tokenize


@pytest.mark.parametrize(
    ("candidate", "reference", "lcs", "precision", "recall", "f1"),
    [
        # the cat . on the mat: 5 of 6 either way
        ("the cat sat on the mat", "the cat is on the mat", 5, 5 / 6, 5 / 6, 5 / 6),
        # Lin (2004), section 3.1: S2 keeps "police ... the gunman" (3 of 4), S3 only "the gunman" (2 of 4)
        ("police killed the gunman", "police kill the gunman", 3, 0.75, 0.75, 0.75),
        ("the gunman kill police", "police kill the gunman", 2, 0.5, 0.5, 0.5),
        # a c e in both: P = 3/5, R = 3/3, F = 2 * .6 * 1 / 1.6 = .75
        ("a b c d e", "a c e", 3, 0.6, 1.0, 0.75),
        # case and punctuation do not count
        ("The Cat, sat.", "the cat sat", 3, 1.0, 1.0, 1.0),
        ("nothing in common", "entirely different words", 0, 0.0, 0.0, 0.0),
    ],
)
def test_rouge_l_matches_hand_worked_examples(
    candidate: str, reference: str, lcs: int, precision: float, recall: float, f1: float
) -> None:
    assert lcs_length(tokenize(candidate), tokenize(reference)) == lcs
    score = rouge_l(candidate, reference)
    assert score.precision == pytest.approx(precision)
    assert score.recall == pytest.approx(recall)
    assert score.f1 == pytest.approx(f1)


def test_empty_text_scores_zero() -> None:
    assert rouge_l("", "the cat").f1 == 0.0
    assert rouge_l("the cat", "  ").f1 == 0.0


def test_tokens_are_lowercased_words_and_keep_non_ascii_letters() -> None:
    assert tokenize("Größe: 3.5 km—fast!") == ["größe", "3", "5", "km", "fast"]


def test_lcs_is_symmetric_and_handles_repeats() -> None:
    a, b = ["a", "b", "a", "b", "a"], ["b", "a", "b"]
    assert lcs_length(a, b) == lcs_length(b, a) == 3
