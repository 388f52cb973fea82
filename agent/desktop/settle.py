"""Wait until the screen is at rest after an action, instead of sleeping a fixed time.

The anchors we studied sleep 0.5-2 s after every action and still look at half-drawn
screens. Shain waits for the X server's reports of drawing (`agent.desktop.damage`): the screen
is at rest once nothing has been drawn for a quiet period. Nothing is captured while waiting;
where a screen gives no such reports, it is sampled every `interval` instead (at rest after
`quiet_intervals` equal samples). `ceiling` caps the wait for screens that never settle (a
video, a spinner).

The quiet period depends on what the action can set off, as measured on the benchmark suite's
own actions (bench/settle_vs_sleep.py, which also shows each rule's alternatives):
- 80 ms after the last drawing for pointer actions and plain keys: an app that reacts draws
  within a few ms of the event and finishes within ~70 ms (galculator's display);
- 0.2 s after typing text, and after Escape: a file chooser's completion, a search's refilter
  and a closing popup draw again 0.1-0.19 s after the first reaction;
- 0.3 s after a key that activates a button (Enter, space, alt+letter; typed text with a
  newline): GTK shows a keyboard-activated button pressed for 250 ms before it acts
  (ACTIVATE_TIMEOUT in gtkbutton.c), and an Enter in a file chooser's name field does it
  twice (0.26 s, 0.52 s).
  Nothing is drawn, mapped or sent in that pause: the app sleeps on a timer, which no X
  signal shows; only the accessibility tree's "armed" state would, at ~50 ms a read;
- after a shortcut (ctrl, alt or super with a key; F-keys) that drew nothing, a first
  drawing is awaited for 0.35 s: an app building a dialog draws its first pixel 0.23-0.3 s
  after ctrl+s.
With the old rule (sampling, 0.2 s of quiet for every action) 2.8-8.6 % of observations were
stale at a median of 0.24-0.26 s; with these, none of 315 (three runs of the suite's 105
actions) with the observation at a median of 0.148 s, and a sixth of the CPU per settling
screen (its one capture at rest is also the next look: agent/desktop/current_frame.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.actions import Action, KeyPress, TypeText
from agent.desktop.protocol import Drawing, Frame
from agent.errors import ActionError
from agent.keys import canonical_key
from agent.stop import StopToken

Fingerprint = npt.NDArray[np.uint8]

# Every 4th pixel in both directions: a moved focus ring or caret is seen (every 8th missed
# some), and comparing 1/16 of the pixels costs about a millisecond at 1080p.
_SAMPLE_STRIDE = 4

# Keys that make GTK activate the focused or default button (after ACTIVATE_TIMEOUT).
_ACTIVATING_KEYS = frozenset({"enter", "space"})


def fingerprint(frame: Frame) -> Fingerprint:
    return frame.pixels[::_SAMPLE_STRIDE, ::_SAMPLE_STRIDE]


@dataclass(frozen=True, slots=True)
class SettleResult:
    seconds: float
    settled: bool  # False when the ceiling was reached first
    changed: bool  # whether the screen changed at all after the action


@dataclass(frozen=True, slots=True)
class QuietRule:
    """At rest `quiet` s after the last drawing; with none drawn, after `first_drawing` s."""

    quiet: float
    first_drawing: float


@dataclass(frozen=True, slots=True)
class SettlePolicy:
    # Sampling, where the screen does not report drawing.
    interval: float = 0.025
    quiet_intervals: int = 8
    first_change_grace: float = 0.1
    ceiling: float = 3.0
    # Drawing reports (see the module's docstring for where each number comes from).
    quiet: float = 0.08
    typing_quiet: float = 0.2
    closing_quiet: float = 0.2
    activating_quiet: float = 0.3
    shortcut_first_drawing: float = 0.35

    def rule_for(self, action: Action | None) -> QuietRule:
        usual = QuietRule(self.quiet, max(self.quiet, self.first_change_grace))
        match action:
            case TypeText(text=text) if "\n" in text or "\r" in text:
                # A typed newline is an Enter: in a one-line field it activates the default
                # button, which GTK holds 250 ms first (a password dialog's OK).
                return QuietRule(self.activating_quiet, self.activating_quiet)
            case TypeText():
                return QuietRule(self.typing_quiet, self.typing_quiet)
            case KeyPress(keys=keys) if keys:
                try:
                    *modifiers, key = (canonical_key(name) for name in keys)
                except ActionError:
                    return usual
                if key in _ACTIVATING_KEYS or ("alt" in modifiers and len(key) == 1):
                    return QuietRule(self.activating_quiet, self.activating_quiet)
                if key == "escape":
                    return QuietRule(self.closing_quiet, self.closing_quiet)
                if set(modifiers) - {"shift"} or (key[0] == "f" and key[1:].isdigit()):
                    return QuietRule(self.quiet, self.shortcut_first_drawing)
        return usual


def wait_until_settled(
    capture: Callable[[], Frame],
    reference: Fingerprint,
    stop: StopToken,
    policy: SettlePolicy = SettlePolicy(),
    drawing: Drawing | None = None,
    action: Action | None = None,
) -> SettleResult:
    """Wait until the screen is at rest after `action`; `reference` is its fingerprint
    before the action. With `drawing` (forgotten just before the action), on its reports;
    without, by sampling the screen."""
    if drawing is None:
        return _by_sampling(capture, reference, stop, policy)
    return _by_drawing(drawing, capture, reference, stop, policy, policy.rule_for(action))


def _by_drawing(
    drawing: Drawing,
    capture: Callable[[], Frame],
    reference: Fingerprint,
    stop: StopToken,
    policy: SettlePolicy,
    rule: QuietRule,
) -> SettleResult:
    started = time.monotonic()
    settled = False
    while True:
        latest = drawing.latest
        if latest is None:
            rest_at = started + rule.first_drawing
        else:
            rest_at = max(latest, started) + rule.quiet
        now = time.monotonic()
        if now >= rest_at:
            settled = True
            break
        if now - started >= policy.ceiling:
            break
        stop.raise_if_stopped()
        # Wake for a stop at least every 50 ms; otherwise only drawing or the rest time does.
        drawing.wait(min(rest_at - now, started + policy.ceiling - now, 0.05))
    elapsed = time.monotonic() - started
    # Drawing is not change: the pixels say whether anything is different (one capture).
    changed = drawing.latest is not None and not np.array_equal(fingerprint(capture()), reference)
    return SettleResult(elapsed, settled=settled, changed=changed)


def _by_sampling(
    capture: Callable[[], Frame],
    reference: Fingerprint,
    stop: StopToken,
    policy: SettlePolicy,
) -> SettleResult:
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
