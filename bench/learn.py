"""What learning saves: a model's run of a task against the replay of the file `shain learn`
made of it (same task, same seed, same machine), in run time and tokens.

For each task: the model run is `shain run --policy openai-chat` against the local fake model
server (tests/model_server.py); the fake's judgement is the task's oracle (run once first):
at each step it answers with what the oracle did at that step, in the screenshot's pixels,
and a wait where the oracle waited. Then `shain learn` of that run, and `shain run` of the
learned file, with no model. Each on a fresh virtual screen; medians over `--runs`.

Tokens: the fake server has no tokenizer, so its replies carry its own estimate of what an
OpenAI vision model would bill for the request it got: each image as OpenAI counts a
high-detail image (85 + 170 per 512-pixel tile after scaling to fit 2048 and a shortest side
of 768), text at 4 characters a token; the reply's arguments likewise, plus 10. The bytes the
requests carried are counted exactly. The fake answers at once unless `--model-latency`
says how long a real model would think per step.

    .venv/bin/python bench/learn.py [--tasks a,b] [--runs 3] [--seed 2] [--model-latency S]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.actions import Action
from agent.record.log import read_run

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fake model server is the tests' own

from tests.helpers import run_shain, run_task  # noqa: E402
from tests.model_server import (  # noqa: E402
    ModelServer,
    Reply,
    Request,
    chat_tool_call,
    doing_as_the_oracle_did,
    the_oracles_actions,
)

BENCH = REPO / "tasks" / "bench"
TASKS = (
    "galculator-mouse",
    "zenity-entry",
    "zenity-checklist",
    "mousepad-type-save",
    "mousepad-find-replace",
)
API_KEY = "sk-bench-learn"


@dataclass(frozen=True)
class Measured:
    """One model run, its learning, and the replay of what was learned."""

    model_seconds: float  # the run's own time (summary.json): setup, steps, checks
    model_steps: int
    model_tokens: int  # input + output, the fake's estimate
    request_bytes: int
    learn_seconds: float  # `shain learn`, wall
    replay_seconds: float
    replay_tokens: int


# ---- the fake model: the oracle's actions, as a model would send them


def _oracle_steps(task: Path, folder: Path, seed: str) -> tuple[list[tuple[Action, ...]], int]:
    """The oracle's actions, a tuple per step (empty where it waited), and the screen width."""
    run = run_task(task, folder, "--policy", "oracle", "--seed", seed, workdir="oracle",
                   leaves_nothing=False)  # fmt: skip
    if run.code != 0:
        raise SystemExit(f"{task.stem}: the oracle failed: {run.result} {run.stderr[-400:]}")
    return the_oracles_actions(run.run_folder)


def _image_tokens(width: int, height: int) -> int:
    """What OpenAI bills for a high-detail image of this size."""
    fit = min(1.0, 2048 / max(width, height))
    fitted = (width * fit, height * fit)
    short = min(1.0, 768 / min(fitted))
    tiles = math.ceil(fitted[0] * short / 512) * math.ceil(fitted[1] * short / 512)
    return 85 + 170 * tiles


def _text_characters(value: Any) -> int:
    match value:
        case str() if value.startswith("data:image/"):
            return 0
        case str():
            return len(value)
        case dict():
            return sum(_text_characters(item) for item in value.values())
        case list():
            return sum(_text_characters(item) for item in value)
    return 0


def _estimated(request: Request, name: str, arguments: dict[str, Any]) -> Reply:
    prompt = _text_characters(request.body) // 4
    prompt += sum(_image_tokens(w, h) for w, h in request.image_sizes())
    completion = len(json.dumps(arguments)) // 4 + 10
    return chat_tool_call(name, arguments, usage=(prompt, completion))


# ---- one round


def _summary(folder: Path) -> dict[str, Any]:
    summary = read_run(folder).summary
    assert summary is not None, folder
    return summary


def measure(
    task: Path, folder: Path, seed: str, fake: list[Callable[[Request], Reply]]
) -> Measured:
    with ModelServer() as server:
        server.script(*fake)
        model = run_task(
            task, folder, "--policy", "openai-chat", "--base-url", server.base_url, "--seed",
            seed, workdir="model", env={"OPENAI_API_KEY": API_KEY}, leaves_nothing=False,
        )  # fmt: skip
        request_bytes = sum(len(json.dumps(r.body)) for r in server.requests if r.body)
    if model.code != 0:
        raise SystemExit(f"{task.stem}: the model run failed: {model.result} {model.stderr[-400:]}")
    learned = folder / "learned.yaml"
    started = time.monotonic()
    written = run_shain("learn", str(model.run_folder), "-o", str(learned))
    learn_seconds = time.monotonic() - started
    if written.returncode != 0:
        raise SystemExit(f"{task.stem}: learn failed: {written.stderr}")
    replay = run_task(learned, folder, "--seed", seed, workdir="replay", leaves_nothing=False)
    if replay.code != 0:
        raise SystemExit(f"{task.stem}: the replay failed: {replay.result} {replay.stderr[-400:]}")
    ran, replayed = _summary(model.run_folder), _summary(replay.run_folder)
    return Measured(
        model_seconds=ran["seconds"],
        model_steps=ran["steps"],
        model_tokens=ran["input_tokens"] + ran["output_tokens"],
        request_bytes=request_bytes,
        learn_seconds=learn_seconds,
        replay_seconds=replayed["seconds"],
        replay_tokens=replayed["input_tokens"] + replayed["output_tokens"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="benchmark tasks, by name")
    parser.add_argument("--runs", type=int, default=3, help="rounds per task (default 3)")
    parser.add_argument("--seed", default="2", help="the tasks' seed (default 2)")
    parser.add_argument(
        "--model-latency", type=float, default=0.0, help="seconds the fake thinks per step"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="shain-bench-learn-"))
    rows: dict[str, dict[str, float]] = {}
    for name in args.tasks.split(","):
        task = BENCH / f"{name}.yaml"
        if not task.is_file():
            raise SystemExit(f"no benchmark task {name!r} in {BENCH}")
        steps, width = _oracle_steps(task, root / name, args.seed)
        rounds = []
        for index in range(args.runs):
            folder = root / name / f"round-{index + 1}"
            folder.mkdir(parents=True)
            rounds.append(
                measure(
                    task,
                    folder,
                    args.seed,
                    doing_as_the_oracle_did(steps, width, _estimated, args.model_latency),
                )
            )
        rows[name] = {
            field: statistics.median(getattr(m, field) for m in rounds)
            for field in Measured.__dataclass_fields__
        }
    medians = {
        field: statistics.median(row[field] for row in rows.values())
        for field in Measured.__dataclass_fields__
    }
    if args.json:
        about = {"runs": args.runs, "seed": args.seed, "model_latency": args.model_latency}
        print(json.dumps({**about, "tasks": rows, "median": medians}))
        return
    print(
        f"median of {args.runs} rounds per task (seed {args.seed}, the fake model answering "
        f"after {args.model_latency:g}s); run folders in {root}"
    )
    header = (
        f"{'task':<24}{'model run':>10}{'steps':>6}{'tokens':>9}{'sent':>9}"
        f"{'learn':>7}{'replay':>8}{'tokens':>7}{'time':>7}"
    )
    print(header)
    for name, row in [*rows.items(), ("median", medians)]:
        ratio = row["model_seconds"] / row["replay_seconds"]
        print(
            f"{name:<24}{row['model_seconds']:>9.1f}s{row['model_steps']:>6.0f}"
            f"{row['model_tokens']:>9,.0f}{row['request_bytes'] / 1e6:>7.1f}MB"
            f"{row['learn_seconds']:>6.1f}s{row['replay_seconds']:>7.1f}s"
            f"{row['replay_tokens']:>7.0f}{ratio:>6.1f}x"
        )
    print(
        "model run, replay: the run's own time (summary.json: setup, steps, checks); tokens: "
        "the fake's estimate (see the module's docstring); sent: request bytes; time: model "
        "run / replay"
    )


if __name__ == "__main__":
    main()
