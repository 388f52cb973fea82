"""A benchmark's scores: one per run, folded per task and overall into summary.json and a table.

Success counts only when the run ended in `success`: the agent said done and every check
held (or, for a task that cannot be done, the agent said so). A false done is the agent
saying done when that was not true. Time is split into model time (the policy deciding) and
environment time (everything else: the screen, the apps, acting, settling, checks).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from agent.files import write_private_file
from agent.record.events import (
    ActionFailed,
    ActionRejected,
    Decided,
    LoggedEvent,
    ReplyRejected,
)
from agent.record.status import RunStatus


@dataclass(frozen=True)
class RunScore:
    task: str
    seed: int
    control: str
    status: str  # a RunStatus, or `error` when the run left no result
    declared: str | None
    steps: int
    oracle_steps: int
    wall_seconds: float
    model_seconds: float = 0.0
    decisions: int = 0
    invalid_actions: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    reason: str = ""
    run_folder: str = ""
    expected_success: bool = True

    @property
    def success(self) -> bool:
        return self.status == RunStatus.SUCCESS

    @property
    def false_done(self) -> bool:
        return self.declared == "done" and not self.success

    @property
    def environment_seconds(self) -> float:
        return max(self.wall_seconds - self.model_seconds, 0.0)

    @classmethod
    def broken(cls, task: str, seed: int, control: str, wall: float, reason: str) -> RunScore:
        return cls(task, seed, control, "error", None, 0, 0, wall, reason=reason)

    @classmethod
    def from_result(
        cls,
        task: str,
        seed: int,
        control: str,
        wall: float,
        result: Mapping[str, Any],
        oracle_steps: int,
    ) -> RunScore:
        return cls(
            task,
            seed,
            control,
            str(result.get("status", "error")),
            result.get("declared"),
            int(result.get("steps", 0)),
            oracle_steps,
            wall,
            input_tokens=int(result.get("input_tokens", 0)),
            output_tokens=int(result.get("output_tokens", 0)),
            cost_usd=float(result.get("cost_usd", 0.0)),
            reason=str(result.get("reason", "")),
            run_folder=str(result.get("run_folder", "")),
        )

    def with_events(self, events: Iterable[LoggedEvent]) -> RunScore:
        """Model time, decisions and invalid actions, from the run's log."""
        model_seconds, decisions, invalid = 0.0, 0, 0
        for event in events:
            if isinstance(event, Decided | ReplyRejected):
                decisions += 1
                model_seconds += event.decide_seconds
            if isinstance(event, ReplyRejected | ActionRejected | ActionFailed):
                invalid += 1
        return replace(
            self, model_seconds=model_seconds, decisions=decisions, invalid_actions=invalid
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(success=self.success, false_done=self.false_done)
        data["environment_seconds"] = round(self.environment_seconds, 3)
        return data


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def aggregate(scores: Sequence[RunScore]) -> dict[str, Any]:
    """The figures of a group of runs (one task, or all of them)."""
    successes = [score for score in scores if score.success]
    efficiency = [
        score.oracle_steps / score.steps
        for score in successes
        if score.steps and score.oracle_steps
    ]
    decisions = sum(score.decisions for score in scores)
    return {
        "runs": len(scores),
        "successes": len(successes),
        "success_rate": _rate(len(successes), len(scores)),
        "false_done_rate": _rate(sum(score.false_done for score in scores), len(scores)),
        "invalid_action_rate": _rate(sum(score.invalid_actions for score in scores), decisions),
        "mean_steps": round(statistics.fmean(s.steps for s in scores), 2) if scores else None,
        "efficiency": round(statistics.median(efficiency), 3) if efficiency else None,
        "input_tokens": sum(score.input_tokens for score in scores),
        "output_tokens": sum(score.output_tokens for score in scores),
        "cost_usd": round(sum(score.cost_usd for score in scores), 6),
        "wall_seconds": round(sum(score.wall_seconds for score in scores), 2),
        "environment_seconds": round(sum(score.environment_seconds for score in scores), 2),
        "model_seconds": round(sum(score.model_seconds for score in scores), 2),
    }


def summarise(
    scores: Sequence[RunScore],
    *,
    tasks: Mapping[str, tuple[tuple[str, ...], int]],  # name -> (skills, oracle steps)
    policy: str,
    seeds: Sequence[int],
    wall_seconds: float,
) -> dict[str, Any]:
    groups = sorted({score.control for score in scores})
    summary: dict[str, Any] = {
        "policy": policy,
        "seeds": list(seeds),
        "wall_seconds": round(wall_seconds, 2),
        "groups": {},
        "runs": [score.as_dict() for score in scores],
    }
    for group in groups:
        in_group = [score for score in scores if score.control == group]
        summary["groups"][group or policy] = {
            "overall": aggregate(in_group),
            "tasks": {
                name: {
                    "skills": list(skills),
                    "oracle_steps": oracle_steps,
                    **aggregate([score for score in in_group if score.task == name]),
                }
                for name, (skills, oracle_steps) in tasks.items()
            },
        }
    if any(score.control for score in scores):
        broken = [score for score in scores if score.success != score.expected_success]
        summary["controls_hold"] = not broken
        summary["broken_controls"] = [
            f"{score.task} seed {score.seed} {score.control}: {score.status}" for score in broken
        ]
    return summary


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def markdown_table(summary: Mapping[str, Any]) -> str:
    lines = [f"Policy: {summary['policy']}, seeds {summary['seeds']}, {summary['wall_seconds']}s"]
    for group, figures in summary["groups"].items():
        overall = figures["overall"]
        lines += [
            "",
            f"### {group}: {overall['successes']}/{overall['runs']} "
            f"({_percent(overall['success_rate'])})",
            "",
            "| task | skills | oracle steps | success | steps | efficiency | false done "
            "| invalid | tokens | env s | model s |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, row in figures["tasks"].items():
            efficiency = "-" if row["efficiency"] is None else f"{row['efficiency']:.2f}"
            lines.append(
                f"| {name} | {', '.join(row['skills'])} | {row['oracle_steps']} "
                f"| {row['successes']}/{row['runs']} | {row['mean_steps']} | {efficiency} "
                f"| {_percent(row['false_done_rate'])} | {_percent(row['invalid_action_rate'])} "
                f"| {row['input_tokens'] + row['output_tokens']} "
                f"| {row['environment_seconds']} | {row['model_seconds']} |"
            )
    if "controls_hold" in summary:
        verdict = "all controls hold" if summary["controls_hold"] else "CONTROLS BROKEN"
        lines += ["", verdict, *(f"- {line}" for line in summary["broken_controls"])]
    return "\n".join(lines) + "\n"


def write_summary(summary: Mapping[str, Any], folder: Path) -> str:
    """summary.json and summary.md in `folder`; returns the Markdown."""
    markdown = markdown_table(summary)
    write_private_file(folder / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False))
    write_private_file(folder / "summary.md", markdown)
    return markdown
