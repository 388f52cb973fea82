"""The fleet's commands: `shain worker`, `submit`, `stop`, `fleet`.

Celery and redis are the optional extra `shain[fleet]`: `agent.fleet` is imported only inside
these handlers, so the rest of the command line works without them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, get_args

from agent.config.profiles import PolicyName
from agent.errors import ConfigError
from agent.record.log import default_runs_dir

BROKER_HELP = (
    "the broker's URL, redis:// or rediss:// (default: $SHAIN_BROKER, else [fleet] broker in "
    "the config file, else redis://127.0.0.1:6379/0)"
)
DEFAULT_QUEUE = "shain"  # agent.fleet.order.DEFAULT_QUEUE, without importing the fleet


def add_parsers(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="serve the fleet: run queued tasks, each on a screen of its own",
        description="A Celery worker: each slot runs one task at a time as a `shain run "
        "--virtual-display` process (its own screen, session and process group). Needs "
        "shain[fleet].",
    )
    worker.add_argument("--slots", type=_positive, default=1, help="runs at once (default 1)")
    worker.add_argument(
        "--queues",
        default=DEFAULT_QUEUE,
        metavar="Q,...",
        help=f"the queues it takes runs from (default {DEFAULT_QUEUE}), e.g. by the apps "
        "this machine has",
    )
    worker.add_argument(
        "--runs-dir", type=Path, help="where run folders go: shared storage in a real fleet"
    )
    worker.add_argument("--name", help="its name in `shain fleet` (default shain-PID@HOST)")
    worker.add_argument("--broker", help=BROKER_HELP)

    submit = commands.add_parser(
        "submit",
        help="queue a task file for the fleet; prints the run id",
        description="Check a task file here (a broken one is exit 2 and never queued), queue "
        "it and print its run id. With --wait, print its steps as they go and exit with the "
        "run's own exit code.",
    )
    submit.add_argument("task", type=Path, help="the task file (YAML)")
    submit.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="a task variable"
    )
    submit.add_argument("--queue", default=DEFAULT_QUEUE, help=f"default {DEFAULT_QUEUE}")
    submit.add_argument("--seed", type=int, default=0, help="picks the task's `params`")
    submit.add_argument("--policy", choices=get_args(PolicyName), help="as `shain run --policy`")
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends")
    submit.add_argument("--json", action="store_true", help="print JSON: {run_id, ...}")
    submit.add_argument("--broker", help=BROKER_HELP)

    stop = commands.add_parser(
        "stop",
        help="stop a fleet run, queued or running, from any machine",
        description="A queued run is never started. A running one gets its stop token (it "
        "ends with its final event, exit 3); after a grace period its process group is killed.",
    )
    stop.add_argument("run", help="a run id, or a unique prefix of one")
    stop.add_argument("--broker", help=BROKER_HELP)

    fleet = commands.add_parser(
        "fleet", help="the fleet: workers, slots in use, queued and running runs"
    )
    fleet.add_argument("--json", action="store_true")
    fleet.add_argument("--broker", help=BROKER_HELP)


def worker_command(args: argparse.Namespace) -> int:
    from agent.fleet.broker import broker_url
    from agent.fleet.order import valid_queue
    from agent.fleet.worker import WorkerOptions, run_worker

    queues = tuple(queue.strip() for queue in args.queues.split(",") if queue.strip())
    bad = [queue for queue in queues if not valid_queue(queue)]
    if not queues or bad:
        raise ConfigError(f"--queues {args.queues!r}: queue names are letters, digits, _ . -")
    runs_dir = args.runs_dir or default_runs_dir()
    options = WorkerOptions(broker_url(args.broker), args.slots, queues, runs_dir, args.name or "")
    return run_worker(options)


def submit_command(args: argparse.Namespace) -> int:
    from agent.cli.run import _parse_vars
    from agent.fleet.broker import broker_url, connect
    from agent.fleet.order import valid_queue
    from agent.fleet.registry import Registry
    from agent.fleet.submit import checked_order, follow, submit

    if not valid_queue(args.queue):
        raise ConfigError(f"--queue {args.queue!r}: queue names are letters, digits, _ . -")
    order = checked_order(
        args.task, variables=_parse_vars(args.var), queue=args.queue, seed=args.seed,
        policy=args.policy,
    )  # fmt: skip
    url = broker_url(args.broker)
    registry = Registry(connect(url))
    submit(registry, url, order)
    if not args.wait:
        if args.json:
            print(json.dumps({"run_id": order.run_id, "queue": order.queue}))
        else:
            print(order.run_id)
        return 0
    progress = sys.stderr if args.json else sys.stdout
    if not args.json:
        print(order.run_id, flush=True)
    record = follow(registry, order.run_id, lambda line: print(line, file=progress, flush=True))
    code = record.exit_code if record.exit_code is not None else 1
    if args.json:
        print(json.dumps(record.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False))
    else:
        where = f" — run folder {record.run_folder}" if record.run_folder else ""
        print(f"{record.status}: {record.reason} (worker {record.worker or '-'}){where}")
    return code


def stop_command(args: argparse.Namespace) -> int:
    from agent.fleet.broker import broker_url, connect
    from agent.fleet.registry import Registry
    from agent.fleet.stopping import WAIT_SECONDS, stop_run

    registry = Registry(connect(broker_url(args.broker)))
    record = stop_run(registry, args.run, "stopped by the boss (shain stop)")
    if record is None:
        print(f"shain: run {args.run} is still going after {WAIT_SECONDS:.0f}s", file=sys.stderr)
        return 4
    print(f"run {record.run_id}: {record.status}: {record.reason}")
    return 0


def fleet_command(args: argparse.Namespace) -> int:
    from agent.fleet.broker import broker_url, connect
    from agent.fleet.overview import look
    from agent.fleet.registry import Registry

    view = look(Registry(connect(broker_url(args.broker))))
    if args.json:
        print(json.dumps(view.as_json(), ensure_ascii=False))
    else:
        print("\n".join(view.lines()))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


HANDLERS = {
    "worker": worker_command,
    "submit": submit_command,
    "stop": stop_command,
    "fleet": fleet_command,
}
