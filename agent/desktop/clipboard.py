"""Reading the system clipboard with the platform's own tool."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping

from agent.errors import EnvironmentProblem


def _read_command() -> list[str]:
    if sys.platform == "darwin":
        return ["pbpaste"]
    if sys.platform == "win32":
        return ["powershell", "-NoProfile", "-Command", "Get-Clipboard"]
    if shutil.which("xclip"):
        return ["xclip", "-selection", "clipboard", "-o"]
    if shutil.which("xsel"):
        return ["xsel", "--clipboard", "--output"]
    raise EnvironmentProblem("reading the clipboard needs xclip: apt-get install xclip")


def read_clipboard(environment: Mapping[str, str] | None = None, timeout: float = 5.0) -> str:
    """The clipboard's text ("" when it is empty or holds no text)."""
    command = _read_command()
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            env=dict(environment) if environment else None,
        )
    except subprocess.TimeoutExpired as error:
        raise EnvironmentProblem(f"{command[0]} did not answer within {timeout:g}s") from error
    if result.returncode != 0:
        return ""  # xclip exits 1 when no app owns the clipboard
    return result.stdout.decode("utf-8", "replace")
