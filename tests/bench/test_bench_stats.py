"""The plateau rule and summaries, on hand-written figures."""

from __future__ import annotations

import pytest

from ruckus_agent.bench.stats import (
    MAIN_MEMORY_FLOOR_BYTES,
    PlateauRule,
    device_plateau_floor,
    eligible,
    find_plateau,
    summarize,
    window_figure,
)

MIB = 1024 * 1024


def test_plateau_needs_window_points_above_the_floor() -> None:
    rule = PlateauRule(window=3, tolerance=0.1, min_size_bytes=64 * MIB)
    points = [(16 * MIB, 20.0), (32 * MIB, 20.0), (64 * MIB, 20.0), (128 * MIB, 20.0)]
    assert find_plateau(points, rule) is None  # only two sizes at or above 64 MiB
    points.append((256 * MIB, 20.0))
    assert find_plateau(points, rule) == [(64 * MIB, 20.0), (128 * MIB, 20.0), (256 * MIB, 20.0)]


def test_plateau_tolerance_is_largest_over_smallest() -> None:
    rule = PlateauRule(window=2, tolerance=0.25, min_size_bytes=0)
    assert find_plateau([(1, 4.0), (2, 5.0)], rule) == [(1, 4.0), (2, 5.0)]  # 5.0 = 4.0 x 1.25
    assert find_plateau([(1, 4.0), (2, 5.01)], rule) is None
    assert find_plateau([(1, 5.01), (2, 4.0)], rule) is None  # order does not matter


def test_plateau_looks_at_the_last_window_only() -> None:
    rule = PlateauRule(window=3, tolerance=0.05, min_size_bytes=0)
    points = [(1, 20.0), (2, 25.0), (3, 20.0), (4, 20.5)]
    assert find_plateau(points, rule) is None  # 25, 20, 20.5 disagree
    points.append((5, 20.0))
    window = find_plateau(points, rule)
    assert window == [(3, 20.0), (4, 20.5), (5, 20.0)]
    assert window_figure(window) == 20.0


def test_eligible_keeps_sweep_order() -> None:
    rule = PlateauRule(window=1, tolerance=0.0, min_size_bytes=10)
    assert eligible([(5, 1.0), (10, 2.0), (20, 3.0)], rule) == [(10, 2.0), (20, 3.0)]


def test_device_floor_is_four_llcs_or_the_main_memory_floor() -> None:
    assert MAIN_MEMORY_FLOOR_BYTES == 256 * MIB
    assert device_plateau_floor(32 * MIB) == 256 * MIB  # 4 x 32 MiB = 128 MiB < floor
    assert device_plateau_floor(128 * MIB) == 512 * MIB


def test_rule_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        PlateauRule(window=0)
    with pytest.raises(ValueError):
        PlateauRule(tolerance=-0.1)


def test_rule_description_names_its_numbers() -> None:
    text = PlateauRule(window=3, tolerance=0.1, min_size_bytes=256 * MIB).describe()
    assert "last 3 sizes" in text and "256 MiB" in text and "10%" in text and "median" in text


def test_summarize() -> None:
    s = summarize([2.0, 4.0, 6.0])
    assert (s.count, s.min, s.max, s.mean, s.median) == (3, 2.0, 6.0, 4.0, 4.0)
    assert s.std == pytest.approx(2.0)
    assert s.cv == pytest.approx(0.5)
    assert summarize([3.0]).std == 0.0
    with pytest.raises(ValueError):
        summarize([])
