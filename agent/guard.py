"""The guard: rules that look at every action before it runs.

Typing a shell command that destroys or escalates, a hotkey that locks or kills the session,
or an action outside the region the task may touch: each is allowed, held for the boss's
approval (headless: the task file answers), or rejected with a reason that goes back to the
model. Rules are plain data, so task files and profiles can tune them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

import pydantic

from agent.actions import Action, KeyPress, TypeText, describe_action, points_of
from agent.geometry import Box

Outcome = Literal["allow", "ask", "reject"]

# Typed text that looks like a command which destroys data or takes more rights.
_RM_RF = (
    r"\brm\s+(-[a-zA-Z]*[rR][a-zA-Z]*\s+-[a-zA-Z]*f|-[a-zA-Z]*f[a-zA-Z]*\s+-[a-zA-Z]*[rR]|"
    r"-[a-zA-Z]*([rR][a-zA-Z]*f|f[a-zA-Z]*[rR])|--recursive\s+--force|--force\s+--recursive)"
)
DESTRUCTIVE_COMMANDS: dict[str, str] = {
    _RM_RF: "rm -rf deletes files for good",
    r"\bsudo\b|\bsu\s+(-|root)|\bdoas\b|\bpkexec\b": "runs a command with more rights",
    r"\bmkfs(\.\w+)?\b": "formats a file system",
    r"\bdd\b[^\n]*\bof=": "dd writes raw data over a file or disk",
    r"\b(curl|wget)\b[^\n|]*\|\s*(sudo\s+)?(ba|z|k|da)?sh\b": "runs a script from the internet",
    r"\bchmod\s+(-R\s+)?[0-7]?777\s+/(\s|$)": "opens the whole file system to everyone",
    r":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:": "a fork bomb",
    r">\s*/dev/(sd|nvme|hd)[a-z0-9]*": "writes over a disk",
}

# Key combinations that lock, kill or leave the session.
DANGEROUS_HOTKEYS: dict[frozenset[str], str] = {
    frozenset({"ctrl", "alt", "delete"}): "ctrl+alt+delete can log out or reboot",
    frozenset({"ctrl", "alt", "backspace"}): "ctrl+alt+backspace can kill the X server",
    frozenset({"super", "l"}): "super+l locks the screen",
    frozenset({"ctrl", "alt", "escape"}): "ctrl+alt+escape is the boss's stop hotkey",
    **{
        frozenset({"ctrl", "alt", f"f{n}"}): f"ctrl+alt+f{n} switches away from this screen"
        for n in range(1, 13)
    },
}


class Region(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    left: int = pydantic.Field(ge=0)
    top: int = pydantic.Field(ge=0)
    width: int = pydantic.Field(gt=0)
    height: int = pydantic.Field(gt=0)


class GuardRules(pydantic.BaseModel):
    """What the guard does; `guard:` in a task file."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    destructive_commands: Outcome = "ask"
    dangerous_hotkeys: Outcome = "ask"
    allowed_region: Region | None = None  # actions outside it are rejected
    ask_when_typing: list[str] = pydantic.Field(
        default_factory=list, description="more regular expressions: typing a match asks"
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str = ""


ALLOW = Verdict("allow")


class Guard(Protocol):
    def check(self, action: Action) -> Verdict: ...


class RuleGuard:
    def __init__(self, rules: GuardRules | None = None) -> None:
        self.rules = rules or GuardRules()
        region = self.rules.allowed_region
        self._region = Box(region.left, region.top, region.width, region.height) if region else None
        extra = {
            pattern: "matches a pattern the task asks about"
            for pattern in self.rules.ask_when_typing
        }
        self._commands = [
            (re.compile(pattern), reason, self.rules.destructive_commands)
            for pattern, reason in DESTRUCTIVE_COMMANDS.items()
        ] + [(re.compile(pattern), reason, "ask") for pattern, reason in extra.items()]

    def check(self, action: Action) -> Verdict:
        if self._region is not None:
            for point in points_of(action):
                if not self._region.contains(point):
                    return Verdict(
                        "reject",
                        f"{describe_action(action)} is outside the region this task may touch",
                    )
        match action:
            case TypeText(text=text):
                for pattern, reason, outcome in self._commands:
                    found = pattern.search(text)
                    if outcome != "allow" and found is not None:
                        return Verdict(outcome, f"typing {found.group(0)!r}: {reason}")
            case KeyPress(keys=keys):
                danger = DANGEROUS_HOTKEYS.get(frozenset(keys))
                if danger is not None and self.rules.dangerous_hotkeys != "allow":
                    return Verdict(self.rules.dangerous_hotkeys, danger)
        return ALLOW
