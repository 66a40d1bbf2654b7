"""nvidia-smi source: a pure parser of `nvidia-smi -q -x` XML (DTD v7 to v13) and a runner with a timeout.

Every "no value" spelling nvidia-smi has used (N/A, [N/A], [Not Supported], Not Found, "Requested
functionality has been deprecated", bracketed errors, a missing or empty element) becomes None.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ruckus_agent.gpu.capabilities import normalise_architecture, parse_compute_capability
from ruckus_agent.models.gpu import GpuInfo, GpuProcess, GpuReading, MigDevice

_NO_VALUE = {
    "n/a",
    "not supported",
    "not found",
    "unknown",
    "unknown error",
    "requested functionality has been deprecated",
}
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*([A-Za-z%/]*)")
_MIB_PER_UNIT = {"kib": 1 / 1024, "mib": 1.0, "gib": 1024.0, "b": 1 / 2**20}

# Power: newest element first; the `gpu_*` block before the legacy one.
_POWER_BLOCKS = ("gpu_power_readings", "power_readings")
_POWER_DRAW = ("instant_power_draw", "average_power_draw", "power_draw")
_POWER_LIMIT = ("current_power_limit", "enforced_power_limit", "power_limit")
_CLOCK_REASON_BLOCKS = (
    ("clocks_event_reasons", "clocks_event_reason_"),
    ("clocks_throttle_reasons", "clocks_throttle_reason_"),
)


class SmiError(Exception):
    """nvidia-smi gave no usable report; `reason` is a SourceError reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- value helpers ---


def _clean(text: str | None) -> str | None:
    """Collapse whitespace; None for every no-value spelling."""
    if text is None:
        return None
    value = " ".join(text.split())
    if not value:
        return None
    bare = value.strip("[]").strip().lower()
    if bare in _NO_VALUE or (value.startswith("[") and value.endswith("]")):
        return None
    return value


def _text(el: ET.Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    return _clean(found.text) if found is not None else None


def _number(el: ET.Element | None, path: str) -> float | None:
    """Leading number of "24564 MiB", "26.84 W", "40 C", "100 %", "16x"; None otherwise."""
    text = _text(el, path)
    if text is None:
        return None
    match = _NUMBER.match(text)
    return float(match.group(1)) if match else None


def _mib(el: ET.Element | None, path: str) -> float | None:
    text = _text(el, path)
    match = _NUMBER.match(text) if text else None
    if not match:
        return None
    return float(match.group(1)) * _MIB_PER_UNIT.get(match.group(2).lower(), 1.0)


def _int(el: ET.Element | None, path: str) -> int | None:
    value = _number(el, path)
    return int(value) if value is not None else None


def _enabled(el: ET.Element | None, path: str) -> bool | None:
    text = _text(el, path)
    if text is None:
        return None
    return {"enabled": True, "disabled": False}.get(text.lower())


def _first_number(gpu: ET.Element, blocks: tuple[str, ...], names: tuple[str, ...]) -> float | None:
    for block in blocks:
        el = gpu.find(block)
        for name in names:
            value = _number(el, name)
            if value is not None:
                return value
    return None


# --- parser ---


def _clock_reasons(gpu: ET.Element) -> list[str] | None:
    for block, prefix in _CLOCK_REASON_BLOCKS:
        el = gpu.find(block)
        if el is not None:
            return [
                child.tag.removeprefix(prefix)
                for child in el
                if (_clean(child.text) or "").lower() == "active"
            ]
    return None


def _reading(gpu: ET.Element, index: int, uuid: str | None) -> GpuReading:
    memory = gpu.find("fb_memory_usage")
    util = gpu.find("utilization")
    return GpuReading(
        index=index,
        uuid=uuid,
        temperature_c=_number(gpu, "temperature/gpu_temp"),
        power_usage_w=_first_number(gpu, _POWER_BLOCKS, _POWER_DRAW),
        power_limit_w=_first_number(gpu, _POWER_BLOCKS, _POWER_LIMIT),
        utilization_gpu_pct=_number(util, "gpu_util"),
        utilization_memory_pct=_number(util, "memory_util"),
        memory_used_mb=_mib(memory, "used"),
        memory_free_mb=_mib(memory, "free"),
        memory_total_mb=_mib(memory, "total"),
        clock_sm_mhz=_number(gpu, "clocks/sm_clock"),
        clock_mem_mhz=_number(gpu, "clocks/mem_clock"),
        fan_speed_pct=_number(gpu, "fan_speed"),
        energy_total_j=_mj_to_j(_number(gpu, "total_energy_consumption")),
        throttle_reasons=_clock_reasons(gpu),
        pstate=_text(gpu, "performance_state"),
    )


def _mj_to_j(value: float | None) -> float | None:
    return None if value is None else value / 1000.0


def _mig_devices(gpu: ET.Element) -> list[MigDevice]:
    out: list[MigDevice] = []
    for position, mig in enumerate(gpu.findall("mig_devices/mig_device")):
        index = _int(mig, "index")
        out.append(
            MigDevice(
                index=index if index is not None else position,
                gpu_instance_id=_int(mig, "gpu_instance_id"),
                compute_instance_id=_int(mig, "compute_instance_id"),
                uuid=_text(mig, "uuid"),
                memory_total_mb=_mib(mig, "fb_memory_usage/total"),
                memory_used_mb=_mib(mig, "fb_memory_usage/used"),
            )
        )
    return out


def _processes(gpu: ET.Element) -> list[GpuProcess]:
    out: list[GpuProcess] = []
    for proc in gpu.findall("processes/process_info"):
        pid = _int(proc, "pid")
        if pid is not None:
            out.append(
                GpuProcess(
                    pid=pid, name=_text(proc, "process_name"), used_memory_mb=_mib(proc, "used_memory")
                )
            )
    return out


def _gpu(gpu: ET.Element, index: int, driver: str | None, cuda: str | None) -> GpuInfo:
    uuid = _text(gpu, "uuid")
    cc = parse_compute_capability(_text(gpu, "compute_cap"))  # not in -q -x today; taken if it appears
    return GpuInfo(
        index=index,
        name=_text(gpu, "product_name") or "Unknown NVIDIA GPU",
        uuid=uuid,
        pci_bus_id=_text(gpu, "pci/pci_bus_id") or _clean(gpu.get("id")),
        memory_total_mb=_mib(gpu, "fb_memory_usage/total"),
        memory_used_mb=_mib(gpu, "fb_memory_usage/used"),
        memory_free_mb=_mib(gpu, "fb_memory_usage/free"),
        compute_capability=list(cc) if cc else None,
        architecture=normalise_architecture(_text(gpu, "product_architecture")),
        driver_version=driver,
        cuda_version=cuda,
        pcie_generation=_int(gpu, "pci/pci_gpu_link_info/pcie_gen/max_link_gen"),
        pcie_width=_int(gpu, "pci/pci_gpu_link_info/link_widths/current_link_width"),
        ecc_enabled=_enabled(gpu, "ecc_mode/current_ecc"),
        mig_mode=_enabled(gpu, "mig_mode/current_mig"),
        mig_devices=_mig_devices(gpu),
        processes=_processes(gpu),
        detection_method="nvidia-smi",
        live=_reading(gpu, index, uuid),
    )


def parse_nvidia_smi_xml(xml_text: str | bytes) -> list[GpuInfo]:
    """Every `<gpu>` of an `nvidia-smi -q -x` report, in report order (= NVML index order).

    Raises SmiError("parse_error") when the text is not such a report.
    """
    try:
        root = ET.fromstring(xml_text)
    except (ET.ParseError, ValueError) as exc:
        raise SmiError("parse_error", f"nvidia-smi output is not valid XML: {exc}") from exc
    if root.tag != "nvidia_smi_log":
        raise SmiError("parse_error", f"nvidia-smi output has root <{root.tag}>, expected <nvidia_smi_log>")
    driver = _text(root, "driver_version")
    cuda = _text(root, "cuda_version")
    return [_gpu(gpu, index, driver, cuda) for index, gpu in enumerate(root.findall("gpu"))]


# --- runner ---

# Phrases nvidia-smi prints when it cannot report, → SourceError reason.
_FAILURE_PHRASES = (
    ("version mismatch", "driver_library_mismatch"),
    ("couldn't communicate with the nvidia driver", "driver_not_loaded"),
    ("driver not loaded", "driver_not_loaded"),
    ("no devices were found", "no_device"),
    ("insufficient permissions", "no_permission"),
    ("permission denied", "no_permission"),
)


@dataclass(frozen=True)
class SmiRun:
    """Raw result of one nvidia-smi run."""

    returncode: int
    stdout: str
    stderr: str


def _execute(path: str, timeout_s: float) -> SmiRun:
    """Run `path -q -x`; on timeout kill its whole process group, so no grandchild keeps the pipes open."""
    posix = sys.platform != "win32"
    proc = subprocess.Popen(
        [path, "-q", "-x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        if posix:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            proc.kill()
        proc.communicate()
        raise
    return SmiRun(proc.returncode, out, err)


def run_nvidia_smi(binary: str = "nvidia-smi", timeout_s: float = 5.0) -> str:
    """The XML text of `nvidia-smi -q -x`; raises SmiError with a SourceError reason when there is none."""
    path = shutil.which(binary)
    if path is None:
        where = "on PATH" if os.sep not in binary else f"at {binary}"
        raise SmiError("not_installed", f"nvidia-smi not found {where}")
    try:
        run = _execute(path, timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise SmiError("timeout", f"nvidia-smi did not answer within {timeout_s:g} s") from exc
    except PermissionError as exc:
        raise SmiError("no_permission", f"nvidia-smi could not be run: {exc}") from exc
    except OSError as exc:
        raise SmiError("error", f"nvidia-smi could not be run: {exc}") from exc
    if run.returncode != 0:
        said = " ".join((run.stdout + " " + run.stderr).split())
        for phrase, reason in _FAILURE_PHRASES:
            if phrase in said.lower():
                raise SmiError(reason, f"nvidia-smi: {said}")
        raise SmiError("error", f"nvidia-smi exited with {run.returncode}: {said[:300] or 'no output'}")
    return run.stdout
