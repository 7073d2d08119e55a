"""Send tasks with a real Celery 5.2 client and report what it saw, as JSON.

Usage: ``python3 -m ... celery_client.py '<json spec>'`` (env as celeryapp.py). The
spec is ``{"timeout": s, "sends": [{"task", "queue", "args", "kwargs", "options"}]}``;
``options`` go to ``send_task`` (countdown, expires, time_limit, soft_time_limit);
``revoke: {"after_s", "terminate"}`` calls ``app.control.revoke`` that long after the send.
An arg written ``{"__py__": "datetime"|"uuid"|"decimal", "value": str}`` is sent
as that Python type (kombu 5.2 serializes each as a string).

Prints ``[{id, sent_at, states, state, value | error, retries, worker}]``: ``states``
lists every state message seen by ``AsyncResult.get(on_message=...)``.
"""
import datetime
import decimal
import json
import sys
import time
import uuid

import celery.exceptions  # noqa: F401 - so its exception classes resolve

from celeryapp import app

PY_TYPES = {
    "datetime": datetime.datetime.fromisoformat,
    "uuid": uuid.UUID,
    "decimal": decimal.Decimal,
}


def to_python(value):
    if isinstance(value, dict) and set(value) == {"__py__", "value"}:
        return PY_TYPES[value["__py__"]](value["value"])
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    return value


def main():
    spec = json.loads(sys.argv[1])
    states = {}

    def on_message(meta):
        states.setdefault(meta["task_id"], []).append(meta["status"])

    sent = []
    for send in spec["sends"]:
        sent_at = time.time()
        result = app.send_task(
            send["task"],
            args=to_python(send.get("args", [])),
            kwargs=to_python(send.get("kwargs", {})),
            queue=send["queue"],
            **send.get("options", {}),
        )
        sent.append((result, sent_at))
    print(json.dumps({"sent": [r.id for r, _ in sent]}), file=sys.stderr, flush=True)

    revokes = sorted(
        ((send["revoke"], result, sent_at) for send, (result, sent_at) in zip(spec["sends"], sent)
         if "revoke" in send),
        key=lambda r: r[2] + r[0]["after_s"],
    )
    for revoke, result, sent_at in revokes:
        time.sleep(max(0.0, sent_at + revoke["after_s"] - time.time()))
        app.control.revoke(result.id, terminate=revoke.get("terminate", False))

    report = []
    for result, sent_at in sent:
        entry = {"id": result.id, "sent_at": sent_at}
        try:
            entry["value"] = result.get(timeout=spec.get("timeout", 20), on_message=on_message)
        except Exception as error:  # noqa: BLE001 - reported to the test
            cls = type(error)
            entry["error"] = {
                "type": cls.__name__,
                "module": cls.__module__,
                "message": str(error),
                # False when Celery made up a class of that name (module not importable).
                "real_class": getattr(sys.modules.get(cls.__module__), cls.__name__, None) is cls,
            }
        entry["state"] = result.state
        entry["states"] = states.get(result.id, [])
        entry["retries"] = result.retries
        entry["worker"] = result.worker
        report.append(entry)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
