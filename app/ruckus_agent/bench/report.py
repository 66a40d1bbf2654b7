"""Reporting: plain-text tables of a suite result for the CLI. Formats only; measures nothing."""

from __future__ import annotations

from collections.abc import Sequence

from ruckus_agent.models.benchmark import (
    MEMORY_TESTS,
    BenchmarkSuiteResult,
    ComputeResult,
    MemoryBandwidthResult,
    TensorCoreAssessment,
)

MIB = 1024 * 1024


def format_size(size_bytes: int) -> str:
    """64 KiB, 256 MiB, 1 GiB."""
    if size_bytes >= 1024 * MIB:
        return f"{size_bytes / (1024 * MIB):g} GiB"
    if size_bytes >= MIB:
        return f"{size_bytes / MIB:g} MiB"
    return f"{size_bytes / 1024:g} KiB"


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """Columns padded to their widest cell; `right` marks right-aligned columns."""
    right = right or [False] * len(headers)
    widths = [max(len(str(cell)) for cell in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right, strict=False)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def format_memory(mem: MemoryBandwidthResult) -> str:
    """Per-test summary and the per-size curve."""
    tests = [t for t in MEMORY_TESTS if t in mem.tests]
    head = (
        f"Memory bandwidth ({mem.backend}, {mem.dtype}; GB/s = 1e9 B/s, STREAM byte counting; "
        f"LLC {format_size(mem.llc_bytes)} from {mem.llc_source}; "
        f"limit {mem.memory_limit_bytes / MIB:.0f} MiB"
        f" = {mem.max_memory_usage_percent:g}% of free)"
    )
    rows = []
    for t in tests:
        r = mem.tests[t]
        sizes = (
            f"{format_size(r.plateau_sizes_bytes[0])}-{format_size(r.plateau_sizes_bytes[-1])}"
            if r.plateau_sizes_bytes
            else "-"
        )
        rows.append(
            [
                t,
                f"{r.stream_byte_factor}x",
                _num(r.peak_bandwidth_gb_s),
                _num(r.max_bandwidth_gb_s),
                "yes" if r.plateau_reached else "no",
                sizes,
                r.stopped_by or "-",
            ]
        )
    summary = table(
        ["test", "bytes", "peak GB/s", "max GB/s", "plateau", "plateau sizes", "stopped by"],
        rows,
        [False, True, True, True, False, False, False],
    )
    rule = next(iter(mem.tests.values())).plateau_rule.description if mem.tests else ""
    sizes_all = sorted({p.size_bytes for r in mem.tests.values() for p in r.points})
    by_test = {t: {p.size_bytes: p.bandwidth_gb_s for p in mem.tests[t].points} for t in tests}
    curve = table(
        ["size", *tests],
        [[format_size(s), *[_num(by_test[t].get(s)) for t in tests]] for s in sizes_all],
        [True] * (len(tests) + 1),
    )
    notes = [f"  note ({t}): {n}" for t in tests for n in mem.tests[t].notes]
    parts = [head, summary, f"Plateau rule: {rule}", "Per size (GB/s, best region):", curve, *notes]
    return "\n".join(p for p in parts if p)


def format_compute(compute: ComputeResult) -> str:
    """One row per precision; skipped ones with their reason."""
    rows = []
    for precision, r in compute.results.items():
        if r.skipped:
            rows.append([precision, "-", "-", "-", "-", f"skipped: {r.skip_reason}"])
            continue
        note = "; ".join(r.notes)
        rows.append([precision, str(r.n), str(r.iterations), _num(r.avg_time_ms, 4), _num(r.tflops, 4), note])
    head = f"Matrix multiply ({compute.backend}; 2·n³ per product; TFLOPS = 1e12/s, TOPS for INT8)"
    body = table(
        ["precision", "n", "iters", "avg ms", "TFLOPS", "note"], rows, [False, True, True, True, True, False]
    )
    return f"{head}\n{body}"


def format_tensor_cores(tc: TensorCoreAssessment) -> str:
    lines = ["Tensor cores"]
    if tc.kind == "gpu":
        lines.append(
            f"  present: {'yes' if tc.present else 'no'}; generation: {tc.generation or '-'}; "
            f"architecture: {tc.architecture or '-'}"
        )
    else:
        lines.append(f"  present: no (CPU); matrix unit: {tc.matrix_unit or 'none seen'}")
    speedups = ", ".join(f"{p} {s:.3g}x" for p, s in tc.speedup_vs_fp32.items()) or "-"
    accel = {True: "yes", False: "no", None: "not measured"}[tc.accelerates]
    lines.append(f"  speed-up over FP32: {speedups}; accelerates (≥ {tc.speedup_threshold:g}x): {accel}")
    lines.append(f"  supported precisions: {', '.join(tc.supported_precisions) or '-'}")
    lines.append(f"  {tc.note}")
    return "\n".join(lines)


def format_suite(result: BenchmarkSuiteResult) -> str:
    """The whole suite result as plain text for a terminal."""
    versions = ", ".join(
        v
        for v in (
            f"torch {result.torch_version}" if result.torch_version else "",
            f"numpy {result.numpy_version}" if result.numpy_version else "",
        )
        if v
    )
    duration = f"{result.duration_s:.1f} s" if result.duration_s is not None else "-"
    status = " — CANCELLED (partial result)" if result.cancelled else ""
    header = [
        f"RUCKUS benchmark: {result.device} ({result.device_name}), backend {result.backend}{status}",
        f"{versions}; started {result.started_at.isoformat(timespec='seconds')}; took {duration}"
        + ("; quick" if result.quick else ""),
    ]
    hw = result.hardware
    if hw.cpu_flags:
        header.append(f"CPU flags: {' '.join(hw.cpu_flags)}; logical cores: {hw.cpu_logical_cores}")
    sections = ["\n".join(header)]
    if result.memory_bandwidth is not None:
        sections.append(format_memory(result.memory_bandwidth))
    if result.compute is not None:
        sections.append(format_compute(result.compute))
    if result.tensor_cores is not None:
        sections.append(format_tensor_cores(result.tensor_cores))
    if result.share_of_peak:
        shares = ", ".join(f"{k} {v * 100:.0f}%" for k, v in result.share_of_peak.items())
        sections.append(f"Share of datasheet peak ({result.peak_spec_name}): {shares}")
    if result.notes:
        sections.append("\n".join(f"note: {n}" for n in result.notes))
    return "\n\n".join(sections) + "\n"
