"""What `shain fleet` shows: the workers, their slots in use, the queued and running runs, and
queues that have runs waiting but no worker serving them."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from agent.fleet.registry import FleetRun, Registry, RunState, WorkerBeat


@dataclass(frozen=True)
class FleetView:
    workers: tuple[WorkerBeat, ...]
    queued: tuple[FleetRun, ...]
    running: tuple[FleetRun, ...]
    unserved: dict[str, int]  # queue -> runs waiting in it that no worker takes

    def runs_of(self, worker: WorkerBeat) -> list[str]:
        """The runs a worker's slots hold, as the runs' records say (its beat may be a beat
        behind)."""
        return [run.run_id for run in self.running if run.worker == worker.instance]

    def as_json(self) -> dict[str, Any]:
        return {
            "workers": [
                {
                    "name": w.name,
                    "instance": w.instance,
                    "host": w.host,
                    "pid": w.pid,
                    "queues": list(w.queues),
                    "slots": w.slots,
                    "busy": len(self.runs_of(w)),
                    "runs": self.runs_of(w),
                }
                for w in self.workers
            ],
            "queued": [_run_json(run) for run in self.queued],
            "running": [_run_json(run) for run in self.running],
            "unserved_queues": self.unserved,
        }

    def lines(self) -> list[str]:
        now = time.time()
        out = [f"workers: {len(self.workers)}"]
        for w in self.workers:
            out.append(
                f"  {w.name:<32} {len(self.runs_of(w))}/{w.slots} slots busy  "
                f"queues {','.join(w.queues)}"
            )
        out.append(f"running: {len(self.running)}")
        for run in self.running:
            since = f"{now - run.started_at:.0f}s" if run.started_at else "-"
            out.append(f"  {run.run_id:<48} {run.task:<24} on {run.worker} for {since}")
        out.append(f"queued: {len(self.queued)}")
        for run in self.queued:
            waited = f"{now - run.submitted_at:.0f}s"
            out.append(f"  {run.run_id:<48} {run.task:<24} queue {run.queue}, waiting {waited}")
        for queue, count in sorted(self.unserved.items()):
            out.append(f"no worker serves queue {queue!r}: {count} run(s) wait there")
        return out


def look(registry: Registry) -> FleetView:
    registry.reap()
    workers = tuple(registry.workers())
    queued = tuple(registry.runs(RunState.QUEUED))
    running = tuple(registry.runs(RunState.RUNNING))
    served = {queue for worker in workers for queue in worker.queues}
    unserved = Counter(run.queue for run in queued if run.queue not in served)
    return FleetView(workers, queued, running, dict(unserved))


def _run_json(run: FleetRun) -> dict[str, Any]:
    return run.model_dump(mode="json", exclude_defaults=True) | {"state": run.state.value}
