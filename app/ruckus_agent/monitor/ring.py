"""A fixed-size ring buffer: memory does not grow with uptime."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RingBuffer(Generic[T]):
    """Appends drop the oldest item once `capacity` is reached. Items are kept in time order."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._items: deque[T] = deque(maxlen=capacity)

    def append(self, item: T) -> None:
        self._items.append(item)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def latest(self) -> T | None:
        return self._items[-1] if self._items else None

    def since(self, key: Callable[[T], float], start: float) -> list[T]:
        """Items whose key >= start (keys must be non-decreasing, as timestamps are)."""
        items = list(self._items)
        keys = [key(i) for i in items]
        return items[bisect_left(keys, start) :]

    def clear(self) -> None:
        self._items.clear()
