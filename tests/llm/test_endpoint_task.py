"""Black and gray box tasks against the fake OpenAI-compatible server, driven as the worker drives them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from fakes.openai_server import FakeOpenAI
from ruckus_agent.core.config import load_settings
from ruckus_agent.jobs.tasks.base import TaskContext
from ruckus_agent.jobs.tasks.llm import LlmGenerationTask, SummarizationTask, llm_context
from ruckus_agent.jobs.tasks.llm_common import LlmError
from ruckus_agent.jobs.tasks.llm_http import EndpointError

KEY = "sk-test-SECRET-4242-do-not-echo"
FIRST, STEP, TOKENS = 0.25, 0.04, 6  # the fake's defaults: first token after 0.25 s, then one per 0.04 s


def make_task(
    params: dict[str, Any],
    *,
    agent_type: str = "black_box",
    endpoint_url: str | None = None,
    api_key: str | None = None,
    model: str | None = "m",
    cls: type[LlmGenerationTask] = LlmGenerationTask,
    **settings: Any,
) -> LlmGenerationTask:
    s = load_settings(
        storage_url="memory://",
        agent_type=agent_type,
        endpoint_url=endpoint_url,
        endpoint_api_key=api_key,
        **settings,
    )
    context = TaskContext(job_id="t", model=model, extra=llm_context(s))
    return cls(cls.params_model.model_validate(params), context)


def test_ttft_and_tpot_come_from_chunk_arrival_times(fake_openai: FakeOpenAI) -> None:
    task = make_task({"prompt": "hello", "max_tokens": 50, "seed": 1}, endpoint_url=fake_openai.url)
    facts = task.load()
    assert facts["agent_type"] == "black_box" and facts["served_model"] == "m"
    m = task.run(0).metrics
    # a role-only chunk arrives at once; the first token only after FIRST seconds
    assert FIRST <= m["ttft_s"] < FIRST + 0.15
    assert STEP * 0.75 <= m["tpot_s"] < STEP + 0.03
    assert m["latency_s"] >= FIRST + (TOKENS - 1) * STEP
    assert m["ttft_s"] > 2 * m["latency_s"] / TOKENS  # not latency ÷ tokens
    assert m["output_tokens"] == TOKENS and m["input_tokens"] == fake_openai.prompt_tokens  # from usage
    assert m["throughput_tokens_per_s"] == pytest.approx(TOKENS / m["latency_s"])
    body = fake_openai.requests[-1]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "m" and body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["max_tokens"] == 50 and body["temperature"] == 0.0 and body["seed"] == 1
    assert "top_k" not in body and "ignore_eos" not in body  # only sent when asked for
    task.close()


def test_without_usage_the_content_chunks_are_counted(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "no_usage"
    task = make_task({"prompt": "hello"}, endpoint_url=fake_openai.url)
    task.load()
    out = task.run(0)
    assert out.metrics["output_tokens"] == TOKENS and "input_tokens" not in out.metrics
    assert out.details["token_count_source"] == "content_chunks"
    assert out.details["output_text"] == "".join(fake_openai.tokens)


def test_completions_api_and_the_served_model_found_by_listing(fake_openai: FakeOpenAI) -> None:
    task = make_task(
        {
            "prompt": "once upon",
            "endpoint_api": "completions",
            "max_tokens": 3,
            "ignore_eos": True,
            "top_k": 4,
        },
        endpoint_url=fake_openai.url,
        model=None,
    )
    assert task.load()["served_model"] == "fake-model"  # from GET /v1/models
    out = task.run(0)
    req = fake_openai.requests[-1]
    assert req["path"] == "/v1/completions"
    assert req["body"]["prompt"] == "once upon" and req["body"]["model"] == "fake-model"
    assert req["body"]["ignore_eos"] is True and req["body"]["top_k"] == 4
    assert out.metrics["output_tokens"] == 3 and out.details["finish_reason"] == "length"


def test_summarization_prompt_and_rouge(fake_openai: FakeOpenAI) -> None:
    fake_openai.tokens = ["small", " world", " hello"]
    task = make_task(
        {"text": "a long text", "reference": "hello small world", "prompt_template": "Sum up: {text}"},
        endpoint_url=fake_openai.url,
        cls=SummarizationTask,
    )
    task.load()
    m = task.run(0).metrics
    assert fake_openai.requests[-1]["body"]["messages"][0]["content"] == "Sum up: a long text"
    # candidate "small world hello" vs "hello small world": LCS "small world" = 2 of 3 each way
    assert m["rouge_l"] == pytest.approx(2 / 3)
    assert m["rouge_l_precision"] == pytest.approx(2 / 3) and m["rouge_l_recall"] == pytest.approx(2 / 3)


def test_gray_box_adds_server_counter_deltas_and_gauges(fake_openai: FakeOpenAI) -> None:
    task = make_task({"prompt": "hi"}, agent_type="gray_box", endpoint_url=fake_openai.url + "/v1")
    assert task.load()["metrics_url"] == fake_openai.url + "/metrics"
    for run_id in range(2):
        m = task.run(run_id).metrics
        assert m["server_fake_requests_total"] == 1.0  # one request per run, whatever the total
        assert m["server_fake_generation_tokens_total"] == TOKENS
        assert m["server_fake_e2e_request_latency_seconds_count"] == 1.0
        assert m["server_fake_e2e_request_latency_seconds_sum"] == pytest.approx(0.5)
        assert m["server_fake_kv_cache_usage_perc"] == 0.25
        assert m["server_fake_num_requests_running"] == 0.0
        assert not any("bucket" in k for k in m)
    assert fake_openai.requests_total == 2


def test_gray_box_load_fails_when_metrics_cannot_be_read(fake_openai: FakeOpenAI) -> None:
    task = make_task(
        {"prompt": "hi", "metrics_url": fake_openai.url + "/nope"},
        agent_type="gray_box",
        endpoint_url=fake_openai.url,
    )
    with pytest.raises(LlmError, match=r"cannot read the server metrics at .*/nope"):
        task.load()


def test_http_error_becomes_an_error_with_status_and_message_without_the_key(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.mode = "error"
    task = make_task({"prompt": "hi"}, endpoint_url=fake_openai.url, api_key=KEY)
    task.load()
    with pytest.raises(EndpointError) as err:
        task.run(0)
    assert err.value.status == 500
    message = str(err.value)
    assert "HTTP 500" in message and "the fake is down" in message
    assert fake_openai.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"  # it was sent ...
    assert KEY not in message and "***" in message  # ... and the server's echo of it is redacted
    assert KEY not in caplog.text


def test_a_hanging_endpoint_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "hang"
    task = make_task({"prompt": "hi", "request_timeout_s": 0.5}, endpoint_url=fake_openai.url)
    task.load()
    with pytest.raises(EndpointError, match=r"did not answer within 0.5 s \(timeout\)"):
        task.run(0)


def test_an_error_mid_stream_fails_the_run(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "stream_error"
    task = make_task({"prompt": "hi"}, endpoint_url=fake_openai.url)
    task.load()
    with pytest.raises(EndpointError, match="mid-stream: the fake broke mid-stream"):
        task.run(0)


def test_the_key_goes_only_to_the_configured_server(fake_openai: FakeOpenAI) -> None:
    with FakeOpenAI() as other:
        task = make_task(
            {"prompt": "hi", "endpoint_url": other.url}, endpoint_url=fake_openai.url, api_key=KEY
        )
        facts = task.load()
        out = task.run(0)
        assert "Authorization" not in other.requests[-1]["headers"]
        assert facts["api_key_sent"] is False
    assert KEY not in repr(task.context) and KEY not in repr(facts) and KEY not in repr(out)


def test_the_key_is_in_no_result(fake_openai: FakeOpenAI) -> None:
    task = make_task({"prompt": "hi"}, agent_type="gray_box", endpoint_url=fake_openai.url, api_key=KEY)
    facts = task.load()
    out = task.run(0)
    assert facts["api_key_sent"] is True
    assert fake_openai.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(facts) + repr(out.metrics) + repr(out.details)


@pytest.mark.parametrize(
    ("agent_type", "params", "settings_url", "message"),
    [
        (
            "white_box",
            {"prompt": "x", "endpoint_url": "http://127.0.0.1:9/v1"},
            None,
            "for black_box and gray_box",
        ),
        (
            "black_box",
            {"prompt": "x", "metrics_url": "http://127.0.0.1:9/metrics"},
            "http://127.0.0.1:9",
            "gray_box",
        ),
        ("black_box", {"prompt": "x"}, None, "no endpoint"),
    ],
)
def test_mode_and_parameter_mismatches_are_refused_at_load(
    agent_type: str, params: dict[str, Any], settings_url: str | None, message: str
) -> None:
    task = make_task(params, agent_type=agent_type, endpoint_url=settings_url)
    with pytest.raises(LlmError, match=message):
        task.load()


def test_without_an_agent_type_in_the_context_the_parameters_decide() -> None:
    def mode(params: dict[str, Any]) -> str:
        return LlmGenerationTask(
            LlmGenerationTask.params_model.model_validate(params), TaskContext(job_id="t")
        ).mode

    assert mode({"prompt": "x"}) == "white_box"
    assert mode({"prompt": "x", "endpoint_url": "http://h/v1"}) == "black_box"
    assert (
        mode({"prompt": "x", "endpoint_url": "http://h/v1", "metrics_url": "http://h/metrics"}) == "gray_box"
    )


@pytest.mark.parametrize(
    ("framework", "message"),
    [("vllm", "'vllm' is not installed"), ("onnxruntime", "not supported in-process")],
)
def test_white_box_frameworks_it_cannot_run_are_refused(framework: str, message: str) -> None:
    import importlib.util

    if framework == "vllm" and importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    s = load_settings(storage_url="memory://", agent_type="white_box")
    context = TaskContext(
        job_id="t", model="m", framework=framework, model_path="/srv/models", extra=llm_context(s)
    )
    task = LlmGenerationTask(LlmGenerationTask.params_model.model_validate({"prompt": "x"}), context)
    with pytest.raises(LlmError, match=message):
        task.load()


def test_the_task_module_is_light_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ruckus_agent.jobs.tasks.llm, ruckus_agent.jobs.tasks.llm_http, ruckus_agent.core.models_scan;"
        "heavy = [m for m in ('torch', 'transformers', 'tokenizers', 'vllm') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_refused_connection_is_an_endpoint_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    task = make_task({"prompt": "hi"}, endpoint_url=f"http://127.0.0.1:{port}", model="m")
    task.load()
    with pytest.raises(
        EndpointError, match=rf"request to http://127.0.0.1:{port}/v1/chat/completions failed"
    ):
        task.run(0)


@pytest.mark.parametrize(
    ("agent_type", "model", "refused"),
    [
        ("white_box", "tiny", None),
        ("white_box", "../x", "'..' is not allowed"),
        ("white_box", "/etc/x", "absolute paths"),
        ("white_box", None, "names no model"),
        ("black_box", None, None),  # the server's model: no path rules
        ("gray_box", "../x", None),
    ],
)
def test_submit_check_names_what_a_white_box_agent_refuses(
    agent_type: str, model: str | None, refused: str | None
) -> None:
    from ruckus_agent.jobs.tasks.llm import submit_check

    s = load_settings(storage_url="memory://", agent_type=agent_type, model_path="/srv/models")
    reason = submit_check(model, s)
    assert (reason is None) if refused is None else (reason is not None and refused in reason)
