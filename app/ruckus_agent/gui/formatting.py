"""Text for numbers, sizes, times and statistics, as every tab shows them. Plain Python: no Qt here.

One rule everywhere: a value that is not known (None, NaN) reads "—", never 0.
"""

from __future__ import annotations

import math
from datetime import datetime

from ruckus_agent.models.statistics import MetricStatistics

MISSING = "—"


def known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def num(value: float | None, digits: int = 4) -> str:
    """A number with `digits` significant digits ("1.235", "1.235e+04" only when huge)."""
    if not known(value):
        return MISSING
    assert value is not None
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value)}"
    return f"{value:.{digits}g}"


def with_unit(value: float | None, unit: str | None, digits: int = 4) -> str:
    text = num(value, digits)
    return f"{text} {unit}" if unit and text != MISSING else text


def mean_std(stats: MetricStatistics) -> str:
    """'mean ± std unit' with four significant digits each, as the statistics views show it."""
    if stats.mean is None:
        return MISSING
    unit = f" {stats.unit}" if stats.unit else ""
    std = f" ± {stats.std:.4g}" if stats.std is not None else ""
    return f"{stats.mean:.4g}{std}{unit}"


def ci95(stats: MetricStatistics) -> str:
    if stats.ci95_low is None or stats.ci95_high is None:
        return MISSING
    return f"[{stats.ci95_low:.4g}, {stats.ci95_high:.4g}]"


def pct(value: float | None, digits: int = 0) -> str:
    return MISSING if not known(value) else f"{value:.{digits}f} %"


def share(value: float | None) -> str:
    """A fraction (0.72) as a percentage ("72.0 %")."""
    return MISSING if not known(value) else f"{100 * (value or 0):.1f} %"


def mib(value_mb: float | None) -> str:
    """Megabytes (MiB, as NVML and psutil report them) in the friendliest unit."""
    if not known(value_mb):
        return MISSING
    assert value_mb is not None
    if abs(value_mb) >= 1024:
        return f"{value_mb / 1024:.1f} GiB"
    return f"{value_mb:.0f} MiB"


def size_bytes(value: float | None) -> str:
    if not known(value):
        return MISSING
    assert value is not None
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{int(value)} B"


def duration(seconds: float | None) -> str:
    if not known(seconds):
        return MISSING
    assert seconds is not None
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(value: datetime | None) -> str:
    """A timestamp in local time, to the second."""
    if value is None:
        return MISSING
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def clock(value: datetime | None) -> str:
    if value is None:
        return MISSING
    return value.astimezone().strftime("%H:%M:%S")


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def mask_token(token: str, shown: int = 4) -> str:
    """'••••••••abcd': enough to tell tokens apart, not enough to use one."""
    if len(token) <= shown * 2:
        return "•" * len(token)
    return "•" * 8 + token[-shown:]
