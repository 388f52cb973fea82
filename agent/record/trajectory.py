"""A run as a trajectory: one JSON line per step, for other tools (training, evaluation).

{"step": 3, "timestamp": 1796..., "screenshot": "/.../frames/step-0003.jpg",
 "thought": "...", "actions": [{"kind": "click", ...}], "raw_reply": "...",
 "usage": {"input_tokens": 1200, "output_tokens": 40, "cost_usd": 0.0036},
 "results": [{"action": {...}, "ok": true, "settle_seconds": 0.12}],
 "rejected": null}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.files import write_private_file
from agent.record.codec import encode_action
from agent.record.log import RunRecord
from agent.record.steps import ActionOutcome, StepFolder


def trajectory_steps(record: RunRecord) -> Iterator[dict[str, Any]]:
    """The run's steps in order, each gathered from its events."""
    for step in StepFolder.of(record.events).in_number_order():
        yield {
            "step": step.number,
            "timestamp": step.started_at if step.started_at is not None else 0.0,
            "screenshot": str(record.folder / step.frame) if step.frame else None,
            "thought": step.thought,
            "actions": [encode_action(action) for action in step.actions],
            "raw_reply": step.raw_reply,
            "usage": {
                "input_tokens": step.input_tokens,
                "output_tokens": step.output_tokens,
                "cost_usd": step.cost_usd,
            },
            "results": [_result(outcome) for outcome in step.outcomes],
            "rejected": step.rejections[-1] if step.rejections else None,
        }


def _result(outcome: ActionOutcome) -> dict[str, Any]:
    action = encode_action(outcome.action)
    if not outcome.ok:
        return {"action": action, "ok": False, "error": outcome.error}
    return {
        "action": action,
        "ok": True,
        "action_seconds": outcome.action_seconds,
        "settle_seconds": outcome.settle_seconds,
    }


def write_trajectory(record: RunRecord, output: Path) -> int:
    """Write the JSON lines file; returns the number of steps written."""
    lines = [json.dumps(entry, ensure_ascii=False) + "\n" for entry in trajectory_steps(record)]
    write_private_file(output, "".join(lines))
    return len(lines)
