"""UI elements from the AT-SPI accessibility tree, read over D-Bus with jeepney. Linux only.

The tree is walked breadth first, one level at a time, and all the calls of a level are sent
before any reply is read: the time then depends on the depth of the tree, not on its size.
An app that does not answer in time loses the nodes still waiting; the rest is returned.
Elements say which top-level window they lie in; they may still be hidden behind other
windows (AT-SPI does not know): see agent.perception.visibility.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.desktop.accessibility_bus import bus_address, jeepney_module
from agent.errors import EnvironmentProblem
from agent.geometry import Box

REGISTRY = "org.a11y.atspi.Registry"
ROOT_PATH = "/org/a11y/atspi/accessible/root"
_ACCESSIBLE = "org.a11y.atspi.Accessible"
_COMPONENT = "org.a11y.atspi.Component"
_ACTION = "org.a11y.atspi.Action"
_TEXT = "org.a11y.atspi.Text"
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
# Roles whose text is their content, typed or shown. Never "password text": a secret.
TEXT_ROLES = frozenset(
    {"text", "entry", "paragraph", "terminal", "editbar", "document text", "spin button"}
)
MANAGED_CHILDREN_LIMIT = 400  # cells of a list or table read one by one; more are skipped
TEXT_LIMIT = 500  # characters read of a text widget: a whole document is not needed to find it


@dataclass(frozen=True, slots=True)
class Element:
    app: str
    role: str
    name: str
    box: Box  # in screen coordinates
    states: frozenset[str]
    actions: tuple[str, ...]
    parent_role: str = ""  # "menu" for a menu's items: drawn in a popup, not in the window
    # The app's top-level window it lies in (frame, dialog, alert...: the app's child).
    window_name: str = ""
    window_box: Box | None = None  # None when that window has no box
    # A text widget's contents, its first TEXT_LIMIT characters; None for other roles.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class _Node:
    bus: str
    path: str
    window: tuple[str, str] | None  # (bus, path) of its top-level window; None for an app
    parent_role: str


@dataclass(frozen=True, slots=True)
class _Found:
    """A node to report, and where its second-round replies are."""

    node: _Node
    role: str
    name: str
    states: frozenset[str]
    extents_reply: int
    actions_reply: int | None
    length_reply: int | None  # the text's length, for the text roles


class AccessibilityReader:
    """A connection to the accessibility bus; snapshot() reads the elements on screen."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout: float = 2.0) -> None:
        self._jeepney = jeepney_module()
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
        level = [_Node(str(bus), str(path), None, "") for bus, path in apps[0][0]]
        app_names: dict[str, str] = {}
        window_names: dict[tuple[str, str], str] = {}
        window_boxes: dict[tuple[str, str], Box] = {}
        elements: list[Element] = []
        visited = 0
        for depth in range(max_depth + 1):
            level = level[: max(max_nodes - visited, 0)]
            if not level or time.monotonic() >= deadline:
                break
            visited += len(level)
            calls: list[_Call] = []
            for node in level:
                calls += [
                    (node.bus, node.path, _ACCESSIBLE, "GetRoleName", None),
                    (node.bus, node.path, _ACCESSIBLE, "GetState", None),
                    (node.bus, node.path, _PROPERTIES, "Get", ("ss", (_ACCESSIBLE, "Name"))),
                    (node.bus, node.path, _ACCESSIBLE, "GetInterfaces", None),
                    (node.bus, node.path, _ACCESSIBLE, "GetChildren", None),
                ]
            replies = self._calls(calls, deadline)
            below: list[_Node] = []
            found: list[_Found] = []
            second: list[_Call] = []
            for index, node in enumerate(level):
                role, state, name, interfaces, children = replies[5 * index : 5 * index + 5]
                if role is None or state is None or interfaces is None:
                    continue
                states = _state_names(state[0])
                label = str(name[0][1]) if name is not None else ""
                role_name = str(role[0])
                if depth == 0:
                    app_names[node.bus] = label
                elif "showing" not in states:
                    continue  # a hidden subtree: a closed menu, another tab
                # The app's children are its top-level windows; each passes itself down.
                window = (node.bus, node.path) if depth == 1 else node.window
                if depth == 1:
                    window_names[(node.bus, node.path)] = label
                # A list or table "manages" its cells: there may be thousands. A list of a few
                # hundred is read (its rows are what a user clicks); a bigger one is not.
                if children is not None and (
                    "manages-descendants" not in states
                    or len(children[0]) <= MANAGED_CHILDREN_LIMIT
                ):
                    below += [_Node(str(b), str(p), window, role_name) for b, p in children[0]]
                if depth == 0 or _COMPONENT not in interfaces[0] or "visible" not in states:
                    continue
                found.append(_ask_details(node, role_name, label, states, interfaces[0], second))
            replies = self._calls(second, deadline)
            texts = self._texts(found, replies, deadline)
            for item in found:
                extents = replies[item.extents_reply]
                if extents is None:
                    continue
                left, top, width, height = (int(v) for v in extents[0])
                if width <= 0 or height <= 0:
                    continue
                box = Box(left, top, width, height)
                key = (item.node.bus, item.node.path)
                if depth == 1:
                    window_boxes[key] = box
                window = key if depth == 1 else item.node.window
                actions = replies[item.actions_reply] if item.actions_reply is not None else None
                elements.append(
                    Element(
                        app=app_names.get(item.node.bus, ""),
                        role=item.role,
                        name=item.name,
                        box=box,
                        states=item.states,
                        actions=tuple(str(a[0]) for a in actions[0]) if actions else (),
                        parent_role=item.node.parent_role,
                        window_name=window_names.get(window, "") if window else "",
                        window_box=window_boxes.get(window) if window else None,
                        text=texts.get(key),
                    )
                )
            level = below
        return elements

    def _texts(
        self,
        found: list[_Found],
        replies: list[tuple[Any, ...] | None],
        deadline: float,
    ) -> dict[tuple[str, str], str]:
        """The text widgets' contents, by (bus, path): one more round, only for non-empty ones.

        The length is asked first so that no offset past the end is ever asked: not every
        toolkit checks it.
        """
        texts: dict[tuple[str, str], str] = {}
        calls: list[_Call] = []
        keys: list[tuple[str, str]] = []
        for item in found:
            reply = replies[item.length_reply] if item.length_reply is not None else None
            if reply is None:
                continue
            key = (item.node.bus, item.node.path)
            length = int(reply[0][1])  # a variant: (signature, value)
            if length <= 0:
                texts[key] = ""
                continue
            end = min(length, TEXT_LIMIT)
            calls.append((key[0], key[1], _TEXT, "GetText", ("ii", (0, end))))
            keys.append(key)
        for key, text in zip(keys, self._calls(calls, deadline), strict=True):
            if text is not None:
                texts[key] = str(text[0])
        return texts

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


def _ask_details(
    node: _Node,
    role: str,
    name: str,
    states: frozenset[str],
    interfaces: list[str],
    calls: list[_Call],
) -> _Found:
    """Queue a node's second-round calls (box, actions, text length); say where they are."""
    # Only what the node's interfaces offer is asked: GTK logs a warning otherwise.
    extents_reply = len(calls)
    calls.append((node.bus, node.path, _COMPONENT, "GetExtents", ("u", (_SCREEN_COORDS,))))
    actions_reply = length_reply = None
    if _ACTION in interfaces:
        actions_reply = len(calls)
        calls.append((node.bus, node.path, _ACTION, "GetActions", None))
    if role in TEXT_ROLES and _TEXT in interfaces:
        length_reply = len(calls)
        calls.append((node.bus, node.path, _PROPERTIES, "Get", ("ss", (_TEXT, "CharacterCount"))))
    return _Found(node, role, name, states, extents_reply, actions_reply, length_reply)


def _state_names(words: list[int]) -> frozenset[str]:
    bits = sum(int(word) << (32 * i) for i, word in enumerate(words))
    return frozenset(name for i, name in enumerate(_STATES) if bits >> i & 1)


def snapshot(env: Mapping[str, str] | None = None, *, timeout: float = 2.0) -> list[Element]:
    """One-off: connect, read the elements on screen, disconnect."""
    with AccessibilityReader(env, timeout) as reader:
        return reader.snapshot(timeout=timeout)
