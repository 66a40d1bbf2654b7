"""Fixtures of the benchmark tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so `import bench_support` works

from bench_support import FixedNumpyBackend


@pytest.fixture
def fixed_backend() -> FixedNumpyBackend:
    return FixedNumpyBackend()
