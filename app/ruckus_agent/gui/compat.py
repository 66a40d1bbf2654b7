"""Work-arounds for hazards of the Qt binding this app runs on: a refcount defect of PySide6 6.12 on
Python 3.11, and Qt objects freed by the garbage collector on a thread that is not theirs (MainThreadGc).

PySide6/shiboken6 6.12.0 returns None from every void method (QWidget.update, QPainter.drawLine,
QTransform.setMatrix, ...) without taking a reference to it, and somewhere in pyqtgraph's painting path it
drops references to True the same way (measured: ~10,000 None and ~900 True references a second with the
Monitor tab drawing 8 GPUs). From Python 3.12 on these objects are immortal and this is harmless; on 3.11
the count reaches zero within seconds and the interpreter aborts ("Fatal Python error: none_dealloc" /
"bool_dealloc"). 6.11.x does not do this. Until the dependency is pinned away from it, give None, True and
False the effectively unlimited reference count that 3.12 gives immortal objects, once, when Qt is first
used.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import sys

log = logging.getLogger(__name__)

_NONE_REFS = 1 << 40  # at a million void calls a second, 12 days to use up
_done = False


def affected(shiboken_version: str, python: tuple[int, int]) -> bool:
    """True for the shiboken6 releases known to drop references to None, on a Python where None is mortal."""
    return python < (3, 12) and shiboken_version.startswith("6.12.")


def protect_none() -> bool:
    """Raise the reference counts of None, True and False on an affected PySide6 + CPython; True when it did."""
    global _done
    if _done:
        return True
    try:
        import shiboken6
    except ImportError:
        return False
    version = str(getattr(shiboken6, "__version__", ""))
    if sys.implementation.name != "cpython" or not affected(version, sys.version_info[:2]):
        return False
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: first field of every PyObject
        refcount.value += _NONE_REFS
    _done = True
    log.debug(
        "shiboken6 %s drops references to None and True on Python %s: compensated",
        version,
        sys.version.split()[0],
    )
    return True


class MainThreadGc:
    """Cyclic garbage collection on the GUI thread only, on a timer, while the app runs.

    Python's collector runs in whichever thread happens to allocate: the sampler's hardware thread, a
    benchmark thread. If it frees a cycle that holds a Qt object there, the QObject is destroyed off its
    thread, its timers stay registered, and Qt later delivers a timer event to freed memory (a segfault in
    QCoreApplication::notify). pyqtgraph's GarbageCollector does the same for the same reason.
    """

    def __init__(self, interval_ms: int = 1000) -> None:
        from PySide6.QtCore import QTimer

        self._was_enabled = gc.isenabled()
        self._threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds, as gc would."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._threshold[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
