"""A mapping in a member's restricted VMAR is invisible to the prototype.

The restricted part lies below the shared part, and the prototype has no restricted
address space, so reading the member's private address through the prototype fails
with ZX_ERR_NOT_FOUND.

Run it with `pyzircon run examples/a2_restricted_private.py`.
"""

from pyzircon import Kernel, zx


def main() -> int:
    page = zx.system_get_page_size()
    proto, _shared_vmar = zx.process_create(
        zx.job_default(), "prototype_process", zx.ZX_PROCESS_SHARED
    )
    member, restricted_vmar = zx.process_create_shared(proto, 0, "process")

    vmo = zx.vmo_create(page, 0)
    address = zx.vmar_map(
        restricted_vmar, zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE, 0, vmo, 0, page
    )
    zx.vmo_write(vmo, b"abc", 0)
    print(f"mapped at {address:#x} in the member's restricted part")
    print(f"read through the member: {zx.process_read_memory(member, address, 3)!r}")

    try:
        zx.process_read_memory(proto, address, 3)
    except zx.ZxError as error:
        print(f"read through the prototype fails: {error.status_name}")
        return 0 if error.status == zx.ZX_ERR_NOT_FOUND else 1
    print("read through the prototype succeeded, which Zircon does not allow")
    return 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
