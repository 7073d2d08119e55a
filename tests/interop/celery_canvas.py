"""Run one Celery canvas workflow with a real Celery 5.2 client and print what get() gave, as JSON.

Usage: ``python3 celery_canvas.py '<json spec>'`` (env as celeryapp.py). The spec is
``{"workflow": name, "a": queue, "b": queue, "celery": queue, "sink": queue, "timeout": s}``:
``a`` and ``b`` are dts workers' queues (task_double on a; task_inc on b; task_boom and task_wrap
on a), ``celery`` a Celery worker's (task_a), ``sink`` a queue nobody consumes, where links land
for the test to read. Prints ``{"id": root task id, "value": ...}`` or ``{"id", "error": {type, message}}``.
"""
import json
import sys

from celery import chain, group, signature

from celeryapp import app


def build(spec):
    a, b, c, sink = spec["a"], spec["b"], spec.get("celery"), spec.get("sink")
    double = lambda *args: signature("task_double", args=args, queue=a, app=app)  # noqa: E731
    inc = lambda *args: signature("task_inc", args=args, queue=b, app=app)  # noqa: E731
    name = spec["workflow"]
    if name == "chain":
        return chain(double(1), inc(), double())
    if name == "group":
        return group(double(1), inc(2))
    if name == "chain_group":
        return chain(double(3), group(inc(), double()))
    if name == "chain_fail":
        return chain(double(1), signature("task_boom", queue=a, app=app), inc())
    if name == "link":
        first = double(4)
        first.link(signature("task_inc", args=(100,), queue=sink, app=app))
        return first
    if name == "link_error":
        first = signature("task_boom", queue=a, app=app)
        first.link_error(signature("task_inc", queue=sink, app=app))
        return first
    if name == "mixed":
        return chain(double(5), signature("task_a", queue=c, app=app),
                     signature("task_wrap", queue=a, app=app))
    raise SystemExit(f"unknown workflow {name}")


def main():
    spec = json.loads(sys.argv[1])
    result = build(spec).apply_async()
    out = {"id": result.id}
    try:
        out["value"] = result.get(timeout=spec.get("timeout", 20), disable_sync_subtasks=False)
    except Exception as error:  # the test asserts on what Celery raised
        out["error"] = {"type": type(error).__name__, "message": str(error)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
