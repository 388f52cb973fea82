"""On a screen of its own, an employee can open an app by itself: a right click on the
desktop shows the installed apps; clicking one starts it there, in the screen's profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_task

pytestmark = pytest.mark.desktop

OPENS_AN_APP = """\
name: open-an-app-from-the-menu
goal: Open Mousepad from the desktop's menu and save a note in Documents.
steps:
  - click: {x: 1700, y: 900, button: right}
  - click: {text: Mousepad, timeout: 10}
  - wait_for: {window: "Mousepad", timeout: 20}
  - type: "from the menu"
  - key: ctrl+s
  - wait_for: {window: "Save As", timeout: 10}
  - type: "Documents/note.txt"       # the dialog opens in the home of the screen's profile
  - wait: 0.5                         # the file name completion pops up and goes
  - key: enter
  - wait_for: {file: "{workdir}/note.txt", timeout: 10}
checks:
  - file_equals: {path: "{workdir}/note.txt", text: "from the menu"}
"""


def test_the_desktop_menu_opens_an_installed_app_whose_documents_are_the_workdir(
    tmp_path: Path,
) -> None:
    run = run_task(OPENS_AN_APP, tmp_path)
    assert (run.code, run.result.get("status")) == (0, "success"), (run.result, run.stderr)
