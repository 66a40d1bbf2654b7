"""A typed async client of the agent's REST API, for RUCKUS servers, scripts and the end-to-end tests.

async with AgentClient("http://host:8081", token="...") as client:
    accepted = await client.submit_job(JobRequest(task_type="compute_benchmark", runs_per_job=5))
    result = await client.wait_for_result(accepted.job_id)
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Self

import aiohttp
from pydantic import TypeAdapter

from ruckus_agent.models.common import AgentStatus, Health
from ruckus_agent.models.jobs import (
    FINAL_STATUSES,
    JobAccepted,
    JobList,
    JobRequest,
    JobResult,
    JobState,
    MultiRunJobResult,
    ServerJobRequest,
)
from ruckus_agent.models.monitor import MetricsHistory, Sample
from ruckus_agent.models.system import AgentInfo

_RESULT: TypeAdapter[JobResult | MultiRunJobResult] = TypeAdapter(JobResult | MultiRunJobResult)


class AgentAPIError(Exception):
    """The agent answered with an error: status, code and message from its JSON error body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AgentClient:
    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.request(
            method, self.base_url + path, json=json, params=params, headers=self._headers()
        ) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            if resp.status >= 400:
                err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                raise AgentAPIError(
                    resp.status,
                    err.get("code", "error"),
                    err.get("message", resp.reason or ""),
                    err.get("details"),
                )
            return body

    async def health(self) -> Health:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.get(
            self.base_url + "/health"
        ) as resp:  # 503 while starting is a valid answer
            return Health.model_validate(await resp.json())

    async def info(self) -> AgentInfo:
        return AgentInfo.model_validate(await self._request("GET", "/api/v1/info"))

    async def status(self) -> AgentStatus:
        return AgentStatus.model_validate(await self._request("GET", "/api/v1/status"))

    async def metrics_live(self) -> Sample:
        return Sample.model_validate(await self._request("GET", "/api/v1/metrics/live"))

    async def metrics_history(self, seconds: float = 60) -> MetricsHistory:
        data = await self._request("GET", "/api/v1/metrics/history", params={"seconds": seconds})
        return MetricsHistory.model_validate(data)

    async def submit_job(self, job: JobRequest | ServerJobRequest | dict[str, Any]) -> JobAccepted:
        body = job if isinstance(job, dict) else job.model_dump(mode="json", exclude_none=True)
        return JobAccepted.model_validate(await self._request("POST", "/api/v1/jobs", json=body))

    async def job(self, job_id: str) -> JobState:
        return JobState.model_validate(await self._request("GET", f"/api/v1/jobs/{job_id}"))

    async def jobs(self, status: str | None = None, limit: int = 50, offset: int = 0) -> JobList:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return JobList.model_validate(await self._request("GET", "/api/v1/jobs", params=params))

    async def result(self, job_id: str) -> JobResult | MultiRunJobResult:
        return _RESULT.validate_python(await self._request("GET", f"/api/v1/jobs/{job_id}/result"))

    async def cancel(self, job_id: str) -> JobState:
        return JobState.model_validate(await self._request("DELETE", f"/api/v1/jobs/{job_id}"))

    async def wait(self, job_id: str, *, timeout_s: float = 3600, poll_s: float = 0.5) -> JobState:
        """Poll until the job reaches a final status."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = await self.job(job_id)
            if state.status in FINAL_STATUSES:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {state.status} after {timeout_s} s")
            await asyncio.sleep(poll_s)

    async def wait_for_result(self, job_id: str, *, timeout_s: float = 3600) -> JobResult | MultiRunJobResult:
        await self.wait(job_id, timeout_s=timeout_s)
        return await self.result(job_id)
