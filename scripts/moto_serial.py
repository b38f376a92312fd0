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

Usage: python moto_serial.py HOST PORT
"""

import copy
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


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            BACKUPS.new_request()
            # Materialise the body inside the lock: the whole request is one step.
            return list(self.app(environ, start_response))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
