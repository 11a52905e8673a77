"""A shared group to look at: a supervisor, guest tasks and their memory.

The supervisor is a prototype (ZX_PROCESS_SHARED). Its shared part holds a task table
and, in a sub-VMAR of its own, a heap. Three guest tasks are members of its group, each
with code, a stack and a heap in its restricted part. A fourth task, `true`, exits with
status 3 at once. Each task's thread writes its stack and heap, marks itself ready in the
task table and then waits for work that never comes, so the tasks are still alive when
main() returns.

The program prints the job tree and one task's address space with `pyzircon.debug`,
in the middle of the run. The command-line options show the same at exit:

    pyzircon run examples/inspect_group.py --dump ps --dump vmaps:shell --dump handles:shell
    pyzircon run examples/inspect_group.py --map group.svg
    pyzircon run examples/inspect_group.py --trace-json group.json   # open it in Perfetto

docs/inspect.md walks through the output.
"""

from collections.abc import Callable

from pyzircon import Kernel, debug, user, zx

PAGE = 4096
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
# (name, heap pages) of the tasks that stay alive.
TASKS = (("init", 4), ("shell", 16), ("daemon", 1))
TRUE_EXIT_STATUS = 3


def named_vmo(name: str, pages: int) -> int:
    vmo = zx.vmo_create(pages * PAGE, 0)
    zx.object_set_property(vmo, zx.ZX_PROP_NAME, name)
    return vmo


def make_task(index: int, table: int, stack: int, heap: int) -> Callable[[int, int], int]:
    """Return the entry of task `index`: write memory, report ready, wait for work."""

    def task(arg1: int, arg2: int) -> int:
        user.store(stack + PAGE - 16, b"return address")
        user.store(heap, b"task data " * 100)
        user.store(table + index, b"\x01")
        zx.nanosleep(zx.ZX_TIME_INFINITE)
        return 0

    return task


def exit_at_once(arg1: int, arg2: int) -> int:
    return TRUE_EXIT_STATUS


def load_task(supervisor: int, name: str, heap_pages: int) -> tuple[int, int, int, int]:
    """Create a member with code, a stack and a heap; return (process, code, stack, heap)."""
    member, restricted_vmar = zx.process_create_shared(supervisor, 0, name)
    code_vmo = zx.vmo_replace_as_executable(named_vmo(f"{name}-code", 2), zx.ZX_HANDLE_INVALID)
    code = zx.vmar_map(restricted_vmar, RX, 0, code_vmo, 0, 2 * PAGE)
    stack = zx.vmar_map(restricted_vmar, RW, 0, named_vmo(f"{name}-stack", 4), 0, 4 * PAGE)
    heap = zx.vmar_map(
        restricted_vmar, RW, 0, named_vmo(f"{name}-heap", heap_pages), 0, heap_pages * PAGE
    )
    return member, code, stack, heap


def main() -> int:
    supervisor, shared_vmar = zx.process_create(
        zx.job_default(), "supervisor", zx.ZX_PROCESS_SHARED
    )
    table_vmo = named_vmo("task-table", 1)
    table = zx.vmar_map(shared_vmar, RW, 0, table_vmo, 0, PAGE)
    heap_vmar, _ = zx.vmar_allocate(
        shared_vmar, zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE, 0, 64 * PAGE
    )
    heap_vmo = named_vmo("supervisor-heap", 16)
    zx.vmar_map(heap_vmar, RW, 0, heap_vmo, 0, 16 * PAGE)
    # This program runs in its own process, so it writes the group's memory through VMOs.
    zx.vmo_write(heap_vmo, b"supervisor state", 0)

    members = {}
    for index, (name, heap_pages) in enumerate(TASKS):
        member, _code, stack, heap = load_task(supervisor, name, heap_pages)
        thread = zx.thread_create(member, "task", 0)
        entry = make_task(index, table, stack, heap)
        zx.process_start(member, thread, entry, 0, zx.ZX_HANDLE_INVALID, 0)
        members[name] = member

    short_lived, _ = zx.process_create_shared(supervisor, 0, "true")
    thread = zx.thread_create(short_lived, "task", 0)
    zx.process_start(short_lived, thread, exit_at_once, 0, zx.ZX_HANDLE_INVALID, 0)

    # Wait, in virtual time, until every long-lived task has marked itself ready.
    while zx.vmo_read(table_vmo, len(TASKS), 0) != b"\x01" * len(TASKS):
        zx.nanosleep(zx.deadline_after(1000))
    while not zx.object_get_info(short_lived, zx.ZX_INFO_PROCESS).flags & (
        zx.ZX_INFO_PROCESS_FLAG_EXITED
    ):
        zx.nanosleep(zx.deadline_after(1000))

    print("the job tree while the tasks wait for work:")
    debug.dump("ps")
    print()
    print("the address space of the shell task:")
    debug.dump("vmaps", members["shell"])
    return 0


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
