"""The core never loads Qt, and loads the input and capture libraries only for a LocalDesktop."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO, environment_without_display

# Walks the package in a fresh interpreter and reports what ended up in sys.modules.
_PROBE = """
import importlib, json, pkgutil, sys
import agent
names = ["agent"]
for module in pkgutil.walk_packages(agent.__path__, "agent."):
    if module.name == "agent.__main__":  # runs the command on import
        continue
    importlib.import_module(module.name)
    names.append(module.name)
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"imported": names, "loaded": loaded}))
"""

FORBIDDEN = {
    "PySide6": "Qt",
    "shiboken6": "Qt",
    "PyQt5": "Qt",
    "PyQt6": "Qt",
    "ui": "the ui package",
    "pyautogui": "input (only when a LocalDesktop is opened)",
    "pynput": "input (only when a LocalDesktop is opened)",
    "mss": "capture (only when a LocalDesktop is opened)",
    "rapidocr": "OCR (only when text is first read)",
    "onnxruntime": "OCR (only when text is first read)",
    "cv2": "OCR and the model's image (only when text is first read or a frame shrunk)",
}


def test_importing_every_agent_module_loads_no_qt_ui_or_input_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=environment_without_display(),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    imported = set(report["imported"])
    # The walk really covered the package, subpackages included.
    for name in (
        "agent.cli.main",
        "agent.loop",
        "agent.run.session",
        "agent.desktop.local",
        "agent.desktop.settle",
        "agent.perception.encoding",
        "agent.policy.scripted",
    ):
        assert name in imported
    eager = {name: why for name, why in FORBIDDEN.items() if name in report["loaded"]}
    assert eager == {}, f"imported at import time: {eager}"
