"""VirtualDisplay against the real Xvfb, openbox and dbus-daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.desktop import virtual_display
from agent.desktop.accessibility_bus import bus_address
from agent.desktop.apps import AppLauncher
from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay
from agent.errors import EnvironmentProblem
from agent.geometry import Size
from agent.perception.atspi import snapshot
from tests.helpers import MARKER, environment_without_display, left_behind, living_processes

pytestmark = pytest.mark.desktop

REPO = Path(__file__).resolve().parents[2]
SMALL = Size(800, 600)


def reaped(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def dead(pid: int) -> bool:
    """Gone or a zombie: an orphan's zombie is for init to reap, not for us."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answers(display: str) -> bool:
    result = subprocess.run(
        ["xdpyinfo", "-display", display], capture_output=True, text=True, timeout=10
    )
    return result.returncode == 0


def dimensions(display: str) -> str:
    out = subprocess.run(
        ["xdpyinfo", "-display", display], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    return next(line.split()[1] for line in out.splitlines() if "dimensions:" in line)


def run_python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell's background job ignores SIGINT, and the child would inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


CHILD_PREFIX = """
    import time
    from agent.desktop.virtual_display import VirtualDisplay
    from agent.geometry import Size
"""


def test_screen_has_the_requested_size() -> None:
    with VirtualDisplay(SMALL, window_manager=None) as vd:
        assert vd.display.startswith(":")
        assert vd.display != ":99"
        assert dimensions(vd.display) == "800x600"
        assert vd.env == {"DISPLAY": vd.display}
        assert len(vd.pids) == 1


def test_default_size_is_full_hd() -> None:
    with VirtualDisplay(window_manager=None) as vd:
        assert dimensions(vd.display) == "1920x1080"


def test_window_manager_is_managing() -> None:
    with VirtualDisplay(SMALL) as vd:
        result = subprocess.run(
            ["wmctrl", "-m"], env=vd.child_environment(), capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert "Name: Openbox" in result.stdout


def test_child_environment() -> None:
    with VirtualDisplay(SMALL, window_manager=None) as vd:
        env = vd.child_environment({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "A": "b"})
        assert env == {"DISPLAY": vd.display, "A": "b"}
        assert vd.child_environment()["PATH"] == os.environ["PATH"]


def test_start_twice_is_harmless() -> None:
    with VirtualDisplay(SMALL, window_manager=None) as vd:
        pids = vd.pids
        assert vd.start() is vd
        assert vd.pids == pids


def test_two_side_by_side() -> None:
    with VirtualDisplay(SMALL) as one, VirtualDisplay(Size(640, 480)) as two:
        assert one.display != two.display
        assert dimensions(one.display) == "800x600"
        assert dimensions(two.display) == "640x480"


def test_stop_leaves_nothing() -> None:
    vd = VirtualDisplay(SMALL, session_bus=True).start()
    display, pids = vd.display, vd.pids
    assert len(pids) == 3
    vd.stop()
    assert all(reaped(pid) for pid in pids)
    assert not answers(display)
    vd.stop()
    with pytest.raises(EnvironmentProblem):
        _ = vd.display


def test_exception_in_with_block_tears_down() -> None:
    with pytest.raises(ValueError), VirtualDisplay(SMALL) as vd:
        display, pids = vd.display, vd.pids
        raise ValueError("boom")
    assert all(reaped(pid) for pid in pids)
    assert not answers(display)


def test_keyboard_interrupt_in_with_block_tears_down() -> None:
    with pytest.raises(KeyboardInterrupt), VirtualDisplay(SMALL) as vd:
        display, pids = vd.display, vd.pids
        raise KeyboardInterrupt
    assert all(reaped(pid) for pid in pids)
    assert not answers(display)


def test_ctrl_c_in_a_terminal_tears_down() -> None:
    # SIGINT to the whole foreground group, as a terminal does; the children have their own.
    child = run_python(
        CHILD_PREFIX
        + """
    with VirtualDisplay(Size(320, 240), session_bus=True) as vd:
        print(" ".join(map(str, vd.pids)), flush=True)
        time.sleep(30)
    """
    )
    assert child.stdout is not None
    pids = [int(pid) for pid in child.stdout.readline().split()]
    assert len(pids) == 3
    os.killpg(child.pid, signal.SIGINT)
    assert child.wait(10) != 0
    assert all(dead(pid) for pid in pids)


def test_interpreter_exit_tears_down() -> None:
    child = run_python(
        CHILD_PREFIX
        + """
    vd = VirtualDisplay(Size(320, 240)).start()
    print(" ".join(map(str, vd.pids)), flush=True)
    """
    )
    out, _ = child.communicate(timeout=10)
    pids = [int(pid) for pid in out.split()]
    assert len(pids) == 2
    # No polling: the atexit fallback waits for them, the parent-death signal would not.
    assert all(dead(pid) for pid in pids)


def test_sigkill_of_python_leaves_no_xvfb() -> None:
    child = run_python(
        CHILD_PREFIX
        + """
    vd = VirtualDisplay(Size(320, 240), session_bus=True).start()
    print(vd.display, " ".join(map(str, vd.pids)), flush=True)
    time.sleep(30)
    """
    )
    assert child.stdout is not None
    display, *pids = child.stdout.readline().split()
    assert len(pids) == 3
    child.kill()
    child.wait(10)
    assert wait_until(lambda: all(dead(int(pid)) for pid in pids))
    assert not answers(display)


def test_session_bus() -> None:
    with VirtualDisplay(SMALL, window_manager=None, session_bus=True) as vd:
        assert vd.env["DBUS_SESSION_BUS_ADDRESS"].startswith("unix:")
        result = subprocess.run(
            [
                "dbus-send", "--session", "--dest=org.freedesktop.DBus", "--type=method_call",
                "--print-reply", "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames",
            ],
            env=vd.child_environment(),
            capture_output=True,
            text=True,
            timeout=10,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "org.freedesktop.DBus" in result.stdout
        bus = vd.pids[-1]
    assert reaped(bus)


def test_missing_xvfb_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    vd = VirtualDisplay(SMALL)
    with pytest.raises(EnvironmentProblem, match=r"Xvfb is not installed: apt-get install xvfb"):
        vd.start()
    assert vd.pids == ()


def test_failing_window_manager_tears_down_xvfb(tmp_path: Path) -> None:
    wm = tmp_path / "brokenwm"
    wm.write_text("#!/bin/sh\necho 'brokenwm: cannot open config' >&2\nexit 3\n")
    wm.chmod(0o755)
    vd = VirtualDisplay(SMALL, window_manager=str(wm))
    with pytest.raises(EnvironmentProblem, match=r"(?s)exited with code 3.*cannot open config"):
        vd.start()
    assert len(vd.pids) == 2
    assert all(reaped(pid) for pid in vd.pids)


def test_window_manager_that_never_manages_times_out(tmp_path: Path) -> None:
    wm = tmp_path / "idlewm"
    wm.write_text("#!/bin/sh\nexec sleep 30\n")
    wm.chmod(0o755)
    vd = VirtualDisplay(SMALL, window_manager=str(wm), startup_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EnvironmentProblem, match="was not managing"):
        vd.start()
    assert time.monotonic() - started < 3
    assert all(reaped(pid) for pid in vd.pids)


def test_last_client_leaving_does_not_reset_the_server() -> None:
    # A reset would drop root-window state (and kill a WM starting at that moment).
    with VirtualDisplay(SMALL, window_manager=None) as vd:
        xprop = ["xprop", "-display", vd.display, "-root"]
        subprocess.run([*xprop, "-f", "SHAIN_MARK", "8s", "-set", "SHAIN_MARK", "kept"], check=True)
        out = subprocess.run([*xprop, "SHAIN_MARK"], capture_output=True, text=True).stdout
        assert '"kept"' in out


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose marker every process started from here on inherits."""
    environment = environment_without_display()
    monkeypatch.setenv(MARKER, environment[MARKER])
    return environment


def test_accessibility_bus_serves_apps_and_leaves_nothing(marked: dict[str, str]) -> None:
    apps = AppLauncher(Screen(None))
    try:
        with VirtualDisplay(SMALL, accessibility=True) as vd:
            inherited = {**os.environ, "NO_AT_BRIDGE": "1", "AT_SPI_BUS_ADDRESS": "unix:path=/x"}
            env = vd.child_environment(inherited)
            assert "NO_AT_BRIDGE" not in env  # GTK would not publish its tree
            session = {"DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"]}
            assert env["AT_SPI_BUS_ADDRESS"] == bus_address(session)  # this screen's own
            assert env["QT_LINUX_ACCESSIBILITY_ALWAYS_ON"] == "1"
            env["GSETTINGS_BACKEND"] = "memory"
            apps.launch(["zenity", "--info", "--text=Hello from zenity"], env=env)
            deadline = time.monotonic() + 10
            while not any(e.name == "Hello from zenity" for e in snapshot(env)):
                assert time.monotonic() < deadline, "zenity never showed up in the tree"
                time.sleep(0.1)
            running = set(living_processes(marker=marked[MARKER]).values())
            assert {"at-spi-bus-laun", "at-spi2-registr"} <= running
            # The screen goes while the app is still on it, as when a run is cut short: the
            # accessibility bus and its registry would then take seconds to go by themselves.
        left = left_behind(marked, timeout=0.5)
        assert {pid: name for pid, name in left.items() if pid not in apps.pids} == {}
    finally:
        apps.close_all()


def test_sigkill_of_python_leaves_no_accessibility_bus(marked: dict[str, str]) -> None:
    child = run_python(
        CHILD_PREFIX
        + """
    from agent.perception.atspi import snapshot
    vd = VirtualDisplay(Size(320, 240), accessibility=True).start()
    snapshot(vd.child_environment())  # starts the registry too
    print("ready", flush=True)
    time.sleep(30)
    """
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    assert {"at-spi-bus-laun", "at-spi2-registr"} <= set(
        living_processes(marker=marked[MARKER]).values()
    )
    child.kill()
    child.wait(10)
    assert left_behind(marked) == {}


def test_missing_accessibility_bus_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = tmp_path / "at-spi-bus-launcher"
    monkeypatch.setattr(virtual_display, "ACCESSIBILITY_BUS_LAUNCHER", str(absent))
    vd = VirtualDisplay(SMALL, accessibility=True)
    with pytest.raises(EnvironmentProblem, match=r"not installed: apt-get install at-spi2-core"):
        vd.start()
    assert len(vd.pids) == 3  # Xvfb, openbox and the session bus, all torn down
    assert all(reaped(pid) for pid in vd.pids)
