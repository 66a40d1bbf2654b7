"""Pieces of the endpoint client: Server-Sent Events framing, endpoint URLs, redaction."""

from __future__ import annotations

import pytest

from ruckus_agent.jobs.tasks.llm_http import (
    api_root,
    completions_url,
    default_metrics_url,
    public_url,
    redact,
    sse_events,
)


def test_sse_events_join_data_lines_and_skip_comments_and_fields() -> None:
    raw = [
        b": keep-alive comment\n",
        b"event: message\n",
        b'data: {"a": 1}\n',
        b"\n",
        b"data:first\r\n",
        b"data: second\r\n",
        b"id: 7\r\n",
        b"\r\n",
        b"retry: 10\n",
        b"\n",
        b"data: [DONE]",  # no blank line before the end of the stream
    ]
    assert list(sse_events(raw)) == ['{"a": 1}', "first\nsecond", "[DONE]"]


@pytest.mark.parametrize(
    ("url", "root", "chat", "completions"),
    [
        (
            "http://h:8000",
            "http://h:8000/v1",
            "http://h:8000/v1/chat/completions",
            "http://h:8000/v1/completions",
        ),
        (
            "http://h:8000/v1/",
            "http://h:8000/v1",
            "http://h:8000/v1/chat/completions",
            "http://h:8000/v1/completions",
        ),
        (
            "https://h/api/v1/chat/completions",
            "https://h/api/v1",
            "https://h/api/v1/chat/completions",
            "https://h/api/v1/chat/completions",  # a full route is used as given
        ),
    ],
)
def test_endpoint_urls(url: str, root: str, chat: str, completions: str) -> None:
    assert api_root(url) == root
    assert completions_url(url, "chat") == chat
    assert completions_url(url, "completions") == completions


def test_metrics_url_is_the_servers_origin() -> None:
    assert default_metrics_url("http://h:8000/v1") == "http://h:8000/metrics"


def test_public_url_drops_credentials_and_redact_hides_secrets() -> None:
    assert public_url("http://user:pw@h:8000/v1") == "http://h:8000/v1"
    assert redact("key sk-123 and sk-123 again", ["sk-123", None]) == "key *** and *** again"
