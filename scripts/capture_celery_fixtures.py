#!/usr/bin/env python3
"""Capture real Celery wire messages into tests/fixtures/celery/.

dts speaks Celery's protocol v2; its golden tests compare against messages
that a real Celery client, worker and CLI put on a real RabbitMQ. This script
makes those captures, so the repository carries its own test data:

    /usr/bin/python3 scripts/capture_celery_fixtures.py [--out tests/fixtures/celery]

Needs Debian's python3-celery (Celery 5.2) and a RabbitMQ on this machine that
`rabbitmqctl` administers (the script makes a private vhost, turns the firehose
tracer on there, and deletes the vhost at the end; other vhosts are untouched).

How: every basic.publish in the private vhost is copied by the broker to
`amq.rabbitmq.trace` (routing key `publish.<exchange>`) with its exchange,
routing keys, all properties and the unchanged body. Nothing in Celery is
patched. The AMQP field-table type octet of each header (I, S, d, V, t, ...)
is read from the raw properties frame by a small reader here, on the capture
connection only. Pidbox and celeryev messages are also read through ordinary
queues and compared byte for byte with their firehose copies.

The same file is the Celery app that the worker and the CLI load
(`celery -A capture_celery_fixtures`); its broker comes from
DTS_CAPTURE_BROKER, set by the driver below.
"""

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from struct import unpack_from

import amqp
import amqp.serialization as amqp_serialization
import celery
import kombu
from celery import Celery

# ---------------------------------------------------------------------------
# The Celery app (what the worker and CLI import)

app = Celery("capture", broker=os.environ.get("DTS_CAPTURE_BROKER", "pyamqp://"))
app.conf.update(
    result_backend="rpc://",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_routes={"task_a": {"queue": "queue_a"}, "task_b": {"queue": "queue_b"}},
    broker_connection_retry_on_startup=True,
)


@app.task(name="task_a")
def task_a(*args, **kwargs):
    return 1


@app.task(name="task_fail")
def task_fail(*args, **kwargs):
    raise ValueError("boom: task_fail always fails")


@app.task(name="task_retry", bind=True)
def task_retry(self, *args, **kwargs):
    if self.request.retries == 0:
        raise self.retry(countdown=1, exc=RuntimeError("transient, please retry"))
    return "retried"


# ---------------------------------------------------------------------------
# Field-table type letters, read from the raw frame (RabbitMQ's type octets)

FIXED_WIDTH = {"b": 1, "B": 1, "s": 2, "u": 2, "I": 4, "i": 4, "l": 8, "L": 8,
               "f": 4, "d": 8, "D": 5, "t": 1, "T": 8, "V": 0}


def read_field_types(buf, offset):
    """Return (type tree, next offset) for the field value at offset."""
    letter = chr(buf[offset])
    offset += 1
    if letter in FIXED_WIDTH:
        return letter, offset + FIXED_WIDTH[letter]
    if letter in ("S", "x"):
        (length,) = unpack_from(">I", buf, offset)
        return letter, offset + 4 + length
    if letter == "F":
        return read_table_types(buf, offset)
    if letter == "A":
        (length,) = unpack_from(">I", buf, offset)
        offset += 4
        end = offset + length
        items = []
        while offset < end:
            item, offset = read_field_types(buf, offset)
            items.append(item)
        return items, offset
    raise ValueError(f"unknown field type {letter!r} at offset {offset - 1}")


def read_table_types(buf, offset):
    (length,) = unpack_from(">I", buf, offset)
    offset += 4
    end = offset + length
    types = {}
    while offset < end:
        key_length = buf[offset]
        key = bytes(buf[offset + 1:offset + 1 + key_length]).decode()
        offset += 1 + key_length
        types[key], offset = read_field_types(buf, offset)
    return types, offset


def headers_types_of_frame(buf, offset):
    """Type tree of the headers table in a basic properties frame, or None."""
    (flags,) = unpack_from(">H", buf, offset)
    offset += 2
    for bit in (0x8000, 0x4000):  # content_type, content_encoding: short strings
        if flags & bit:
            offset += 1 + buf[offset]
    if not flags & 0x2000:
        return None
    types, _ = read_table_types(buf, offset)
    return types


def record_header_types():
    """Make py-amqp keep each message's header type letters (this process only)."""
    original = amqp_serialization.PROPERTY_CLASSES[amqp.spec.Basic.CLASS_ID]

    def decode_with_types(buf, offset):
        types = headers_types_of_frame(buf, offset)
        properties, end = original(buf, offset)
        properties["dts_header_types"] = types
        return properties, end

    amqp_serialization.PROPERTY_CLASSES[amqp.spec.Basic.CLASS_ID] = decode_with_types


# ---------------------------------------------------------------------------
# The driver

VERSIONS = {
    "celery": celery.__version__,
    "kombu": kombu.__version__,
    "py-amqp": amqp.__version__,
    "python": ".".join(map(str, sys.version_info[:3])),
}
PROPERTY_NAMES = ("content_type", "content_encoding", "headers", "delivery_mode",
                  "priority", "correlation_id", "reply_to", "expiration", "message_id",
                  "timestamp", "type", "user_id", "app_id")
TASK_IDS = {  # fixed, so the captures name the same tasks each time
    "task_a": "a44b8ebb-dc62-4ff2-bd7b-b542b8d2b4bc",
    "task_fail": "e3883515-d860-4422-8475-c522ddd8c68e",
    "task_retry": "df7e6c9c-5c05-4645-a2fc-4d368fb1ff25",
}
WORKER_NAME = "capture@vm"


def rabbitmqctl(*args):
    out = subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True)
    return out.stdout


def plain(value):
    """A decoded AMQP value as JSON (py-amqp gives bytes for 'x', datetimes for 'T')."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class TraceCopy:
    """One basic.publish as the firehose copied it."""

    def __init__(self, message):
        trace = message.properties["application_headers"]
        types = message.properties["dts_header_types"] or {}
        self.exchange = plain(trace["exchange_name"])
        self.routing_keys = plain(trace["routing_keys"])
        self.trace_headers = {k: plain(v) for k, v in trace.items() if k != "properties"}
        original = trace["properties"]
        self.properties = {name: plain(original[name]) for name in PROPERTY_NAMES
                           if name in original}
        self.properties.setdefault("headers", {})
        self.header_types = types.get("properties", {}).get("headers", {})
        self.body = bytes(message.body)

    @property
    def headers(self):
        return self.properties["headers"]

    def json_body(self):
        return json.loads(self.body.decode(self.properties.get("content_encoding", "utf-8")))

    def same_as_delivery(self, message):
        props = {name: plain(message.properties[name]) for name in PROPERTY_NAMES
                 if name in message.properties}
        props["headers"] = plain(message.properties.get("application_headers") or {})
        types = message.properties.get("dts_header_types") or {}
        return (bytes(message.body) == self.body and props == self.properties
                and types == self.header_types)


def drain(channel, queue):
    messages = []
    while True:
        message = channel.basic_get(queue, no_ack=True)
        if message is None:
            return messages
        messages.append(message)


def wait_for(what, predicate, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"capture: timed out waiting for {what}")


def start_worker(env):
    command = [sys.executable, "-m", "celery", "-A", "capture_celery_fixtures", "worker",
               "-n", WORKER_NAME, "--pool", "solo", "-Q", "queue_a", "--loglevel", "INFO"]
    return subprocess.Popen(command, env=env, cwd=os.path.dirname(os.path.abspath(__file__)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_client(env):
    """Send the three tasks and wait for their results; then `celery inspect ping`."""
    app.conf.broker_url = env["DTS_CAPTURE_BROKER"]
    results = {}
    for name in ("task_a", "task_fail", "task_retry"):
        sent = app.send_task(name, args=[1], kwargs={"x": 2}, queue="queue_a",
                             task_id=TASK_IDS[name])
        results[name] = sent.get(timeout=60, propagate=False)
    ping = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "capture_celery_fixtures", "inspect", "ping"],
        env=env, cwd=os.path.dirname(os.path.abspath(__file__)), capture_output=True, text=True,
        timeout=60)
    reply_queue = app.backend.oid
    app.close()
    return results, ping.stdout, reply_queue


def topology(vhost):
    def table(kind, columns):
        text = rabbitmqctl(f"list_{kind}", "-p", vhost, *columns, "--formatter", "json")
        return json.loads(text or "[]")

    return {
        "exchanges": table("exchanges", ["name", "type", "durable", "auto_delete", "arguments"]),
        "queues": table("queues", ["name", "durable", "auto_delete", "exclusive", "arguments"]),
        "bindings": table("bindings", ["source_name", "destination_name", "destination_kind",
                                       "routing_key", "arguments"]),
    }


def pick(copies, what, predicate):
    found = [c for c in copies if predicate(c)]
    if not found:
        raise SystemExit(f"capture: no {what} among {len(copies)} captured publishes")
    return found[0], len(found)


def fixture_document(name, description, copy, occurrences, cross_check):
    body_text = copy.body.decode(copy.properties.get("content_encoding", "utf-8"))
    return {
        "fixture": name,
        "description": description,
        "versions": VERSIONS,
        "capture": {
            "method": "RabbitMQ firehose (rabbitmqctl trace_on) in a private vhost; a queue bound "
                      "to amq.rabbitmq.trace with 'publish.#' receives each basic.publish as the "
                      "broker got it",
            "ordinary_delivery_cross_check": cross_check,
            "trace_headers": copy.trace_headers,
            "occurrences_in_capture": occurrences,
        },
        "exchange": copy.exchange,
        "routing_key": copy.routing_keys[0] if copy.routing_keys else "",
        "properties": copy.properties,
        "header_types": copy.header_types,
        "body_size": len(copy.body),
        "body": json.loads(body_text),
        "body_base64": base64.b64encode(copy.body).decode(),
    }


def capture(broker_host, broker_port, user, password, out_dir):
    record_header_types()
    vhost = f"dts-capture-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        rabbitmqctl("trace_on", "-p", vhost)
        env = dict(os.environ)
        env["DTS_CAPTURE_BROKER"] = f"pyamqp://{user}:{password}@{broker_host}:{broker_port}/{vhost}"
        env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
        return capture_in(vhost, env, broker_host, broker_port, user, password, out_dir)
    finally:
        rabbitmqctl("trace_off", "-p", vhost)
        rabbitmqctl("delete_vhost", vhost)


def capture_in(vhost, env, host, port, user, password, out_dir):
    conn = amqp.Connection(host=f"{host}:{port}", userid=user, password=password,
                           virtual_host=vhost)
    conn.connect()
    channel = conn.channel()
    channel.auto_decode = False  # bodies stay the bytes the broker sent
    channel.queue_declare("dts.capture.trace", exclusive=True)
    channel.queue_bind("dts.capture.trace", "amq.rabbitmq.trace", "publish.#")

    worker = start_worker(env)
    worker_log = []
    try:
        # The worker is up once its mingle hello and worker-online event went out.
        def online():
            # Side queues beside Celery's own, for the byte-for-byte cross-check.
            try:
                check = conn.channel()
                check.exchange_declare("celeryev", "topic", passive=True)
                check.exchange_declare("celery.pidbox", "fanout", passive=True)
                check.close()
                return True
            except amqp.exceptions.NotFound:
                return False

        wait_for("the Celery worker's exchanges", online, 60)
        channel.queue_declare("dts.capture.celeryev", exclusive=True)
        channel.queue_bind("dts.capture.celeryev", "celeryev", "worker.#")
        channel.queue_declare("dts.capture.pidbox", exclusive=True)
        channel.queue_bind("dts.capture.pidbox", "celery.pidbox", "")
        results, ping_stdout, reply_queue = run_client(env)
        time.sleep(2.5)  # at least one worker-heartbeat (every 2 s)
        layout = topology(vhost)
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: worker-offline
        try:
            worker_log = worker.communicate(timeout=30)[0].splitlines()
        except subprocess.TimeoutExpired:
            worker.kill()
            worker_log = worker.communicate()[0].splitlines()
    time.sleep(0.5)

    copies = [TraceCopy(m) for m in drain(channel, "dts.capture.trace")]
    deliveries = drain(channel, "dts.capture.celeryev") + drain(channel, "dts.capture.pidbox")
    conn.close()

    def is_task(name, retries):
        return lambda c: (c.exchange == "" and c.headers.get("task") == name
                          and c.headers.get("retries") == retries)

    def is_result(task_id, status):
        return lambda c: (c.properties.get("correlation_id") == task_id
                          and c.routing_keys == [reply_queue]
                          and c.json_body().get("status") == status)

    def is_control(method):
        return lambda c: c.exchange == "celery.pidbox" and c.json_body().get("method") == method

    def is_event(kind):
        return lambda c: c.exchange == "celeryev" and c.routing_keys == [kind.replace("-", ".")]

    ping, _ = pick(copies, "ping", is_control("ping"))
    ping_ticket = ping.json_body()["ticket"]
    wanted = [
        ("task_a.send_task", "client app.send_task('task_a', args=[1], kwargs={'x': 2}, "
         "queue='queue_a')", is_task("task_a", 0)),
        ("task_a.result.success", "rpc:// result published by the worker after task_a "
         "returned 1 (state SUCCESS)", is_result(TASK_IDS["task_a"], "SUCCESS")),
        ("task_fail.send_task", "client app.send_task('task_fail', ...)", is_task("task_fail", 0)),
        ("task_fail.result.failure", "rpc:// result after task_fail raised ValueError (state "
         "FAILURE)", is_result(TASK_IDS["task_fail"], "FAILURE")),
        ("task_retry.send_task", "client app.send_task('task_retry', ...); the task calls "
         "self.retry(countdown=1) on its first run", is_task("task_retry", 0)),
        ("task_retry.retry_republish", "the task message re-published by the worker for "
         "self.retry(countdown=1): same id, retries=1, eta", is_task("task_retry", 1)),
        ("task_retry.result.retry", "rpc:// state update when the task called self.retry "
         "(state RETRY)", is_result(TASK_IDS["task_retry"], "RETRY")),
        ("task_retry.result.success", "rpc:// result of the retried run (state SUCCESS)",
         is_result(TASK_IDS["task_retry"], "SUCCESS")),
        ("control.ping.request", "broadcast of `celery inspect ping` on the fanout exchange "
         "celery.pidbox", is_control("ping")),
        ("control.ping.reply", "the worker's reply to the ping, on reply.celery.pidbox",
         lambda c: c.exchange == "reply.celery.pidbox" and c.headers.get("ticket") == ping_ticket),
        ("control.mingle_hello.request", "worker start-up (mingle): broadcast 'hello'",
         is_control("hello")),
        ("event.worker-online", "worker event worker-online", is_event("worker-online")),
        ("event.worker-heartbeat", "worker event worker-heartbeat (every 2 s)",
         is_event("worker-heartbeat")),
        ("event.worker-offline", "worker event worker-offline (warm shutdown, SIGTERM)",
         is_event("worker-offline")),
    ]

    os.makedirs(out_dir, exist_ok=True)
    index = []
    checks = []
    for name, description, predicate in wanted:
        copy, occurrences = pick(copies, name, predicate)
        cross_check = None
        # Pidbox and event messages published after the side queues were bound
        # (not the mingle hello, sent at start-up) also arrived as deliveries.
        delivered = [d for d in deliveries if bytes(d.body) == copy.body]
        if delivered:
            matched = any(copy.same_as_delivery(d) for d in delivered)
            cross_check = {"delivery_via": f"delivery:dts.capture.{copy.exchange.split('.')[-1]}",
                           "identical_to_firehose_copy": matched}
            checks.append({"fixture": name, **cross_check})
            if not matched:
                raise SystemExit(f"capture: {name}: the delivered copy differs from the firehose")
        doc = fixture_document(name, description, copy, occurrences, cross_check)
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
        index.append({"file": f"{name}.json", "exchange": copy.exchange,
                      "routing_key": doc["routing_key"], "description": description})

    hello, _ = pick(copies, "hello", is_control("hello"))
    retry, _ = pick(copies, "retry", is_task("task_retry", 1))
    context = {
        "task_ids": TASK_IDS,
        "worker_name": WORKER_NAME,
        "rpc_reply_queue": reply_queue,
        "client_origin": pick(copies, "task_a", is_task("task_a", 0))[0].headers["origin"],
        "worker_origin": retry.headers["origin"],
        "retry_eta": retry.headers["eta"],
        "ping_ticket": ping_ticket,
        "ping_reply_routing_key": ping.json_body()["reply_to"]["routing_key"],
        "ping_expires": ping.headers["expires"],
        "hello_reply_routing_key": hello.json_body()["reply_to"]["routing_key"],
        "results": {k: repr(v) for k, v in results.items()},
        "inspect_ping_stdout": ping_stdout.strip(),
    }
    with open(os.path.join(out_dir, "topology.json"), "w") as f:
        json.dump(layout, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump({"generated_by": "scripts/capture_celery_fixtures.py",
                   "versions": {**VERSIONS, "rabbitmq": rabbitmqctl("version").strip()},
                   "context": context, "firehose_vs_delivery_checks": checks,
                   "fixtures": index}, f, indent=2)
        f.write("\n")
    print(f"capture: wrote {len(index)} fixtures to {out_dir}", file=sys.stderr)
    if "ready" not in "\n".join(worker_log):
        print("capture: worker log:\n" + "\n".join(worker_log[-20:]), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "celery"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5672")
    parser.add_argument("--user", default="guest")
    parser.add_argument("--password", default="guest")
    args = parser.parse_args()
    capture(args.host, args.port, args.user, args.password, os.path.normpath(args.out))


if __name__ == "__main__":
    main()
