"""The fleet's parts that need no broker: naming the broker without its password, where its
URL comes from, run folders named by the fleet, and what a worker runs for an order."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError, RunLogUnwritable
from agent.fleet.broker import DEFAULT_BROKER, broker_url, masked
from agent.fleet.order import FleetOrder
from agent.record.log import RunLog


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
        ("rediss://boss:s3cr%40t@redis.example:6380/1?ssl_cert_reqs=required",
         "rediss://boss:***@redis.example:6380/1?ssl_cert_reqs=required"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
    ],
)  # fmt: skip
def test_the_password_never_shows(url: str, shown: str) -> None:
    assert masked(url) == shown


def test_the_broker_url_comes_from_the_flag_the_environment_or_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("SHAIN_CONFIG", str(config))
    assert broker_url(None, {}) == DEFAULT_BROKER
    config.write_text('[fleet]\nbroker = "redis://from-config:6379/0"\n')
    assert broker_url(None, {}) == "redis://from-config:6379/0"
    assert broker_url(None, {"SHAIN_BROKER": "redis://env/0"}) == "redis://env/0"
    assert broker_url("rediss://flag/0", {"SHAIN_BROKER": "redis://env/0"}) == "rediss://flag/0"
    with pytest.raises(ConfigError, match=r"amqp://u:\*\*\*@host"):
        broker_url("amqp://u:pw@host/", {})


def test_a_run_folder_named_by_the_fleet_is_new_and_only_a_name(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path, "task", {}, run_id="20260101-fleet-run")
    log.close()
    assert log.folder == tmp_path / "20260101-fleet-run"
    with pytest.raises(RunLogUnwritable, match="exists already"):
        RunLog.create(tmp_path, "task", {}, run_id="20260101-fleet-run")
    with pytest.raises(RunLogUnwritable, match="cannot name a run folder"):
        RunLog.create(tmp_path, "task", {}, run_id="../elsewhere")


def test_an_order_becomes_the_runs_own_options() -> None:
    order = FleetOrder(
        run_id="20260101-x-ab12", task_name="x", file_name="x.yaml", task_text="name: x",
        variables={"who": "boss"}, seed=3, policy="oracle", submitted_at=1.0,
    )  # fmt: skip
    assert order.run_arguments() == (
        "--run-id", "20260101-x-ab12", "--seed", "3", "--var", "who=boss", "--policy", "oracle",
    )  # fmt: skip
    with pytest.raises(ValueError, match="file_name"):
        FleetOrder.model_validate(order.model_dump() | {"file_name": "../../etc/passwd"})
