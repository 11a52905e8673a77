"""Job syscalls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.rights import ZX_DEFAULT_JOB_RIGHTS, ZX_RIGHT_MANAGE_JOB
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.syscalls.common import add_handle, get_object, syscall, to_u32

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


@syscall
def job_create(thread: Thread, parent_job: object, options: object) -> int:
    """zx_job_create: create a child job of `parent_job`.

    Checks, in order:
    1. options == 0 -> ZX_ERR_INVALID_ARGS
    2. `parent_job` is a job handle with ZX_RIGHT_MANAGE_JOB -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED (older kernels also accepted ZX_RIGHT_WRITE;
       the newest do not)
    3. the parent is below the maximum tree height -> ZX_ERR_OUT_OF_RANGE
    4. the parent is not dying or dead -> ZX_ERR_BAD_STATE
    """
    if to_u32(options, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {options:#x}")

    parent = get_object(thread, parent_job, Job, ZX_RIGHT_MANAGE_JOB)
    child = parent.create_child_job()
    return add_handle(thread, child, ZX_DEFAULT_JOB_RIGHTS)
