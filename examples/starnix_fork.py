"""Fork a Linux task the way Starnix does: copy-on-write snapshots of its private memory.

The supervisor is a prototype process (ZX_PROCESS_SHARED), and each Linux task is a
member of its group. A task's code, stack and heap live in its member's restricted part;
the task table lives in the shared part, which every member sees at the same address.

The guest counts once and calls Linux `fork`. The supervisor thread serving the syscall
creates a new member of the same group and gives it a ZX_VMO_CHILD_SNAPSHOT child of
each private VMO, mapped at the same address. The executable code VMO is mapped as it
is. Both tasks then count again and mark their note, each in its own copy of the heap.
Only the heap page they write is copied. The other heap pages stay shared until the
child's memory is released, and both tasks' records land in the one shared task table.

Run it with `pyzircon run examples/starnix_fork.py`. It needs the x86_64 machine (the
default), because restricted mode runs x86-64 code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

from pyzircon import Kernel, user, zx
from pyzircon.tools.assemble import load_blob

GUEST = load_blob(Path(__file__).parent / "guests" / "starnix_fork.S")
PAGE = 4096
HEAP_PAGES = 4
NOTE_OFFSET = 8
NOTE_SIZE = 32
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
# The vector table address: the kernel would jump there when restricted mode exits.
# Any user address will do.
VECTOR = 0x200000

LINUX_WRITE = 1
LINUX_FORK = 57
LINUX_EXIT = 60
LINUX_ENOSYS = 38
# Exit status of a task killed by a signal: 128 + the signal number.
EXIT_SIGSEGV = 128 + 11

# The task table in the shared part: name, pid, exit status, and the heap pages that the
# task still shared when it exited after its children (-1 for a task without children).
TASK_RECORD = struct.Struct("<16sqqq")
TASK_RUNNING = -1


@dataclass
class Task:
    """A Linux task: its member process and the handles the supervisor keeps for it.

    The handles live in the group's handle table, so any member's thread can use them.
    """

    pid: int
    name: str
    process: int
    restricted_vmar: int
    code: int
    code_vmo: int
    heap: int
    heap_vmo: int
    # (address, size, VMO handle) of each private mapping, copied on fork.
    private: list[tuple[int, int, int]]
    table: int
    children: list[Task] = field(default_factory=list)


def record_address(table: int, pid: int) -> int:
    return table + (pid - 1) * TASK_RECORD.size


def update_record(task: Task, status: int, shared_pages: int = -1) -> None:
    record = TASK_RECORD.pack(task.name.encode()[:16], task.pid, status, shared_pages)
    # The table is in the shared part, which a member's normal mode can write.
    user.store(record_address(task.table, task.pid), record)


def heap_pages(vmo: int) -> tuple[int, int, float]:
    """Return the heap pages a VMO sees, those private to it, and its scaled share."""
    info = zx.object_get_info(vmo, zx.ZX_INFO_VMO)
    scaled = info.populated_scaled_bytes + info.populated_fractional_scaled_bytes / (1 << 63)
    return info.populated_bytes // PAGE, info.populated_private_bytes // PAGE, scaled / PAGE


def print_heap(task: Task) -> None:
    seen, private, scaled = heap_pages(task.heap_vmo)
    print(f"  {task.name:<5} heap: sees {seen} pages, {private} private, {scaled:.1f} scaled")


def load_init(restricted_vmar: int, table: int) -> Task:
    """Map the guest code, a stack and a heap into the first task's restricted part."""
    code_vmo = zx.vmo_create(PAGE, 0)
    zx.vmo_write(code_vmo, GUEST.code, 0)
    code_vmo = zx.vmo_replace_as_executable(code_vmo, zx.ZX_HANDLE_INVALID)
    code = zx.vmar_map(restricted_vmar, RX, 0, code_vmo, 0, PAGE)

    stack_vmo = zx.vmo_create(PAGE, 0)
    stack = zx.vmar_map(restricted_vmar, RW, 0, stack_vmo, 0, PAGE)
    heap_vmo = zx.vmo_create(HEAP_PAGES * PAGE, 0)
    zx.object_set_property(heap_vmo, zx.ZX_PROP_NAME, "heap")
    heap = zx.vmar_map(restricted_vmar, RW, 0, heap_vmo, 0, HEAP_PAGES * PAGE)

    # Normal mode can write the restricted part: fill the heap before the guest runs.
    user.store(heap + NOTE_OFFSET, b"?: note written before the fork")
    for page in range(1, HEAP_PAGES):
        user.store(heap + page * PAGE, f"heap page {page}".encode())

    private = [(stack, PAGE, stack_vmo), (heap, HEAP_PAGES * PAGE, heap_vmo)]
    return Task(
        1,
        "init",
        zx.process_self(),
        restricted_vmar,
        code,
        code_vmo,
        heap,
        heap_vmo,
        private,
        table,
    )


def fork(parent: Task, state: zx.RestrictedState) -> Task:
    """Create the child task; its thread starts where the parent's fork returns, with 0."""
    pid = parent.pid + len(parent.children) + 1
    process, restricted_vmar = zx.process_create_shared(parent.process, 0, "child")
    base = zx.object_get_info(restricted_vmar, zx.ZX_INFO_VMAR).base
    assert base == zx.object_get_info(parent.restricted_vmar, zx.ZX_INFO_VMAR).base

    # Code is read-only and executable, so both tasks map the same VMO.
    specific = zx.ZX_VM_SPECIFIC
    zx.vmar_map(restricted_vmar, RX | specific, parent.code - base, parent.code_vmo, 0, PAGE)

    # Private memory: a snapshot child at the same address. No page is copied here.
    private = []
    for address, size, vmo in parent.private:
        copy = zx.vmo_create_child(vmo, zx.ZX_VMO_CHILD_SNAPSHOT, 0, size)
        zx.vmar_map(restricted_vmar, RW | specific, address - base, copy, 0, size)
        private.append((address, size, copy))
    heap_vmo = next(vmo for address, _, vmo in private if address == parent.heap)

    child = Task(
        pid,
        "child",
        process,
        restricted_vmar,
        parent.code,
        parent.code_vmo,
        parent.heap,
        heap_vmo,
        private,
        parent.table,
    )
    parent.children.append(child)

    child_state = replace(state, rax=0)
    thread = zx.thread_create(process, "supervisor", 0)

    def run_child(_arg1: int, _arg2: int) -> int:
        serve(child, child_state)
        return 0

    zx.process_start(process, thread, run_child, 0, zx.ZX_HANDLE_INVALID, 0)
    return child


def finish(task: Task, status: int) -> None:
    """Record the task's exit; a parent first waits for its children and reports memory."""
    if not task.children:
        update_record(task, status)
        return

    for child in task.children:
        zx.object_wait_one(child.process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
    print(f"[{task.name}] children exited; heap memory before their memory is released:")
    for each in (task, *task.children):
        print_heap(each)
    seen, private, _ = heap_pages(task.heap_vmo)
    shared_pages = seen - private

    for child in task.children:
        raw_name, pid, child_status, _ = TASK_RECORD.unpack(
            user.load(record_address(task.table, child.pid), TASK_RECORD.size)
        )
        name = raw_name.rstrip(b"\0").decode()
        print(f"[{task.name}] the shared task table shows {name} (pid {pid}) exited {child_status}")
        # Reaping the child releases its private memory: close its snapshot VMOs.
        for _, _, vmo in child.private:
            zx.handle_close(vmo)
    print(f"[{task.name}] after releasing the children's memory:")
    print_heap(task)
    update_record(task, status, shared_pages)


def serve(task: Task, state: zx.RestrictedState) -> None:
    """Run one task's guest to its end, serving its Linux syscalls."""
    state_vmo = zx.restricted_bind_state(0)
    update_record(task, TASK_RUNNING)
    while True:
        zx.vmo_write(state_vmo, state.to_bytes(), 0)
        reason = zx.restricted_enter(0, VECTOR, 0)
        data = zx.vmo_read(state_vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0)
        state = zx.RestrictedState.from_bytes(data)

        if reason != zx.ZX_RESTRICTED_REASON_SYSCALL:
            report = zx.read_exception_report(data)
            print(f"[{task.name}] fault: exception type {report.type:#x} at {state.ip:#x}")
            finish(task, EXIT_SIGSEGV)
            return

        number = state.rax
        if number == LINUX_FORK:
            child = fork(task, state)
            print(f"[{task.name}] fork: pid {child.pid} gets snapshots of the stack and heap")
            state.rax = child.pid
        elif number == LINUX_WRITE:
            # Normal mode can read the restricted part: the guest's buffer is here.
            text = user.load(state.rsi, state.rdx).rstrip(b"\0").decode(errors="replace")
            print(f"[{task.name}] {text}")
            state.rax = state.rdx
        elif number == LINUX_EXIT:
            finish(task, state.rdi & 0xFF)
            return
        else:
            state.rax = -LINUX_ENOSYS & 0xFFFF_FFFF_FFFF_FFFF


def main() -> int:
    try:
        zx.restricted_unbind_state(0)
    except zx.ZxError as error:
        print(f"starnix_fork needs an x86_64 machine (pyzircon run --arch x86_64): {error}")
        return 1

    supervisor, shared_vmar = zx.process_create(zx.job_default(), "starnix", zx.ZX_PROCESS_SHARED)
    table_vmo = zx.vmo_create(PAGE, 0)
    zx.object_set_property(table_vmo, zx.ZX_PROP_NAME, "task-table")
    table = zx.vmar_map(shared_vmar, RW, 0, table_vmo, 0, PAGE)

    init, restricted_vmar = zx.process_create_shared(supervisor, 0, "init")

    def run_init(arg1: int, _arg2: int) -> int:
        # arg1 is the restricted VMAR handle, moved into the group's handle table.
        task = load_init(arg1, table)
        serve(task, zx.RestrictedState(ip=task.code + GUEST.symbols["task"], r12=task.heap))
        return 0

    thread = zx.thread_create(init, "supervisor", 0)
    zx.process_start(init, thread, run_init, 0, restricted_vmar, 0)
    zx.object_wait_one(init, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)

    print("task table, read from the shared part through the supervisor:")
    records = []
    for pid in (1, 2):
        data = zx.process_read_memory(supervisor, record_address(table, pid), TASK_RECORD.size)
        raw_name, _, status, shared_pages = TASK_RECORD.unpack(data)
        name = raw_name.rstrip(b"\0").decode()
        print(f"  pid {pid} {name:<5} exit status {status:<4} shared heap pages {shared_pages}")
        records.append((name, status, shared_pages))
    # init counted 1 + 10, the child 1 + 100; they shared every heap page but the first.
    expected = [("init", 11, HEAP_PAGES - 1), ("child", 101, -1)]
    return 0 if records == expected else 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
