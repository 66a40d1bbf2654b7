"""The gray box's Prometheus text parser and per-run deltas, against hand-made scrapes."""

from __future__ import annotations

import math

import pytest

from ruckus_agent.jobs.tasks.llm_prometheus import (
    MetricsParseError,
    metric_key,
    parse_exposition,
    server_metrics,
)

BEFORE = """\
# HELP vllm:num_requests_running Number of requests running.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 3
# TYPE vllm:prompt_tokens counter
vllm:prompt_tokens_total{model_name="m"} 100
# TYPE vllm:request_success counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 4
vllm:request_success_total{finished_reason="length",model_name="m"} 1
vllm:request_success_created{finished_reason="stop",model_name="m"} 1.7e9
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="m"} 2
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 5
vllm:e2e_request_latency_seconds_sum{model_name="m"} 2.5
vllm:e2e_request_latency_seconds_count{model_name="m"} 5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.5e+09 1700000000000
# TYPE restarted_total counter
restarted_total 50
# TYPE odd gauge
odd{path="a,b}c",quote="say \\"hi\\"",nl="x\\ny"} NaN
untyped_thing 7
"""

AFTER = """\
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 0
# TYPE vllm:prompt_tokens counter
vllm:prompt_tokens_total{model_name="m"} 130
# TYPE vllm:request_success counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 5
vllm:request_success_total{finished_reason="length",model_name="m"} 1
vllm:request_success_total{finished_reason="abort",model_name="m"} 2
vllm:request_success_created{finished_reason="stop",model_name="m"} 1.7e9
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="m"} 2
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 6
vllm:e2e_request_latency_seconds_sum{model_name="m"} 3.25
vllm:e2e_request_latency_seconds_count{model_name="m"} 6
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.6e+09 1700000001000
# TYPE restarted_total counter
restarted_total 3
# TYPE odd gauge
odd{path="a,b}c",quote="say \\"hi\\"",nl="x\\ny"} +Inf
untyped_thing 9
"""


def test_counter_deltas_gauge_values_and_names() -> None:
    got = server_metrics(parse_exposition(BEFORE), parse_exposition(AFTER))
    assert got == {
        "server_vllm_num_requests_running": 0.0,
        "server_vllm_prompt_tokens_total": 30.0,
        # stop +1, length +0, abort new (+2): summed over label sets
        "server_vllm_request_success_total": 3.0,
        "server_vllm_e2e_request_latency_seconds_sum": 0.75,
        "server_vllm_e2e_request_latency_seconds_count": 1.0,
        "server_process_resident_memory_bytes": 1.6e9,
        "server_restarted_total": 3.0,  # went down: the server restarted, so its new value is the increase
        "server_untyped_thing": 9.0,
    }


def test_labels_with_escapes_commas_and_braces() -> None:
    sample = next(s for s in parse_exposition(BEFORE).samples if s.name == "odd")
    assert dict(sample.labels) == {"path": "a,b}c", "quote": 'say "hi"', "nl": "x\ny"}
    assert math.isnan(sample.value)


def test_agrees_with_prometheus_client_parser() -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    theirs = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in parser.text_string_to_metric_families(AFTER)
        for s in family.samples
    }
    ours = {(s.name, tuple(sorted(s.labels))): s.value for s in parse_exposition(AFTER).samples}
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key] == value or (math.isnan(ours[key]) and math.isnan(value))


def test_metric_key_is_prefixed_and_safe() -> None:
    assert metric_key("vllm:num_requests_running") == "server_vllm_num_requests_running"
    assert metric_key("tgi_request_duration.seconds") == "server_tgi_request_duration_seconds"


@pytest.mark.parametrize("text", ["metric_without_value\n", 'm{a="1" 3\n', "m notanumber\n", "m{a=1} 2\n"])
def test_malformed_lines_are_errors(text: str) -> None:
    with pytest.raises(MetricsParseError, match="line 1"):
        parse_exposition(text)
