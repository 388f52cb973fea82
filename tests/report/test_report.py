"""The HTML report of real runs, opened in headless Chromium: one card per step, the failing
step marked and linked, every screenshot embedded and loaded, overlays on the right pixel,
escaped model output, no network request, and a 200-step run small and quick to open."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.report.writer import render_report, write_report
from tests.decided_three_ways import DECIDED, HOW
from tests.helpers import ARTIFACTS, environment_without_display, run_shain
from tests.model_server import ModelServer, chat_tool_call
from tests.run_json import RunJson, read_run_json

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.desktop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
THOUGHT = "I will click the terminal <b>now</b> & focus it."
EVIL_THOUGHT = "Typing </details><script>alert(2)</script>"
EVIL_TEXT = "echo '<script>alert(1)</script>'\n"

MODEL_TASK = """\
name: model-report
goal: Focus the terminal, drag, scroll, type, then say done.
setup:
  - launch: xterm -title shain-terminal -geometry 100x30+200+150
  - wait_for: {window: "shain-terminal", timeout: 20}
checks:
  - file_exists: {path: "{workdir}/never-written.txt"}
budget: {max_steps: 12, max_seconds: 60}
"""
PRICES = (
    '[profiles.priced]\npolicy = "openai-chat"\n'
    "price_input_per_million = 2.0\nprice_output_per_million = 8.0\n"
)


def _shain(tmp: Path, task_text: str, *arguments: str, env: dict[str, str] | None = None) -> Path:
    """`shain run` of a task on a virtual screen; its run folder."""
    task = tmp / "task.yaml"
    task.write_text(task_text)
    result = run_shain(
        "run",
        str(task),
        "--virtual-display",
        "--json",
        "--runs-dir",
        str(tmp / "runs"),
        "--workdir",
        str(tmp / "work"),
        *arguments,
        env=env or environment_without_display(),
    )
    data = json.loads(result.stdout) if result.stdout.strip() else {}
    assert "run_folder" in data, result.stderr
    return Path(data["run_folder"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def model_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model run with a thought, a malformed reply (step 2), a drag, a scroll, escaped-looking
    text, and a check that fails."""
    tmp = tmp_path_factory.mktemp("model-run")
    (tmp / "config.toml").write_text(PRICES)
    environment = environment_without_display()
    environment.update(OPENAI_API_KEY="sk-test-report", SHAIN_CONFIG=str(tmp / "config.toml"))
    drag_path = [{"x": 300, "y": 200}, {"x": 500, "y": 250}, {"x": 700, "y": 400}]
    with ModelServer() as server:
        server.script(
            chat_tool_call("computer", {"type": "click", "x": 400, "y": 300}, content=THOUGHT),
            chat_tool_call("computer", '{"type": "click", "x": 10, ', content="oops"),
            chat_tool_call("computer", {"type": "drag", "path": drag_path}),
            chat_tool_call("computer", {"type": "scroll", "x": 640, "y": 360, "scroll_y": 300}),
            chat_tool_call("computer", {"type": "type", "text": EVIL_TEXT}, content=EVIL_THOUGHT),
            chat_tool_call("computer", {"type": "keypress", "keys": ["CTRL", "L"]}),
            chat_tool_call("done", {"summary": "all done"}),
        )
        folder = _shain(
            tmp,
            MODEL_TASK,
            "--profile",
            "priced",
            "--model",
            "test-model",
            "--base-url",
            server.base_url,
            env=environment,
        )
    return folder


class Opened:
    """A report open in a browser tab, with everything the tab requested or complained about."""

    def __init__(self, browser: Any, report: Path, width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", lambda dialog: self.problems.append(f"dialog {dialog.message}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"error {error}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console {m.text}") if m.type == "error" else None,
        )
        self.url = report.resolve().as_uri()
        started = time.perf_counter()
        self.page.goto(self.url, wait_until="load")
        self.wall_seconds = time.perf_counter() - started
        self.load_ms = self.page.evaluate(
            "performance.getEntriesByType('navigation')[0].loadEventEnd"
        )

    def assert_self_contained(self) -> None:
        """Only the page itself was requested (data: URLs are no requests on the network)."""
        assert [url for url in self.requests if not url.startswith("data:")] == [self.url]
        assert self.problems == []

    def images(self) -> list[dict[str, Any]]:
        return list(
            self.page.evaluate(
                """Promise.all([...document.images].map((i) => i.decode().then(
                    () => ({src: i.src.slice(0, 30), width: i.naturalWidth}),
                    () => ({src: i.src.slice(0, 30), width: 0}))))"""
            )
        )


def _steps(record: RunJson) -> list[int]:
    return sorted({event["step"] for event in record.events_of("step_started")})


def _decided(record: RunJson, step: int) -> dict[str, Any]:
    (event,) = [e for e in record.events_of("decided") if e["step"] == step]
    action: dict[str, Any] = event["actions"][0]
    return action


def test_a_model_run_with_a_rejected_reply_and_a_failed_check(browser: Any, model_run: Path):
    record = read_run_json(model_run)
    assert record.status == "failed"
    assert [e["step"] for e in record.events_of("reply_rejected")] == [2]
    report = write_report(model_run)
    assert report == model_run / "report.html"
    assert report.stat().st_mode & 0o777 == 0o600
    opened = Opened(browser, report)
    page = opened.page

    # One card per step; step 2 (the rejected reply) is where it went wrong, linked from the top.
    assert page.locator("section.step").count() == len(_steps(record)) == 7
    failing = page.locator("section.step.failing")
    assert failing.count() == 1
    assert failing.get_attribute("id") == "step-2"
    assert failing.get_attribute("data-failing") == "true"
    assert "not valid JSON" in failing.locator(".rejected").inner_text()
    link = page.locator("header.summary a#went-wrong")
    assert link.get_attribute("href") == "#step-2"
    assert "step 2" in link.inner_text()
    link.click()
    assert page.url.endswith("#step-2")
    assert abs(page.locator("#step-2").bounding_box()["y"]) < 40  # scrolled to the card
    summary = page.locator("header.summary").inner_text()
    assert "Failed" in summary and "never-written.txt" in summary and "test-model" in summary

    # Every frame embedded as a data: URI, and decoded by the browser.
    images = opened.images()
    assert len(images) == len(record.events_of("observed")) == 7
    assert all(i["src"].startswith("data:image/jpeg;base64,") and i["width"] > 0 for i in images)

    # The click marker sits on the logged screen point, in SVG and on the rendered page.
    screen = record.events_of("run_started")[0]["screen"]
    click = _decided(record, 1)
    ring = page.locator("#step-1 g.marker > circle.ring")
    assert ring.get_attribute("cx") == str(click["x"])
    assert ring.get_attribute("cy") == str(click["y"])
    image_box = page.locator("#step-1 .shot img").bounding_box()
    ring_box = ring.bounding_box()
    expected_x = image_box["x"] + click["x"] * image_box["width"] / screen["width"]
    expected_y = image_box["y"] + click["y"] * image_box["height"] / screen["height"]
    assert abs(ring_box["x"] + ring_box["width"] / 2 - expected_x) < 1.0
    assert abs(ring_box["y"] + ring_box["height"] / 2 - expected_y) < 1.0
    # The drag's trail, the scroll's arrow and the typed text's caption.
    drag = _decided(record, 3)
    trail = page.locator("#step-3 g.trail > polyline")
    assert trail.get_attribute("points") == " ".join(f"{p['x']},{p['y']}" for p in drag["path"])
    assert page.locator("#step-3 g.trail > polygon.head").count() == 1
    scroll = _decided(record, 4)
    arrow = page.locator("#step-4 g.arrow")
    assert (arrow.get_attribute("data-x"), arrow.get_attribute("data-y")) == (
        str(scroll["x"]),
        str(scroll["y"]),
    )
    assert "scroll down 3" in page.locator("#step-4 .pin").inner_text()
    assert "<script>alert(1)</script>" in page.locator("#step-5 .cap").inner_text()
    assert "keys ctrl+l" in page.locator("#step-6 .cap").inner_text()

    # Model output is shown as text: no element, no script, no dialog came from it.
    assert page.evaluate("document.scripts.length") == 1
    assert page.locator("#step-5 details.thought .text").inner_text() == EVIL_THOUGHT
    assert page.locator("#step-1 details.thought .text").inner_text() == THOUGHT
    assert page.locator("#step-1 details.thought b").count() == 0
    raw = page.locator("#step-1 details.raw")
    assert raw.get_attribute("open") is None  # collapsed until asked for
    raw.locator("summary").click()
    assert "I will click" in raw.locator("pre").inner_text()
    timing = page.locator("#step-1 .timing").inner_text().lower()
    assert all(word in timing for word in ("capture", "model", "action", "settle"))
    assert "100 in · 20 out tokens" in page.locator("#step-1 .usage").inner_text()

    # The page's own script runs (its hash is in the Content-Security-Policy): a click on a
    # screenshot widens the card.
    page.locator("#step-3 .shot").click()
    assert "wide" in (page.locator("#step-3").get_attribute("class") or "")
    page.locator("#step-3 .shot").click()

    # Printing: cards stay whole, and every collapsible opens.
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.step')).breakInside") == (
        "avoid"
    )
    page.evaluate("dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("[...document.querySelectorAll('details')].every((d) => d.open)")
    page.evaluate("dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="screen")

    page.evaluate("scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    opened.assert_self_contained()
    page.close()

    # On a phone: one column, nothing wider than the screen.
    phone = Opened(browser, report, width=390)
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    card = phone.page.locator("#step-1").bounding_box()
    assert phone.page.locator("#step-1 .shot img").bounding_box()["width"] <= card["width"]
    phone.assert_self_contained()
    phone.page.close()


def test_each_step_says_how_it_was_decided(browser: Any, decided_three_ways: Path) -> None:
    record = read_run_json(decided_three_ways)
    assert [(e["step"], e["by"]["kind"]) for e in record.events_of("decided")] == DECIDED
    opened = Opened(browser, write_report(decided_three_ways))
    page = opened.page
    # A label on every card, and the count in the header.
    labels = [page.locator(f"#step-{step} header .by").inner_text().lower() for step, _ in DECIDED]
    assert labels == [kind for _, kind in DECIDED]
    colours = {
        kind: page.locator(f".by-{kind}").first.evaluate("e => getComputedStyle(e).backgroundColor")
        for kind in ("script", "model", "healed")
    }
    assert len(set(colours.values())) == 3, colours
    facts = page.locator(".facts").inner_text().lower()  # (headings are shown in capitals)
    assert "decided by\n3 script, 2 healed, 2 model" in facts
    # How the healed steps were healed: which step, what it was to do, why, and what was seen.
    assert page.locator(".healed").count() == 2
    healed = page.locator("#step-4 .healed").inner_text()
    assert HOW in healed and "nothing on the screen matches" in healed, healed
    assert page.locator("#step-6 .healed").count() == 0
    # The repaired file it proposed, with its diff.
    repair = page.locator("header.summary details.repair")
    assert "mail.healed.yaml" in repair.locator("code").inner_text()
    assert repair.get_attribute("open") is None  # opened when asked for
    repair.locator("summary").click()
    added = repair.locator(".add").all_inner_texts()
    assert any("name: Submit" in line for line in added), added
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-decided.png"), full_page=True)
    opened.assert_self_contained()
    page.close()


def test_a_step_whose_frame_is_missing_still_gets_a_card(model_run: Path, tmp_path: Path):
    folder = tmp_path / "copy"
    shutil.copytree(model_run, folder)
    (folder / "frames" / "step-0003.jpg").unlink()
    page = render_report(folder)
    assert page.count("<img ") == 6
    card = page[page.index('id="step-3"') : page.index('id="step-4"')]
    assert "frame missing" in card and "<img" not in card and 'class="ov trail"' in card


def test_a_scripted_run_that_succeeds(browser: Any, tmp_path: Path):
    task = (Path(__file__).parents[2] / "tasks/examples/mousepad-note.yaml").read_text()
    folder = _shain(tmp_path, task)
    record = read_run_json(folder)
    assert record.status == "success"
    opened = Opened(browser, write_report(folder, tmp_path / "out" / "mousepad.html"))
    page = opened.page
    assert page.locator("section.step").count() == len(_steps(record))
    assert page.locator(".step.failing").count() == 0
    assert page.locator("#went-wrong").count() == 0
    assert page.locator("ul.checks li.pass").count() == 2
    assert "こんにちは、社長" in page.locator("#step-1 .cap").inner_text()
    assert all(image["width"] > 0 for image in opened.images())
    opened.assert_self_contained()
    opened.page.close()


def test_a_run_that_fails_in_setup_has_no_step_cards(browser: Any, tmp_path: Path):
    task = (
        "name: setup-fails\ngoal: Wait for a window that never opens\nsetup:\n"
        '  - wait_for: {window: "no-such-window-anywhere", timeout: 1}\n'
        'steps:\n  - type: "never"\n'
    )
    folder = _shain(tmp_path, task)
    assert read_run_json(folder).status == "environment_error"
    opened = Opened(browser, write_report(folder))
    page = opened.page
    assert page.locator("section.step").count() == 0
    assert "no steps" in page.locator(".empty-run").inner_text()
    assert "no-such-window-anywhere" in page.locator(".reason").inner_text()
    opened.assert_self_contained()
    opened.page.close()


def test_a_200_step_run_is_small_and_opens_fast(browser: Any, tmp_path: Path):
    # A busy screen (a terminal full of text) changed by every step: 200 different frames.
    lines = [
        "name: busy-200",
        "goal: Type 200 letters into a terminal full of text",
        "setup:",
        "  - launch: xterm -title busyterm -fa Monospace -fs 9 -geometry 230x62+0+0"
        ' -e "ls -laR /usr/share/doc | tail -3000; cat"',
        '  - wait_for: {window: "busyterm", timeout: 20}',
        "steps:",
        *(f'  - type: "{chr(97 + step % 26)}"' for step in range(200)),
        "budget: {max_steps: 250, max_seconds: 300}",
    ]
    folder = _shain(tmp_path, "\n".join(lines) + "\n")
    record = read_run_json(folder)
    assert record.status == "success" and len(_steps(record)) == 201
    started = time.perf_counter()
    report = write_report(folder)
    written = time.perf_counter() - started
    size = report.stat().st_size
    frames = sum(path.stat().st_size for path in (folder / "frames").iterdir())
    assert size < 25_000_000
    opened = Opened(browser, report)
    assert opened.page.locator("section.step").count() == 201
    assert all(image["width"] > 0 for image in opened.images())
    assert opened.load_ms < 2000
    opened.assert_self_contained()
    opened.page.close()
    print(
        f"\n200-step report: {size / 1e6:.1f} MB (frames on disk {frames / 1e6:.1f} MB), "
        f"written in {written:.1f}s, load event after {opened.load_ms:.0f} ms "
        f"(goto {opened.wall_seconds:.2f}s)"
    )
