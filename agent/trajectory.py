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

from agent.runlog import RunRecord


def trajectory_steps(record: RunRecord) -> Iterator[dict[str, Any]]:
    """The run's steps in order, each gathered from its events."""
    steps: dict[int, dict[str, Any]] = {}

    def step(number: int, at: float) -> dict[str, Any]:
        return steps.setdefault(
            number,
            {
                "step": number,
                "timestamp": at,
                "screenshot": None,
                "thought": "",
                "actions": [],
                "raw_reply": "",
                "usage": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
                "results": [],
                "rejected": None,
            },
        )

    for event in record.events:
        number = event.get("step")
        if not isinstance(number, int):
            continue
        entry = step(number, float(event.get("at", 0.0)))
        match event.get("kind"):
            case "observed":
                entry["screenshot"] = str(record.folder / event["frame"])
            case "decided":
                entry["thought"] = event.get("thought", "")
                entry["actions"] = event.get("actions", [])
                entry["raw_reply"] = event.get("raw_reply", "")
                entry["usage"] = {
                    key: event.get(key, 0) for key in ("input_tokens", "output_tokens", "cost_usd")
                }
            case "action_executed":
                entry["results"].append(
                    {
                        "action": event["action"],
                        "ok": True,
                        "action_seconds": event["action_seconds"],
                        "settle_seconds": event["settle_seconds"],
                    }
                )
            case "action_failed":
                entry["results"].append(
                    {"action": event["action"], "ok": False, "error": event["error"]}
                )
            case "reply_rejected":
                entry["rejected"] = event["error"]
    yield from (steps[number] for number in sorted(steps))


def write_trajectory(record: RunRecord, output: Path) -> int:
    """Write the JSON lines file; returns the number of steps written."""
    count = 0
    temporary = output.with_name(output.name + ".partial")
    with temporary.open("w", encoding="utf-8") as stream:
        for entry in trajectory_steps(record):
            stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
    temporary.replace(output)
    return count
