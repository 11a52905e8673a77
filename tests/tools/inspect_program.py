"""The fixed program behind the golden dumps: a shared group, a child job, tasks in every state.

`main()` leaves, when it returns:
- a child job "services" holding a regular process "logger" with one running thread and
  one thread created but never started;
- a shared group: the prototype "supervisor" (never started) with a task table and a
  sub-VMAR holding a heap in the shared part, and the members "alpha" and "beta", each
  with code, stack and a nested sub-VMAR in its restricted part, their threads parked;
- a member "gamma" that exited with return code 7, still named by a handle;
- a duplicated VMO handle with reduced rights, and an event handle that "alpha" was
  started with, which lives in the group's shared handle table.

Every helper thread writes memory before it parks, so committed bytes are not all zero.
"""

from __future__ import annotations

from pyzircon import user, zx

PAGE = 4096
R = zx.ZX_VM_PERM_READ
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
CAN_MAP_RW = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE
GAMMA_RETURN_CODE = 7
MEMBERS = ("alpha", "beta")

# What main() learned, for tests that need handles or addresses after the run.
facts: dict[str, int] = {}


def named_vmo(name: str, pages: int) -> int:
    vmo = zx.vmo_create(pages * PAGE, 0)
    zx.object_set_property(vmo, zx.ZX_PROP_NAME, name)
    return vmo


def park_after_writing(address: int, data_address: int) -> None:
    user.store(address, b"ready")
    user.store(data_address, b"data")
    zx.nanosleep(zx.ZX_TIME_INFINITE)


def wait_for_flag(vmo: int, offset: int) -> None:
    while zx.vmo_read(vmo, 1, offset) != b"r":
        zx.nanosleep(zx.deadline_after(1000))


def build_logger(job: int) -> None:
    logger, logger_vmar = zx.process_create(job, "logger", 0)
    buffer_vmo = named_vmo("log-buffer", 2)
    buffer = zx.vmar_map(logger_vmar, RW, 0, buffer_vmo, 0, 2 * PAGE)
    thread = zx.thread_create(logger, "writer", 0)

    def writer(arg1: int, arg2: int) -> int:
        park_after_writing(buffer, buffer + PAGE)
        return 0

    zx.process_start(logger, thread, writer, 0, zx.ZX_HANDLE_INVALID, 0)
    zx.thread_create(logger, "idle", 0)
    wait_for_flag(buffer_vmo, 0)


def build_member(supervisor: int, name: str, table: int, index: int) -> int:
    member, restricted_vmar = zx.process_create_shared(supervisor, 0, name)
    code_vmo = zx.vmo_replace_as_executable(named_vmo(f"{name}-code", 1), zx.ZX_HANDLE_INVALID)
    zx.vmar_map(restricted_vmar, RX, 0, code_vmo, 0, PAGE)
    outer, _ = zx.vmar_allocate(restricted_vmar, CAN_MAP_RW, 0, 32 * PAGE)
    inner, _ = zx.vmar_allocate(outer, CAN_MAP_RW, 0, 8 * PAGE)
    stack = zx.vmar_map(inner, RW, 0, named_vmo(f"{name}-stack", 2), 0, 2 * PAGE)
    thread = zx.thread_create(member, "task", 0)

    def task(arg1: int, arg2: int) -> int:
        park_after_writing(table + index, stack)
        return 0

    # The first member gets an event handle, moved into the group's handle table.
    start_handle = zx.event_create(0) if index == 0 else zx.ZX_HANDLE_INVALID
    zx.process_start(member, thread, task, 0, start_handle, 0)
    return member


def build_gamma(supervisor: int) -> int:
    gamma, _ = zx.process_create_shared(supervisor, 0, "gamma")
    thread = zx.thread_create(gamma, "task", 0)

    def task(arg1: int, arg2: int) -> int:
        return GAMMA_RETURN_CODE

    zx.process_start(gamma, thread, task, 0, zx.ZX_HANDLE_INVALID, 0)
    while not zx.object_get_info(gamma, zx.ZX_INFO_PROCESS).flags & (
        zx.ZX_INFO_PROCESS_FLAG_EXITED
    ):
        zx.nanosleep(zx.deadline_after(1000))
    return gamma


def main() -> int:
    services = zx.job_create(zx.job_default(), 0)
    zx.object_set_property(services, zx.ZX_PROP_NAME, "services")
    build_logger(services)

    supervisor, shared_vmar = zx.process_create(
        zx.job_default(), "supervisor", zx.ZX_PROCESS_SHARED
    )
    table_vmo = named_vmo("task-table", 1)
    table = zx.vmar_map(shared_vmar, RW, 0, table_vmo, 0, PAGE)
    heap_vmar, _ = zx.vmar_allocate(shared_vmar, CAN_MAP_RW, 0, 16 * PAGE)
    heap_vmo = named_vmo("heap", 4)
    zx.vmar_map(heap_vmar, RW, 0, heap_vmo, 0, 4 * PAGE)
    zx.vmo_write(heap_vmo, b"shared heap", 0)
    zx.handle_duplicate(heap_vmo, zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)

    for index, name in enumerate(MEMBERS):
        facts[name] = build_member(supervisor, name, table, index)
    for index in range(len(MEMBERS)):
        wait_for_flag(table_vmo, index)
    facts["gamma"] = build_gamma(supervisor)
    facts["supervisor"] = supervisor
    return 0
