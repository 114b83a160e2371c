"""What Fairhour adds to kombu's Redis transport: a fix for a closed connection, and leases.

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
close goes on, the worker reconnects, and the messages wait in Redis for their lease to
lapse (below). tests/integration/test_broker_restart.py reproduces it.

**Leases.** Redis hands a message to a worker and keeps a copy in the unacked set, scored
by when it was handed out; kombu puts back every copy older than the visibility timeout.
Fairhour's timeout is short (30 s), so a killed worker's chunk is queued again within
it, and every worker renews the score of each message it holds, running, waiting in
its pool or held until its countdown, every third of the timeout: a task longer than the
timeout is never handed out twice while its worker lives. docs/architecture.md ("Jobs")
has the design.
"""

import logging
import time
from typing import Any

import redis
from celery import bootsteps
from celery.worker import state
from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

_connparams = kombu_redis.Channel._connparams


def _connparams_of_an_open_connection(self: kombu_redis.Channel, asynchronous: bool = False) -> Any:
    transport = self.connection
    if transport is None or transport.client is None:
        raise redis.exceptions.ConnectionError("The broker connection of this channel was closed.")
    return _connparams(self, asynchronous=asynchronous)


kombu_redis.Channel._connparams = _connparams_of_an_open_connection  # type: ignore[method-assign]


def held_delivery_tags() -> set[str]:
    """The delivery tags of the messages this worker holds: running, reserved or scheduled."""
    requests = {*state.active_requests, *state.reserved_requests, *state.scheduled_requests}
    return {request.message.delivery_tag for request in requests if request.message is not None}


def renew_leases(channel: Any, tags: set[str], now: float | None = None) -> int:
    """Score these messages' unacked copies as handed out now; return how many were renewed.

    Only copies still there (ZADD XX): a message acknowledged or put back meanwhile stays so.
    """
    if not tags:
        return 0
    scores = dict.fromkeys(tags, time.time() if now is None else now)
    with channel.conn_or_acquire() as client:
        return int(client.zadd(channel.unacked_index_key, scores, xx=True, ch=True))


class LeaseRenewal(bootsteps.StartStopStep):
    """A consumer step: renew the leases of the held messages every third of the visibility timeout."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        channel = parent.task_consumer.channel
        if not isinstance(channel, kombu_redis.Channel):
            return  # another transport keeps no leases
        every = max(1.0, channel.visibility_timeout / 3)
        self.renew(channel)  # first, before kombu looks for lapsed ones on a new connection
        self.timer_entry = parent.timer.call_repeatedly(every, self.renew, (channel,), priority=10)

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop

    def renew(self, channel: kombu_redis.Channel) -> None:
        try:
            renew_leases(channel, held_delivery_tags())
        except channel.connection_errors as error:  # Redis away: the consumer reconnects
            logger.warning("Could not renew the leases of the held messages: %r", error)
