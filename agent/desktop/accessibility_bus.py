"""Where a screen's accessibility bus is: AT-SPI's own D-Bus, found through the session bus.

The virtual display starts one per screen and waits for it here; the accessibility reader
(agent/perception/atspi.py) connects to what this finds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from agent.errors import EnvironmentProblem


def jeepney_module() -> Any:
    """jeepney (pure-Python D-Bus), imported when first needed."""
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
    jeepney = jeepney_module()
    try:
        conn = jeepney.io.blocking.open_dbus_connection(bus=session, auth_timeout=timeout)
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"cannot connect to the session bus {session}: {exc}") from exc
    try:
        address = jeepney.DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
        call = jeepney.new_method_call(address, "GetAddress")
        # Not started on demand: apps that started before it are not on it anyway, and one
        # started by the session bus would race the launcher a virtual display starts itself.
        call.header.flags |= jeepney.MessageFlag.no_auto_start
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
