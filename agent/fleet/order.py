"""What a worker is asked to run: the task file's text and how to run it, as one queued message.

The task file travels as text (it was checked where it was submitted); secrets stay names, read
from the worker's environment, so no secret value ever sits in the queue.
"""

from __future__ import annotations

import re

import pydantic

DEFAULT_QUEUE = "shain"
_QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,119}")


def valid_queue(name: str) -> bool:
    return _QUEUE_NAME.fullmatch(name) is not None


class FleetOrder(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    run_id: str = pydantic.Field(pattern=_RUN_ID.pattern)
    task_name: str
    file_name: str = pydantic.Field(pattern=r"^[^/\x00]+$")  # the task file's own name
    task_text: str
    queue: str = pydantic.Field(DEFAULT_QUEUE, pattern=_QUEUE_NAME.pattern)
    variables: dict[str, str] = {}
    seed: int = 0
    policy: str | None = None  # `shain run --policy`; None: what the task file says
    submitted_at: float

    def run_arguments(self) -> tuple[str, ...]:
        """The `shain run` options that make the run this order's."""
        arguments = ["--run-id", self.run_id, "--seed", str(self.seed)]
        for name, value in self.variables.items():
            arguments += ["--var", f"{name}={value}"]
        if self.policy is not None:
            arguments += ["--policy", self.policy]
        return tuple(arguments)
