"""The fleet tests' Redis: a real redis-server of each module's own, a database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.fleet.servers import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def broker(redis_server: RedisServer) -> str:
    """A database of the module's Redis for one test alone: its queues, runs and workers."""
    return redis_server.url(next(_databases) % 16)
