"""A fleet run's state, step and latest frame through a real Redis (agent/fleet/live.py), and
the slot's broadcast of them from a real control channel and a real screen (broadcast.py)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.desktop.protocol import Frame
from agent.desktop.virtual_display import VirtualDisplay
from agent.fleet.broadcast import Broadcast, frame_jpeg
from agent.fleet.broker import connect
from agent.fleet.live import (
    FRAME_KEEP_SECONDS,
    LiveFrame,
    LiveState,
    frame_key,
    keep_frame,
    publish_frame,
    publish_state,
    read_frames,
    read_states,
)
from agent.fleet.registry import Registry
from agent.geometry import Size
from agent.run.control import ControlServer, Hello, socket_folder


@pytest.fixture
def registry(broker: str) -> Iterator[Registry]:
    registry = Registry(connect(broker))
    registry.redis.flushdb()
    yield registry
    registry.redis.close()


def _frame(width: int, height: int, box: tuple[int, int, int, int], bgr: tuple[int, ...]) -> Frame:
    """A BGRA capture, black but for one filled box."""
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    left, top, right, bottom = box
    pixels[top:bottom, left:right, :3] = bgr
    return Frame(pixels=pixels, captured_at=time.monotonic())


def _image(jpeg: bytes) -> Image.Image:
    return Image.open(io.BytesIO(jpeg)).convert("RGB")


def test_a_runs_state_and_step_read_back_as_the_slot_published_them(registry: Registry) -> None:
    publish_state(registry, "run-a", LiveState("working", 3, "typing a note", at=1000.5))
    publish_state(registry, "run-a", LiveState("paused", 4, "you pressed Pause", at=1001.0))

    found = read_states(registry, ["run-a", "run-nobody-published"])

    assert found == {"run-a": LiveState("paused", 4, "you pressed Pause", at=1001.0)}


def test_a_frame_is_the_screen_shrunk_to_fit_and_its_colours_kept() -> None:
    frame = _frame(1920, 1080, (960, 540, 1920, 1080), (0, 0, 255))  # red, bottom right

    image = _image(frame_jpeg(frame))

    assert image.size == (960, 540)
    red, green, blue = image.getpixel((720, 405))  # type: ignore[misc]
    assert red > 200 and green < 50 and blue < 50
    assert max(image.getpixel((240, 135))) < 30  # type: ignore[arg-type]


def test_the_latest_frame_is_one_key_that_expires_and_travels_only_when_newer(
    registry: Registry,
) -> None:
    jpegs = [
        frame_jpeg(_frame(640, 360, (0, 0, 64 * (n + 1), 360), (255, 255, 255))) for n in range(5)
    ]
    for n, jpeg in enumerate(jpegs):
        publish_frame(registry, "run-f", LiveFrame(jpeg, Size(1280, 720), at=2000.0 + n))

    assert list(registry.redis.scan_iter(match="shain:fleet:frame:*")) == [frame_key("run-f")]
    assert 0 < registry.redis.ttl(frame_key("run-f")) <= FRAME_KEEP_SECONDS
    latest = read_frames(registry, {"run-f": 0.0})["run-f"]
    assert latest == LiveFrame(jpegs[-1], Size(1280, 720), at=2004.0)
    assert read_frames(registry, {"run-f": 2004.0}) == {}  # the reader has it: nothing travels
    assert read_frames(registry, {"run-never-framed": 0.0}) == {}
    registry.redis.expire(frame_key("run-f"), 2)
    keep_frame(registry, "run-f")  # the screen did not change: the frame stays the latest
    assert registry.redis.ttl(frame_key("run-f")) > 2


def test_the_broadcast_sends_a_runs_state_step_and_screen_and_ends_with_its_channel(
    registry: Registry, virtual_display: VirtualDisplay, tmp_path: Path
) -> None:
    path = socket_folder() / f"test-broadcast-{time.monotonic_ns()}.sock"
    size = virtual_display.size
    hello = Hello(
        type="hello", run_id="run-b", run_folder=str(tmp_path), task="t", pid=1,
        display=virtual_display.display, width=size.width, height=size.height,
        control=str(path), private=True,
    )  # fmt: skip
    server = ControlServer(path, hello.model_dump(), lambda _command, _watcher: None)
    try:
        server.publish(
            {"type": "event", "event": {"kind": "step_started", "step": 2, "at": 1}}, keep=True
        )
        server.publish({"type": "state", "state": "working", "detail": ""})
        broadcast = Broadcast(registry, "run-b", path, alive=lambda: True)
        broadcast.start()
        deadline = time.monotonic() + 10
        frames: dict[str, LiveFrame] = {}
        while time.monotonic() < deadline and not frames:
            frames = read_frames(registry, {"run-b": 0.0})
            time.sleep(0.1)
        assert frames, "no frame of the screen reached Redis"
        assert frames["run-b"].screen == size
        assert _image(frames["run-b"].jpeg).size == (size.width // 2, size.height // 2)
        state = read_states(registry, ["run-b"])["run-b"]
        assert (state.state, state.step) == ("working", 2)
    finally:
        server.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and broadcast.running:
        time.sleep(0.05)
    assert not broadcast.running, "the broadcast outlived its run's channel"
