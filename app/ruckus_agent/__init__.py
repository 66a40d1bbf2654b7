"""RUCKUS Agent: the worker of the RUCKUS distributed benchmarking system."""

from __future__ import annotations

__version__ = "0.1.0"
