"""Black box: one streamed request to an OpenAI-compatible endpoint (vLLM, llama.cpp server, TGI, Ollama, ...).

Plain `http.client` (synchronous: the task runs in its own worker process), Server-Sent Events read line by
line as they arrive, each content chunk stamped with time.perf_counter() on arrival. The API key goes in the
Authorization header only; every message this module produces has the key replaced by `***`.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ruckus_agent.jobs.tasks.llm_common import Generation, GenerationRequest, LlmError
from ruckus_agent.jobs.tasks.llm_prometheus import MetricsParseError, scrape, server_metrics

_MAX_ERROR_BODY = 2000
_MAX_LINE = 1024 * 1024


class EndpointError(RuntimeError):
    """The endpoint answered with an error, broke the stream, or did not answer in time."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def public_url(url: str) -> str:
    """The URL without user:password@ (safe to show)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def api_root(url: str) -> str:
    """`http://h:8000`, `http://h:8000/v1` or `http://h:8000/v1/chat/completions` -> `http://h:8000/v1`."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for tail in ("/chat/completions", "/completions", "/models"):
        if path.endswith(tail):
            path = path[: -len(tail)]
            break
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def completions_url(url: str, api: str) -> str:
    """The route to POST to: the URL itself when it names one, else `<api root>/chat/completions` (or
    `/completions`)."""
    path = urlsplit(url).path.rstrip("/")
    if path.endswith(("/chat/completions", "/completions")):
        return url
    return api_root(url) + ("/chat/completions" if api == "chat" else "/completions")


def default_metrics_url(url: str) -> str:
    """Prometheus page of the server behind an endpoint URL: `<scheme>://<host:port>/metrics`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/metrics", "", ""))


# --- Server-Sent Events -----------------------------------------------------------------------------
def sse_events(lines: Iterable[bytes]) -> Iterator[str]:
    """The `data` of each event: `data:` lines joined by newlines, dispatched at a blank line (or at the end).

    Comment lines (`:`), `event:`, `id:` and `retry:` fields are skipped.
    """
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


# --- one streamed request -------------------------------------------------------------------------
@dataclass
class StreamResult:
    text: str
    started: float  # perf_counter() before connecting
    finished: float  # perf_counter() at [DONE] or the end of the stream
    token_times: list[float] = field(default_factory=list)  # arrival of each chunk that carried content
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    model: str | None = None
    chunks: int = 0  # every data event, content or not


def _chunk_text(chunk: dict[str, Any]) -> str:
    """The generated text in one streamed chunk (chat `delta.content`/reasoning, or completions `text`)."""
    text = ""
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for key in ("reasoning_content", "reasoning", "content"):
                part = delta.get(key)
                if isinstance(part, str):
                    text += part
        part = choice.get("text")
        if isinstance(part, str):
            text += part
    return text


def _connection(url: str, timeout_s: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout_s, context=ssl.create_default_context()
        )
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout_s)
    raise EndpointError(f"unsupported URL scheme {parts.scheme!r} in {public_url(url)!r}; use http or https")


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _error_message(body: bytes) -> str:
    text = body[:_MAX_ERROR_BODY].decode("utf-8", errors="replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str):
        return err
    if isinstance(doc, dict) and doc.get("message"):
        return str(doc["message"])
    return text


def request_json(url: str, *, api_key: str | None, timeout_s: float) -> Any:
    """GET a JSON document (e.g. /v1/models)."""
    conn = _connection(url, timeout_s)
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        conn.request("GET", _target(url), headers=headers)
        resp = conn.getresponse()
        body = resp.read(_MAX_LINE)
        if resp.status != 200:
            raise EndpointError(f"HTTP {resp.status} {resp.reason}", resp.status)
        return json.loads(body)
    finally:
        conn.close()


def stream_completion(
    url: str, body: dict[str, Any], *, api_key: str | None, timeout_s: float
) -> StreamResult:
    """POST `body` (with stream: true) and read the SSE stream to the end.

    timeout_s bounds the wait for any single read and the whole request. Raises EndpointError with the HTTP
    status and the server's message, or with what went wrong on the connection; never with the API key.
    """
    where = public_url(url)
    try:
        return _stream(url, body, api_key=api_key, timeout_s=timeout_s)
    except EndpointError as exc:
        raise EndpointError(redact(str(exc), [api_key]), exc.status) from None
    except TimeoutError:
        raise EndpointError(f"endpoint {where} did not answer within {timeout_s:g} s (timeout)") from None
    except (OSError, http.client.HTTPException) as exc:
        message = redact(f"{type(exc).__name__}: {exc}", [api_key])
        raise EndpointError(f"request to {where} failed: {message}") from None


def _stream(url: str, body: dict[str, Any], *, api_key: str | None, timeout_s: float) -> StreamResult:
    where = public_url(url)
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    started = time.perf_counter()
    deadline = started + timeout_s
    conn = _connection(url, timeout_s)
    try:
        conn.request("POST", _target(url), body=payload, headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            detail = _error_message(resp.read(_MAX_ERROR_BODY))
            raise EndpointError(f"HTTP {resp.status} {resp.reason} from {where}: {detail}", resp.status)

        def lines() -> Iterator[bytes]:
            while True:
                line = resp.readline(_MAX_LINE)
                if not line:
                    return
                if time.perf_counter() > deadline:
                    raise EndpointError(f"endpoint {where} did not finish within {timeout_s:g} s (timeout)")
                yield line

        result = StreamResult(text="", started=started, finished=started)
        parts: list[str] = []
        for data in sse_events(lines()):
            now = time.perf_counter()
            if data.strip() == "[DONE]":
                break
            result.chunks += 1
            try:
                chunk = json.loads(data)
            except ValueError:
                raise EndpointError(
                    f"endpoint {where} sent a chunk that is not JSON: {data[:200]!r}"
                ) from None
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error"):
                err = chunk["error"]
                message = err.get("message") if isinstance(err, dict) else err
                raise EndpointError(f"endpoint {where} reported an error mid-stream: {message}")
            text = _chunk_text(chunk)
            if text:
                result.token_times.append(now)
                parts.append(text)
            if isinstance(chunk.get("usage"), dict):
                result.usage = chunk["usage"]
            for choice in chunk.get("choices") or []:
                if isinstance(choice, dict) and choice.get("finish_reason"):
                    result.finish_reason = str(choice["finish_reason"])
            if chunk.get("model"):
                result.model = str(chunk["model"])
        result.finished = time.perf_counter()
        result.text = "".join(parts)
        return result
    finally:
        conn.close()


# --- the back-end of black_box / gray_box LLM tasks ------------------------------------------------
@dataclass
class EndpointBackend:
    """Streams each generation from the endpoint; with metrics_url (gray box) scrapes before and after."""

    url: str  # what the job or the settings named
    api: str  # "chat" | "completions"
    model: str | None
    api_key: str | None  # sent only to api_key_origin
    api_key_origin: tuple[str, str, int] | None
    timeout_s: float
    stream_usage: bool = True
    metrics_url: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def _key_for(self, url: str) -> str | None:
        return self.api_key if self.api_key and origin(url) == self.api_key_origin else None

    def _redact(self, text: str) -> str:
        return redact(text, [self.api_key])

    def load(self) -> dict[str, Any]:
        """Find the served model's name when the job gives none; on a gray box, check /metrics answers."""
        post_url = completions_url(self.url, self.api)
        if self.model is None:
            models_url = api_root(self.url) + "/models"
            try:
                doc = request_json(models_url, api_key=self._key_for(models_url), timeout_s=self.timeout_s)
                data = doc.get("data") if isinstance(doc, dict) else None
                if data and isinstance(data[0], dict) and data[0].get("id"):
                    self.model = str(data[0]["id"])
            except (OSError, ValueError, EndpointError, http.client.HTTPException):
                pass  # servers that serve one model take requests without a model name
        self.facts = {
            "endpoint": public_url(post_url),
            "endpoint_api": self.api,
            "served_model": self.model,
            "api_key_sent": self._key_for(post_url) is not None,
        }
        if self.metrics_url is not None:
            try:
                scrape(self.metrics_url, self.timeout_s, self._auth(self.metrics_url))
            except (OSError, MetricsParseError, http.client.HTTPException) as exc:
                raise LlmError(
                    self._redact(
                        f"gray box: cannot read the server metrics at {public_url(self.metrics_url)}: {exc}"
                    )
                ) from None
            self.facts["metrics_url"] = public_url(self.metrics_url)
        return dict(self.facts)

    def _auth(self, url: str) -> dict[str, str]:
        key = self._key_for(url)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body of one streamed request (OpenAI fields; top_k and ignore_eos only when set)."""
        body: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if self.api == "chat":
            body["messages"] = request.messages or [{"role": "user", "content": request.prompt or ""}]
        else:
            body["prompt"] = request.prompt or ""
        if self.model:
            body["model"] = self.model
        if self.stream_usage:
            body["stream_options"] = {"include_usage": True}
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.top_k is not None:
            body["top_k"] = request.top_k
        if request.seed is not None:
            body["seed"] = request.seed
        if request.ignore_eos:
            body["ignore_eos"] = True
        return body

    def generate(self, request: GenerationRequest) -> Generation:
        post_url = completions_url(self.url, self.api)
        before = None
        details: dict[str, Any] = {}
        if self.metrics_url is not None:
            try:
                before = scrape(self.metrics_url, self.timeout_s, self._auth(self.metrics_url))
            except (OSError, MetricsParseError, http.client.HTTPException) as exc:
                details["server_metrics_error"] = self._redact(f"before the run: {exc}")
        result = stream_completion(
            post_url, self.body(request), api_key=self._key_for(post_url), timeout_s=self.timeout_s
        )
        metrics: dict[str, float] = {}
        if before is not None and self.metrics_url is not None:
            try:
                after = scrape(self.metrics_url, self.timeout_s, self._auth(self.metrics_url))
                metrics = server_metrics(before, after)
            except (OSError, MetricsParseError, http.client.HTTPException) as exc:
                details["server_metrics_error"] = self._redact(f"after the run: {exc}")
        usage = result.usage or {}
        completion_tokens = usage.get("completion_tokens")
        prompt_tokens = usage.get("prompt_tokens")
        counted = isinstance(completion_tokens, int) and not isinstance(completion_tokens, bool)
        output_tokens = completion_tokens if isinstance(completion_tokens, int) else len(result.token_times)
        details.update(
            {
                "token_count_source": "usage" if counted else "content_chunks",
                "content_chunks": len(result.token_times),
                "served_model": result.model or self.model,
            }
        )
        return Generation(
            text=result.text,
            started=result.started,
            finished=result.finished,
            token_times=result.token_times,
            input_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            output_tokens=output_tokens,
            finish_reason=result.finish_reason,
            metrics=metrics,
            details=details,
        )

    def close(self) -> None:
        pass
