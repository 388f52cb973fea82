"""BossWatcher on a real virtual screen: the stop hotkey, and a pause when the boss takes over.

The boss is xdotool, which injects through XTest exactly like the agent's pyautogui does, so
only the agent's InjectionWindow tells the two apart. LocalDesktop's actions are wrapped in the
window here by hand, as LocalDesktop.execute does itself once it takes an InjectionWindow.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest

from agent.actions import Action, Click, Drag, KeyPress, Move, Scroll, TypeText
from agent.desktop.apps import AppLauncher
from agent.desktop.boss_input import BossWatcher, InjectionWindow, _key_name
from agent.desktop.local import LocalDesktop
from agent.desktop.virtual_display import VirtualDisplay
from agent.errors import Stopped
from agent.geometry import Point
from agent.perception.conditions import WindowAppears, wait_for
from agent.stop import StopToken
from tests.helpers import key_presses

pytestmark = pytest.mark.desktop


@pytest.fixture(scope="module")
def desktop(virtual_display: VirtualDisplay) -> Iterator[LocalDesktop]:
    with LocalDesktop(virtual_display.screen) as opened:
        yield opened


def _boss(display: VirtualDisplay, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=display.child_environment(), check=True, timeout=10)


def _agent(desktop: LocalDesktop, window: InjectionWindow, action: Action, stop: StopToken) -> None:
    assert window is desktop.injection  # LocalDesktop.execute says what it injects itself
    desktop.execute(action, stop)


def _eventually(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def _open_xterm(launcher: AppLauncher, title: str) -> None:
    launcher.launch(["xterm", "-geometry", "80x24+0+0", "-T", title, "-e", "cat"])
    wait_for(WindowAppears(title), 20, StopToken(), launcher.screen)


def _pynput_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if type(t).__module__.startswith("pynput")}


def test_the_hotkey_stops_long_typing_at_once(
    desktop: LocalDesktop, virtual_display: VirtualDisplay, launcher: AppLauncher
) -> None:
    _open_xterm(launcher, "boss-hotkey")
    stop, window, sent = StopToken(), desktop.injection, []

    def boss() -> None:
        time.sleep(0.4)
        sent.append(time.monotonic())
        _boss(virtual_display, "key", "ctrl+alt+Escape")

    with (
        key_presses(virtual_display.display) as presses,
        BossWatcher(stop, virtual_display.screen, injection=window),
    ):
        pressing = threading.Thread(target=boss)
        pressing.start()
        with pytest.raises(Stopped, match=r"hotkey ctrl\+alt\+escape"):
            _agent(desktop, window, TypeText("x" * 5000), stop)
        pressing.join()
    assert stop.stopped and not stop.paused
    assert stop.requested_at is not None and sent
    to_stop, to_last_key = stop.requested_at - sent[0], max(presses) - sent[0]
    assert to_stop < 0.2, f"the stop came {to_stop * 1000:.0f} ms after the hotkey"
    assert to_last_key < 0.2, f"input went on for {to_last_key * 1000:.0f} ms after the hotkey"
    assert 0 < sum(1 for t in presses if t < sent[0]) < 5000


def test_the_boss_pauses_the_agent_and_the_agent_does_not(
    desktop: LocalDesktop, virtual_display: VirtualDisplay, launcher: AppLauncher
) -> None:
    _open_xterm(launcher, "boss-takeover")
    stop, window, seen = StopToken(), desktop.injection, []
    with BossWatcher(stop, virtual_display.screen, injection=window, on_boss_input=seen.append):
        drag = Drag((Point(120, 120), Point(200, 140), Point(260, 160)))
        for action in (
            Move(300, 200),
            Click(310, 210),
            Scroll(310, 210, scroll_y=2),
            drag,
            KeyPress(("shift", "a")),
            TypeText("hello"),
        ):
            _agent(desktop, window, action, stop)
        time.sleep(0.4)
        assert not stop.paused and seen == []

        _boss(virtual_display, "mousemove", "100", "100")
        assert _eventually(lambda: stop.paused)
        _boss(virtual_display, "mousemove", "150", "150")  # paused already: no second call
        time.sleep(0.2)
        assert seen == ["you moved the mouse"]

        stop.resume()
        _boss(virtual_display, "key", "b")
        assert _eventually(lambda: stop.paused)
        assert seen[-1] == "you pressed a key"

        # While the agent types, its key events are its own but a mouse move is the boss's.
        stop.resume()
        outcome: list[Exception] = []

        def type_long() -> None:
            try:
                _agent(desktop, window, TypeText("y" * 3000), stop)
            except Exception as error:
                outcome.append(error)

        typing = threading.Thread(target=type_long)
        typing.start()
        time.sleep(0.2)
        assert not stop.paused
        _boss(virtual_display, "mousemove", "400", "300")
        assert _eventually(lambda: stop.paused)
        paused_at = time.monotonic()
        time.sleep(0.3)  # the pause holds inside the long typing, not only between actions
        assert typing.is_alive()
        assert desktop.last_input_at is not None and desktop.last_input_at < paused_at + 0.05
        stop.stop()
        typing.join(5)
        assert seen[-1] == "you moved the mouse" and not typing.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], Stopped)


def test_a_configured_hotkey_replaces_the_default(virtual_display: VirtualDisplay) -> None:
    stop = StopToken()
    with BossWatcher(
        stop, virtual_display.screen, hotkey="Control+Shift+Q", pause_on_boss_input=False
    ) as watcher:
        assert watcher.hotkey == "ctrl+shift+q"
        _boss(virtual_display, "key", "ctrl+alt+Escape")
        time.sleep(0.3)
        assert not stop.stopped and not stop.paused
        _boss(virtual_display, "key", "ctrl+shift+q")
        assert _eventually(lambda: stop.stopped)
    assert stop.reason == "stopped by the hotkey ctrl+shift+q"


def test_watching_ends_with_no_thread_left(virtual_display: VirtualDisplay) -> None:
    before = _pynput_threads()
    watcher = BossWatcher(StopToken(), virtual_display.screen).start()
    assert watcher.watching and len(_pynput_threads() - before) == 2
    started = time.monotonic()
    watcher.stop_watching()
    assert time.monotonic() - started < 0.5
    assert _eventually(lambda: not _pynput_threads() - before, 1.0)
    watcher.stop_watching()  # twice is fine
    assert not watcher.watching


def test_the_injection_window_owns_only_what_the_action_injects() -> None:
    window = InjectionWindow(grace=0.05)
    with window.active(Move(10, 20)):
        assert window.injecting
        assert window.owns("move", 11, 21)
        assert not window.owns("move", 300, 300)
        assert not window.owns("key") and not window.owns("button", 10, 20)
    assert window.owns("move", 10, 20)  # its events may still be on their way
    time.sleep(0.08)
    assert not window.owns("move", 10, 20) and not window.injecting
    with window.active(Click(5, 5), to_input=lambda x, y: (2 * x, 2 * y)):
        assert window.owns("button", 10, 10) and not window.owns("button", 5, 5)
    with window.active():
        assert window.owns("key") and window.owns("scroll", 1, 1)


def test_pynput_keys_get_canonical_names() -> None:
    def named(name: str) -> object:
        return SimpleNamespace(name=name)

    assert _key_name(SimpleNamespace(char="Q")) == "q"
    assert _key_name(SimpleNamespace(char="\x11")) == "q"  # ctrl+q on some systems
    assert [_key_name(named(n)) for n in ("ctrl_r", "alt_gr", "cmd_l", "esc", "page_up")] == [
        "ctrl",
        "alt",
        "super",
        "escape",
        "pageup",
    ]
    assert _key_name(named("media_play_pause")) is None and _key_name(None) is None
