"""The last door before a model: no request leaves with a secret's value in it.

Goals, steps and the actions in a run's history carry secrets as placeholders already (see
agent/secret_places.py). What the screen says does not: the text of a field, a set-of-marks
list, a page the agent reads could hold a value. Every request to a model endpoint goes through
`PlaceholderTransport`, which reads its JSON body and writes each secret's value as its
placeholder, `{NAME}`, wherever a string holds it, whatever policy built the request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2  # what the openai client is built on

# What the model is told when its task has secrets.
SECRET_HINT = (
    "Secrets appear as placeholders such as {names}. To type one, type its placeholder exactly "
    "as written: its value goes in as it is typed, and only where it belongs (a password field)."
)


def with_secret_hint(goal: str, names: list[str]) -> str:
    """The goal, and how to type the secrets it names (when it has any)."""
    if not names:
        return goal
    shown = ", ".join("{" + name + "}" for name in names)
    return f"{goal}\n\n{SECRET_HINT.format(names=shown)}"


def _replace(value: Any, secrets: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for name, secret in secrets.items():
            value = value.replace(secret, "{" + name + "}")
        return value
    if isinstance(value, dict):
        return {key: _replace(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, secrets) for item in value]
    return value


class PlaceholderTransport(httpx2.HTTPTransport):
    """httpx2's transport, with each secret's value replaced by its placeholder in JSON bodies."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__()
        # Longest first, so that a secret that contains another is replaced whole.
        ordered = sorted(((n, v) for n, v in secrets.items() if v), key=lambda p: -len(p[1]))
        self._secrets = dict(ordered)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._secrets and "json" in request.headers.get("content-type", ""):
            body = json.loads(request.read())
            cleaned = _replace(body, self._secrets)
            if cleaned != body:
                headers = {
                    k: v for k, v in request.headers.items() if k.lower() != "content-length"
                }
                request = httpx2.Request(
                    request.method,
                    request.url,
                    headers=headers,
                    content=json.dumps(cleaned, ensure_ascii=False).encode(),
                    extensions=request.extensions,
                )
        return super().handle_request(request)
