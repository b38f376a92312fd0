"""moto's server, answering one request at a time.

moto makes TransactWriteItems "atomic" by copying the table before the transaction
and putting the copy back when it is cancelled (moto/dynamodb/models/__init__.py,
`transact_write_items`), with no lock. Its stock server is threaded, so two
concurrent transactions can undo each other's committed writes or leak a cancelled
one's partial writes. DynamoDB itself is atomic. Serialising requests here gives the
conformance suite DynamoDB's semantics while the clients still race for real.

It also makes that backup cheaper. moto copies the table once per *item* of the
transaction (a counter update of 17 items copies it 17 times), and every copy
carries every stream record the table ever emitted: on the suites' tables that is
tens of megabytes per transaction, enough to take moto past 20 GB and minutes per
test. Here a table is copied once per request, and the copy shares the stream
records (they never change once written); the list of records is still copied, so
a cancelled transaction leaves no record behind. The backup's meaning is unchanged.

It also answers `GET /moto-api/messages.json`: what `/moto-api/data.json` says of
the messages moto accepted (SNS text messages and topic notifications, SES emails),
in the same shape, without the rest. data.json turns every model instance moto ever
made into JSON, every DynamoDB item of every table included: late in a test run
that was 9 MB and 20 s per call, with every other request waiting behind it.

Usage: python moto_serial.py HOST PORT
"""

import copy
import json
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class TableBackups:
    """Stands in for the `copy` module inside moto.dynamodb.models."""

    def __init__(self):
        self.made = {}

    def new_request(self):
        self.made.clear()

    def deepcopy(self, obj, memo=None):
        if not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        made = self.made.get(id(obj))
        if made is not None:
            return made[1]
        memo = {} if memo is None else memo
        if obj.stream_shard is not None:
            for record in obj.stream_shard.items:
                memo[id(record)] = record
        backup = copy.deepcopy(obj, memo)
        # Keep the original too, so that its id cannot be reused this request.
        self.made[id(obj)] = (obj, backup)
        return backup

    def __getattr__(self, name):
        return getattr(copy, name)


BACKUPS = TableBackups()
dynamodb_models.copy = BACKUPS


MESSAGES_PATH = "/moto-api/messages.json"


def messages():
    """data.json's entries for the models that hold messages, built the same way."""
    from moto.ses.models import Message
    from moto.sns.models import SMS, Topic

    def described(model):
        out = []
        for instance in model.instances_tracked:
            entry = {}
            for attr in dir(instance):
                if attr.startswith("_"):
                    continue
                try:
                    value = getattr(instance, attr)
                    json.dumps(value)
                except (TypeError, AttributeError, ValueError):
                    continue
                entry[attr] = value
            out.append(entry)
        return out

    return {
        "sns": {"SMS": described(SMS), "Topic": described(Topic)},
        "ses": {"Message": described(Message)},
    }


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            BACKUPS.new_request()
            if environ.get("PATH_INFO") == MESSAGES_PATH:
                body = json.dumps(messages()).encode()
                start_response(
                    "200 OK",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            # Materialise the body inside the lock: the whole request is one step.
            return list(self.app(environ, start_response))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
