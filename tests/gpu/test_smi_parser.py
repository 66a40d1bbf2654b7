"""`nvidia-smi -q -x` parser: every recorded report (DTD v7 to v13), every GPU in it, values from the XML.

The expected rows below were written by reading each XML file (and SOURCES.md), never by running the parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ruckus_agent.gpu import SmiError, detect_from_nvidia_smi_xml, parse_nvidia_smi_xml
from ruckus_agent.models.gpu import GpuInfo

DATA = Path(__file__).parent.parent / "data" / "nvidia-smi"


class Row(NamedTuple):
    name: str
    uuid: str
    bus_id: str
    memory_total_mb: float
    memory_used_mb: float
    memory_free_mb: float
    util_gpu_pct: float | None
    util_memory_pct: float | None
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    clock_sm_mhz: float | None
    clock_mem_mhz: float | None
    mig_mode: bool | None
    driver: str
    cuda: str | None


GTX1070 = "GeForce GTX 1070"
A100 = "NVIDIA A100-SXM4-40GB"

EXPECTED: dict[str, list[Row]] = {
    "grid-k520_driver-352.99_dtd-v7.xml": [
        Row("GRID K520", "GPU-cc96d6f4-7f66-e1fc-8179-a45dbd47664c", "0000:00:03.0",
            4095, 11, 4084, 0, 0, 31, 17.97, 125.00, 324, 324, None, "352.99", None),
    ],
    "geforce-gtx-1070-x6_driver-384.66_dtd-v9.xml": [
        Row(GTX1070, "GPU-e511a7b2-f9d5-ba47-9b98-853732ca6c1b", "00000000:01:00.0",
            8112, 2466, 5646, 100, 100, 60, 119.47, 180.00, 1923, 3802, None, "384.66", None),
        Row(GTX1070, "GPU-28daffaf-8abe-aaf8-c298-4bd13aecb5e6", "00000000:03:00.0",
            8114, 2294, 5820, 100, 100, 59, 139.30, 180.00, 1936, 3802, None, "384.66", None),
        Row(GTX1070, "GPU-e342d672-4033-5df9-b938-236756ab729c", "00000000:04:00.0",
            8114, 2294, 5820, 100, 100, 60, 135.12, 180.00, 1885, 3802, None, "384.66", None),
        Row(GTX1070, "GPU-93b6a00f-87b9-196d-8c49-4b7e0057e382", "00000000:08:00.0",
            8114, 2294, 5820, 100, 100, 58, 141.53, 180.00, 1923, 3802, None, "384.66", None),
        Row(GTX1070, "GPU-cac69485-70a3-0d36-3929-fa6199c37e70", "00000000:09:00.0",
            8114, 2294, 5820, 100, 100, 61, 141.46, 180.00, 1923, 3802, None, "384.66", None),
        Row(GTX1070, "GPU-d2c1e3bb-4c4e-4eb7-cbd0-e72265d17c31", "00000000:0A:00.0",
            8114, 2294, 5820, 100, 100, 59, 136.00, 180.00, 1911, 3802, None, "384.66", None),
    ],
    "a100-sxm4-40gb-mig-enabled_driver-510.47.03_dtd-v11.xml": [
        Row(A100, "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a", "00000000:00:04.0",
            40960, 38, 40315, None, None, 36, 66.92, 400.00, 1410, 1215, True, "510.47.03", "11.6"),
    ],
    "tesla-t4_driver-515.105.01_dtd-v11.xml": [
        Row("Tesla T4", "GPU-d37e67a5-91dd-3774-a5cb-99096249601a", "00000000:00:1E.0",
            15360, 1032, 13939, 0, 0, 40, 26.78, 70.00, 585, 5000, None, "515.105.01", "11.7"),
    ],
    "geforce-rtx-2080-windows-wddm_driver-516.59_dtd-v11.xml": [
        Row("NVIDIA GeForce RTX 2080", "GPU-fbd55ed4-1eec-4423-0a47-ad594b4333e3", "00000000:0A:00.0",
            8192, 862, 7147, 2, 7, 29, 14.50, 275.00, 193, 403, None, "516.59", "11.7"),
    ],
    "geforce-rtx-3090_driver-525.147.05_dtd-v12.xml": [
        Row("NVIDIA GeForce RTX 3090", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", "00000000:00:10.0",
            24576, 1, 24258, 0, 0, 37, 27.23, 200.00, 0, 405, None, "525.147.05", "12.0"),
    ],
    "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml": [
        Row("NVIDIA GeForce RTX 4090", "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437", "00000000:84:00.0",
            24564, 2, 24214, 0, 0, 40, 26.84, 450.00, 210, 405, None, "535.86.05", "12.2"),
    ],
    "a100-sxm4-40gb_driver-570.148.08_dtd-v12.xml": [
        Row(A100, "GPU-00000000-0000-0000-0000-000000000000", "00000000:06:00.0",
            40960, 0, 40443, 0, 0, 33, 49.68, 400.00, 210, 1215, False, "570.148.08", "12.8"),
    ],
    "rtx-pro-6000-blackwell-maxq_driver-590.44.01_dtd-v13.xml": [
        Row("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
            "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", "00000000:61:00.0",
            97887, 65720, 31531, 0, 0, 24, 3.99, 300.00, 180, 405, None, "590.44.01", "13.1"),
    ],
}  # fmt: skip


def _parse(file_name: str) -> list[GpuInfo]:
    return parse_nvidia_smi_xml((DATA / file_name).read_text())


def test_every_recorded_report_has_a_table() -> None:
    assert sorted(p.name for p in DATA.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_every_gpu_of_every_report(file_name: str) -> None:
    gpus = _parse(file_name)
    assert len(gpus) == len(EXPECTED[file_name])
    for index, (gpu, row) in enumerate(zip(gpus, EXPECTED[file_name], strict=True)):
        live = gpu.live
        assert live is not None
        got = Row(
            gpu.name, gpu.uuid or "", gpu.pci_bus_id or "",
            gpu.memory_total_mb or -1, gpu.memory_used_mb if gpu.memory_used_mb is not None else -1,
            gpu.memory_free_mb or -1,
            live.utilization_gpu_pct, live.utilization_memory_pct, live.temperature_c,
            live.power_usage_w, live.power_limit_w, live.clock_sm_mhz, live.clock_mem_mhz,
            gpu.mig_mode, gpu.driver_version or "", gpu.cuda_version,
        )  # fmt: skip
        assert got == row, f"GPU {index} of {file_name}"
        assert gpu.index == index
        assert gpu.detection_method == "nvidia-smi"
        assert live.index == index and live.uuid == row.uuid and not live.lost


# file → per GPU: (pcie max gen, pcie width, fan %, pstate, ecc, throttle reasons, process pids)
DETAILS: dict[str, list[tuple[int, int, float | None, str, bool | None, list[str], list[int]]]] = {
    "grid-k520_driver-352.99_dtd-v7.xml": [(3, 16, None, "P8", None, ["gpu_idle"], [])],
    "geforce-gtx-1070-x6_driver-384.66_dtd-v9.xml": [
        (3, 1, 41, "P2", None, [], [1357, 2384, 3093]),
        (2, 1, 39, "P2", None, [], [3093]),
        (2, 1, 42, "P2", None, [], [3093]),
        (2, 1, 38, "P2", None, [], [3093]),
        (2, 1, 43, "P2", None, [], [3093]),
        (2, 1, 40, "P2", None, [], [3093]),
    ],
    "a100-sxm4-40gb-mig-enabled_driver-510.47.03_dtd-v11.xml": [(4, 16, None, "P0", True, [], [])],
    "tesla-t4_driver-515.105.01_dtd-v11.xml": [(3, 8, None, "P0", True, [], [675, 5762])],
    "geforce-rtx-3090_driver-525.147.05_dtd-v12.xml": [(4, 16, 0, "P8", None, ["gpu_idle"], [])],
    "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml": [(3, 16, 0, "P8", False, ["gpu_idle"], [])],
    "a100-sxm4-40gb_driver-570.148.08_dtd-v12.xml": [(4, 16, None, "P0", True, ["gpu_idle"], [])],
    "rtx-pro-6000-blackwell-maxq_driver-590.44.01_dtd-v13.xml": [(4, 16, 30, "P8", False, [], [116860])],
}


@pytest.mark.parametrize("file_name", sorted(DETAILS))
def test_link_fan_pstate_ecc_throttle_processes(file_name: str) -> None:
    for gpu, (gen, width, fan, pstate, ecc, reasons, pids) in zip(
        _parse(file_name), DETAILS[file_name], strict=True
    ):
        assert gpu.live is not None
        assert (gpu.pcie_generation, gpu.pcie_width) == (gen, width)
        assert (gpu.live.fan_speed_pct, gpu.live.pstate, gpu.ecc_enabled) == (fan, pstate, ecc)
        assert gpu.live.throttle_reasons == reasons
        assert [p.pid for p in gpu.processes] == pids


def test_windows_wddm_processes_have_no_memory_and_empty_names_are_null() -> None:
    (gpu,) = _parse("geforce-rtx-2080-windows-wddm_driver-516.59_dtd-v11.xml")
    assert len(gpu.processes) == 26
    assert gpu.processes[0].pid == 7724
    assert gpu.processes[0].name is not None and gpu.processes[0].name.endswith("PhoneExperienceHost.exe")
    assert all(p.used_memory_mb is None for p in gpu.processes)  # N/A under WDDM
    assert gpu.processes[1].pid == 10808 and gpu.processes[1].name is None  # <process_name></process_name>
    assert (gpu.pcie_generation, gpu.pcie_width, gpu.live and gpu.live.fan_speed_pct) == (3, 8, 37)


def test_process_memory() -> None:
    gpus = _parse("geforce-gtx-1070-x6_driver-384.66_dtd-v9.xml")
    assert [(p.name, p.used_memory_mb) for p in gpus[0].processes] == [
        ("/usr/lib/xorg/Xorg", 99),
        ("/usr/bin/gnome-shell", 79),
        ("./ethminer", 2283),
    ]
    (blackwell,) = _parse("rtx-pro-6000-blackwell-maxq_driver-590.44.01_dtd-v13.xml")
    assert blackwell.processes[0].used_memory_mb == 65710


def test_mig_devices() -> None:
    (gpu,) = _parse("a100-sxm4-40gb-mig-enabled_driver-510.47.03_dtd-v11.xml")
    assert gpu.mig_mode is True
    assert [(m.index, m.gpu_instance_id, m.compute_instance_id, m.memory_total_mb, m.memory_used_mb)
            for m in gpu.mig_devices] == [(0, 1, 0, 19968, 19), (1, 2, 0, 19968, 19)]  # fmt: skip
    assert all(m.uuid is None for m in gpu.mig_devices)  # DTD v11 gives MIG devices no uuid


def test_v13_prefers_instant_power_and_deprecated_is_null() -> None:
    (gpu,) = _parse("rtx-pro-6000-blackwell-maxq_driver-590.44.01_dtd-v13.xml")
    assert gpu.live is not None
    assert gpu.live.power_usage_w == 3.99  # instant_power_draw, not average_power_draw (3.97)
    assert gpu.architecture == "Blackwell"


def test_architecture_from_report_or_name() -> None:
    arch = {
        name: detect_from_nvidia_smi_xml((DATA / name).read_text()).gpus[0].architecture for name in EXPECTED
    }
    assert arch == {
        "grid-k520_driver-352.99_dtd-v7.xml": "Kepler",  # no <product_architecture>: from the name
        "geforce-gtx-1070-x6_driver-384.66_dtd-v9.xml": "Pascal",  # idem
        "a100-sxm4-40gb-mig-enabled_driver-510.47.03_dtd-v11.xml": "Ampere",
        "tesla-t4_driver-515.105.01_dtd-v11.xml": "Turing",
        "geforce-rtx-2080-windows-wddm_driver-516.59_dtd-v11.xml": "Turing",
        "geforce-rtx-3090_driver-525.147.05_dtd-v12.xml": "Ampere",
        "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml": "Ada",  # "Ada Lovelace"
        "a100-sxm4-40gb_driver-570.148.08_dtd-v12.xml": "Ampere",
        "rtx-pro-6000-blackwell-maxq_driver-590.44.01_dtd-v13.xml": "Blackwell",
    }


def test_detection_from_xml_enriches_and_says_where_from() -> None:
    detection = detect_from_nvidia_smi_xml(
        (DATA / "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml").read_text()
    )
    (gpu,) = detection.gpus
    assert detection.sources_tried == ["nvidia-smi"] and detection.detection_errors == []
    assert gpu.detection_method == "nvidia-smi"
    assert gpu.compute_capability is None  # -q -x does not report it
    assert gpu.tensor_core_generation == 4
    assert gpu.supported_precisions == ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8"]
    assert detection.summary == "1 GPU found via nvidia-smi: NVIDIA GeForce RTX 4090"


# --- every "no value" spelling, on a minimal report ---

MINIMAL = """<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
  <driver_version>550.54.15</driver_version>
  <cuda_version>{cuda}</cuda_version>
  <gpu id="00000000:01:00.0">
    <product_name>NVIDIA L4</product_name>
    <uuid>GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</uuid>
    <fb_memory_usage><total>23034 MiB</total><used>{value}</used><free>22700 MiB</free></fb_memory_usage>
    <utilization><gpu_util>{value}</gpu_util></utilization>
    <temperature><gpu_temp>{value}</gpu_temp></temperature>
    <gpu_power_readings>
      <average_power_draw>{value}</average_power_draw>
      <instant_power_draw>{value}</instant_power_draw>
      <current_power_limit>72.00 W</current_power_limit>
    </gpu_power_readings>
    <clocks><sm_clock>{value}</sm_clock></clocks>
    <fan_speed>{value}</fan_speed>
    <mig_mode><current_mig>{value}</current_mig></mig_mode>
  </gpu>
</nvidia_smi_log>
"""

NO_VALUE = [
    "N/A",
    "[N/A]",
    "[Not Supported]",
    "Not Supported",
    "Not Found",
    "Requested functionality has been deprecated",
    "[Unknown Error]",
    "[GPU requires reset]",
    "",
    "   ",
]


@pytest.mark.parametrize("value", NO_VALUE)
def test_no_value_spellings_are_null(value: str) -> None:
    (gpu,) = parse_nvidia_smi_xml(MINIMAL.format(value=value, cuda=value))
    live = gpu.live
    assert live is not None
    assert gpu.memory_used_mb is None and gpu.cuda_version is None and gpu.mig_mode is None
    assert (live.utilization_gpu_pct, live.temperature_c, live.power_usage_w, live.clock_sm_mhz) == (
        None,
        None,
        None,
        None,
    )
    assert live.fan_speed_pct is None
    assert live.power_limit_w == 72.0  # the values that are there still come through
    assert gpu.memory_total_mb == 23034
    assert live.throttle_reasons is None  # no clocks-reasons block at all


def test_missing_elements_are_null() -> None:
    xml = "<nvidia_smi_log><gpu><product_name>Tesla K80</product_name></gpu></nvidia_smi_log>"
    (gpu,) = parse_nvidia_smi_xml(xml)
    assert (
        gpu.name == "Tesla K80" and gpu.uuid is None and gpu.pci_bus_id is None and gpu.driver_version is None
    )
    assert gpu.live is not None and gpu.live.power_usage_w is None and gpu.live.temperature_c is None
    assert gpu.processes == [] and gpu.mig_devices == []


def test_average_power_when_instant_is_missing_and_bus_id_from_attribute() -> None:
    xml = """<nvidia_smi_log><gpu id="00000000:3B:00.0"><product_name>NVIDIA L40S</product_name>
      <gpu_power_readings><average_power_draw>81.5 W</average_power_draw>
      <instant_power_draw>N/A</instant_power_draw></gpu_power_readings>
      <power_readings><power_draw>99 W</power_draw><power_limit>350 W</power_limit></power_readings>
      </gpu></nvidia_smi_log>"""
    (gpu,) = parse_nvidia_smi_xml(xml)
    assert gpu.pci_bus_id == "00000000:3B:00.0"
    assert gpu.live is not None and gpu.live.power_usage_w == 81.5 and gpu.live.power_limit_w == 350


def test_inline_dtd_is_accepted() -> None:
    xml = """<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log [
<!ELEMENT nvidia_smi_log (timestamp, driver_version, attached_gpus, gpu*)>
<!ELEMENT gpu (product_name)>
<!ATTLIST gpu id CDATA #REQUIRED>
]>
<nvidia_smi_log><driver_version>352.99</driver_version>
<gpu id="0000:00:03.0"><product_name>GRID K520</product_name></gpu></nvidia_smi_log>"""
    (gpu,) = parse_nvidia_smi_xml(xml)
    assert (gpu.name, gpu.pci_bus_id, gpu.driver_version) == ("GRID K520", "0000:00:03.0", "352.99")


@pytest.mark.parametrize("text", ["", "not xml", "<html><body>nope</body></html>", "<nvidia_smi_log>"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(SmiError) as info:
        parse_nvidia_smi_xml(text)
    assert info.value.reason == "parse_error"
    detection = detect_from_nvidia_smi_xml(text)
    assert detection.gpus == [] and [e.reason for e in detection.detection_errors] == ["parse_error"]


def test_a_report_without_gpus_is_no_device() -> None:
    detection = detect_from_nvidia_smi_xml(
        "<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>"
    )
    assert [(e.source, e.reason) for e in detection.detection_errors] == [("nvidia-smi", "no_device")]
