"""A scripted model server shared by the tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.model_server import ModelServer


@pytest.fixture(scope="module")
def _servers() -> Iterator[list[ModelServer]]:
    servers = [ModelServer()]
    yield servers
    servers[0].stop()


@pytest.fixture
def server(_servers: list[ModelServer]) -> Iterator[ModelServer]:
    """One server for the module (starting and stopping one per test doubles the run time);
    each test sees it with no requests, and one that leaves replies unused gets it replaced."""
    running = _servers[0]
    running.requests.clear()
    yield running
    if running.pending or running.errors:
        running.stop()
        _servers[0] = ModelServer()
