"""The fleet's Celery app: one task, `shain.run`, whose message is a FleetOrder.

This module and `worker.py` are the only ones that import Celery.

At most once: a message is acknowledged when its task starts (Celery's early ack), and a worker
fetches a message only when one of its slots is free (`worker_disable_prefetch`, Redis only), so
no run waits behind a long one on a busy worker while another is idle. A message that a killed
worker had fetched but not started comes back after the broker's `visibility_timeout`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.errors import EnvironmentProblem
from agent.fleet.broker import NO_FLEET_EXTRA, masked
from agent.fleet.order import FleetOrder

if TYPE_CHECKING:
    from celery import Celery

TASK_NAME = "shain.run"
# Only matters for messages fetched and not yet started when a worker dies (early ack): they
# come back after this long. An hour is Celery's default, and the recommendation in the README.
VISIBILITY_TIMEOUT_SECONDS = 3600


def fleet_app(url: str) -> Celery:
    try:
        from celery import Celery
    except ImportError:
        raise EnvironmentProblem(NO_FLEET_EXTRA) from None
    app = Celery("shain", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,  # the worker's own lines stay plain lines on stderr
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a restart of Redis
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        # Submitting fails at once rather than retrying for long: the broker was just pinged.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2},
    )
    return app


def send(app: Celery, order: FleetOrder) -> None:
    """Queue the order; EnvironmentProblem when the broker will not take it."""
    try:
        app.send_task(
            TASK_NAME,
            kwargs={"order": order.model_dump(mode="json")},
            queue=order.queue,
            task_id=order.run_id,
        )
    except Exception as error:  # kombu's connection errors vary by transport
        url = str(app.conf.broker_url)
        raise EnvironmentProblem(
            f"the broker {masked(url)} did not take the run: {str(error).replace(url, masked(url))}"
        ) from None
