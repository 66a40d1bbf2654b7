"""Job errors with the HTTP status the API answers them with."""

from __future__ import annotations

from typing import Any


class JobError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class JobNotFound(JobError):
    status, code = 404, "not_found"


class JobConflict(JobError):
    status, code = 409, "conflict"


class JobInvalid(JobError):
    status, code = 422, "validation_error"


class QueueFull(JobError):
    status, code = 429, "too_many_requests"


class ShuttingDown(JobError):
    status, code = 503, "unavailable"
