"""A fake OpenAI-compatible inference server (the outside world of black_box and gray_box agents).

aiohttp on 127.0.0.1 in a thread of its own, so synchronous tests and spawned job workers can reach it
alike. It streams Server-Sent Events the way vLLM does (a role-only chunk at once, then one chunk per token
with scripted delays, a finish chunk, a usage chunk when asked for, `[DONE]`), and exposes a Prometheus
`/metrics` page whose request counter goes up by one per completion request.

Modes: "ok", "error" (500 whose body echoes the Authorization header, to prove the client redacts it),
"hang" (accepts the request and never answers), "stream_error" (an error event after two tokens),
"no_usage" (never sends usage).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeOpenAI:
    tokens: list[str] = field(default_factory=lambda: ["Hello", " there", ",", " small", " world", "!"])
    first_token_delay_s: float = 0.25
    token_delay_s: float = 0.04
    prompt_tokens: int = 11
    model: str = "fake-model"
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    requests_total: int = 0
    generated_tokens_total: int = 0
    running: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _stopping: asyncio.Event | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            loop.close()

        self._thread = threading.Thread(target=main, daemon=True, name="fake-openai")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)  # type: ignore[union-attr]
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- routes ------------------------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _metrics(self, request: web.Request) -> web.Response:
        text = (
            "# HELP fake:requests Completion requests received.\n"
            "# TYPE fake:requests counter\n"
            f'fake:requests_total{{model_name="{self.model}"}} {self.requests_total}\n'
            "# TYPE fake:generation_tokens counter\n"
            f'fake:generation_tokens_total{{model_name="{self.model}"}} {self.generated_tokens_total}\n'
            "# TYPE fake:num_requests_running gauge\n"
            f"fake:num_requests_running {self.running}\n"
            "# TYPE fake:kv_cache_usage_perc gauge\n"
            "fake:kv_cache_usage_perc 0.25\n"
            "# TYPE fake:e2e_request_latency_seconds histogram\n"
            f'fake:e2e_request_latency_seconds_bucket{{le="1.0"}} {self.requests_total}\n'
            f'fake:e2e_request_latency_seconds_bucket{{le="+Inf"}} {self.requests_total}\n'
            f"fake:e2e_request_latency_seconds_sum {0.5 * self.requests_total}\n"
            f"fake:e2e_request_latency_seconds_count {self.requests_total}\n"
        )
        return web.Response(text=text, content_type="text/plain")

    def _chunk(self, chat: bool, text: str | None, finish: str | None = None) -> bytes:
        if chat:
            delta: dict[str, Any] = {} if text is None else {"content": text}
            if text == "":
                delta = {"role": "assistant", "content": ""}
            choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text or "", "finish_reason": finish}
        doc = {"id": "cmpl-1", "object": "chunk", "model": self.model, "choices": [choice]}
        return f"data: {json.dumps(doc)}\n\n".encode()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        self.requests_total += 1
        chat = request.path.endswith("/chat/completions")
        if self.mode == "error":
            auth = request.headers.get("Authorization", "")
            return web.json_response(
                {"error": {"message": f"the fake is down (it saw {auth!r})", "type": "server_error"}},
                status=500,
            )
        if self.mode == "hang":
            assert self._stopping is not None
            await self._stopping.wait()
            return web.Response(status=503)
        self.running += 1
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        try:
            if chat:
                await resp.write(self._chunk(chat, ""))  # role-only chunk: no token yet
            max_tokens = int(body.get("max_tokens") or len(self.tokens))
            tokens = self.tokens[:max_tokens]
            for i, token in enumerate(tokens):
                await asyncio.sleep(self.first_token_delay_s if i == 0 else self.token_delay_s)
                if self.mode == "stream_error" and i == 2:
                    await resp.write(b'data: {"error": {"message": "the fake broke mid-stream"}}\n\n')
                    return resp
                await resp.write(self._chunk(chat, token))
                self.generated_tokens_total += 1
            finish = "length" if len(tokens) == max_tokens else "stop"
            await resp.write(self._chunk(chat, None, finish))
            wants_usage = (body.get("stream_options") or {}).get("include_usage")
            if wants_usage and self.mode != "no_usage":
                usage = {
                    "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": len(tokens),
                    "total_tokens": self.prompt_tokens + len(tokens),
                }
                doc = {"id": "cmpl-1", "object": "chunk", "model": self.model, "choices": [], "usage": usage}
                await resp.write(f"data: {json.dumps(doc)}\n\n".encode())
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        finally:
            self.running -= 1
        return resp
