"""A mapping made through the prototype's VMAR is visible in every process of the group.

The member is created before the mapping exists: the shared part is one live address
space, not a copy taken when the member was created.

Run it with `pyzircon run examples/a1_shared_mapping.py`.
"""

from pyzircon import Kernel, zx


def main() -> int:
    page = zx.system_get_page_size()
    proto, shared_vmar = zx.process_create(
        zx.job_default(), "prototype_process", zx.ZX_PROCESS_SHARED
    )
    member, _restricted_vmar = zx.process_create_shared(proto, 0, "process")

    vmo = zx.vmo_create(page, 0)
    address = zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE, 0, vmo, 0, page)
    zx.vmo_write(vmo, b"abc", 0)

    through_proto = zx.process_read_memory(proto, address, 3)
    through_member = zx.process_read_memory(member, address, 3)
    print(f"mapped at {address:#x} in the shared part")
    print(f"read through the prototype: {through_proto!r}")
    print(f"read through the member:    {through_member!r}")
    return 0 if through_proto == through_member == b"abc" else 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
