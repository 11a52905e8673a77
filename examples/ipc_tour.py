"""Channels, ports, futexes and virtual time between processes.

1. A server process gets one end of a channel when it starts and replies to each
   request with its transaction id. The client's zx.channel_call blocks until the reply
   with the id the kernel gave its request comes back.
2. A port watches the server with zx.object_wait_async and gets a packet when the server
   exits after the client closes its end (ZX_CHANNEL_PEER_CLOSED).
3. Two members of a shared group meet on a futex in the shared part: one waits, the other
   stores a new value and wakes it.
4. Sleeping never waits for the host clock: the virtual clock jumps to the deadline.

Run it with `pyzircon run examples/ipc_tour.py`.
"""

from pyzircon import Kernel, user, zx

INFINITE = zx.ZX_TIME_INFINITE
SERVER_DONE_KEY = 7


def server(channel: int, arg2: int) -> int:
    """Reply to each request with its txid and the request in upper case."""
    while True:
        signals = zx.object_wait_one(
            channel, zx.ZX_CHANNEL_READABLE | zx.ZX_CHANNEL_PEER_CLOSED, INFINITE
        )
        if not signals & zx.ZX_CHANNEL_READABLE:
            return 0
        request, _handles = zx.channel_read(channel, 0, 64, 0)
        zx.channel_write(channel, 0, request[:4] + request[4:].upper(), [])


def channels_and_ports() -> None:
    client, remote = zx.channel_create(0)
    process, _vmar = zx.process_create(zx.job_default(), "server", 0)
    thread = zx.thread_create(process, "server-main", 0)
    zx.process_start(process, thread, server, 0, remote, 0)

    for word in (b"ping", b"hello", b"zircon"):
        reply, _handles = zx.channel_call(client, 0, INFINITE, b"\0\0\0\0" + word, [], 64, 0)
        txid = int.from_bytes(reply[:4], "little")
        print(
            f"call {word.decode()!r}: reply {reply[4:].decode()!r}, kernel txid >= 0x80000000: "
            f"{txid >= 0x8000_0000}"
        )

    port = zx.port_create(0)
    zx.object_wait_async(process, port, SERVER_DONE_KEY, zx.ZX_PROCESS_TERMINATED, 0)
    zx.handle_close(client)
    packet = zx.port_wait(port, INFINITE)
    print(
        f"port packet: key {packet.key}, server terminated: "
        f"{bool(packet.signal.observed & zx.ZX_PROCESS_TERMINATED)}"
    )


def shared_futex() -> None:
    page = zx.system_get_page_size()
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    waiting, _ = zx.process_create_shared(proto, 0, "waiting")
    waking, _ = zx.process_create_shared(proto, 0, "waking")
    vmo = zx.vmo_create(page, 0)
    word = zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE, 0, vmo, 0, page)
    seen = []

    def wait_for_flag(arg1: int, arg2: int) -> int:
        while user.load(word, 4) == bytes(4):
            try:
                zx.futex_wait(word, 0, zx.ZX_HANDLE_INVALID, INFINITE)
            except zx.ZxError as error:
                # The other member set the flag before this thread went to sleep.
                assert error.status == zx.ZX_ERR_BAD_STATE
        seen.append(int.from_bytes(user.load(word, 4), "little"))
        return 0

    def set_flag(arg1: int, arg2: int) -> int:
        user.store(word, (42).to_bytes(4, "little"))
        zx.futex_wake(word, 1)
        return 0

    for process, entry in ((waiting, wait_for_flag), (waking, set_flag)):
        thread = zx.thread_create(process, "main", 0)
        zx.process_start(process, thread, entry, 0, zx.ZX_HANDLE_INVALID, 0)
    zx.object_wait_one(waiting, zx.ZX_PROCESS_TERMINATED, INFINITE)
    print(f"futex: the waiting member saw {seen[0]} stored by the other member")


def virtual_time() -> None:
    before = zx.clock_get_monotonic()
    zx.nanosleep(zx.deadline_after(3_600 * 1_000_000_000))
    hours = (zx.clock_get_monotonic() - before) / 3_600e9
    print(f"slept {hours:.0f} hour of virtual time")


def main() -> int:
    channels_and_ports()
    shared_futex()
    virtual_time()
    return 0


if __name__ == "__main__":
    Kernel(seed=0).run(main)
