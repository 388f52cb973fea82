"""Write a learned task file: the original task's parts as written, and the learned steps.

The parts kept from the original (goal, setup, checks, secrets, budget...) are its YAML as
written, `{var}`s unsubstituted, so `{workdir}` is still each run's own; its `params` become
plain `vars` holding what the learned run was given, because its steps did what those values
asked. Steps go one a line, in flow style, each with the comment that says why it is written
so. What is written is loaded back before it is kept: a learned file always loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from agent.errors import TaskFileError
from agent.files import write_private_file
from agent.learn.steps import LearnedStep
from agent.taskfile.task import load_task_text

# The original's parts a learned file keeps as they were; `steps`, `oracle` and `params` are
# what it replaces, and the rest is its own (name, vars).
KEPT = ("goal", "setup", "checks", "secrets", "budget", "approvals", "guard", "expect", "skills")


def _block(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=100)


def step_line(step: LearnedStep) -> str:
    """One step as a list item of `steps:`, in flow style, with its comment."""
    flow = yaml.safe_dump(
        step.data, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10**6
    ).strip()
    comment = f"  # {step.comment}" if step.comment else ""
    return f"  - {flow}{comment}\n"


def task_text(
    original: Mapping[str, Any],
    name: str,
    variables: Mapping[str, str],
    steps: Sequence[LearnedStep],
    heading: Sequence[str],
) -> str:
    """The text of a learned task file: `heading` as comments, `name`, the kept parts of
    `original` (the YAML mapping as read), `variables` as vars, and `steps`."""
    document: dict[str, Any] = {"name": name}
    if "goal" in original:
        document["goal"] = original["goal"]
    if variables:
        document["vars"] = dict(variables)
    document.update({key: original[key] for key in ("setup", "secrets") if original.get(key)})
    document["steps"] = steps
    document.update({key: original[key] for key in KEPT if key in original and key not in document})
    return document_text(document, heading)


def document_text(document: Mapping[str, Any], heading: Sequence[str]) -> str:
    """A task file's text: `heading` as comments, then each part of `document` in its order;
    `steps` (LearnedSteps) one a line with their comments."""
    parts = [f"# {line}\n" for line in heading]
    for key, value in document.items():
        if key == "steps":
            parts.append("steps:\n" + "".join(map(step_line, value)))
        else:
            parts.append(_block(key, value))
    return "".join(parts)


def check_and_write(text: str, path: Path, secrets: Sequence[str] = ()) -> None:
    """Write `text` to `path` once it loads as a task file; TaskFileError says why not."""
    environ = dict.fromkeys(secrets, "x")  # a secret's value is not needed to check the file
    load_task_text(text, str(path), builtins={"workdir": "/workdir"}, environ=environ)
    try:
        write_private_file(path, text)
    except OSError as error:
        raise TaskFileError(f"{path}: cannot write: {error.strerror or error}") from None
