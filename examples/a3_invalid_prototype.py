"""A process created without ZX_PROCESS_SHARED cannot be a prototype.

zx_process_create_shared rejects it with ZX_ERR_INVALID_ARGS and creates nothing.

Run it with `pyzircon run examples/a3_invalid_prototype.py`.
"""

from pyzircon import Kernel, zx


def main() -> int:
    regular, _vmar = zx.process_create(zx.job_default(), "prototype_process", 0)
    try:
        zx.process_create_shared(regular, 0, "process")
    except zx.ZxError as error:
        print(f"zx.process_create_shared on a regular process: {error.status_name}")
        print(f"  {error}")
        return 0 if error.status == zx.ZX_ERR_INVALID_ARGS else 1
    print("zx.process_create_shared accepted a regular process, which Zircon does not allow")
    return 1


if __name__ == "__main__":
    raise SystemExit(Kernel(seed=0).run(main))
