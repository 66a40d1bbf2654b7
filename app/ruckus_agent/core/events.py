"""A tiny plain-Python publish/subscribe bus. The GUI adapts it to Qt signals; nothing here knows Qt.

Callbacks run synchronously on the publisher's thread (the agent's loop); a failing callback is logged and
never breaks the publisher.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[str, Any], None]

#: Topics the Agent publishes
STATE = "agent.state"
INFO = "agent.info"
SAMPLE = "monitor.sample"
JOB = "job.update"
JOB_RUN = "job.run"
BENCH_PROGRESS = "bench.progress"
BENCH_RESULT = "bench.result"


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[Callback]] = defaultdict(list)

    def subscribe(self, topic: str, callback: Callback) -> Callable[[], None]:
        """Call `callback(topic, payload)` on each publish to topic ('*' for all); returns an unsubscribe."""
        self._subs[topic].append(callback)

        def unsubscribe() -> None:
            try:
                self._subs[topic].remove(callback)
            except ValueError:
                pass

        return unsubscribe

    def publish(self, topic: str, payload: Any = None) -> None:
        for callback in (*self._subs.get(topic, ()), *self._subs.get("*", ())):
            try:
                callback(topic, payload)
            except Exception:
                log.exception("event subscriber failed on %s", topic)
