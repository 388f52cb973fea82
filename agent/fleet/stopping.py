"""`shain stop`: a queued run is never started; a running one is asked to stop by its worker
(the run's own stop token, then its process group after a grace period)."""

from __future__ import annotations

import time

from agent.errors import ConfigError
from agent.fleet.registry import STOPPED_CLAIM, FleetRun, Registry, RunState
from agent.fleet.slot import STOP_GRACE_SECONDS
from agent.record.status import RunStatus
from agent.run.verdict import EXIT_STOPPED

POLL_SECONDS = 0.2
# The worker notices within a poll, the run stops within a step, the grace period bounds it.
WAIT_SECONDS = STOP_GRACE_SECONDS + 20.0


def stop_run(registry: Registry, reference: str, reason: str) -> FleetRun | None:
    """Stop the run (an id or a unique prefix); its record once it has ended, None if it is
    still going after WAIT_SECONDS."""
    record = registry.find(reference)
    if record is None:
        raise ConfigError(f"no run {reference!r} in the fleet (`shain fleet` lists them)")
    run_id = record.run_id
    if record.state is RunState.ENDED:
        return record
    if registry.claim(run_id, STOPPED_CLAIM):
        registry.end(run_id, RunStatus.STOPPED, EXIT_STOPPED, f"{reason} before it started")
        return registry.get(run_id)
    registry.request_stop(run_id, reason)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        registry.reap()
        record = registry.get(run_id)
        if record is None or record.state is RunState.ENDED:
            return record
        time.sleep(POLL_SECONDS)
    return None
