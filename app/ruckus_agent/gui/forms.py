"""The job submit form's rules, kept out of the widget: build a JobRequest, or say which field is wrong.

The rules are the models' own (JobRequest and the task type's `params_model`); this module only maps
pydantic's errors to the form's fields. Plain Python: no Qt here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ruckus_agent.models.jobs import JobRequest

FORM_FIELDS = ("task_type", "model", "experiment_id", "runs_per_job", "timeout_seconds", "parameters")


@dataclass
class FormInput:
    task_type: str
    parameters_text: str
    model: str = ""
    experiment_id: str = ""
    runs_per_job: int = 1
    timeout_seconds: float = 3600


@dataclass
class FormCheck:
    request: JobRequest | None = None
    errors: dict[str, str] = field(default_factory=dict)  # form field -> message

    @property
    def ok(self) -> bool:
        return self.request is not None and not self.errors


def _loc_text(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def errors_by_field(details: list[dict[str, Any]]) -> dict[str, str]:
    """pydantic-style error dicts (`loc`, `msg`) -> one message per form field; parameter errors name
    the parameter ("sleep_s: Input should be ...")."""
    out: dict[str, list[str]] = {}
    for err in details:
        loc = list(err.get("loc") or [])
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if loc and loc[0] == "parameters":
            inner = _loc_text(loc[1:])
            out.setdefault("parameters", []).append(f"{inner}: {msg}" if inner else msg)
        elif loc and str(loc[0]) in FORM_FIELDS:
            out.setdefault(str(loc[0]), []).append(msg)
        else:
            out.setdefault("form", []).append(f"{_loc_text(loc)}: {msg}" if loc else msg)
    return {k: "\n".join(v) for k, v in out.items()}


def parameter_defaults(params_model: type[BaseModel]) -> dict[str, Any]:
    """The parameters a task type runs with when none are given (required ones left out)."""
    out: dict[str, Any] = {}
    for name, info in params_model.model_fields.items():
        if info.is_required():
            continue
        default = info.get_default(call_default_factory=True)
        try:
            json.dumps(default)
        except TypeError:
            continue
        out[name] = default
    return out


def parameter_help(params_model: type[BaseModel]) -> str:
    """One line per parameter: name (required or default) — description."""
    lines = []
    for name, info in params_model.model_fields.items():
        state = (
            "required"
            if info.is_required()
            else f"default {json.dumps(info.get_default(call_default_factory=True))}"
        )
        desc = f" — {info.description}" if info.description else ""
        lines.append(f"{name} ({state}){desc}")
    return "\n".join(lines) or "This task type takes no parameters."


def check_form(form: FormInput, params_model: type[BaseModel] | None) -> FormCheck:
    """Validate like the agent will: the request's fields, then the parameters against the task's model."""
    errors: dict[str, str] = {}
    text = form.parameters_text.strip()
    parameters: dict[str, Any] = {}
    if text:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            errors["parameters"] = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        else:
            if isinstance(parsed, dict):
                parameters = parsed
            else:
                errors["parameters"] = 'must be a JSON object, e.g. {"sleep_s": 0.1}'
    raw = {
        "task_type": form.task_type,
        "model": form.model.strip() or None,
        "experiment_id": form.experiment_id.strip() or None,
        "runs_per_job": form.runs_per_job,
        "timeout_seconds": form.timeout_seconds,
        "parameters": parameters,
    }
    request: JobRequest | None = None
    try:
        request = JobRequest.model_validate(raw)
    except ValidationError as exc:
        for key, msg in errors_by_field(list(exc.errors(include_url=False))).items():  # type: ignore[arg-type]
            errors.setdefault(key, msg)
    if params_model is not None and "parameters" not in errors:
        try:
            params_model.model_validate(parameters)
        except ValidationError as exc:
            details = [{**e, "loc": ["parameters", *e["loc"]]} for e in exc.errors(include_url=False)]
            errors.update(errors_by_field(details))
    return FormCheck(request=None if errors else request, errors=errors)
