"""`shain record`: the boss shows how on a screen, and the file written does it again.

Each case has a private screen of its own, where `shain record` runs as a subprocess while
the boss acts: xdotool for the demonstrations (pointed at elements the test finds, as a
person's eyes would), or the oracle of a benchmark task (`shain run --policy oracle` on that
screen). Ctrl-C (SIGINT) ends the recording; the file is then run by `shain run
--virtual-display` on a fresh screen of another size, where the windows are elsewhere, with
the checks the boss adds. Cases go side by side, each on its own screen.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.desktop.apps import AppLauncher, private_screen
from agent.desktop.capture import ScreenCapture
from agent.desktop.screen import Screen
from agent.desktop.windows import list_windows
from agent.geometry import Size
from agent.perception.atspi import Element
from agent.perception.ocr import OcrReader
from agent.perception.screen_elements import ScreenElements
from tests.helpers import MARKER, REPO, TaskRun, environment_without_display, run_task, side_by_side
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

BENCH = REPO / "tasks" / "bench"
SEED = "2"
RECORDED_TASKS = (
    "galculator-mouse",
    "galculator-keys",
    "zenity-question",
    "zenity-entry",
    "zenity-checklist",
    "mousepad-type-save",
    "mousepad-find-replace",
    "mousepad-save-as",
    "switch-windows",
    "copy-between-apps",
)
DEMONSTRATIONS = ("galculator", "mousepad", "zenity", "xterm", "password")
RECORDING_SIZE = Size(1280, 800)  # the replay's screen is 1920x1080: windows land elsewhere
BUTTONS = ("push button", "toggle button")


class Recorder:
    """`shain record -o FILE` running on `screen`, as the boss starts it in a terminal."""

    def __init__(self, screen: Screen, output: Path) -> None:
        self.output = output
        self._errors = output.with_suffix(".stderr")
        environment = {**screen.environment, MARKER: "record"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "agent", "record", "-o", str(output)],
            stdout=subprocess.PIPE, stderr=self._errors.open("w"), text=True, cwd=REPO,
            env=environment,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while "recording display" not in self._errors.read_text():
            assert self._process.poll() is None, self._errors.read_text()
            assert time.monotonic() < deadline, "shain record did not start"
            time.sleep(0.05)

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C; its exit code, what it printed, and its stderr."""
        time.sleep(0.5)  # what the boss did last reaches the server's RECORD first
        self._process.send_signal(signal.SIGINT)
        out, _ = self._process.communicate(timeout=30)
        return self._process.returncode, out, self._errors.read_text()


def _wait_for(what: Callable[[], object], timeout: float = 20) -> object:
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def _element(elements: ScreenElements, roles: tuple[str, ...], name: str) -> Element:
    def find() -> Element | None:
        return next((e for e in elements() if e.role in roles and e.name == name), None)

    found = _wait_for(find)
    assert isinstance(found, Element)
    return found


@contextlib.contextmanager
def _boss_desk(screen: Screen) -> Iterator[tuple[AppLauncher, ScreenElements]]:
    """The boss's apps on the screen, and eyes on its accessibility tree."""
    apps, elements = AppLauncher(screen), ScreenElements(screen)
    try:
        yield apps, elements
    finally:
        elements.close()
        apps.close_all()


def _xdotool(screen: Screen, *arguments: str) -> None:
    subprocess.run(["xdotool", *arguments], env=dict(screen.environment), check=True, timeout=20)


def _click(screen: Screen, element: Element) -> None:
    """The boss moves the pointer onto the element, rests a moment, and clicks."""
    centre = element.box.center
    _xdotool(screen, "mousemove", str(centre.x), str(centre.y), "sleep", "0.3", "click", "1")
    time.sleep(0.3)


def _window(screen: Screen, title: str) -> None:
    _wait_for(lambda: any(w.title == title for w in list_windows(screen.display)))


def _move_window(screen: Screen, title: str, x: int, y: int) -> None:
    _xdotool(screen, "search", "--name", f"^{title}$", "windowmove", str(x), str(y))
    time.sleep(0.3)


def _steps(path: Path) -> list[dict[str, object]]:
    steps = yaml.safe_load(path.read_text())["steps"]
    assert isinstance(steps, list)
    return steps


def _with_checks(recorded: Path, checks: list[Any], **changes: object) -> Path:
    """The recorded file with the boss's checks (and other parts) added, as a new file."""
    document = yaml.safe_load(recorded.read_text())
    document.update(checks=checks, **changes)
    path = recorded.with_name(f"{recorded.stem}-checked.yaml")
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


def _replayed(task: Path, folder: Path, *extra: str, workdir: str = "replay") -> TaskRun:
    replay = run_task(task, folder, *extra, workdir=workdir, leaves_nothing=False)
    assert replay.code == 0, (replay.result, replay.stderr[-800:], task.read_text())
    record = read_run_json(replay.run_folder)
    assert record.events_of("run_started")[0]["policy"] == "scripted"
    assert replay.result["input_tokens"] == 0
    return replay


# --- demonstrations, given as a boss gives them ---


def _galculator(screen: Screen, folder: Path) -> None:
    with _boss_desk(screen) as (apps, elements):
        apps.launch("galculator")
        _element(elements, BUTTONS, "=")
        _move_window(screen, "galculator", 700, 350)
        recorder = Recorder(screen, folder / "recorded.yaml")
        for name in ("7", "+", "8", "="):
            _click(screen, _element(elements, BUTTONS, name))
        _xdotool(screen, "key", "ctrl+c")
        code, out, errors = recorder.stop()
    assert code == 0, errors
    assert "5 steps recorded" in out, out
    recorded = yaml.safe_load((folder / "recorded.yaml").read_text())
    assert recorded["setup"][0] == {"launch": "galculator"}
    within = {"window": "^galculator$"}
    assert recorded["steps"] == [
        {"click": {"role": "button", "name": "7", "within": within}},
        {"click": {"role": "button", "name": "+", "within": within}},
        {"click": {"role": "button", "name": "8", "within": within}},
        {"click": {"role": "button", "name": "=", "within": within}},
        {"key": "ctrl+c"},
    ]
    checked = _with_checks(folder / "recorded.yaml", [{"clipboard_equals": {"text": "15"}}])
    _replayed(checked, folder)


def _mousepad(screen: Screen, folder: Path) -> None:
    saved = folder / "boss" / "note.txt"
    saved.parent.mkdir()
    with _boss_desk(screen) as (apps, elements):
        apps.launch("mousepad")
        _window(screen, "Untitled 1 - Mousepad")
        _element(elements, ("text",), "")
        recorder = Recorder(screen, folder / "recorded.yaml")
        _xdotool(screen, "type", "--delay", "30", "Invoice 4471 is paid")
        _xdotool(screen, "key", "ctrl+s")
        _window(screen, "Save As")
        time.sleep(0.5)
        _xdotool(screen, "key", "ctrl+a")  # the name field holds "Untitled 1"
        _xdotool(screen, "type", "--delay", "30", str(saved))
        time.sleep(0.6)  # GTK's completion settles
        _click(screen, _element(elements, ("push button",), "Save"))
        _wait_for(saved.exists)
        code, _, errors = recorder.stop()
    assert code == 0, errors
    recorded_path = folder / "recorded.yaml"
    recorded = yaml.safe_load(recorded_path.read_text())
    assert recorded["setup"][0] == {"launch": "mousepad"}
    variables = recorded["vars"]
    [text] = [name for name, value in variables.items() if value == "Invoice 4471 is paid"]
    [path] = [name for name, value in variables.items() if value == str(saved)]
    steps = recorded["steps"]
    assert {"type": "{" + text + "}"} in steps and {"type": "{" + path + "}"} in steps
    # The boss's pause after typing the name (GTK's completion) is kept.
    assert steps[steps.index({"type": "{" + path + "}"}) + 1]["wait"] >= 0.4, steps
    save_as = {"window": r"^Save\ As$"}
    assert steps.index({"key": "ctrl+s"}) + 1 == steps.index({"wait_for": save_as}), steps
    save = {"click": {"role": "button", "name": "Save", "within": save_as}}
    assert steps[-2:] == [save, {"wait_for": {**save_as, "gone": True}}], steps
    # The boss checks the file, and saves elsewhere this time (a var given at the replay).
    elsewhere = folder / "replay" / "invoice.txt"
    checks = [{"file_equals": {"path": "{" + path + "}", "text": "{" + text + "}"}}]
    checked = _with_checks(recorded_path, checks)
    _replayed(checked, folder, "--var", f"{path}={elsewhere}")
    assert elsewhere.read_text().strip() == "Invoice 4471 is paid"


def _zenity(screen: Screen, folder: Path) -> None:
    answer = folder / "answer.txt"
    command = (
        f'sh -c \'zenity --list --title Fruit --text "Pick one" --width 300 --height 320 '
        f"--column Fruit apple banana cherry > {answer}; echo $? > {answer}.code'"
    )
    with _boss_desk(screen) as (apps, elements):
        apps.launch(command)
        _window(screen, "Fruit")
        _move_window(screen, "Fruit", 60, 400)
        recorder = Recorder(screen, folder / "recorded.yaml")
        _click(screen, _element(elements, ("table cell",), "banana"))
        _click(screen, _element(elements, ("push button",), "OK"))
        _wait_for(Path(f"{answer}.code").exists)  # zenity has ended: its dialog is gone
        code, _, errors = recorder.stop()
    assert code == 0, errors
    recorded_path = folder / "recorded.yaml"
    recorded = yaml.safe_load(recorded_path.read_text())
    assert recorded["setup"][0]["launch"].startswith("sh -c 'zenity --list"), recorded["setup"]
    within = {"window": "^Fruit$"}
    assert recorded["steps"][0]["click"] == {
        "role": "table cell",
        "name": "banana",
        "within": within,
    }
    assert recorded["steps"][1] == {"click": {"role": "button", "name": "OK", "within": within}}
    answer.unlink()
    checks = [{"file_equals": {"path": str(answer), "text": "banana"}}]
    _replayed(_with_checks(recorded_path, checks), folder)


def _password(screen: Screen, folder: Path) -> None:
    """What is typed into a password field is never written: a secret stands in for it."""
    typed = folder / "typed.txt"
    command = f"sh -c 'zenity --password --title Login > {typed}; echo $? > {typed}.code'"
    with _boss_desk(screen) as (apps, elements):
        apps.launch(command)
        _window(screen, "Login")
        _element(elements, ("password text",), "")
        recorder = Recorder(screen, folder / "recorded.yaml")
        _xdotool(screen, "type", "--delay", "30", "hunter2-Secret")
        time.sleep(0.3)
        _xdotool(screen, "key", "Return")
        _wait_for(Path(f"{typed}.code").exists)
        code, _, errors = recorder.stop()
    assert code == 0, errors
    assert typed.read_text().strip() == "hunter2-Secret"
    recorded_path = folder / "recorded.yaml"
    text = recorded_path.read_text()
    assert "hunter2" not in text, text
    recorded = yaml.safe_load(text)
    [secret] = recorded["secrets"]
    assert secret == "LOGIN_PASSWORD"  # named for the field (it has no name: its window)
    assert "vars" not in recorded
    assert recorded["steps"][0] == {"type": "{" + secret + "}"}
    assert {"key": "enter"} in recorded["steps"]
    typed.unlink()
    checks = [{"file_equals": {"path": str(typed), "text": "{" + secret + "}"}}]
    checked = _with_checks(recorded_path, checks)
    replay = run_task(checked, folder, env={secret: "another-Secret"}, workdir="replay",
                      leaves_nothing=False)  # fmt: skip
    assert replay.code == 0, (replay.result, replay.stderr[-800:])
    assert typed.read_text().strip() == "another-Secret"


def _xterm(screen: Screen, folder: Path) -> None:
    """An app without an accessibility tree: the press is named by the text OCR reads."""
    line = "Quarterly report ready"
    command = f"xterm -T Notes -geometry 50x6 -e sh -c 'echo {line}; sleep 600'"
    with _boss_desk(screen) as (apps, _):
        apps.launch(command)
        _window(screen, "Notes")
        _move_window(screen, "Notes", 500, 300)
        with ScreenCapture(screen) as capture:
            reader = OcrReader()
            seen = _wait_for(lambda: reader.find(capture.grab(), line))
        assert isinstance(seen, list)
        recorder = Recorder(screen, folder / "recorded.yaml")
        centre = seen[0].box.center
        _xdotool(screen, "mousemove", str(centre.x), str(centre.y), "sleep", "0.3", "click", "1")
        code, _, errors = recorder.stop()
    assert code == 0, errors
    recorded_path = folder / "recorded.yaml"
    recorded = yaml.safe_load(recorded_path.read_text())
    assert recorded["setup"][0] == {"launch": command}
    assert recorded["steps"] == [{"click": {"text": line, "within": {"window": "^Notes$"}}}]
    assert "the text OCR read there" in recorded_path.read_text()
    # The replay finds the line by OCR in the window, wherever the window is.
    checks = [{"screen_text": {"text": line}}]
    _replayed(_with_checks(recorded_path, checks), folder)


# --- benchmark tasks: the oracle's run recorded ---


def _oracle_recorded(name: str, screen: Screen, folder: Path) -> None:
    task = BENCH / f"{name}.yaml"
    workdir = folder / "work"
    recorder = Recorder(screen, folder / "recorded.yaml")
    environment = {**environment_without_display(), **screen.environment}
    oracle = subprocess.run(
        [sys.executable, "-m", "agent", "run", str(task), "--policy", "oracle", "--seed", SEED,
         "--json", "--workdir", str(workdir), "--runs-dir", str(folder / "runs")],
        capture_output=True, text=True, cwd=REPO, env=environment, timeout=120,
    )  # fmt: skip
    code, _, errors = recorder.stop()
    assert oracle.returncode == 0, oracle.stdout + oracle.stderr[-800:]
    assert code == 0, errors
    # The task's own setup (it writes files the recorder cannot see) and checks, with the
    # values the seed gave; the recorded steps as they are, their typed text as vars.
    original = yaml.safe_load(task.read_text())
    run = read_run_json(Path(json.loads(oracle.stdout)["run_folder"]))
    given = {key: str(value) for key, value in run.header["vars"].items()}
    recorded_path = folder / "recorded.yaml"
    text = recorded_path.read_text()
    for clash in set(yaml.safe_load(text).get("vars") or {}) & set(given):
        text = text.replace("{" + clash + "}", "{" + clash + "_typed}")
        text = text.replace(f"\n  {clash}: ", f"\n  {clash}_typed: ")
    recorded_path.write_text(text)
    recorded = yaml.safe_load(text)
    variables = {**(recorded.get("vars") or {}), **given}
    checked = _with_checks(recorded_path, original["checks"], vars=variables,
                           setup=original["setup"])  # fmt: skip
    shutil.rmtree(workdir)  # the replay starts from nothing, in the same folder
    _replayed(checked, folder, "--workdir", str(workdir), workdir="work")
    clicks = [s.get("click") or s.get("double_click") for s in _steps(recorded_path)]
    assert all(isinstance(c, dict) and "within" in c for c in clicks if c), clicks


def _case(case: str, folder: Path) -> None:
    with private_screen(RECORDING_SIZE, documents=folder / "documents") as screen:
        match case:
            case "galculator":
                _galculator(screen, folder)
            case "mousepad":
                _mousepad(screen, folder)
            case "zenity":
                _zenity(screen, folder)
            case "xterm":
                _xterm(screen, folder)
            case "password":
                _password(screen, folder)
            case _:
                _oracle_recorded(case, screen, folder)


def test_demonstrations_and_oracle_runs_recorded_replay_with_success(tmp_path: Path) -> None:
    side_by_side([*DEMONSTRATIONS, *RECORDED_TASKS], _case, tmp_path, at_once=3)


def test_a_recording_with_no_actions_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "nothing.yaml"
    with private_screen(Size(640, 480)) as screen:
        code, out, errors = Recorder(screen, output).stop()
    assert code == 2, (out, errors)
    assert "nothing was done" in errors and not output.exists()
    environment = {**environment_without_display(), "DISPLAY": ":9876"}
    missing = subprocess.run(
        [sys.executable, "-m", "agent", "record", "-o", str(output)],
        capture_output=True, text=True, cwd=REPO, env=environment, timeout=30,
    )  # fmt: skip
    assert missing.returncode == 4, missing.stderr
    assert "cannot open display :9876" in missing.stderr and not output.exists()
