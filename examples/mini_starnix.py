"""A tiny Starnix: a Python supervisor runs x86-64 guests in restricted mode.

The supervisor is a prototype process (ZX_PROCESS_SHARED), and each guest task is a
member of its group. The guest's machine code and stack live in the member's restricted
part. A supervisor thread inside the member runs the guest with zx.restricted_enter and
serves its Linux syscalls (write and exit) each time the guest comes back. The task table lives in
the shared part, where every member's supervisor thread can update it.

What it shows:
- `hello` writes a greeting with the Linux `write` syscall and exits with status 0;
- `snoop` reads the address where `hello` keeps its secret and finds only its own, then
  tries to read the supervisor's shared memory from restricted mode and faults:
  restricted mode can reach only its own restricted part;
- `snoop`'s fault handler leaves it spinning in guest code, and a watchdog thread ends
  the spin with zx.restricted_kick after a while of virtual time.

Run it with `pyzircon run examples/mini_starnix.py`. It needs the x86_64 machine (the
default), because restricted mode runs x86-64 code.
"""

import struct
from pathlib import Path

from pyzircon import Kernel, user, zx
from pyzircon.tools.assemble import load_blob

GUEST = load_blob(Path(__file__).parent / "guests" / "mini_starnix.S")
PAGE = 4096
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
# The vector table address: the kernel would jump there when restricted mode exits.
# Any user address will do.
VECTOR = 0x200000

LINUX_WRITE = 1
LINUX_EXIT = 60
LINUX_EXIT_GROUP = 231
LINUX_EBADF = 9
LINUX_ENOSYS = 38
# Exit status of a task killed by a signal: 128 + the signal number.
EXIT_SIGSEGV = 128 + 11
EXIT_SIGKILL = 128 + 9

# The task table in the shared part: one record per task.
TASK_RECORD = struct.Struct("<16sqqq")  # name, exit status, bytes written, syscalls
TASK_RUNNING = -1
WATCHDOG_NS = 5_000_000


def task_record_address(table: int, index: int) -> int:
    return table + index * TASK_RECORD.size


def update_task(table: int, index: int, name: str, status: int, written: int, calls: int) -> None:
    record = TASK_RECORD.pack(name.encode()[:16], status, written, calls)
    user.store(task_record_address(table, index), record)


def serve_task(
    index: int, name: str, entry: str, table: int, code: int, stack: int, private: int
) -> None:
    """Run one guest task to its end, serving its syscalls; runs inside the member."""
    state_vmo = zx.restricted_bind_state(0)
    state = zx.RestrictedState(ip=code + GUEST.symbols[entry], rsp=stack + PAGE)
    # `snoop` reads the private address (where the other task keeps its secret) and
    # then probes the supervisor's task table, in the shared part.
    state.r12 = private
    state.rbx = table
    written = calls = 0
    # Output is line-buffered per task, as a terminal shows it.
    pending = ""
    update_task(table, index, name, TASK_RUNNING, written, calls)

    while True:
        zx.vmo_write(state_vmo, state.to_bytes(), 0)
        reason = zx.restricted_enter(0, VECTOR, 0)
        data = zx.vmo_read(state_vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0)
        state = zx.RestrictedState.from_bytes(data)

        if reason == zx.ZX_RESTRICTED_REASON_SYSCALL:
            calls += 1
            number = state.rax
            if number == LINUX_WRITE:
                fd, buffer, count = state.rdi, state.rsi, state.rdx
                if fd in (1, 2):
                    # Normal mode can access the restricted part: the guest's buffer is here.
                    pending += user.load(buffer, count).decode(errors="replace")
                    *lines, pending = pending.split("\n")
                    for line in lines:
                        print(f"[{name}] {line}")
                    written += count
                    state.rax = count
                else:
                    state.rax = -LINUX_EBADF & 0xFFFF_FFFF_FFFF_FFFF
            elif number in (LINUX_EXIT, LINUX_EXIT_GROUP):
                if pending:
                    print(f"[{name}] {pending}")
                update_task(table, index, name, state.rdi & 0xFF, written, calls)
                return
            else:
                state.rax = -LINUX_ENOSYS & 0xFFFF_FFFF_FFFF_FFFF
        elif reason == zx.ZX_RESTRICTED_REASON_EXCEPTION:
            if pending:
                print(f"[{name}] {pending}")
                pending = ""
            report = zx.read_exception_report(data)
            print(
                f"[{name}] fault: exception type {report.type:#x} at {report.cr2:#x} "
                f"(ip {state.ip:#x}); restricted mode cannot see the shared part"
            )
            # A real kernel would deliver SIGSEGV; this one's handler spins until killed.
            state.ip = code + GUEST.symbols["spin"]
        elif reason == zx.ZX_RESTRICTED_REASON_KICK:
            print(f"[{name}] kicked out of a spinning guest; ending the task")
            update_task(table, index, name, EXIT_SIGKILL, written, calls)
            return
        update_task(table, index, name, TASK_RUNNING, written, calls)


def load_task(restricted_vmar: int) -> tuple[int, int, int]:
    """Map the guest code, a stack and a private data page; return their addresses."""
    code_vmo = zx.vmo_create(PAGE, 0)
    zx.vmo_write(code_vmo, GUEST.code, 0)
    code_vmo = zx.vmo_replace_as_executable(code_vmo, zx.ZX_HANDLE_INVALID)
    code = zx.vmar_map(restricted_vmar, RX, 0, code_vmo, 0, PAGE)
    stack = zx.vmar_map(restricted_vmar, RW, 0, zx.vmo_create(PAGE, 0), 0, PAGE)
    private = zx.vmar_map(restricted_vmar, RW, 0, zx.vmo_create(PAGE, 0), 0, PAGE)
    return code, stack, private


def main() -> int:
    try:
        zx.restricted_unbind_state(0)
    except zx.ZxError as error:
        print(f"mini_starnix needs an x86_64 machine (pyzircon run --arch x86_64): {error}")
        return 1

    supervisor, shared_vmar = zx.process_create(zx.job_default(), "starnix", zx.ZX_PROCESS_SHARED)
    table_vmo = zx.vmo_create(PAGE, 0)
    zx.object_set_property(table_vmo, zx.ZX_PROP_NAME, "task-table")
    table = zx.vmar_map(shared_vmar, RW, 0, table_vmo, 0, PAGE)

    tasks = [("hello", "hello"), ("snoop", "snoop")]
    loaded = []
    for name, _ in tasks:
        member, restricted_vmar = zx.process_create_shared(supervisor, 0, name)
        code, stack, private = load_task(restricted_vmar)
        # Each task's private page contains its own secret, at the same address in both.
        zx.process_write_memory(member, private, f"secret of {name}".encode())
        loaded.append((member, code, stack, private))

    print("the supervisor reads the same private address in each task:")
    for (name, _), (member, _, _, private) in zip(tasks, loaded, strict=True):
        secret = zx.process_read_memory(member, private, 16).rstrip(b"\0")
        print(f"  {name} at {private:#x}: {secret.decode()!r}")

    members = []
    for index, ((name, entry), (member, code, stack, private)) in enumerate(
        zip(tasks, loaded, strict=True)
    ):

        def run_task(
            arg1: int,
            arg2: int,
            index: int = index,
            name: str = name,
            entry: str = entry,
            code: int = code,
            stack: int = stack,
            private: int = private,
        ) -> int:
            serve_task(index, name, entry, table, code, stack, private)
            return 0

        thread = zx.thread_create(member, "supervisor", 0)
        zx.process_start(member, thread, run_task, 0, zx.ZX_HANDLE_INVALID, 0)
        members.append((member, thread))

    # The watchdog: after a while of virtual time, kick every task's thread. A kick
    # reaches a spinning guest at once and is latched by a thread in normal mode.
    deadline = zx.deadline_after(WATCHDOG_NS)
    while zx.clock_get_monotonic() < deadline:
        zx.nanosleep(zx.deadline_after(100_000))
    for member, thread in members:
        if not zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags & (
            zx.ZX_INFO_PROCESS_FLAG_EXITED
        ):
            zx.restricted_kick(thread, 0)
    for member, _ in members:
        while not zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags & (
            zx.ZX_INFO_PROCESS_FLAG_EXITED
        ):
            zx.nanosleep(zx.deadline_after(100_000))

    print("task table, read from the shared part:")
    statuses = []
    for index, _ in enumerate(tasks):
        record = zx.process_read_memory(supervisor, task_record_address(table, index), 40)
        raw_name, status, written, calls = TASK_RECORD.unpack(record)
        name = raw_name.rstrip(b"\0").decode()
        print(f"  {name:<6} exit status {status:<4} bytes written {written:<3} syscalls {calls}")
        statuses.append(status)
    return 0 if statuses == [0, EXIT_SIGKILL] else 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
