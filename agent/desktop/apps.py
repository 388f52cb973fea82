"""Apps a task launches: started in their own process group, all closed when the run ends."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem
from agent.geometry import Size

_PROFILE_FOLDERS = (
    ("HOME", "home"),
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_DATA_HOME", "data"),
    ("XDG_STATE_HOME", "state"),
)


def private_profile(
    environment: Mapping[str, str], folder: Path, documents: Path | None = None
) -> dict[str, str]:
    """`environment` with a throwaway profile for apps, in folders made under `folder`;
    `documents`, a folder of the boss's, is its Documents folder (the only one shared).

    No restored sessions or "recent files" from the user's own desktop, no shell start-up
    files or history of the user's (a terminal neither runs their ~/.bashrc nor writes
    theirs), and GSettings in memory: through the bus's dconf-service it would reach the
    user's own dconf database, and mousepad restores its last session from there.
    """
    profile = dict(environment)
    for variable, name in _PROFILE_FOLDERS:
        (folder / name).mkdir(mode=0o700, parents=True, exist_ok=True)
        profile[variable] = str(folder / name)
    profile["GSETTINGS_BACKEND"] = "memory"
    _write_toolkit_settings(folder)
    if documents is not None:
        home = folder / "home"
        (home / "Documents").unlink(missing_ok=True)
        (home / "Documents").symlink_to(documents.resolve(), target_is_directory=True)
        # File choosers and "Documents" in apps look it up here.
        (folder / "config" / "user-dirs.dirs").write_text(
            'XDG_DOCUMENTS_DIR="$HOME/Documents"\n', encoding="utf-8"
        )
    return profile


# Animations and a blinking caret keep a screen changing after an app has done what it was
# asked: GTK3's theme fades a clicked button for about 0.2 s, which made half of a galculator
# task's observations wait for it (bench/settle_vs_sleep.py). Off, the screen is at rest when
# the app is; a caret that does not blink is always in the picture a model is shown.
_GTK3_SETTINGS = "[Settings]\ngtk-enable-animations=false\ngtk-cursor-blink=false\n"
_GTK2_SETTINGS = "gtk-cursor-blink = 0\n"


def _write_toolkit_settings(folder: Path) -> None:
    for toolkit in ("gtk-3.0", "gtk-4.0"):
        (folder / "config" / toolkit).mkdir(exist_ok=True)
        (folder / "config" / toolkit / "settings.ini").write_text(_GTK3_SETTINGS, "utf-8")
    (folder / "home" / ".gtkrc-2.0").write_text(_GTK2_SETTINGS, "utf-8")


@contextlib.contextmanager
def private_screen(size: Size, documents: Path | None = None) -> Iterator[Screen]:
    """A private virtual screen (window manager, session and accessibility buses) whose apps
    get a throwaway profile, with `documents` as its Documents folder, and a menu of the
    installed apps on a right click on the desktop. All of it is gone afterwards."""
    from agent.desktop.app_entries import install_app_menu, installed_apps
    from agent.desktop.virtual_display import VirtualDisplay

    profile = Path(tempfile.mkdtemp(prefix="shain-profile-"))
    try:
        with VirtualDisplay(size, accessibility=True) as display:
            environment = private_profile(display.screen.environment, profile, documents)
            screen = display.screen.with_environment(environment)
            manager = display.window_manager_environment
            install_app_menu(installed_apps(), screen, Path(manager["XDG_CONFIG_HOME"]), manager)
            yield screen
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class AppLauncher:
    """Starts apps on a screen and remembers them, so that `close_all` leaves nothing behind."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def environment(self) -> Mapping[str, str]:
        return self.screen.environment

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(process.pid for process in self._processes)

    def launch(
        self,
        command: str | list[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise EnvironmentProblem("launch: empty command")
        if cwd is None and self.screen.private:
            # In its own profile's home, not in the folder Shain was started in (the boss's).
            cwd = self.environment.get("HOME")
        if cwd is not None and not Path(cwd).is_dir():
            raise EnvironmentProblem(f"launch {argv[0]}: working directory {cwd} does not exist")
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**self.environment, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group: closing it closes its children too
            )
        except FileNotFoundError as error:
            raise EnvironmentProblem(f"cannot launch {argv[0]!r}: program not found") from error
        except OSError as error:
            raise EnvironmentProblem(f"cannot launch {argv[0]!r}: {error}") from error
        self._processes.append(process)
        return process

    def close_all(self, grace_seconds: float = 2.0) -> None:
        """SIGTERM every app's process group, then SIGKILL what is still there."""
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in self._processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group too
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1.0)
        self._processes.clear()
