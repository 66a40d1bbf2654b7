"""Host readers on fixture trees: cache sizes, CPU flags, CPU load."""

from __future__ import annotations

from pathlib import Path

from ruckus_agent.bench.hardware import (
    DEFAULT_LLC_BYTES,
    CpuTimes,
    host_load_between,
    matrix_unit,
    ml_flags,
    parse_cache_size,
    read_cache_info,
    read_cpu_times,
    read_cpuinfo,
)


def _cache(root: Path, cpu: int, index: int, level: int, kind: str, size: str, shared: str) -> None:
    d = root / f"cpu{cpu}" / "cache" / f"index{index}"
    d.mkdir(parents=True)
    (d / "level").write_text(f"{level}\n")
    (d / "type").write_text(f"{kind}\n")
    (d / "size").write_text(f"{size}\n")
    (d / "shared_cpu_list").write_text(f"{shared}\n")


def test_llc_is_the_highest_level_summed_over_distinct_instances(tmp_path: Path) -> None:
    for cpu in (0, 1):
        _cache(tmp_path, cpu, 0, 1, "Data", "32K", str(cpu))
        _cache(tmp_path, cpu, 1, 1, "Instruction", "32K", str(cpu))
        _cache(tmp_path, cpu, 2, 2, "Unified", "512K", str(cpu))
        _cache(tmp_path, cpu, 3, 3, "Unified", "32768K", "0-1")  # one L3 shared by both
    info = read_cache_info(tmp_path)
    assert (info.llc_bytes, info.level) == (32 * 1024 * 1024, 3)


def test_two_sockets_add_up(tmp_path: Path) -> None:
    _cache(tmp_path, 0, 3, 3, "Unified", "30M", "0-1")
    _cache(tmp_path, 1, 3, 3, "Unified", "30M", "0-1")
    _cache(tmp_path, 2, 3, 3, "Unified", "30M", "2-3")
    assert read_cache_info(tmp_path).llc_bytes == 60 * 1024 * 1024


def test_no_sysfs_gives_the_default(tmp_path: Path) -> None:
    info = read_cache_info(tmp_path / "missing")
    assert (info.llc_bytes, info.level, info.source) == (DEFAULT_LLC_BYTES, None, "default")


def test_parse_cache_size() -> None:
    assert parse_cache_size("32768K") == 32 * 1024 * 1024
    assert parse_cache_size("1M") == 1024 * 1024
    assert parse_cache_size("512 KB") == 512 * 1024
    assert parse_cache_size("64") == 64
    assert parse_cache_size("lots") is None


def test_cpuinfo_model_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu avx2 fma avx512f avx512_bf16 amx_tile amx_bf16 amx_int8\n\n"
        "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu\n"
    )
    model, flags = read_cpuinfo(path)
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert ml_flags(flags) == ["amx_tile", "amx_bf16", "amx_int8", "avx512f", "avx512_bf16", "avx2", "fma"]
    assert matrix_unit(flags) == "AMX"
    assert matrix_unit({"avx512_bf16", "avx2"}) == "AVX512-BF16"
    assert matrix_unit({"avx2", "fma"}) is None


def test_cpu_times_from_proc_stat(tmp_path: Path) -> None:
    path = tmp_path / "stat"
    path.write_text("cpu  100 0 50 1000 0 0 10 5 0 0\ncpu0 50 0 25 500 0 0 5 2 0 0\n")
    times = read_cpu_times(path)
    assert times is not None
    assert times.busy_s > 0 and times.steal_s > 0
    assert read_cpu_times(tmp_path / "missing") is None


def test_host_load_is_other_processes_share_of_all_cpus() -> None:
    before = CpuTimes(busy_s=100.0, steal_s=1.0, own_s=10.0, wall_s=50.0)
    after = CpuTimes(busy_s=116.0, steal_s=2.0, own_s=20.0, wall_s=60.0)  # 10 s wall, 2 CPUs = 20 CPU-s
    load = host_load_between(before, after, 2)
    assert load == {"window_s": 10.0, "other_processes_cpu_pct": 30.0, "steal_pct": 5.0}
    assert host_load_between(None, after, 2) is None
