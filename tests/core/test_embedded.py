"""The embedded Redis: started once, found again, and reachable from a deep checkout."""

import redis

from core.embedded import MAX_SOCKET_PATH, start_redis, stop_redis


def _answers(socket_path) -> bool:
    return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())


def test_a_started_redis_is_found_again_not_started_twice(tmp_path):
    # given a Redis started in a folder
    folder = tmp_path / "redis"
    socket_path = start_redis(folder)
    try:
        pid = (folder / "redis.pid").read_text()
        # when it is asked for again
        again = start_redis(folder)
        # then the same server answers on the same socket
        assert again == socket_path and _answers(socket_path)
        assert (folder / "redis.pid").read_text() == pid
    finally:
        stop_redis(folder)


def test_a_checkout_too_deep_for_a_socket_path_gets_a_short_one(tmp_path):
    # given a folder whose socket path would not fit a Unix socket's 108 bytes
    folder = tmp_path / ("deep-" * 20) / "redis"
    assert len(str(folder / "redis.sock")) > MAX_SOCKET_PATH
    # when Redis is started there
    socket_path = start_redis(folder)
    try:
        # then it listens on a short path of its own, and answers
        assert len(str(socket_path)) <= MAX_SOCKET_PATH
        assert _answers(socket_path)
    finally:
        stop_redis(folder)
