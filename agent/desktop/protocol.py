"""The seam between the loop and a screen: what any desktop must offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from agent.actions import Action
    from agent.geometry import Size
    from agent.stop import StopToken


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One screen capture: a numpy view of BGRA pixels (height x width x 4), never copied."""

    pixels: npt.NDArray[np.uint8]
    captured_at: float  # time.monotonic() when the grab finished

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


class Drawing(Protocol):
    """Reports of drawing on a screen, which settle waits on (`agent.desktop.damage`)."""

    @property
    def latest(self) -> float | None:
        """The monotonic time of the latest drawing since `forget`, None if none."""
        ...

    def forget(self) -> None:
        """Count drawing from now on only (called just before an action)."""
        ...

    def wait(self, timeout: float) -> float | None:
        """Wait up to `timeout` s for drawing, returning early on some; `latest` then."""
        ...

    def reported(self) -> int:
        """A count that grows with every drawing reported since the reports began (and with
        anything else that changes what a capture shows), every drawing the server did
        before this call included (it costs a round trip to the server)."""
        ...


class Desktop(Protocol):
    """A screen to look at and act on. Coordinates are pixels of the captured frame."""

    @property
    def size(self) -> Size: ...

    def capture(self) -> Frame: ...

    @property
    def drawing(self) -> Drawing | None:
        """The screen's drawing reports, None where it gives none (settle samples then)."""
        ...

    def execute(self, action: Action, stop: StopToken) -> None:
        """Carry out one input action; raises Stopped when `stop` is set during it."""
        ...

    def release_held_keys(self) -> None: ...

    def close(self) -> None: ...
