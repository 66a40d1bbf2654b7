"""Gray box: scrape an inference server's Prometheus `/metrics` and turn two scrapes into per-run metrics.

A small parser of the text exposition format (0.0.4, and the OpenMetrics subset servers send): `# TYPE`
lines, samples with optional labels and timestamp. prometheus_client is only a dev dependency, so the agent
does not rely on it.

Per run: a counter's increase between the scrapes (a series that went down was reset: its increase is its
new value), a histogram's or summary's `_sum` and `_count` increases, and every gauge's value after the run.
Series of one name are summed over their label sets. Keys are `server_` + the name with every character
outside [A-Za-z0-9_] made `_` (`vllm:num_requests_running` -> `server_vllm_num_requests_running`).
"""

from __future__ import annotations

import math
import re
import urllib.request
from dataclasses import dataclass, field

PREFIX = "server_"
_SUFFIXES = ("_total", "_count", "_sum", "_bucket", "_created", "_info", "_gcount", "_gsum")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_MAX_BYTES = 8 * 1024 * 1024


class MetricsParseError(ValueError):
    pass


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass
class Exposition:
    """One scrape: metric family types (`counter`, `gauge`, ...) and every sample."""

    types: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def kind(self, sample_name: str) -> str:
        """The family type a sample belongs to ('untyped' when no TYPE line names it)."""
        if sample_name in self.types:
            return self.types[sample_name]
        for suffix in _SUFFIXES:
            if sample_name.endswith(suffix):
                family = sample_name[: -len(suffix)]
                if family in self.types:
                    return self.types[family]
        return "untyped"


def _parse_labels(text: str, start: int, line_no: int) -> tuple[tuple[tuple[str, str], ...], int]:
    """Labels from text[start] == '{' to the matching '}'; returns them and the index after '}'."""
    labels: list[tuple[str, str]] = []
    i = start + 1
    while True:
        while i < len(text) and text[i] in " ,":
            i += 1
        if i >= len(text):
            raise MetricsParseError(f"line {line_no}: unterminated label set")
        if text[i] == "}":
            return tuple(labels), i + 1
        eq = text.find("=", i)
        if eq < 0 or eq + 1 >= len(text) or text[eq + 1] != '"':
            raise MetricsParseError(f"line {line_no}: malformed label")
        key = text[i:eq].strip()
        j, value = eq + 2, []
        while j < len(text) and text[j] != '"':
            if text[j] == "\\" and j + 1 < len(text):
                j += 1
                value.append({"n": "\n", "\\": "\\", '"': '"'}.get(text[j], "\\" + text[j]))
            else:
                value.append(text[j])
            j += 1
        if j >= len(text):
            raise MetricsParseError(f"line {line_no}: unterminated label value")
        labels.append((key, "".join(value)))
        i = j + 1


def parse_exposition(text: str) -> Exposition:
    """Parse the Prometheus text format. Raises MetricsParseError on a line it cannot read."""
    out = Exposition()
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                out.types[parts[2]] = parts[3].strip().lower()
            continue
        brace, space = line.find("{"), line.find(" ")
        if brace >= 0 and (space < 0 or brace < space):
            name = line[:brace]
            labels, end = _parse_labels(line, brace, line_no)
            rest = line[end:].split()
        else:
            name, *rest = line.split()
            labels = ()
        if not name or not rest:
            raise MetricsParseError(f"line {line_no}: no value in {raw!r}")
        try:
            value = float(rest[0])
        except ValueError:
            raise MetricsParseError(f"line {line_no}: value {rest[0]!r} is not a number") from None
        out.samples.append(Sample(name, labels, value))
    return out


def metric_key(name: str) -> str:
    return PREFIX + _UNSAFE.sub("_", name)


def _wanted(exposition: Exposition, sample: Sample) -> str | None:
    """'delta', 'value' or None (left out) for one sample."""
    name = sample.name
    if name.endswith("_created") or not math.isfinite(sample.value):
        return None
    kind = exposition.kind(name)
    if kind == "counter":
        return "delta"
    if kind in ("histogram", "summary", "gaugehistogram"):
        return "delta" if name.endswith(("_sum", "_count")) else None
    if kind in ("gauge", "untyped", "unknown"):
        return "value"
    return None  # info, stateset


def server_metrics(before: Exposition, after: Exposition) -> dict[str, float]:
    """Counter increases and gauge values of one run, from the scrapes before and after it."""
    earlier = {(s.name, s.labels): s.value for s in before.samples}
    out: dict[str, float] = {}
    for sample in after.samples:
        how = _wanted(after, sample)
        if how is None:
            continue
        value = sample.value
        if how == "delta":
            old = earlier.get((sample.name, sample.labels), 0.0)
            value = value - old if value >= old else value  # went down: reset, count from zero
        key = metric_key(sample.name)
        out[key] = out.get(key, 0.0) + value
    return out


def scrape(url: str, timeout_s: float, headers: dict[str, str] | None = None) -> Exposition:
    """GET the metrics page and parse it (raises OSError / MetricsParseError)."""
    request = urllib.request.Request(url, headers={"Accept": "text/plain", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout_s) as resp:
        body = resp.read(_MAX_BYTES + 1)
    if len(body) > _MAX_BYTES:
        raise MetricsParseError(f"metrics page is larger than {_MAX_BYTES} bytes")
    return parse_exposition(body.decode("utf-8", errors="replace"))
