"""ZX_ERR_BAD_STATE once every process of a shared group is dead.

The group's state (shared address space, handle table, futex context) lives while any
process of the group lives. A dead prototype still works as `shared_proc` while a
member lives; once the last member dies, the shared handle table is closed, the shared
address space is destroyed, and zx.process_create_shared fails with ZX_ERR_BAD_STATE.

Run it with `pyzircon run examples/group_death.py`.
"""

from pyzircon import Kernel, zx


def short_lived(arg1: int, arg2: int) -> int:
    return 0


def report(step: str, call: object) -> int:
    """Run `call()` and print its status; return the status."""
    try:
        call()  # type: ignore[operator]
    except zx.ZxError as error:
        print(f"{step}: {error.status_name}")
        return error.status
    print(f"{step}: ZX_OK")
    return zx.ZX_OK


def wait_until_exited(process: int) -> None:
    while not zx.object_get_info(process, zx.ZX_INFO_PROCESS).flags & (
        zx.ZX_INFO_PROCESS_FLAG_EXITED
    ):
        zx.nanosleep(zx.deadline_after(1000))


def main() -> int:
    page = zx.system_get_page_size()
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, _restricted_vmar = zx.process_create_shared(proto, 0, "member")

    # The prototype has no threads, so a kill takes it to DEAD at once. The member keeps
    # the group alive.
    zx.task_kill(proto)
    print(
        f"prototype killed: return code {zx.object_get_info(proto, zx.ZX_INFO_PROCESS).return_code}"
    )
    extra, _ = zx.process_create_shared(proto, 0, "extra")
    print("zx.process_create_shared on the dead prototype while a member lives: ZX_OK")
    zx.handle_close(extra)

    # The member's only thread returns at once, so the member dies and the group with it.
    thread = zx.thread_create(member, "short-lived", 0)
    zx.process_start(member, thread, short_lived, 0, zx.ZX_HANDLE_INVALID, 0)
    wait_until_exited(member)
    print("the last member has exited")

    vmo = zx.vmo_create(page, 0)
    statuses = (
        report(
            "zx.process_create_shared(prototype)",
            lambda: zx.process_create_shared(proto, 0, "late"),
        ),
        report(
            "zx.process_create_shared(member)", lambda: zx.process_create_shared(member, 0, "late")
        ),
        report(
            "zx.vmar_map on the destroyed shared part",
            lambda: zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ, 0, vmo, 0, page),
        ),
    )
    return 0 if statuses == (zx.ZX_ERR_BAD_STATE,) * 3 else 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
