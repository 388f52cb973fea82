"""What a fleet run looks like now, kept in Redis beside its record: its state and step, and
the latest frame of its screen, for the office to list and watch fleet runs.

    shain:fleet:live:<id>   hash: state, step, detail, at (LiveState)
    shain:fleet:frame:<id>  hash: jpeg (base64), width, height (its screen's), at (LiveFrame)

The frame is one key per run, replaced at most FRAMES_PER_SECOND times a second and gone
FRAME_KEEP_SECONDS after the last one: never a stream that grows. The worker's slot writes
both (agent/fleet/broadcast.py); the office reads them. No Celery or redis import here: it
works on a Registry's client.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from agent.fleet.registry import LINES_KEEP_SECONDS, PREFIX, Registry
from agent.geometry import Size

FRAMES_PER_SECOND = 2.0
FRAME_KEEP_SECONDS = 60
FRAME_LONG_SIDE = 960  # enough to watch a run by, small enough to send twice a second
FRAME_QUALITY = 70

Value = TypeVar("Value")


@dataclass(frozen=True)
class LiveState:
    kind: ClassVar[str] = "live_state"
    state: str  # the run's own (agent/run/control.py): starting, working, paused, ... ended
    step: int = 0
    detail: str = ""
    at: float = 0.0  # time.time() of the change


@dataclass(frozen=True)
class LiveFrame:
    kind: ClassVar[str] = "live_frame"
    jpeg: bytes
    screen: Size  # the size of the run's screen (the JPEG is smaller)
    at: float  # time.time() of the capture


def live_key(run_id: str) -> str:
    return f"{PREFIX}:live:{run_id}"


def frame_key(run_id: str) -> str:
    return f"{PREFIX}:frame:{run_id}"


def publish_state(registry: Registry, run_id: str, state: LiveState) -> None:
    key = live_key(run_id)
    fields = {"state": state.state, "step": state.step, "detail": state.detail, "at": state.at}
    with registry.redis.pipeline() as pipe:
        pipe.hset(key, mapping={name: str(value) for name, value in fields.items()})
        pipe.expire(key, LINES_KEEP_SECONDS)
        pipe.execute()


def publish_frame(registry: Registry, run_id: str, frame: LiveFrame) -> None:
    key = frame_key(run_id)
    fields = {
        "jpeg": base64.b64encode(frame.jpeg).decode("ascii"),
        "width": str(frame.screen.width),
        "height": str(frame.screen.height),
        "at": repr(frame.at),
    }
    with registry.redis.pipeline() as pipe:
        pipe.hset(key, mapping=fields)
        pipe.expire(key, FRAME_KEEP_SECONDS)
        pipe.execute()


def keep_frame(registry: Registry, run_id: str) -> None:
    """The screen has not changed: the frame there stays the latest a while longer."""
    registry.redis.expire(frame_key(run_id), FRAME_KEEP_SECONDS)


def read_states(registry: Registry, run_ids: Iterable[str]) -> dict[str, LiveState]:
    """The live state of each run that has one (one round trip for all)."""
    ids = list(run_ids)
    replies = _each(registry, [live_key(run_id) for run_id in ids])
    return _found(ids, [_state(data) for data in replies])


def read_frames(registry: Registry, seen: Mapping[str, float]) -> dict[str, LiveFrame]:
    """The latest frame of each run in `seen` (run id -> the `at` of the frame the reader
    has), for the runs whose frame is newer; the pictures themselves travel only then."""
    ids = list(seen)
    stamps = _each(registry, [frame_key(run_id) for run_id in ids], "at")
    newer = [
        run_id
        for run_id, at in zip(ids, stamps, strict=True)
        if at is not None and _number(at) > seen[run_id]
    ]
    replies = _each(registry, [frame_key(run_id) for run_id in newer])
    return _found(newer, [_frame(data) for data in replies])


def _each(registry: Registry, keys: list[str], field: str | None = None) -> list[Any]:
    """Each hash whole (or its one `field`), in one round trip."""
    with registry.redis.pipeline() as pipe:
        for key in keys:
            if field is None:
                pipe.hgetall(key)
            else:
                pipe.hget(key, field)
        return list(pipe.execute())


def _found(ids: list[str], values: list[Value | None]) -> dict[str, Value]:
    return {run_id: value for run_id, value in zip(ids, values, strict=True) if value is not None}


def _state(data: Mapping[str, Any]) -> LiveState | None:
    if not data or "state" not in data:
        return None
    step = str(data.get("step", "0"))
    return LiveState(
        state=str(data["state"]),
        step=int(step) if step.isdigit() else 0,
        detail=str(data.get("detail", "")),
        at=_number(data.get("at", 0)),
    )


def _frame(data: Mapping[str, Any]) -> LiveFrame | None:
    """The frame, or None for one that is not whole (it expired between two reads)."""
    try:
        return LiveFrame(
            jpeg=base64.b64decode(str(data["jpeg"]), validate=True),
            screen=Size(int(data["width"]), int(data["height"])),
            at=_number(data["at"]),
        )
    except (KeyError, ValueError, binascii.Error):
        return None


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0
