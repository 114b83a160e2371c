"""What Fairhour adds to kombu's Redis transport: a fix for a closed connection.

**A channel whose connection was closed fails as a lost connection** (kombu 5.7.0, Celery
5.7.0). When Redis goes away, the worker's consumer collects the broken connection, then
closes it (`Consumer.on_connection_error_after_connected`). Collecting can stop half-way:
the task channel's close stops at its BRPOP in flight, and the transport's close of its
channels at the remote-control channel's fanout binding, both for want of Redis; then the
transport forgets its connection (`transport.client = None`). The close that follows
closes the task channel again, which restores its unacknowledged messages through a new
connection pool, built from `transport.client.hostname`: an AttributeError, which Celery
takes for an unrecoverable error, and the worker exits (kombu #582 and #970 are the same
error on older paths). A late acknowledgement on that channel fails the same way. Raised
as a ConnectionError instead, both are what kombu and Celery expect of a lost broker: the
close goes on, the worker reconnects, and the messages wait in Redis to be handed out
again. tests/integration/test_broker_restart.py reproduces it.
"""

from typing import Any

import redis
from kombu.transport import redis as kombu_redis

_connparams = kombu_redis.Channel._connparams


def _connparams_of_an_open_connection(self: kombu_redis.Channel, asynchronous: bool = False) -> Any:
    transport = self.connection
    if transport is None or transport.client is None:
        raise redis.exceptions.ConnectionError("The broker connection of this channel was closed.")
    return _connparams(self, asynchronous=asynchronous)


kombu_redis.Channel._connparams = _connparams_of_an_open_connection  # type: ignore[method-assign]
