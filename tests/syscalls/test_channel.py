"""zx.channel_create, channel_write, channel_read and channel_call: one test per check.

Then what a channel does: messages in order, handles moving between tables (keeping
their object and rights, getting the receiving table's value), PEER_CLOSED, and calls
matched to their replies by transaction id.
"""

from __future__ import annotations

import pytest

from guest_tasks import kill_and_wait, park, start, wait_until
from ipc_support import is_valid, join, koid, rights, signals_of, spawn, wait_for_state
from pyzircon import zx
from support import expect_status, run_guest

NOT_U32 = [None, -1, 1 << 32, 1.0, "0"]
MAX_BYTES = zx.ZX_CHANNEL_MAX_MSG_BYTES
MAX_HANDLES = zx.ZX_CHANNEL_MAX_MSG_HANDLES
INFINITE = zx.ZX_TIME_INFINITE


def reduce(handle: int, dropped: int) -> int:
    """Replace `handle` by one without `dropped` (channels cannot be duplicated)."""
    return zx.handle_replace(handle, rights(handle) & ~dropped)


def events(count: int) -> list[int]:
    return [zx.event_create(0) for _ in range(count)]


# zx.channel_create


def test_create():
    def body():
        first, second = zx.channel_create(0)
        return [zx.object_get_info(end, zx.ZX_INFO_HANDLE_BASIC) for end in (first, second)], [
            signals_of(first),
            signals_of(second),
        ]

    (first, second), signals = run_guest(body)
    for info in (first, second):
        assert info.type == zx.ZX_OBJ_TYPE_CHANNEL
        assert info.rights == zx.ZX_DEFAULT_CHANNEL_RIGHTS
    assert first.related_koid == second.koid
    assert second.related_koid == first.koid
    assert signals == [zx.ZX_CHANNEL_WRITABLE, zx.ZX_CHANNEL_WRITABLE]


@pytest.mark.parametrize("options", [1, 1 << 31, *NOT_U32])
def test_create_bad_options(options):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_create, options))


# zx.channel_write: checks. Every failing write closes the handles it was given.


@pytest.mark.parametrize("handles", [None, 3, "handles"])
def test_write_handles_not_a_sequence(handles):
    def body():
        first, _ = zx.channel_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_write, first, 0, b"x", handles)

    run_guest(body)


@pytest.mark.parametrize("options", [1, 1 << 31, *NOT_U32])
def test_write_bad_options(options):
    def body():
        first, _ = zx.channel_create(0)
        carried = events(2)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_write, first, options, b"x", carried)
        return [is_valid(handle) for handle in carried]

    assert run_guest(body) == [False, False]


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, 0xFFFF_FFFF])
def test_write_bad_handle(value):
    def body():
        carried = events(1)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.channel_write, value, 0, b"x", carried)
        return is_valid(carried[0])

    assert run_guest(body) is False


def test_write_wrong_type():
    def body():
        carried = events(1)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.channel_write, zx.event_create(0), 0, b"", carried)
        return is_valid(carried[0])

    assert run_guest(body) is False


def test_write_needs_write_right():
    def body():
        first, _ = zx.channel_create(0)
        weak = reduce(first, zx.ZX_RIGHT_WRITE)
        carried = events(1)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.channel_write, weak, 0, b"x", carried)
        return is_valid(carried[0])

    assert run_guest(body) is False


@pytest.mark.parametrize("data", [None, "text", 5, [b"a"]])
def test_write_bad_bytes(data):
    def body():
        first, _ = zx.channel_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_write, first, 0, data, [])

    run_guest(body)


def test_write_too_many_bytes():
    def body():
        first, second = zx.channel_create(0)
        carried = events(1)
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.channel_write, first, 0, bytes(MAX_BYTES + 1), carried
        )
        zx.channel_write(first, 0, bytes(MAX_BYTES), [])
        data, _ = zx.channel_read(second, 0, MAX_BYTES, 0)
        return is_valid(carried[0]), len(data)

    assert run_guest(body) == (False, MAX_BYTES)


def test_write_too_many_handles():
    def body():
        first, second = zx.channel_create(0)
        carried = events(MAX_HANDLES + 1)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.channel_write, first, 0, b"", carried)
        closed = not any(is_valid(handle) for handle in carried)
        zx.channel_write(first, 0, b"", events(MAX_HANDLES))
        _, received = zx.channel_read(second, 0, 0, MAX_HANDLES)
        return closed, len(received)

    assert run_guest(body) == (True, MAX_HANDLES)


def test_write_invalid_handle_in_list():
    def body():
        first, second = zx.channel_create(0)
        carried = events(2)
        expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.channel_write, first, 0, b"x", [carried[0], 7, carried[1]]
        )
        expect_status(zx.ZX_ERR_SHOULD_WAIT, zx.channel_read, second, 0, 8, 8)
        return [is_valid(handle) for handle in carried]

    assert run_guest(body) == [False, False]


def test_write_same_handle_twice():
    def body():
        first, _ = zx.channel_create(0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.channel_write, first, 0, b"", [event, event])
        return is_valid(event)

    assert run_guest(body) is False


def test_write_handle_without_transfer_right():
    def body():
        first, _ = zx.channel_create(0)
        event = zx.event_create(0)
        pinned = zx.handle_duplicate(event, zx.ZX_DEFAULT_EVENT_RIGHTS & ~zx.ZX_RIGHT_TRANSFER)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.channel_write, first, 0, b"", [event, pinned])
        return is_valid(event), is_valid(pinned)

    assert run_guest(body) == (False, False)


def test_write_channel_into_itself():
    def body():
        first, _ = zx.channel_create(0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.channel_write, first, 0, b"", [first])
        # Zircon takes the handle out of the table before it checks it.
        return is_valid(first)

    assert run_guest(body) is False


def test_write_first_failure_is_reported():
    def body():
        first, _ = zx.channel_create(0)
        pinned = zx.handle_duplicate(
            zx.event_create(0), zx.ZX_DEFAULT_EVENT_RIGHTS & ~zx.ZX_RIGHT_TRANSFER
        )
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.channel_write, first, 0, b"", [pinned, 7])

    run_guest(body)


def test_write_peer_closed():
    def body():
        first, second = zx.channel_create(0)
        zx.handle_close(second)
        carried = events(1)
        expect_status(zx.ZX_ERR_PEER_CLOSED, zx.channel_write, first, 0, b"x", carried)
        return is_valid(carried[0])

    assert run_guest(body) is False


def test_write_iovec():
    def body():
        first, second = zx.channel_create(0)
        zx.channel_write(first, zx.ZX_CHANNEL_WRITE_USE_IOVEC, [b"ab", bytearray(b"cd"), b""], [])
        return zx.channel_read(second, 0, 16, 0)

    assert run_guest(body) == (b"abcd", [])


def test_write_iovec_limits():
    def body():
        first, _ = zx.channel_create(0)
        iovec = zx.ZX_CHANNEL_WRITE_USE_IOVEC
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_write, first, iovec, b"not a list", [])
        too_many = [b""] * (zx.ZX_CHANNEL_MAX_MSG_IOVECS + 1)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.channel_write, first, iovec, too_many, [])
        too_big = [bytes(MAX_BYTES), b"x"]
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.channel_write, first, iovec, too_big, [])

    run_guest(body)


# zx.channel_read: checks.


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, *NOT_U32])
def test_read_bad_handle(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.channel_read, value, 0, 8, 8))


def test_read_wrong_type():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.channel_read, zx.event_create(0), 0, 8, 8)
    )


def test_read_needs_read_right():
    def body():
        _, second = zx.channel_create(0)
        weak = reduce(second, zx.ZX_RIGHT_READ)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.channel_read, weak, 0, 8, 8)

    run_guest(body)


@pytest.mark.parametrize("options", [2, 1 << 31])
def test_read_bad_options(options):
    def body():
        _, second = zx.channel_create(0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.channel_read, second, options, 8, 8)

    run_guest(body)


@pytest.mark.parametrize(("num_bytes", "num_handles"), [(-1, 0), (0, 1 << 32), (None, 0)])
def test_read_bad_sizes(num_bytes, num_handles):
    def body():
        _, second = zx.channel_create(0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.channel_read, second, 0, num_bytes, num_handles)

    run_guest(body)


def test_read_empty():
    def body():
        _, second = zx.channel_create(0)
        expect_status(zx.ZX_ERR_SHOULD_WAIT, zx.channel_read, second, 0, 8, 8)

    run_guest(body)


def test_read_peer_closed_after_draining():
    def body():
        first, second = zx.channel_create(0)
        zx.channel_write(first, 0, b"last", [])
        zx.handle_close(first)
        signals = signals_of(second)
        message = zx.channel_read(second, 0, 8, 0)
        expect_status(zx.ZX_ERR_PEER_CLOSED, zx.channel_read, second, 0, 8, 8)
        return signals, message, signals_of(second)

    before, message, after = run_guest(body)
    assert before == zx.ZX_CHANNEL_READABLE | zx.ZX_CHANNEL_PEER_CLOSED
    assert message == (b"last", [])
    assert after == zx.ZX_CHANNEL_PEER_CLOSED


def test_read_buffer_too_small_keeps_message():
    def body():
        first, second = zx.channel_create(0)
        zx.channel_write(first, 0, b"12345", events(2))
        small_bytes = expect_status(zx.ZX_ERR_BUFFER_TOO_SMALL, zx.channel_read, second, 0, 4, 2)
        small_handles = expect_status(zx.ZX_ERR_BUFFER_TOO_SMALL, zx.channel_read, second, 0, 8, 1)
        data, handles = zx.channel_read(second, 0, 5, 2)
        return small_bytes.outputs, small_handles.outputs, data, len(handles)

    assert run_guest(body) == ((5, 2), (5, 2), b"12345", 2)


def test_read_may_discard_drops_message():
    def body():
        first, second = zx.channel_create(0)
        carried = zx.event_create(0)
        watcher = zx.handle_duplicate(carried, zx.ZX_RIGHT_SAME_RIGHTS)
        zx.channel_write(first, 0, b"big message", [carried])
        zx.channel_write(first, 0, b"next", [])
        error = expect_status(
            zx.ZX_ERR_BUFFER_TOO_SMALL,
            zx.channel_read,
            second,
            zx.ZX_CHANNEL_READ_MAY_DISCARD,
            4,
            0,
        )
        count = zx.object_get_info(watcher, zx.ZX_INFO_HANDLE_COUNT).handle_count
        return error.outputs, count, zx.channel_read(second, 0, 8, 0)

    outputs, count, message = run_guest(body)
    assert outputs == (11, 1)
    # The dropped message closed the handle it carried.
    assert count == 1
    assert message == (b"next", [])


# zx.channel_read and write: behaviour.


def test_messages_in_order_and_readable_signal():
    def body():
        first, second = zx.channel_create(0)
        for index in range(3):
            zx.channel_write(first, 0, bytes([index]), [])
        readable = signals_of(second)
        received = [zx.channel_read(second, 0, 1, 0)[0] for _ in range(3)]
        return readable, received, signals_of(second)

    readable, received, after = run_guest(body)
    assert readable == zx.ZX_CHANNEL_WRITABLE | zx.ZX_CHANNEL_READABLE
    assert received == [b"\0", b"\1", b"\2"]
    assert after == zx.ZX_CHANNEL_WRITABLE


def test_handle_keeps_object_and_rights():
    def body():
        first, second = zx.channel_create(0)
        event = zx.event_create(0)
        reduced = zx.handle_duplicate(event, zx.ZX_RIGHT_TRANSFER | zx.ZX_RIGHT_WAIT)
        zx.channel_write(first, 0, b"", [reduced])
        moved = is_valid(reduced)
        _, (received,) = zx.channel_read(second, 0, 0, 1)
        return moved, koid(event), koid(received), rights(received)

    moved, original, received_koid, received_rights = run_guest(body)
    assert moved is False
    assert received_koid == original
    assert received_rights == zx.ZX_RIGHT_TRANSFER | zx.ZX_RIGHT_WAIT


def test_handle_gets_receiving_table_value():
    def body():
        box = {}

        def entry(channel, arg2):
            _, handles = zx.channel_read(channel, 0, 0, 1)
            received_koid = koid(handles[0])
            box.update(value=handles[0], koid=received_koid)
            return park(channel, arg2)

        first, second = zx.channel_create(0)
        vmo = zx.vmo_create(4096, 0)
        vmo_koid = koid(vmo)
        zx.channel_write(first, 0, b"", [vmo])
        process, _ = zx.process_create(zx.job_default(), "receiver", 0)
        start(process, entry, second)
        wait_until(lambda: "value" in box)
        table = zx.object_get_info(process, zx.ZX_INFO_HANDLE_TABLE)
        kill_and_wait(process)
        return vmo, vmo_koid, box, [entry.handle_value for entry in table]

    sent_value, sent_koid, box, values = run_guest(body)
    assert box["koid"] == sent_koid
    assert box["value"] in values
    # Another table has another mixer, so the value differs.
    assert box["value"] != sent_value


def test_closing_endpoint_with_messages_closes_their_handles():
    def body():
        first, second = zx.channel_create(0)
        event = zx.event_create(0)
        watcher = zx.handle_duplicate(event, zx.ZX_RIGHT_SAME_RIGHTS)
        zx.channel_write(first, 0, b"", [event])
        before = zx.object_get_info(watcher, zx.ZX_INFO_HANDLE_COUNT).handle_count
        zx.handle_close(second)
        return before, zx.object_get_info(watcher, zx.ZX_INFO_HANDLE_COUNT).handle_count

    assert run_guest(body) == (2, 1)


def test_peer_closed_signal():
    def body():
        first, second = zx.channel_create(0)
        zx.handle_close(first)
        return signals_of(second)

    assert run_guest(body) == zx.ZX_CHANNEL_PEER_CLOSED


def test_read_wakes_waiter_on_readable():
    def body():
        first, second = zx.channel_create(0)
        got = []

        def reader():
            zx.object_wait_one(second, zx.ZX_CHANNEL_READABLE, INFINITE)
            got.append(zx.channel_read(second, 0, 8, 0))

        thread = spawn(reader)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_WAIT_ONE)
        zx.channel_write(first, 0, b"ping", [])
        join(thread)
        return got

    assert run_guest(body) == [(b"ping", [])]


# zx.channel_call: checks.


def serve_one(channel: int, reply: bytes = b"", handles: int = 0) -> None:
    """Read one request and reply with its txid followed by `reply`."""
    zx.object_wait_one(channel, zx.ZX_CHANNEL_READABLE, INFINITE)
    request, _ = zx.channel_read(channel, 0, MAX_BYTES, MAX_HANDLES)
    zx.channel_write(channel, 0, request[:4] + reply, events(handles))


@pytest.mark.parametrize(
    ("wr_bytes", "wr_handles", "rd_bytes", "rd_handles", "deadline"),
    [
        (None, [], 0, 0, INFINITE),
        (b"abcd", None, 0, 0, INFINITE),
        (b"abcd", [], -1, 0, INFINITE),
        (b"abcd", [], 0, 1 << 32, INFINITE),
        (b"abcd", [], 0, 0, None),
    ],
)
def test_call_bad_args(wr_bytes, wr_handles, rd_bytes, rd_handles, deadline):
    def body():
        first, _ = zx.channel_create(0)
        expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.channel_call,
            first,
            0,
            deadline,
            wr_bytes,
            wr_handles,
            rd_bytes,
            rd_handles,
        )

    run_guest(body)


def test_call_bad_options():
    def body():
        first, _ = zx.channel_create(0)
        carried = events(1)
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.channel_call, first, 1, INFINITE, b"abcd", carried, 0, 0
        )
        return is_valid(carried[0])

    assert run_guest(body) is False


def test_call_bad_handle():
    def body():
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.channel_call, 0, 0, INFINITE, b"abcd", [], 0, 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.channel_call, event, 0, INFINITE, b"abcd", [], 0, 0)

    run_guest(body)


@pytest.mark.parametrize("dropped", [zx.ZX_RIGHT_READ, zx.ZX_RIGHT_WRITE])
def test_call_needs_read_and_write_rights(dropped):
    def body():
        first, _ = zx.channel_create(0)
        weak = reduce(first, dropped)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.channel_call, weak, 0, INFINITE, b"abcd", [], 0, 0
        )

    run_guest(body)


def test_call_message_limits():
    def body():
        first, _ = zx.channel_create(0)
        big = bytes(MAX_BYTES + 1)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.channel_call, first, 0, INFINITE, big, [], 0, 0)
        carried = events(MAX_HANDLES + 1)
        expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.channel_call, first, 0, INFINITE, b"abcd", carried, 0, 0
        )
        return any(is_valid(handle) for handle in carried)

    assert run_guest(body) is False


def test_call_needs_txid_room():
    def body():
        first, _ = zx.channel_create(0)
        carried = events(1)
        expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.channel_call, first, 0, INFINITE, b"abc", carried, 0, 0
        )
        return is_valid(carried[0])

    assert run_guest(body) is False


def test_call_bad_handle_in_request():
    def body():
        first, _ = zx.channel_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.channel_call, first, 0, INFINITE, b"abcd", [7], 0, 0)
        expect_status(
            zx.ZX_ERR_NOT_SUPPORTED, zx.channel_call, first, 0, INFINITE, b"abcd", [first], 0, 0
        )

    run_guest(body)


def test_call_peer_closed_before_write():
    def body():
        first, second = zx.channel_create(0)
        zx.handle_close(second)
        carried = events(1)
        expect_status(
            zx.ZX_ERR_PEER_CLOSED, zx.channel_call, first, 0, INFINITE, b"abcd", carried, 0, 0
        )
        return is_valid(carried[0])

    assert run_guest(body) is False


# zx.channel_call: behaviour.


def test_call_round_trip():
    def body():
        client, server = zx.channel_create(0)
        seen = []

        def serve():
            zx.object_wait_one(server, zx.ZX_CHANNEL_READABLE, INFINITE)
            request, handles = zx.channel_read(server, 0, 64, 4)
            seen.append((request, len(handles)))
            zx.channel_write(server, 0, request[:4] + b"pong", events(1))

        thread = spawn(serve)
        reply, handles = zx.channel_call(client, 0, INFINITE, b"....ping", events(2), 64, 4)
        join(thread)
        return seen[0], reply, len(handles), signals_of(client)

    (request, request_handles), reply, reply_handles, signals = run_guest(body)
    txid = int.from_bytes(request[:4], "little")
    assert txid >= 0x8000_0000
    assert request[4:] == b"ping"
    assert request_handles == 2
    assert reply == request[:4] + b"pong"
    assert reply_handles == 1
    # The reply went to the caller, not into the endpoint's queue.
    assert not signals & zx.ZX_CHANNEL_READABLE


def test_call_other_messages_go_to_queue():
    def body():
        client, server = zx.channel_create(0)

        def serve():
            zx.object_wait_one(server, zx.ZX_CHANNEL_READABLE, INFINITE)
            request, _ = zx.channel_read(server, 0, 64, 0)
            zx.channel_write(server, 0, b"\0\0\0\0unrelated", [])
            zx.channel_write(server, 0, request[:4] + b"reply", [])

        thread = spawn(serve)
        reply, _ = zx.channel_call(client, 0, INFINITE, b"....", [], 64, 0)
        join(thread)
        return reply[4:], zx.channel_read(client, 0, 64, 0)[0]

    assert run_guest(body) == (b"reply", b"\0\0\0\0unrelated")


def test_call_times_out():
    def body():
        client, server = zx.channel_create(0)
        deadline = zx.deadline_after(1_000_000)
        expect_status(zx.ZX_ERR_TIMED_OUT, zx.channel_call, client, 0, deadline, b"abcd", [], 8, 0)
        # The request stays queued for the server.
        request, _ = zx.channel_read(server, 0, 8, 0)
        return zx.clock_get_monotonic() >= deadline, len(request)

    assert run_guest(body) == (True, 4)


def test_call_peer_closes_during_wait():
    def body():
        client, server = zx.channel_create(0)

        def close_server():
            zx.object_wait_one(server, zx.ZX_CHANNEL_READABLE, INFINITE)
            zx.handle_close(server)

        thread = spawn(close_server)
        expect_status(
            zx.ZX_ERR_PEER_CLOSED, zx.channel_call, client, 0, INFINITE, b"abcd", [], 8, 0
        )
        join(thread)

    run_guest(body)


def test_call_canceled_when_handle_closed():
    def body():
        client, server = zx.channel_create(0)
        errors = []

        def call():
            try:
                zx.channel_call(client, 0, INFINITE, b"abcd", [], 8, 0)
            except zx.ZxError as error:
                errors.append(error.status)

        thread = spawn(call)
        wait_for_state(thread, zx.ZX_THREAD_STATE_BLOCKED_CHANNEL)
        zx.handle_close(client)
        join(thread)
        return errors

    assert run_guest(body) == [zx.ZX_ERR_CANCELED]


def test_call_reply_too_big():
    def body():
        client, server = zx.channel_create(0)
        thread = spawn(lambda: serve_one(server, b"long reply", handles=1))
        error = expect_status(
            zx.ZX_ERR_BUFFER_TOO_SMALL, zx.channel_call, client, 0, INFINITE, b"abcd", [], 8, 1
        )
        join(thread)
        # The reply is dropped, not queued.
        expect_status(zx.ZX_ERR_SHOULD_WAIT, zx.channel_read, client, 0, 64, 4)
        return error.outputs

    assert run_guest(body) is None


@pytest.mark.parametrize("seed", range(4))
def test_concurrent_calls_get_their_own_replies(seed):
    def body():
        client, server = zx.channel_create(0)
        replies = {}

        def call(index):
            reply, _ = zx.channel_call(client, 0, INFINITE, b"...." + bytes([index]), [], 64, 0)
            replies[index] = reply[4:]

        callers = [spawn(lambda index=index: call(index)) for index in range(4)]

        def serve():
            for _ in range(4):
                zx.object_wait_one(server, zx.ZX_CHANNEL_READABLE, INFINITE)
                request, _ = zx.channel_read(server, 0, 64, 0)
                zx.channel_write(server, 0, request[:4] + b"re" + request[4:], [])

        server_thread = spawn(serve)
        for thread in [*callers, server_thread]:
            join(thread)
        return replies

    replies = run_guest(body, seed=seed)
    assert replies == {index: b"re" + bytes([index]) for index in range(4)}
