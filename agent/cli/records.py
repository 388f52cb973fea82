"""The commands that read finished runs: `shain runs`, `show`, `export`, `report`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from agent.record.log import default_runs_dir, find_run, iter_runs, read_run


def runs_command(args: argparse.Namespace) -> int:
    runs_dir = args.runs_dir or default_runs_dir()
    rows: list[dict[str, Any]] = []
    for record in iter_runs(runs_dir):
        if len(rows) >= args.limit:
            break
        summary = record.summary or {}
        rows.append(
            {
                "run": record.run_id,
                "task": record.header.get("task", "?"),
                "status": record.status,
                "steps": summary.get("steps", record.steps_completed),
                "seconds": summary.get("seconds"),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print(f"no runs in {runs_dir}")
    else:
        for row in rows:
            seconds = f"{row['seconds']:.1f}s" if row["seconds"] is not None else "-"
            print(f"{row['run']:<48} {row['status']:<18} {row['steps']:>4} steps {seconds:>8}")
    return 0


def show_command(args: argparse.Namespace) -> int:
    from agent.record.codec import encode_event
    from agent.record.describe import describe_event
    from agent.record.events import RunStarted
    from agent.record.steps import StepFolder

    record = read_run(find_run(args.run, args.runs_dir or default_runs_dir()))
    if args.json:
        print(
            json.dumps(
                {
                    "run": record.run_id,
                    "folder": str(record.folder),
                    "status": record.status,
                    "header": record.header,
                    "summary": record.summary,
                    "events": [encode_event(event) for event in record.events],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"run {record.run_id}: task {record.header.get('task')!r}, {record.status}")
    for event in record.events:
        # The first line says what RunStarted would, and how the run ended.
        line = None if isinstance(event, RunStarted) else describe_event(event)
        if line is not None:
            print(line)
    deciders = StepFolder.of(record.events).deciders
    if deciders is not None:
        print(f"decided: {deciders}")
    if record.summary:
        print(f"{record.summary['status']}: {record.summary['reason']}")
    else:
        print(f"incomplete: the log ends after step {record.steps_completed}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    from agent.record.trajectory import write_trajectory

    record = read_run(find_run(args.run, args.runs_dir or default_runs_dir()))
    output = args.output or record.folder / "trajectory.jsonl"
    count = write_trajectory(record, output)
    print(f"{count} steps of run {record.run_id} written to {output}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    from agent.report.writer import write_report

    folder = find_run(args.run, args.runs_dir or default_runs_dir())
    print(f"report of run {folder.name} written to {write_report(folder, args.output)}")
    return 0
