"""/metrics text parses with a real Prometheus parser and uses dcgm-exporter's names and labels."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from ruckus_agent.api.prometheus import render
from ruckus_agent.models.gpu import GpuInfo, GpuReading
from ruckus_agent.models.monitor import HostReading, Sample


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        fam.name: [(s.labels, s.value) for s in fam.samples] for fam in text_string_to_metric_families(text)
    }


def test_render_gpu_series_with_dcgm_names_labels_and_nulls_left_out() -> None:
    gpus = [
        GpuInfo(
            index=0,
            name='NVIDIA "H100" 80GB',
            uuid="GPU-aaa",
            pci_bus_id="00000000:01:00.0",
            detection_method="nvml",
        ),
        GpuInfo(index=1, name="NVIDIA GeForce RTX 4090", uuid="GPU-bbb", detection_method="nvml"),
    ]
    sample = Sample(
        timestamp=datetime(2026, 11, 29, tzinfo=UTC),
        host=HostReading(cpu_utilization_pct=12.5, memory_used_mb=1024, memory_total_mb=4096),
        gpus=[
            GpuReading(
                index=0,
                temperature_c=41,
                power_usage_w=123.25,
                utilization_gpu_pct=97,
                memory_used_mb=1000,
                memory_free_mb=80000,
                energy_total_j=5.5,
                clock_sm_mhz=1980,
            ),
            GpuReading(
                index=1, temperature_c=35, power_usage_w=None, utilization_gpu_pct=3
            ),  # power unsupported
        ],
    )
    text = render(
        hostname="box",
        agent_id="agent-1",
        agent_type="white_box",
        version="0.1.0",
        uptime_s=12.0,
        gpus=gpus,
        sample=sample,
        jobs_running=1,
        jobs_queued=2,
    )
    fams = _families(text)
    temp = fams["DCGM_FI_DEV_GPU_TEMP"]
    assert [(lab["gpu"], lab["UUID"], v) for lab, v in temp] == [
        ("0", "GPU-aaa", 41.0),
        ("1", "GPU-bbb", 35.0),
    ]
    labels0 = temp[0][0]
    assert labels0 == {
        "gpu": "0",
        "UUID": "GPU-aaa",
        "pci_bus_id": "00000000:01:00.0",
        "device": "nvidia0",
        "modelName": 'NVIDIA "H100" 80GB',
        "Hostname": "box",
    }
    assert [v for _, v in fams["DCGM_FI_DEV_POWER_USAGE"]] == [
        123.25
    ]  # GPU 1 has no power reading: no sample
    assert fams["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"][0][1] == 5500.0  # mJ, as dcgm-exporter
    assert fams["DCGM_FI_DEV_FB_USED"][0][1] == 1000.0
    assert fams["ruckus_host_cpu_utilization_percent"][0][1] == 12.5
    assert fams["ruckus_host_memory_total_bytes"][0][1] == 4096 * 1048576
    assert fams["ruckus_jobs_queued"][0][1] == 2
    assert fams["ruckus_agent_info"][0][0]["agent_id"] == "agent-1"
    assert "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter" in text
    assert "# TYPE DCGM_FI_DEV_GPU_TEMP gauge" in text


def test_lost_gpu_has_no_readings_but_a_lost_flag() -> None:
    gpus = [GpuInfo(index=0, name="A100", uuid="GPU-x", detection_method="nvml")]
    sample = Sample(
        timestamp=datetime.now(UTC),
        host=HostReading(),
        gpus=[GpuReading(index=0, lost=True, temperature_c=50)],
    )
    fams = _families(
        render(
            hostname="h",
            agent_id="a",
            agent_type="white_box",
            version="v",
            uptime_s=1,
            gpus=gpus,
            sample=sample,
            jobs_running=0,
            jobs_queued=0,
        )
    )
    assert "DCGM_FI_DEV_GPU_TEMP" not in fams
    assert fams["ruckus_gpu_lost"][0][1] == 1


def test_no_gpus_and_no_sample_still_parses() -> None:
    text = render(
        hostname="h",
        agent_id="a",
        agent_type="black_box",
        version="v",
        uptime_s=0.5,
        gpus=[],
        sample=None,
        jobs_running=0,
        jobs_queued=0,
    )
    fams = _families(text)
    assert fams["ruckus_agent_gpus"][0][1] == 0
    assert not any(name.startswith("DCGM") for name in fams)
