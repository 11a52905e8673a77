"""A tour of a shared group: one prototype, two members, shared and private memory.

The supervisor (this program's main thread) creates a prototype with ZX_PROCESS_SHARED
and two members with zx.process_create_shared. It maps one page into the shared part and
one private page into each member's restricted part. Each member runs a thread that
writes a greeting into its private page and into its slot of the shared page, waits
until the other member has written too, then prints what it sees and its own maps.

Both private pages sit at the same address, each in its own restricted address space,
while the shared page is one page that both members and the prototype see.

Run it with `pyzircon run examples/tour.py` (add `--seed N` for another interleaving).
"""

from collections.abc import Callable

from pyzircon import Kernel, user, zx

SLOT_BYTES = 64
MEMBERS = ("guest-a", "guest-b")

_KINDS = {
    zx.ZX_INFO_MAPS_TYPE_ASPACE: "aspace",
    zx.ZX_INFO_MAPS_TYPE_VMAR: "vmar",
    zx.ZX_INFO_MAPS_TYPE_MAPPING: "mapping",
}


def describe_perms(mmu_flags: int) -> str:
    # zx_info_maps_mapping_t.mmu_flags holds ZX_VM_PERM_* bits.
    flags = (
        (zx.ZX_VM_PERM_READ, "r"),
        (zx.ZX_VM_PERM_WRITE, "w"),
        (zx.ZX_VM_PERM_EXECUTE, "x"),
    )
    return "".join(letter if mmu_flags & flag else "-" for flag, letter in flags)


def print_maps(process: int, title: str) -> None:
    """Print ZX_INFO_PROCESS_MAPS of `process`, indented by depth."""
    # The syscall is a scheduling point, so read the records before printing anything:
    # another thread's output cannot land inside this listing.
    entries = zx.object_get_info(process, zx.ZX_INFO_PROCESS_MAPS)
    print(f"maps of {title}:")
    for entry in entries:
        kind = _KINDS.get(entry.type, "?")
        end = entry.base + entry.size
        line = f"  {'  ' * entry.depth}{kind:<8}[{entry.base:#014x}, {end:#014x}) {entry.name}"
        if entry.type == zx.ZX_INFO_MAPS_TYPE_MAPPING:
            line += f" {describe_perms(entry.u.mmu_flags)} vmo={entry.u.vmo_koid}"
        print(line)


def make_worker(index: int, shared_page: int, private_page: int) -> Callable[[int, int], int]:
    """Return the entry of member `index`'s thread."""

    def worker(arg1: int, arg2: int) -> int:
        me = zx.process_self()
        name = zx.object_get_property(me, zx.ZX_PROP_NAME)
        user.store(private_page, f"private page of {name}".encode())
        user.store(shared_page + index * SLOT_BYTES, f"hello from {name}".encode())

        # Wait, in virtual time, until the other member has written its slot.
        other_slot = shared_page + (1 - index) * SLOT_BYTES
        while user.load(other_slot, 1) == b"\0":
            zx.nanosleep(zx.deadline_after(1000))

        private = user.load(private_page, SLOT_BYTES).rstrip(b"\0")
        print(f"[{name}] private page at {private_page:#x}: {private.decode()!r}")
        for slot in range(len(MEMBERS)):
            text = user.load(shared_page + slot * SLOT_BYTES, SLOT_BYTES).rstrip(b"\0")
            print(
                f"[{name}] shared slot {slot} at {shared_page + slot * SLOT_BYTES:#x}: "
                f"{text.decode()!r}"
            )
        print_maps(me, name)
        return 0

    return worker


def main() -> int:
    page = zx.system_get_page_size()
    read_write = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
    proto, shared_vmar = zx.process_create(zx.job_default(), "supervisor", zx.ZX_PROCESS_SHARED)

    shared_vmo = zx.vmo_create(page, 0)
    zx.object_set_property(shared_vmo, zx.ZX_PROP_NAME, "shared-page")
    shared_page = zx.vmar_map(shared_vmar, read_write, 0, shared_vmo, 0, page)

    members = []
    for index, name in enumerate(MEMBERS):
        member, restricted_vmar = zx.process_create_shared(proto, 0, name)
        private_vmo = zx.vmo_create(page, 0)
        zx.object_set_property(private_vmo, zx.ZX_PROP_NAME, f"private-{name}")
        private_page = zx.vmar_map(restricted_vmar, read_write, 0, private_vmo, 0, page)
        thread = zx.thread_create(member, "worker", 0)
        entry = make_worker(index, shared_page, private_page)
        zx.process_start(member, thread, entry, 0, zx.ZX_HANDLE_INVALID, 0)
        members.append(member)

    for member in members:
        while not zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags & (
            zx.ZX_INFO_PROCESS_FLAG_EXITED
        ):
            zx.nanosleep(zx.deadline_after(1000))

    print_maps(proto, "supervisor (the prototype)")
    both = zx.process_read_memory(proto, shared_page, 2 * SLOT_BYTES)
    text = both.replace(b"\0", b"").decode()
    print(f"the supervisor reads the shared page: {text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
