"""The grounding harness on real apps: samples from the accessibility tree, and grounders scored
on them. A grounder that knows the boxes must score 100%, one that is off by a few pixels less."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.benchmark.grounding import (
    AccessibilityGrounder,
    BoxCentreStub,
    ShiftedStub,
    evaluate,
    report,
    samples_from,
)
from agent.desktop.apps import AppLauncher
from agent.desktop.local import LocalDesktop
from agent.perception.conditions import WindowAppears, wait_for
from agent.perception.screen_elements import ScreenElements
from agent.stop import StopToken

pytestmark = pytest.mark.desktop


def test_stubs_and_the_accessibility_locator_on_galculator_and_mousepad(
    launcher: AppLauncher, tmp_path: Path
) -> None:
    screen = launcher.screen
    stop = StopToken()
    note = tmp_path / "note.txt"
    note.write_text("The quarterly figures are in.\n", encoding="utf-8")
    launcher.launch(["mousepad", str(note)])
    wait_for(WindowAppears("note.txt", focused=False), 20, stop, screen)
    launcher.launch("galculator")
    wait_for(WindowAppears("^galculator$"), 20, stop, screen)
    elements = ScreenElements(screen)
    try:
        for _ in range(50):  # apps publish their tree a moment after their window shows
            samples = samples_from(elements())
            if {s.app for s in samples} >= {"galculator", "mousepad"}:
                break
            stop.sleep(0.1)
        with LocalDesktop(screen) as desktop:
            frame = desktop.capture()
        present = [s for s in samples if s.box is not None]
        assert len(present) >= 25, [s.instruction for s in samples]
        assert {s.size for s in present} >= {"medium", "large"}
        assert any(
            s.instruction == "click the '7' button in the 'galculator' window" for s in samples
        )

        centre = report(evaluate(BoxCentreStub(), frame, samples))
        assert centre["present"]["accuracy"] == 1.0
        assert centre["absent_refused"]["accuracy"] == 1.0

        shifted = report(evaluate(ShiftedStub(25, 15), frame, samples))
        assert shifted["present"]["accuracy"] < 0.9, shifted
        # Off by the same pixels, small things are missed first.
        sizes = shifted["by_size"]
        assert sizes["large"]["accuracy"] > sizes["medium"]["accuracy"], sizes
        assert not any(s.size == "small" for s in present) or sizes["small"]["accuracy"] < 0.5

        tree = report(evaluate(AccessibilityGrounder(elements), frame, samples))
        assert tree["present"]["accuracy"] == 1.0, tree["misses"]
        assert tree["absent_refused"]["accuracy"] == 1.0
        assert tree["median_ms"] < 1000
    finally:
        elements.close()
