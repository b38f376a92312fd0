"""moto's server, answering one request at a time.

moto makes TransactWriteItems "atomic" by copying the table before the transaction
and putting the copy back when it is cancelled (moto/dynamodb/models/__init__.py,
`transact_write_items`), with no lock. Its stock server is threaded, so two
concurrent transactions can undo each other's committed writes or leak a cancelled
one's partial writes. DynamoDB itself is atomic. Serialising requests here gives the
conformance suite DynamoDB's semantics while the clients still race for real.

Usage: python moto_serial.py HOST PORT
"""

import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Materialise the body inside the lock: the whole request is one step.
            return list(self.app(environ, start_response))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
