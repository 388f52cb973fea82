"""Wait until the screen stops changing after an action, instead of sleeping a fixed time.

The anchors we studied sleep 0.5-2 s after every action and still look at half-drawn
screens. Here the screen is sampled every `interval`; it counts as settled once it has not
changed for `quiet_intervals` samples in a row and either it did change since the action or
`first_change_grace` has passed (an app may take a moment to start reacting). `ceiling` caps
the wait for screens that never settle (a video, a spinner).

The quiet period is 0.2 s, measured on the benchmark suite's own actions
(bench/settle_vs_sleep.py): apps often react at once and finish 0.2-0.5 s later (a dialog
closing after its button's press shows), and 50 ms of quiet took those gaps for rest: 13.8 %
of observations were stale (median 0.11 s after the action). With 0.2 s: 2.8 % stale at a
median of 0.26 s, against 6.6 % for a fixed 0.5 s sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.desktop.protocol import Frame
from agent.stop import StopToken

Fingerprint = npt.NDArray[np.uint8]

# Every 4th pixel in both directions: a moved focus ring or caret is seen (every 8th missed
# some), and comparing 1/16 of the pixels costs about a millisecond at 1080p.
_SAMPLE_STRIDE = 4


def fingerprint(frame: Frame) -> Fingerprint:
    return frame.pixels[::_SAMPLE_STRIDE, ::_SAMPLE_STRIDE]


@dataclass(frozen=True, slots=True)
class SettleResult:
    seconds: float
    settled: bool  # False when the ceiling was reached first
    changed: bool  # whether the screen changed at all after the action


@dataclass(frozen=True, slots=True)
class SettlePolicy:
    interval: float = 0.025
    quiet_intervals: int = 8
    first_change_grace: float = 0.1
    ceiling: float = 3.0


def wait_until_settled(
    capture: Callable[[], Frame],
    reference: Fingerprint,
    stop: StopToken,
    policy: SettlePolicy = SettlePolicy(),
) -> SettleResult:
    """Sample the screen until it is stable; `reference` is the fingerprint before the action."""
    started = time.monotonic()
    previous = reference
    quiet = 0
    changed = False
    while True:
        stop.sleep(policy.interval)
        current = fingerprint(capture())
        elapsed = time.monotonic() - started
        if np.array_equal(current, previous):
            quiet += 1
        else:
            changed, quiet, previous = True, 0, current
        if quiet >= policy.quiet_intervals and (changed or elapsed >= policy.first_change_grace):
            return SettleResult(elapsed, settled=True, changed=changed)
        if elapsed >= policy.ceiling:
            return SettleResult(elapsed, settled=False, changed=changed)
