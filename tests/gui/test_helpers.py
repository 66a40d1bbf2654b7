"""The GUI's plain-Python parts: the column mirror of the ring buffer, the form rules, formatting, compat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui.compat import affected
from ruckus_agent.gui.forms import FormInput, check_form
from ruckus_agent.gui.series import SeriesStore
from ruckus_agent.jobs.tasks import load_task_class
from ruckus_agent.models.gpu import GpuReading
from ruckus_agent.models.monitor import HostReading, Sample
from ruckus_agent.models.statistics import MetricStatistics
from ruckus_agent.monitor import RingBuffer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sample(i: int, gpus: int = 1) -> Sample:
    return Sample(
        timestamp=T0 + timedelta(seconds=i),
        host=HostReading(cpu_utilization_pct=float(i), memory_used_pct=50.0),
        gpus=[GpuReading(index=g, temperature_c=40.0 + i + g, power_usage_w=None) for g in range(gpus)],
    )


def test_series_mirror_the_ring_buffer_after_it_wraps() -> None:
    ring: RingBuffer[Sample] = RingBuffer(5)
    store = SeriesStore(5)
    for i in range(12):
        s = sample(i, gpus=2 if i >= 9 else 1)  # a second GPU shows up late
        ring.append(s)
        store.append(s)
    win = store.window(3600)
    np.testing.assert_array_equal(win.t, [s.timestamp.timestamp() for s in ring])
    np.testing.assert_array_equal(win.host["cpu_utilization_pct"], [s.host.cpu_utilization_pct for s in ring])
    np.testing.assert_array_equal(win.gpus[0]["temperature_c"], [40.0 + i for i in range(7, 12)])
    np.testing.assert_array_equal(win.gpus[1]["temperature_c"], [np.nan, np.nan, 50.0, 51.0, 52.0])
    assert np.isnan(win.gpus[0]["power_usage_w"]).all()  # null stays unknown, never 0
    assert list(store.window(2).t) == [T0.timestamp() + 9, T0.timestamp() + 10, T0.timestamp() + 11]
    assert store.version == 12 and len(store) == 5


def test_form_rules_name_the_field() -> None:
    noop = load_task_class("noop").params_model
    ok = check_form(FormInput(task_type="noop", parameters_text='{"sleep_s": 0.5}', runs_per_job=3), noop)
    assert ok.ok and ok.request is not None and ok.request.parameters == {"sleep_s": 0.5}
    assert ok.request.runs_per_job == 3 and ok.request.model is None
    bad = check_form(FormInput(task_type="noop", parameters_text='{"sleep_s": 99}', runs_per_job=0), noop)
    assert not bad.ok and set(bad.errors) == {"parameters", "runs_per_job"}
    assert bad.errors["parameters"].startswith("sleep_s: ")
    assert "greater than or equal to 1" in bad.errors["runs_per_job"]
    empty = check_form(FormInput(task_type="noop", parameters_text="  "), noop)
    assert empty.ok and empty.request is not None and empty.request.parameters == {}


def test_formatting() -> None:
    stats = MetricStatistics(metric="latency_s", count=3, mean=1.23456, std=0.0123456, unit="s")
    assert fmt.mean_std(stats) == "1.235 ± 0.01235 s"
    assert fmt.num(None) == fmt.MISSING and fmt.num(float("nan")) == fmt.MISSING and fmt.num(3.0) == "3"
    assert fmt.mib(2048) == "2.0 GiB" and fmt.mib(512) == "512 MiB"
    assert fmt.share(0.725) == "72.5 %"
    assert fmt.mask_token("abcdefghijklmnop") == "••••••••mnop"


def test_compat_applies_only_to_the_broken_binding_on_a_mortal_none() -> None:
    assert affected("6.12.0", (3, 11))
    assert not affected("6.12.0", (3, 12))
    assert not affected("6.11.3", (3, 11))
