"""Where the fleet's broker (Redis) is, how to name it without its password, and reaching it.

The URL comes from `--broker`, else `SHAIN_BROKER`, else `[fleet] broker` in the config file,
else a Redis on this machine. Every message that names it goes through `masked`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from agent.config.profiles import Config, load_config
from agent.errors import ConfigError, EnvironmentProblem

if TYPE_CHECKING:
    import redis

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
CONNECT_TIMEOUT_SECONDS = 3.0
# Long enough for a blocking read of the run's progress (XREAD BLOCK) to come back first.
READ_TIMEOUT_SECONDS = 15.0
NO_FLEET_EXTRA = "the fleet needs Celery and redis: pip install 'shain[fleet]'"


def broker_url(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    url = flag or environ.get("SHAIN_BROKER") or load_config().fleet.broker or DEFAULT_BROKER
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ConfigError(f"broker {masked(url)}: expected a redis:// or rediss:// URL")
    return url


def configured_broker(
    config: Config | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The broker the boss configured (`SHAIN_BROKER`, else `[fleet] broker`), None when none
    is: then the office and the tray show nothing of the fleet."""
    environ = os.environ if environ is None else environ
    config = load_config() if config is None else config
    url = environ.get("SHAIN_BROKER") or config.fleet.broker
    return broker_url(url, environ) if url else None


def masked(url: str) -> str:
    """The URL with its password (if any) as ***: what every message and log shows."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def connect(url: str) -> redis.Redis:
    """A client of the broker that has answered a ping; EnvironmentProblem (exit 4), naming the
    URL without its password, when it cannot be reached."""
    try:
        import redis
    except ImportError:
        raise EnvironmentProblem(NO_FLEET_EXTRA) from None

    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=READ_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    try:
        client.ping()
    except redis.AuthenticationError:
        raise EnvironmentProblem(f"the broker {masked(url)} refused the password") from None
    except redis.RedisError as error:
        reason = str(error).replace(url, masked(url))
        raise EnvironmentProblem(f"cannot reach the broker {masked(url)}: {reason}") from None
    return client
