"""Success checks: each reads real state (files, command output, clipboard, window titles)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.desktop.clipboard import read_clipboard
from agent.desktop.screen import Screen
from agent.desktop.windows import list_windows
from agent.errors import AgentError
from agent.perception.locator import Locator
from agent.taskfile.checks import (
    Check,
    ClipboardEqualsCheck,
    CommandCheck,
    FileAbsentCheck,
    FileContainsCheck,
    FileEqualsCheck,
    FileExistsCheck,
    ScreenTextCheck,
    ScreenTextSpec,
    WindowTitleCheck,
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    description: str
    passed: bool
    detail: str


def _shorten(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def evaluate_check(check: Check, screen: Screen, locator: Locator | None = None) -> CheckResult:
    """Evaluate one check on `screen` (commands run in its environment, the clipboard and the
    windows are its own); a check that cannot even be evaluated fails with the reason.

    `screen_text` needs the `locator` of the screen."""
    try:
        if isinstance(check, ScreenTextCheck):
            return _screen_text(check.screen_text, locator)
        return _evaluate(check, screen)
    except AgentError as error:
        return CheckResult(_describe(check), False, str(error))


def _describe(check: Check) -> str:
    return next(iter(check.model_dump(exclude_none=True)), "check")


def _evaluate(check: Check, screen: Screen) -> CheckResult:
    environment = screen.environment
    match check:
        case FileExistsCheck(file_exists=spec):
            exists = Path(spec.path).exists()
            return CheckResult(f"file_exists {spec.path}", exists, "" if exists else "missing")
        case FileAbsentCheck(file_absent=spec):
            absent = not Path(spec.path).exists()
            return CheckResult(f"file_absent {spec.path}", absent, "" if absent else "exists")
        case FileContainsCheck(file_contains=spec):
            text = _read_text(spec.path)
            description = f"file_contains {spec.path} {_shorten(spec.text)}"
            if text is None:
                return CheckResult(description, False, "the file is missing or not UTF-8 text")
            found = spec.text in text
            return CheckResult(description, found, "" if found else f"content: {_shorten(text)}")
        case FileEqualsCheck(file_equals=spec):
            text = _read_text(spec.path)
            description = f"file_equals {spec.path}"
            if text is None:
                return CheckResult(description, False, "the file is missing or not UTF-8 text")
            actual, expected = (
                (text.strip(), spec.text.strip()) if spec.strip else (text, spec.text)
            )
            equal = actual == expected
            detail = "" if equal else f"expected {_shorten(expected)}, found {_shorten(actual)}"
            return CheckResult(description, equal, detail)
        case CommandCheck(command=spec):
            return _command(
                spec.run,
                spec.exit_code,
                spec.stdout,
                spec.stdout_contains,
                spec.timeout,
                environment,
            )
        case ClipboardEqualsCheck(clipboard_equals=spec):
            text = read_clipboard(environment)
            equal = text == spec.text
            detail = "" if equal else f"clipboard holds {_shorten(text)}"
            return CheckResult(f"clipboard_equals {_shorten(spec.text)}", equal, detail)
        case WindowTitleCheck(window_title=spec):
            windows = list_windows(screen.display)
            candidates = [w for w in windows if w.active] if spec.active else windows
            regex = re.compile(spec.matches)
            found = any(regex.search(window.title) for window in candidates)
            which = "the active window" if spec.active else "a window"
            titles = ", ".join(repr(w.title) for w in candidates) or "none"
            return CheckResult(
                f"window_title {which} /{spec.matches}/",
                found,
                "" if found else f"titles: {titles}",
            )
    raise AssertionError(f"unhandled check {check!r}")


def _screen_text(spec: ScreenTextSpec, locator: Locator | None) -> CheckResult:
    target = spec.target()
    wanted = "on the screen" if spec.present else "not on the screen"
    description = f"screen_text {target.describe()} {wanted}"
    if locator is None:
        return CheckResult(description, False, "no screen to read")
    found = locator.find(target)
    passed = bool(found) == spec.present
    if passed:
        return CheckResult(description, True, "")
    if found:
        return CheckResult(description, False, "seen: " + "; ".join(c.describe() for c in found))
    return CheckResult(description, False, "not seen; " + locator.what_is_visible())


def _command(
    run: str,
    exit_code: int,
    stdout: str | None,
    stdout_contains: str | None,
    timeout: float,
    environment: Mapping[str, str],
) -> CheckResult:
    description = f"command {_shorten(run, 60)}"
    try:
        result = subprocess.run(
            run, shell=True, capture_output=True, timeout=timeout, env=dict(environment)
        )
    except subprocess.TimeoutExpired:
        return CheckResult(description, False, f"did not finish within {timeout:g}s")
    output = result.stdout.decode("utf-8", "replace")
    problems = []
    if result.returncode != exit_code:
        problems.append(f"exit code {result.returncode}, expected {exit_code}")
    if stdout is not None and output.rstrip("\n") != stdout.rstrip("\n"):
        problems.append(f"stdout {_shorten(output)}, expected {_shorten(stdout)}")
    if stdout_contains is not None and stdout_contains not in output:
        problems.append(f"stdout {_shorten(output)} lacks {_shorten(stdout_contains)}")
    return CheckResult(description, not problems, "; ".join(problems))
