"""A small Celery 5.2 app for the dts interoperability tests.

Everything comes from the environment, so one file serves every test:

* ``DTS_CELERY_BROKER``: kombu broker URL, e.g. ``pyamqp://guest:guest@127.0.0.1:5672//``
* ``DTS_CELERY_QUEUES``: comma-separated (namespaced) queue names this app knows
* ``DTS_CELERY_MAX_PRIORITY``: when set, those queues are priority queues
  (``x-max-priority``, as Celery users configure it in ``queue_arguments``)

Settings follow the captured production setup: rpc:// results, JSON only,
``task_acks_late``. The test queues are declared in ``task_queues``, so Celery
binds them to its shared default exchange ``celery`` instead of declaring one
exchange per (namespaced) queue that a test would have to clean up. Clients
still publish to the default exchange ``''`` with the queue name as routing key.
"""
import os
import time

from celery import Celery
from kombu import Exchange, Queue

QUEUES = [q for q in os.environ.get("DTS_CELERY_QUEUES", "").split(",") if q]
MAX_PRIORITY = os.environ.get("DTS_CELERY_MAX_PRIORITY")
QUEUE_ARGUMENTS = {"x-max-priority": int(MAX_PRIORITY)} if MAX_PRIORITY else None

app = Celery("celeryapp", broker=os.environ["DTS_CELERY_BROKER"], backend="rpc://")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    # Celery's default prefetch of 4. With 1 (prefetch_count 1 and acks_late), a
    # Celery 5.2 worker was seen to leave the next delivery unread for up to 10 s
    # (until its event loop's next timer), for Celery's own messages as for dts's.
    worker_prefetch_multiplier=4,
    # STARTED states carry the worker's name: dts reports show who ran a task.
    task_track_started=True,
    task_queues=[
        Queue(q, Exchange(""), routing_key=q, queue_arguments=QUEUE_ARGUMENTS) for q in QUEUES
    ],
    worker_hijack_root_logger=False,
    broker_connection_retry=False,
)


@app.task(name="task_a")
def task_a(*args, **kwargs):
    """Echo the call, saying who ran it (the mixed run counts these)."""
    time.sleep(float(kwargs.pop("sleep_s", 0)))
    return {"by": "celery", "args": list(args), "kwargs": kwargs}


@app.task(name="task_fail")
def task_fail(message="boom"):
    """Fail for good with a Python built-in exception."""
    raise ValueError(message)


@app.task(name="task_retry", bind=True, max_retries=5)
def task_retry(self, times=2):
    """Retry `times` times with Celery's own retry (re-publish with eta), then succeed."""
    if self.request.retries < times:
        raise self.retry(countdown=0.2, exc=RuntimeError(f"transient {self.request.retries}"))
    return {"by": "celery", "retries": self.request.retries}
