"""A private X screen (Xvfb), optionally with a window manager, a D-Bus session bus and an
accessibility bus. Linux only.

Every process is started by this object and torn down by it: on stop(), on leaving a with-block
(also by an exception or Ctrl-C), at interpreter exit, and - through a parent-death signal - even
when the Python process is killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import IO

from Xlib import X, error
from Xlib.display import Display

from agent.desktop.children import die_with_parent
from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem
from agent.geometry import Size

_INSTALL_HINTS = {
    "Xvfb": "xvfb",
    "openbox": "openbox",
    "dbus-daemon": "dbus",
    "at-spi-bus-launcher": "at-spi2-core",
}
ACCESSIBILITY_BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
_STOP_GRACE_SECONDS = 2.0
_LOG_TAIL_BYTES = 2000
DEFAULT_SIZE = Size(1920, 1080)


class VirtualDisplay:
    """Xvfb on a display number it picks itself, plus an optional window manager and buses.

    With `accessibility`, apps started with child_environment() publish their accessibility
    tree (AT-SPI) on this screen's own accessibility bus; it implies the session bus.

    Call start() from a thread that lives as long as the display: the parent-death signal
    fires when the thread that started the children exits, not only the process.
    """

    def __init__(
        self,
        size: Size = DEFAULT_SIZE,
        *,
        window_manager: str | None = "openbox",
        session_bus: bool = False,
        accessibility: bool = False,
        startup_timeout: float = 10.0,
    ) -> None:
        self.size = size
        self.window_manager = window_manager
        # The accessibility bus is found through the session bus (org.a11y.Bus).
        self.session_bus = session_bus or accessibility
        self.accessibility = accessibility
        self.startup_timeout = startup_timeout
        self._display: str | None = None
        self._env: dict[str, str] = {}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pids: list[int] = []
        self._log: IO[bytes] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        # What the window manager was started with: its config home holds its menu.
        self.window_manager_environment: dict[str, str] = {}

    @property
    def display(self) -> str:
        if self._display is None:
            raise EnvironmentProblem("the virtual display is not started")
        return self._display

    @property
    def env(self) -> dict[str, str]:
        return dict(self._env)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(self._pids)

    @property
    def screen(self) -> Screen:
        """This screen as a value: its display, size, and the environment apps on it get."""
        return Screen(self.display, self.child_environment(), self.size, private=True)

    def child_environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        # GTK and Qt prefer Wayland when it is advertised, which would put apps on the user's
        # real screen instead of this one.
        env.pop("WAYLAND_DISPLAY", None)
        if self.session_bus:
            # An inherited address is the user's own accessibility bus: a screen reader there
            # would hear about this screen's apps.
            env.pop("AT_SPI_BUS_ADDRESS", None)
        if self.accessibility:
            env.pop("NO_AT_BRIDGE", None)  # GTK 3 would not load its AT-SPI bridge
            env.pop("GTK_A11Y", None)  # GTK 4: "none" turns accessibility off
            # GTK 2 apps (pcmanfm) load their bridge as modules; GTK 3 has it built in and
            # ignores modules it does not have.
            modules = [m for m in env.get("GTK_MODULES", "").split(":") if m]
            env["GTK_MODULES"] = ":".join(dict.fromkeys([*modules, "gail", "atk-bridge"]))
        env.update(self._env)
        return env

    def start(self) -> VirtualDisplay:
        if self._procs:
            return self
        deadline = time.monotonic() + self.startup_timeout
        self._pids = []
        try:
            # Outlives this call on purpose: the children write to it until stop() closes it.
            self._log = tempfile.TemporaryFile(prefix="shain-display-", suffix=".log")  # noqa: SIM115
            self._tmpdir = tempfile.TemporaryDirectory(prefix="shain-display-")
            self._start_xvfb(deadline)
            if self.window_manager is not None:
                self._start_window_manager(self.window_manager, deadline)
            if self.session_bus:
                self._start_bus(deadline)
            if self.accessibility:
                self._start_accessibility_bus(deadline)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        # One at a time, so a stop interrupted by Ctrl-C leaves the rest to the atexit fallback.
        while self._procs:
            _terminate(self._procs[-1])
            self._procs.pop()
        self._display = None
        self._env = {}
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_xvfb(self, deadline: float) -> None:
        screen = f"{self.size.width}x{self.size.height}x24"
        # Without -noreset the last client's disconnect (a readiness probe) resets the server,
        # and a window manager starting at that moment dies.
        flags = f"-screen 0 {screen} -nolisten tcp -noreset +extension RECORD".split()
        number = self._spawn_and_read(
            "Xvfb", lambda fd: ["-displayfd", str(fd), *flags], "a display number", deadline
        )
        self._display = f":{number}"
        self._env["DISPLAY"] = self._display

    def _start_window_manager(self, command: str, deadline: float) -> None:
        # A private config home, so the user's own WM config (autostart, key bindings) stays out.
        env = self.child_environment()
        env["XDG_CONFIG_HOME"] = self._private_dir("config")
        env["XDG_CACHE_HOME"] = self._private_dir("cache")
        self.window_manager_environment = dict(env)
        args = ["--sm-disable"] if os.path.basename(command) == "openbox" else []
        proc = self._spawn(command, args, env=env)
        try:
            conn = Display(self.display)
        except error.DisplayError as exc:
            raise self._problem(f"cannot connect to {self.display}: {exc}") from exc
        try:
            root = conn.screen().root
            atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
            # Openbox sets this property only once it has taken over the root window.
            while root.get_full_property(atom, X.AnyPropertyType) is None:
                if proc.poll() is not None:
                    raise self._problem(f"{command} exited with code {proc.returncode}")
                if time.monotonic() > deadline:
                    raise self._problem(
                        f"{command} was not managing {self.display} within {self.startup_timeout} s"
                    )
                time.sleep(0.01)
        finally:
            conn.close()

    def _start_bus(self, deadline: float) -> None:
        # Its socket in this screen's private folder, not /tmp: a bus that had to be killed
        # leaves nothing behind once the folder goes.
        address = f"--address=unix:dir={self._private_dir('bus')}"
        self._env["DBUS_SESSION_BUS_ADDRESS"] = self._spawn_and_read(
            "dbus-daemon",
            lambda fd: ["--session", "--nofork", address, f"--print-address={fd}"],
            "its address",
            deadline,
        )

    def _start_accessibility_bus(self, deadline: float) -> None:
        # Imported here: the reader needs jeepney, which only this option needs.
        from agent.desktop.accessibility_bus import bus_address

        env = self.child_environment()
        # Its socket goes in a private runtime folder instead of the user's, and its settings
        # stay in memory: reading them through dconf would start a dconf-service on the bus.
        env["XDG_RUNTIME_DIR"] = self._private_dir("runtime")
        env["GSETTINGS_BACKEND"] = "memory"
        # --launch-immediately: the bus is up before any app asks for it, rather than started
        # by the session bus on demand, outside this object's process groups.
        proc = self._spawn(ACCESSIBILITY_BUS_LAUNCHER, ["--launch-immediately"], env=env)
        while True:
            try:
                address = bus_address(self._env, timeout=max(deadline - time.monotonic(), 0.1))
                break
            except EnvironmentProblem as exc:
                if proc.poll() is not None:
                    raise self._problem(
                        f"at-spi-bus-launcher exited with code {proc.returncode}"
                    ) from exc
                if time.monotonic() > deadline:
                    raise self._problem(
                        f"no accessibility bus within {self.startup_timeout} s: {exc}"
                    ) from exc
                time.sleep(0.01)
        # Given to the apps directly: they skip asking the session bus, and so does the reader.
        self._env["AT_SPI_BUS_ADDRESS"] = address
        # Qt publishes its tree only when told to (or when a screen reader says it runs).
        self._env["QT_LINUX_ACCESSIBILITY_ALWAYS_ON"] = "1"

    def _private_dir(self, name: str) -> str:
        assert self._tmpdir is not None
        path = os.path.join(self._tmpdir.name, name)
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def _spawn_and_read(
        self, command: str, args: Callable[[int], list[str]], what: str, deadline: float
    ) -> str:
        """Start a program that reports readiness by writing one line to a file descriptor."""
        read_fd, write_fd = os.pipe()
        try:
            proc = self._spawn(
                command, args(write_fd), env=self.child_environment(), pass_fds=(write_fd,)
            )
            # Closed here so that the read end sees EOF if the child dies without reporting.
            os.close(write_fd)
            write_fd = -1
            data = b""
            while not data.endswith(b"\n"):
                ready, _, _ = select.select([read_fd], [], [], max(deadline - time.monotonic(), 0))
                if not ready:
                    raise self._problem(
                        f"{command} did not report {what} within {self.startup_timeout} s"
                    )
                chunk = os.read(read_fd, 1024)
                if not chunk:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(0.5)
                    raise self._problem(
                        f"{command} exited (code {proc.returncode}) before reporting {what}"
                    )
                data += chunk
            return data.decode().strip()
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def _spawn(
        self,
        command: str,
        args: list[str],
        *,
        env: dict[str, str],
        pass_fds: tuple[int, ...] = (),
    ) -> subprocess.Popen[bytes]:
        assert self._log is not None
        name = os.path.basename(command)
        package = _INSTALL_HINTS.get(name, name)
        path = shutil.which(command, path=env.get("PATH"))
        if path is None:
            raise EnvironmentProblem(f"{name} is not installed: apt-get install {package}")
        try:
            proc = subprocess.Popen(
                [path, *args],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                env=env,
                pass_fds=pass_fds,
                # Its own process group: Ctrl-C in the terminal reaches only Python, which then
                # tears down in order, and stop() can signal the whole group.
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        except OSError as exc:
            raise self._problem(f"cannot run {path}: {exc}") from exc
        self._procs.append(proc)
        self._pids.append(proc.pid)
        return proc

    def _problem(self, message: str) -> EnvironmentProblem:
        tail = ""
        if self._log is not None:
            fd = self._log.fileno()
            size = os.fstat(fd).st_size
            # pread leaves the offset alone, which the children share for their writes.
            start = max(size - _LOG_TAIL_BYTES, 0)
            tail = os.pread(fd, size - start, start).decode(errors="replace").strip()
        return EnvironmentProblem(f"{message}\n--- log tail ---\n{tail}" if tail else message)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    # Signal the group only while the leader is unreaped: its pid cannot be reused until then.
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        _wait_unreaped(proc.pid, _STOP_GRACE_SECONDS)
        # The leader if it is still there, and whatever of its group outlived it: the
        # accessibility bus launcher's dbus-daemon and registry can linger for seconds.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait_unreaped(pid: int, seconds: float) -> None:
    """Wait for a child to end, but leave it a zombie, so its pid still names its group."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except ChildProcessError:
            return  # already reaped
        time.sleep(0.005)
