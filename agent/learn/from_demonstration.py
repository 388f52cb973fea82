"""A demonstration as a task file: setup that launches its apps, its actions as steps, the
text it typed as variables, and what went into password fields as secrets, never as text.

The steps are written by `shain learn`'s own rules (agent.learn.steps): clicks by role and
name in their window, else a point in the window with a comment saying why. The apps are the
ones whose windows were open when the recording began and were used; each is launched by its
process's command line (/proc/PID/cmdline) and waited for, so the file replays on a fresh
`--virtual-display`. A demonstration has no checks: the file says they are the boss's to add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.actions import TypeText
from agent.desktop.processes import ancestors
from agent.learn.demonstration import Demonstrated, executed
from agent.learn.steps import Spelling, is_point, steps_of
from agent.learn.watcher import AppWindow, Sight
from agent.learn.writer import check_and_write, document_text
from agent.perception.pointed import window_pattern

APP_WINDOW_TIMEOUT = 20  # seconds a replay's setup waits for an app's window
PASSWORD_ROLES = frozenset({"password text"})
TITLED_LENGTH = 4  # shorter typed text in a title is more likely chance than the text typed


@dataclass(frozen=True)
class Recorded:
    """What `shain record` wrote: where, how many steps, how many clicks only as points, and
    the names of the variables and secrets it made."""

    path: Path
    steps: int
    points: int
    variables: tuple[str, ...]
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Typed:
    """The typed text as variables (name -> what was typed) and secrets (names), and the
    actions with a secret's placeholder where its text was."""

    actions: list[Demonstrated]
    variables: dict[str, str]
    secrets: list[str]


def typed_as_variables(done: Sequence[Demonstrated]) -> _Typed:
    """Each typing's text as a variable named after its field (`text_N` when it has no
    name), with what was typed as its value; a password field's as a secret instead."""
    actions: list[Demonstrated] = []
    variables: dict[str, str] = {}
    secrets: list[str] = []
    for item in done:
        if not isinstance(item.action, TypeText):
            actions.append(item)
            continue
        text, field = item.action.text, item.field
        if field is not None and field.role in PASSWORD_ROLES:
            # Named for the field; a field without a name, for its window: LOGIN_PASSWORD.
            label = field.name or f"{field.window_name} password"
            name = _free(_identifier(label, upper=True) or "PASSWORD", set(secrets))
            secrets.append(name)
            actions.append(replace(item, action=TypeText("{" + name + "}")))
            continue
        actions.append(item)
        if text in variables.values():
            continue  # the same text again: the same variable
        wanted = _identifier(field.name if field is not None else "", upper=False)
        name = _free(wanted or f"text_{len(variables) + 1}", {*variables, "workdir"})
        variables[name] = text
    return _Typed(actions, variables, secrets)


def _identifier(label: str, *, upper: bool) -> str:
    words = re.findall(r"[A-Za-z0-9]+", label)
    name = "_".join(words)[:40]
    if not name or name[0].isdigit():
        return ""
    return name.upper() if upper else name.lower()


def _free(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"


def app_setup(apps: Mapping[int, AppWindow], spelling: Spelling) -> list[dict[str, Any]]:
    """Setup steps that launch each app whose window was used, and wait for that window. An
    app started by another one used (a dialog's own process) is left to it."""
    pids = {window.pid for window in apps.values()}
    setup: list[dict[str, Any]] = []
    launched: set[int] = set()
    for window in apps.values():
        if window.pid in launched or (pids - {window.pid}) & ancestors(window.pid):
            continue
        if not window.command:
            continue
        launched.add(window.pid)
        setup.append({"launch": spelling.literal(window.command)})
        pattern = spelling.literal(window_pattern(window.title))
        setup.append({"wait_for": {"window": pattern, "timeout": APP_WINDOW_TIMEOUT}})
    return setup


def write_demonstration(
    done: Sequence[Demonstrated],
    apps: Mapping[int, AppWindow],
    before: tuple[str, ...],
    last: Sight | None,
    output: Path,
    heading: Sequence[str],
) -> Recorded:
    """Write the task file of a demonstration to `output`: `before` are the windows' titles
    before the first action, `last` what was seen after the last."""
    typed = typed_as_variables(done)
    # A typed file name or path shows again in window titles ("note.txt - Mousepad").
    titled = [name for name, value in typed.variables.items() if len(value) >= TITLED_LENGTH]
    spelling = Spelling(typed.variables, typed.secrets, titled=titled)
    steps = steps_of(executed(typed.actions, last), spelling, before)
    document: dict[str, Any] = {"name": output.stem}
    if typed.variables:
        document["vars"] = typed.variables
    if typed.secrets:
        document["secrets"] = typed.secrets
    setup = app_setup(apps, spelling)
    if setup:
        document["setup"] = setup
    document["steps"] = steps
    check_and_write(document_text(document, heading), output, typed.secrets)
    points = sum(is_point(step) for step in steps)
    return Recorded(output, len(steps), points, tuple(typed.variables), tuple(typed.secrets))
