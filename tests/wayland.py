"""A Wayland desktop for tests, standing in for the boss's own session on Ubuntu or Fedora:
weston's headless backend on a socket of its own, in a private runtime folder.

    with weston_session() as session:
        subprocess.run([...], env=session.client_environment())
        session.screenshot(ARTIFACTS / "wayland.png")

Weston starts in its own process group (its shell client, weston-desktop-shell, joins it) with a
parent-death signal, so leaving the block, an exception, or even `kill -9` of the test process
leaves no weston behind. The parent-death signal is tied to the thread that started weston:
enter the block from a thread that outlives it (pytest's main thread does).

Weston is started with `--use-pixman` and `--debug`: weston-screenshooter works only with both.
Its desktop is one flat colour (BACKGROUND) with no panel, so whatever else a screenshot shows
is a window.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from agent.desktop.children import die_with_parent
from tests.helpers import group_members

BACKGROUND = (0x2E, 0x5A, 0x88)  # the desktop's colour, RGB
SIZE = (1920, 1080)
STARTUP_SECONDS = 10.0
STOP_GRACE_SECONDS = 2.0

# [input-method] with no path: no on-screen keyboard (weston-keyboard) to start and stop.
CONFIG = f"""\
[core]
idle-time=0

[shell]
panel-position=none
background-color=0xff{BACKGROUND[0]:02x}{BACKGROUND[1]:02x}{BACKGROUND[2]:02x}

[input-method]
path=
"""

# What ties a process to another desktop: its displays, runtime folder and buses (a tray host
# on the user's session bus would put a test's tray icon on the user's panel).
_OTHER_DESKTOPS = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "WAYLAND_SOCKET",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "AT_SPI_BUS_ADDRESS",
)


@dataclass(frozen=True)
class WaylandSession:
    """A running weston: its socket (WAYLAND_DISPLAY), private runtime folder, size, process."""

    socket: str
    runtime_dir: Path
    size: tuple[int, int]
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.runtime_dir / "weston.log"

    def client_environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment a client needs to show on this desktop, and only there: no X
        display (so neither Qt nor GTK falls back to one), Qt on its wayland plugin."""
        environment = {
            name: value
            for name, value in (os.environ if base is None else base).items()
            if name not in _OTHER_DESKTOPS
        }
        environment.update(
            WAYLAND_DISPLAY=self.socket,
            XDG_RUNTIME_DIR=str(self.runtime_dir),
            XDG_SESSION_TYPE="wayland",
            QT_QPA_PLATFORM="wayland",
        )
        return environment

    def processes(self) -> dict[int, str]:
        """pid -> name of the living processes of weston's group: weston and its shell client."""
        return group_members(self.process.pid)

    def screenshot(self, path: Path, timeout: float = 10.0) -> Path:
        """The whole output as a PNG at `path`, taken by weston-screenshooter."""
        with tempfile.TemporaryDirectory(prefix="shain-shot-") as folder:
            # It writes wayland-screenshot-<time>.png into its working folder.
            done = subprocess.run(
                ["weston-screenshooter"],
                cwd=folder,
                env=self.client_environment(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            shots = sorted(Path(folder).glob("wayland-screenshot-*.png"))
            if done.returncode != 0 or not shots:
                raise RuntimeError(
                    f"weston-screenshooter failed (exit {done.returncode}): {done.stderr.strip()}"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(shots[-1], path)
        return path


@contextlib.contextmanager
def weston_session(
    size: tuple[int, int] = SIZE, timeout: float = STARTUP_SECONDS
) -> Iterator[WaylandSession]:
    """Weston headless on a socket of its own; ready when the block starts (its socket is there
    and its shell has painted the desktop), gone (weston, its shell, the socket and runtime
    folder) when it ends."""
    weston = shutil.which("weston")
    if weston is None:
        raise RuntimeError(
            "weston is not installed: apt-get install weston (bash .ci/install --test)"
        )
    # mkdtemp makes the folder 0700, as a runtime folder must be (weston refuses others).
    runtime_dir = Path(tempfile.mkdtemp(prefix="shain-wayland-"))
    socket = f"wayland-shain-{uuid.uuid4().hex[:8]}"
    session: WaylandSession | None = None
    try:
        (runtime_dir / "weston.ini").write_text(CONFIG)
        environment = {k: v for k, v in os.environ.items() if k not in _OTHER_DESKTOPS}
        environment["XDG_RUNTIME_DIR"] = str(runtime_dir)
        process = subprocess.Popen(
            [
                weston,
                "--backend=headless-backend.so",
                f"--socket={socket}",
                f"--width={size[0]}",
                f"--height={size[1]}",
                "--idle-time=0",
                "--shell=desktop-shell.so",
                "--use-pixman",  # the screenshooter reads pixman's buffer
                "--debug",  # and the screenshooter protocol needs it
                f"--config={runtime_dir / 'weston.ini'}",
                f"--log={runtime_dir / 'weston.log'}",
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: teardown signals weston and its shell
            preexec_fn=die_with_parent(),
        )
        session = WaylandSession(socket, runtime_dir, size, process)
        deadline = time.monotonic() + timeout
        _wait_for_socket(session, deadline)
        _wait_for_background(session, deadline)
        yield session
    finally:
        if session is not None:
            _stop(session.process)
        shutil.rmtree(runtime_dir, ignore_errors=True)


def _wait_for_socket(session: WaylandSession, deadline: float) -> None:
    while not (session.runtime_dir / session.socket).exists():
        _check(session, deadline, "made no socket")
        time.sleep(0.005)


def _wait_for_background(session: WaylandSession, deadline: float) -> None:
    """Until the shell has painted the desktop: the output is black until then (about a
    second after the socket appears), and a window would be found everywhere."""
    with tempfile.TemporaryDirectory(prefix="shain-shot-") as folder:
        shot = Path(folder) / "desktop.png"
        while True:
            with contextlib.suppress(RuntimeError):  # the screenshooter came too early
                session.screenshot(shot)
                with Image.open(shot) as image:
                    if image.convert("RGB").getcolors(1) == [
                        (image.width * image.height, BACKGROUND)
                    ]:
                        return
            _check(session, deadline, "painted no desktop")
            time.sleep(0.05)


def _check(session: WaylandSession, deadline: float, what: str) -> None:
    """Raises if weston has ended or the deadline has passed (`what`: what it failed to do)."""
    code = session.process.poll()
    if code is None and time.monotonic() < deadline:
        return
    problem = f"exited with code {code}" if code is not None else f"{what} in time"
    log = session.log.read_text(errors="replace")[-2000:] if session.log.exists() else ""
    raise RuntimeError(f"weston {problem}\n--- weston.log ---\n{log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to weston's group (it takes its shell client down within milliseconds), then
    SIGKILL to whatever of the group is left after the grace period."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
