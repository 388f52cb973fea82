"""UI elements from the AT-SPI accessibility tree, read over D-Bus with jeepney. Linux only.

The tree is walked breadth first, one level at a time, and all the calls of a level are sent
before any reply is read: the time then depends on the depth of the tree, not on its size.
An app that does not answer in time loses the nodes still waiting; the rest is returned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.errors import EnvironmentProblem
from agent.geometry import Box

REGISTRY = "org.a11y.atspi.Registry"
ROOT_PATH = "/org/a11y/atspi/accessible/root"
_ACCESSIBLE = "org.a11y.atspi.Accessible"
_COMPONENT = "org.a11y.atspi.Component"
_ACTION = "org.a11y.atspi.Action"
_PROPERTIES = "org.freedesktop.DBus.Properties"
_SCREEN_COORDS = 0
# One method call: bus name, object path, interface, method, and (signature, arguments).
_Call = tuple[str, str, str, str, tuple[str, tuple[Any, ...]] | None]
# AT-SPI's StateType, in bit order (two 32-bit words from GetState).
# fmt: off
_STATES = (
    "invalid", "active", "armed", "busy", "checked", "collapsed", "defunct", "editable",
    "enabled", "expandable", "expanded", "focusable", "focused", "has-tooltip", "horizontal",
    "iconified", "modal", "multi-line", "multiselectable", "opaque", "pressed", "resizable",
    "selectable", "selected", "sensitive", "showing", "single-line", "stale", "transient",
    "vertical", "visible", "manages-descendants", "indeterminate", "required", "truncated",
    "animated", "invalid-entry", "supports-autocompletion", "selectable-text", "is-default",
    "visited", "checkable", "has-popup", "read-only",
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Element:
    app: str
    role: str
    name: str
    box: Box
    states: frozenset[str]
    actions: tuple[str, ...]


def _jeepney() -> Any:
    try:
        import jeepney  # type: ignore[import-untyped]
        import jeepney.io.blocking  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EnvironmentProblem(
            "reading the accessibility tree needs jeepney: pip install jeepney"
        ) from exc
    return jeepney


def bus_address(env: Mapping[str, str] | None = None, timeout: float = 2.0) -> str:
    """The accessibility bus's address: from AT_SPI_BUS_ADDRESS, else asked of the session bus."""
    env = os.environ if env is None else env
    if env.get("AT_SPI_BUS_ADDRESS"):
        return env["AT_SPI_BUS_ADDRESS"]
    session = env.get("DBUS_SESSION_BUS_ADDRESS")
    if not session:
        raise EnvironmentProblem(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no accessibility bus"
        )
    jeepney = _jeepney()
    try:
        conn = jeepney.io.blocking.open_dbus_connection(bus=session, auth_timeout=timeout)
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"cannot connect to the session bus {session}: {exc}") from exc
    try:
        address = jeepney.DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
        call = jeepney.new_method_call(address, "GetAddress")
        reply = conn.send_and_get_reply(call, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise EnvironmentProblem(
            f"the session bus did not give the accessibility bus: {exc}"
        ) from exc
    finally:
        conn.close()
    if reply.header.message_type != jeepney.MessageType.method_return or not reply.body[0]:
        raise EnvironmentProblem(
            "no accessibility bus on the session bus (start /usr/libexec/at-spi-bus-launcher; "
            f"apt-get install at-spi2-core): {reply.body}"
        )
    return str(reply.body[0])


class AccessibilityReader:
    """A connection to the accessibility bus; snapshot() reads the elements on screen."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout: float = 2.0) -> None:
        self._jeepney = _jeepney()
        address = bus_address(env, timeout)
        try:
            self._conn: Any = self._jeepney.io.blocking.open_dbus_connection(
                bus=address, auth_timeout=timeout
            )
        except (OSError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot connect to the accessibility bus {address}: {exc}"
            ) from exc

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AccessibilityReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def snapshot(
        self, *, max_depth: int = 40, max_nodes: int = 5000, timeout: float = 2.0
    ) -> list[Element]:
        """The showing, visible elements with a non-empty box, apps in registry order."""
        deadline = time.monotonic() + timeout
        apps = self._calls([(REGISTRY, ROOT_PATH, _ACCESSIBLE, "GetChildren", None)], deadline)
        if apps[0] is None:
            raise EnvironmentProblem("the AT-SPI registry did not answer on the accessibility bus")
        level = [(str(bus), str(path)) for bus, path in apps[0][0]]
        app_names: dict[str, str] = {}
        elements: list[Element] = []
        visited = 0
        for depth in range(max_depth + 1):
            level = level[: max(max_nodes - visited, 0)]
            if not level or time.monotonic() >= deadline:
                break
            visited += len(level)
            calls: list[_Call] = []
            for bus, path in level:
                calls += [
                    (bus, path, _ACCESSIBLE, "GetRoleName", None),
                    (bus, path, _ACCESSIBLE, "GetState", None),
                    (bus, path, _PROPERTIES, "Get", ("ss", (_ACCESSIBLE, "Name"))),
                    (bus, path, _ACCESSIBLE, "GetInterfaces", None),
                    (bus, path, _ACCESSIBLE, "GetChildren", None),
                ]
            replies = self._calls(calls, deadline)
            below: list[tuple[str, str]] = []
            found: list[tuple[str, str, str, str, frozenset[str], bool]] = []
            second: list[_Call] = []
            for index, (bus, path) in enumerate(level):
                role, state, name, interfaces, children = replies[5 * index : 5 * index + 5]
                if role is None or state is None or interfaces is None:
                    continue
                states = _state_names(state[0])
                label = str(name[0][1]) if name is not None else ""
                if depth == 0:
                    app_names[bus] = label
                elif "showing" not in states:
                    continue  # a hidden subtree: a closed menu, another tab
                if children is not None and "manages-descendants" not in states:
                    below += [(str(b), str(p)) for b, p in children[0]]
                if depth == 0 or _COMPONENT not in interfaces[0] or "visible" not in states:
                    continue
                # Asked only of those that have the interface: GTK logs a warning otherwise.
                second.append((bus, path, _COMPONENT, "GetExtents", ("u", (_SCREEN_COORDS,))))
                has_action = _ACTION in interfaces[0]
                if has_action:
                    second.append((bus, path, _ACTION, "GetActions", None))
                found.append((bus, path, str(role[0]), label, states, has_action))
            replies = self._calls(second, deadline)
            position = 0
            for bus, _path, role_name, label, states, has_action in found:
                extents = replies[position]
                actions = replies[position + 1] if has_action else None
                position += 2 if has_action else 1
                if extents is None:
                    continue
                left, top, width, height = (int(v) for v in extents[0])
                if width <= 0 or height <= 0:
                    continue
                names = tuple(str(a[0]) for a in actions[0]) if actions is not None else ()
                box = Box(left, top, width, height)
                elements.append(
                    Element(app_names.get(bus, ""), role_name, label, box, states, names)
                )
            level = below
        return elements

    def _calls(
        self,
        calls: list[_Call],
        deadline: float,
    ) -> list[tuple[Any, ...] | None]:
        """Send every call, then wait for the replies: a reply's body, or None on an error."""
        jeepney = self._jeepney
        serials: dict[int, int] = {}
        for index, (bus, path, interface, method, args) in enumerate(calls):
            address = jeepney.DBusAddress(path, bus, interface)
            if args is None:
                message = jeepney.new_method_call(address, method)
            else:
                message = jeepney.new_method_call(address, method, *args)
            serial = next(self._conn.outgoing_serial)
            self._conn.send(message, serial=serial)
            serials[serial] = index
        results: list[tuple[Any, ...] | None] = [None] * len(calls)
        while serials:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                message = self._conn.receive(timeout=remaining)
            except TimeoutError:
                break
            reply_to = message.header.fields.get(jeepney.HeaderFields.reply_serial)
            slot = serials.pop(reply_to, None) if reply_to is not None else None
            if (
                slot is not None
                and message.header.message_type == jeepney.MessageType.method_return
            ):
                results[slot] = tuple(message.body)
        return results


def _state_names(words: list[int]) -> frozenset[str]:
    bits = sum(int(word) << (32 * i) for i, word in enumerate(words))
    return frozenset(name for i, name in enumerate(_STATES) if bits >> i & 1)


def snapshot(env: Mapping[str, str] | None = None, *, timeout: float = 2.0) -> list[Element]:
    """One-off: connect, read the elements on screen, disconnect."""
    with AccessibilityReader(env, timeout) as reader:
        return reader.snapshot(timeout=timeout)
