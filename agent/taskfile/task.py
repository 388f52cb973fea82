"""Task files: YAML that says what Shain should do, checked completely before anything runs.

A task names a goal for the model and/or scripted `steps`, plus `setup` and `checks` (their
models are in `agent.taskfile.items` and `agent.taskfile.checks`). Strings may use `{name}`
variables (`{{` and `}}` are literal braces), substituted in the parsed YAML's string values
before validation: a number that comes from a variable is written quoted (`x: "{cx}"`) and
validates as a number. Every problem is reported as `file:line: field.path: message`, one per
line, and no secret value ever appears in a message.
`shain schema` prints `task_json_schema()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from agent.errors import TaskFileError
from agent.guard import GuardRules
from agent.taskfile.checks import CHECK_KINDS, Check
from agent.taskfile.items import (
    SETUP_KINDS,
    STEP_KINDS,
    Seconds,
    SetupStep,
    Step,
    TaskModel,
    Text,
    problem,
    regex,
)
from agent.taskfile.lines import SecretName, VarValue, load_document
from agent.taskfile.params import ParamSpec

ITEM_KINDS = {
    "setup": ("setup step", SETUP_KINDS),
    "steps": ("step", STEP_KINDS),
    "oracle": ("step", STEP_KINDS),
    "checks": ("check", CHECK_KINDS),
}


class BudgetSpec(TaskModel):
    max_steps: Annotated[int, Field(ge=1)] = 50
    max_seconds: Seconds = 600
    max_tokens: Annotated[int | None, Field(ge=1)] = None
    max_cost_usd: Annotated[float | None, Field(gt=0)] = None


def _names_to_places(value: Any) -> Any:
    """`secrets: [A, B]` is `secrets: {A: null, B: null}`: typed only into password fields."""
    return dict.fromkeys(value) if isinstance(value, list) else value


class SecretPlace(TaskModel):
    windows: Annotated[
        Text, Field(description="regular expression: titles of the windows it may be typed into")
    ]

    @field_validator("windows")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        return regex(value)


class Task(TaskModel):
    name: Text
    goal: Text | None = None
    setup: list[SetupStep] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    budget: BudgetSpec = BudgetSpec()
    vars: dict[str, VarValue] = Field(default_factory=dict)
    params: Annotated[
        dict[str, ParamSpec],
        Field(
            default_factory=dict,
            description="variables a seed picks (`shain run --seed`, `shain bench`): a list "
            "to choose from, {between: [low, high]} or {expr: arithmetic on the ones above}",
        ),
    ]
    oracle: Annotated[
        list[Step],
        Field(
            default_factory=list,
            description="scripted steps that solve the goal (`--policy oracle`); benchmark "
            "tasks have one to prove that the task can be done and its checks hold",
        ),
    ]
    expect: Annotated[
        Literal["done", "fail"],
        Field(description="`fail` for a task that cannot be done: success is the agent saying so"),
    ] = "done"
    skills: Annotated[
        list[Text], Field(default_factory=list, description="what the task exercises")
    ]
    secrets: Annotated[
        dict[SecretName, SecretPlace | None],
        BeforeValidator(_names_to_places),
        Field(
            default_factory=dict,
            description="environment variable names; the model sees each only as `{NAME}`, and "
            "it is typed only into a password field, or into the windows a mapping names: "
            "`{NAME: {windows: Login}}`",
        ),
    ]
    approvals: Annotated[
        Literal["deny", "approve"],
        Field(
            description="what a headless run answers when the guard or the model asks for the "
            "boss's approval"
        ),
    ] = "deny"
    guard: GuardRules = GuardRules()

    def secret_places(self) -> dict[str, str | None]:
        """Each secret's name, and the titles (a regular expression) of the windows it may be
        typed into; None: only into a field the accessibility tree calls a password field."""
        return {
            name: None if place is None else place.windows for name, place in self.secrets.items()
        }

    @model_validator(mode="after")
    def _has_work(self) -> Task:
        if not self.steps and self.goal is None:
            raise problem("no_work", "a task needs steps or a goal (or both)")
        return self


def task_json_schema() -> dict[str, Any]:
    """The JSON schema of a task file (what `shain schema` prints)."""
    return Task.model_json_schema()


@dataclass(frozen=True)
class LoadedTask:
    task: Task
    path: Path
    secret_values: tuple[str, ...]  # non-empty secret values, to mask in logs
    variables: Mapping[str, str]  # every variable that could be substituted, secrets included


_EMPTY: Mapping[str, str] = MappingProxyType({})


def load_task(
    path: Path,
    *,
    overrides: Mapping[str, str] = _EMPTY,
    builtins: Mapping[str, str] = _EMPTY,
    environ: Mapping[str, str] | None = None,
    seed: int = 0,
) -> LoadedTask:
    """Read, substitute and validate a task file; TaskFileError says what is wrong and where."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TaskFileError(f"{path}: no such task file") from None
    except UnicodeDecodeError as error:
        raise TaskFileError(f"{path}: not UTF-8 text (bad byte at offset {error.start})") from None
    except OSError as error:
        raise TaskFileError(f"{path}: cannot read the task file: {error.strerror}") from None
    loaded = load_task_text(
        text, str(path), overrides=overrides, builtins=builtins, environ=environ, seed=seed
    )
    return replace(loaded, path=path)


def load_task_text(
    text: str,
    source: str = "<task>",
    *,
    overrides: Mapping[str, str] = _EMPTY,
    builtins: Mapping[str, str] = _EMPTY,
    environ: Mapping[str, str] | None = None,
    seed: int = 0,
) -> LoadedTask:
    """`load_task` for text already read; `source` names it in messages.

    Variables, lowest priority first: the task's `vars`, its `params` (as `seed` picks them),
    `builtins`, `overrides`, then the secrets (`secrets:` names environment variables, read
    from `environ`, default os.environ).
    """
    env = os.environ if environ is None else environ
    task, secret_values, variables = load_document(
        text, source, Task, ITEM_KINDS, layers=(builtins, overrides), environ=env, seed=seed
    )
    return LoadedTask(task, Path(source), secret_values, MappingProxyType(variables))
