"""Text dumps in the shape of Fuchsia's `ps`, `vmaps` and `handles` tools.

The columns follow the Fuchsia tools (`zircon/system/uapp/psutils/ps_internal.c`,
`vmaps.c` and `handles-internal.cc` in public Fuchsia sources), with additions for what
pyzircon models and they do not show:
- `ps` adds each process's state, return code, kind and shared group, and lists threads;
- `vmaps` marks a member's restricted part, the guard page and the shared part;
- `handles` adds rights by name and object names, and prints a shared group's one table
  once, naming every process that uses it.

Sizes are printed as Fuchsia's `format_size` prints them: binary units "BkMGTPE", the
largest unit that divides the size exactly, else one decimal with at most four whole
digits.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyzircon.abi import info
from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.abi.rights import rights_names
from pyzircon.abi.status import ZX_ERR_BAD_STATE
from pyzircon.abi.vm import ZX_VM_PERM_EXECUTE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.handle_table import HandleTable
from pyzircon.kernel.objects.job import Job, JobState
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.aspace import AspaceKind
from pyzircon.syscalls.info_vm import aspace_maps, task_stats
from pyzircon.tools.tasks import TaskTree, group_label, process_aspaces

_SIZE_UNITS = "BkMGTPE"
_KILO = 1024
# format_size moves to the next unit while the number has five or more whole digits.
_MAX_WHOLE = 10_000

# The thread state names of Fuchsia's ps.
_THREAD_STATES = {
    ThreadState.INITIAL: "new",
    ThreadState.RUNNING: "running",
    ThreadState.BLOCKED: "blocked",
    ThreadState.SUSPENDED: "susp",
    ThreadState.DYING: "dying",
    ThreadState.DEAD: "dead",
}

_MAPS_TYPE_CHARS = {
    info.ZX_INFO_MAPS_TYPE_ASPACE: "A",
    info.ZX_INFO_MAPS_TYPE_VMAR: "R",
    info.ZX_INFO_MAPS_TYPE_MAPPING: "M",
}

# A shared part's mark names at most this many other processes, then only counts them.
_MAX_NAMED_SHARERS = 4


def format_size(size: int) -> str:
    """Format a byte count as Fuchsia's `format_size` does ("4k", "1.5M", "64.0T")."""
    unit = 0
    divisor = 1
    whole = size
    while whole >= _MAX_WHOLE or (whole != 0 and whole % _KILO == 0):
        whole //= _KILO
        divisor *= _KILO
        unit += 1
    if size % divisor == 0:
        return f"{whole}{_SIZE_UNITS[unit]}"
    # One decimal, rounded half up, carried into the whole part when it reaches 10.
    tenths_scaled = (size % divisor) * 10
    tenths = tenths_scaled // divisor + (1 if tenths_scaled % divisor >= divisor // 2 else 0)
    whole = size // divisor
    if tenths >= 10:
        tenths = 0
        whole += 1
    return f"{whole}.{tenths}{_SIZE_UNITS[unit]}"


def format_perms(perms: int) -> str:
    """Return "rwx" with "-" for each missing ZX_VM_PERM_* bit."""
    letters = ((ZX_VM_PERM_READ, "r"), (ZX_VM_PERM_WRITE, "w"), (ZX_VM_PERM_EXECUTE, "x"))
    return "".join(letter if perms & bit else "-" for bit, letter in letters)


def describe_process(process: Process) -> str:
    return f"{process.koid} {process.name!r}"


def thread_state_name(thread: Thread) -> str:
    """Return the thread's state as Fuchsia's ps names it ("new", "running", ...)."""
    return _THREAD_STATES.get(thread.state, thread.state.value)


# ps.


def ps(tree: TaskTree) -> str:
    """Return the job tree with processes and threads, one task per line."""
    rows: list[tuple[int, str, str, list[str], str]] = []
    job_rows: dict[Job, tuple[int, list[int]]] = {}
    ancestors: list[Job] = []
    for depth, job in tree.jobs:
        del ancestors[depth:]
        ancestors.append(job)
        totals = [0, 0]
        job_rows[job] = (len(rows), totals)
        rows.append((depth, "j", str(job.koid), [], job.name))
        for process in tree.processes_of(job):
            pss, private, shared = _process_memory(process)
            for ancestor in ancestors:
                ancestor_totals = job_rows[ancestor][1]
                ancestor_totals[0] += pss
                ancestor_totals[1] += private
            columns = [
                format_size(pss),
                format_size(private),
                format_size(shared),
                process.state.value,
                _return_code(process),
                process.kind.value,
                group_label(process),
            ]
            rows.append((depth + 1, "p", str(process.koid), columns, process.name))
            for thread in tree.threads_of(process):
                thread_columns = ["", "", "", thread_state_name(thread), "", "", ""]
                rows.append((depth + 2, "t", str(thread.koid), thread_columns, thread.name))

    for job, (index, (pss, private)) in job_rows.items():
        depth, kind, koid, _columns, name = rows[index]
        job_return = str(job.return_code) if job.state is not JobState.READY else ""
        columns = [format_size(pss), format_size(private), "", job.state.value, job_return, "", ""]
        rows[index] = (depth, kind, koid, columns, name)

    task_width = max(2 * depth + 3 + len(koid) for depth, _kind, koid, _c, _n in rows)
    header = _ps_line(
        "TASK".ljust(task_width),
        ["PSS", "PRIVATE", "SHARED", "STATE", "RETCODE", "KIND", "GROUP"],
        "NAME",
    )
    lines = [header]
    for depth, kind, koid, columns, name in rows:
        task = f"{'  ' * depth}{kind}: {koid}".ljust(task_width)
        lines.append(_ps_line(task, columns, name))
    lines.append(header)
    return "\n".join(lines) + "\n"


def _ps_line(task: str, columns: list[str], name: str) -> str:
    widths = (7, 7, 7, 7, 7, 9, 5)
    cells = " ".join(cell.rjust(width) for cell, width in zip(columns, widths, strict=True))
    return f"{task} {cells} {name}".rstrip()


def _process_memory(process: Process) -> tuple[int, int, int]:
    """Return (PSS, private, shared) bytes as ps computes them, zero once dead."""
    try:
        stats = task_stats(process)
    except ZxError as error:
        if error.status != ZX_ERR_BAD_STATE:
            raise
        return 0, 0, 0
    pss = stats.mem_private_bytes + stats.mem_scaled_shared_bytes
    return pss, stats.mem_private_bytes, stats.mem_shared_bytes


def _return_code(process: Process) -> str:
    if process.state in (ProcessState.DYING, ProcessState.DEAD):
        return str(process.return_code)
    return ""


# vmaps.


def vmaps(tree: TaskTree, process: Process) -> str:
    """Return the address space of `process` as Fuchsia's vmaps prints it, parts marked."""
    lines = [_vmaps_title(tree, process)]
    if process.state is ProcessState.DEAD:
        # Its restricted part is destroyed; a shared part may live on for the others.
        lines.append("  (the process is dead: it has no address space any more)")
        return "\n".join(lines) + "\n"

    records: list[tuple[info.InfoMaps, str]] = []
    layout = tree.kernel.layout
    for aspace in process_aspaces(process):
        if aspace.is_destroyed:
            continue
        mark = _part_mark(tree, process, aspace.kind)
        for index, record in enumerate(aspace_maps(aspace)):
            records.append((record, mark if index == 0 else ""))
        if aspace.kind is AspaceKind.RESTRICTED:
            records.append((_guard_record(layout.guard_page), ""))

    max_depth = max([2, *(record.depth for record, _mark in records)])
    for record, mark in records:
        lines.append(_vmaps_line(record, max_depth, mark))
    lines.extend(_vmaps_totals(records))
    return "\n".join(lines) + "\n"


def _vmaps_title(tree: TaskTree, process: Process) -> str:
    title = f"vmaps of process {describe_process(process)}, {process.state.value}"
    if process.kind is ProcessKind.REGULAR:
        return f"{title}, a regular process with one address space:"
    group = group_label(process)
    if process.kind is ProcessKind.PROTOTYPE:
        return f"{title}, the prototype of shared group {group} (it sees only the shared part):"
    return (
        f"{title}, a member of shared group {group} "
        "(its restricted part, the guard page, then the shared part):"
    )


def _part_mark(tree: TaskTree, process: Process, kind: AspaceKind) -> str:
    if kind is AspaceKind.RESTRICTED:
        return "[restricted part, private to this process]"
    if kind is AspaceKind.USER:
        return ""
    others = [
        p for p in tree.group_of(process) if p is not process and p.state is not ProcessState.DEAD
    ]
    if not others:
        return "[shared part, seen by no other live process]"
    if len(others) > _MAX_NAMED_SHARERS:
        return f"[shared part, also seen by {len(others)} other processes]"
    return "[shared part, also seen by " + ", ".join(describe_process(p) for p in others) + "]"


# The guard page is no record of ZX_INFO_PROCESS_MAPS; a record of type NONE stands for it
# in the listing and is printed as "/G".
def _guard_record(address: int) -> info.InfoMaps:
    return info.InfoMaps(
        name="guard page: no mapping can be placed here",
        base=address,
        size=PAGE_SIZE,
        depth=0,
        type=info.ZX_INFO_MAPS_TYPE_NONE,
    )


def _vmaps_line(record: info.InfoMaps, max_depth: int, mark: str) -> str:
    type_char = _MAPS_TYPE_CHARS.get(record.type, "G")
    width = max(max_depth - 1, 2)
    if record.depth < 2:
        prefix = f"/{type_char}".ljust(width)
    else:
        prefix = (" " * (record.depth - 2) + type_char).ljust(width)
    text = f"{prefix} {_address(record.base)}-{_address(record.base + record.size)}"
    size = format_size(record.size)
    if record.type == info.ZX_INFO_MAPS_TYPE_MAPPING:
        details = record.u
        text += f" {format_perms(details.mmu_flags)} {size:>5}:sz"
        text += f" {format_size(details.committed_bytes):>4}:res {details.vmo_koid:>5}:vmo"
    else:
        text += f" {size:>9}:sz" + " " * 19
    text += f" {record.name!r}"
    if mark:
        text += f" {mark}"
    return text


def _address(address: int) -> str:
    # vmaps pads addresses that fit in 32 bits with underscores, so they stand out.
    if address <= 0xFFFF_FFFF:
        return f"________{address:08x}"
    return f"{address:016x}"


def _vmaps_totals(records: Iterable[tuple[info.InfoMaps, str]]) -> list[str]:
    """Sum mapped and committed bytes per address space, one line each."""
    lines: list[str] = []
    name = ""
    count = mapped = committed = 0

    def flush() -> None:
        if name:
            lines.append(
                f"  {name!r}: {count} mappings, {format_size(mapped)} mapped, "
                f"{format_size(committed)} committed"
            )

    for record, _mark in records:
        if record.type == info.ZX_INFO_MAPS_TYPE_ASPACE:
            flush()
            name = record.name
            count = mapped = committed = 0
        elif record.type == info.ZX_INFO_MAPS_TYPE_MAPPING:
            count += 1
            mapped += record.size
            committed += record.u.committed_bytes
    flush()
    return lines


# handles.


def handles(tree: TaskTree, process: Process) -> str:
    """Return the handle table of `process`, naming every process that shares it."""
    table = process.handle_table
    # A dead process no longer uses the table; it is named only when it was asked for.
    sharers = [
        p
        for p in tree.group_of(process)
        if p.handle_table is table and (p is process or p.state is not ProcessState.DEAD)
    ]
    return _table_title(table, sharers) + "\n" + _handle_rows(table)


def all_handle_tables(tree: TaskTree) -> str:
    """Return every process's handle table, each table once."""
    parts: list[str] = []
    seen: set[int] = set()
    for process in tree.all_processes():
        table = process.handle_table
        if table.koid in seen:
            continue
        seen.add(table.koid)
        parts.append(handles(tree, process))
    return "\n".join(parts)


def _table_title(table: HandleTable, sharers: list[Process]) -> str:
    names = ", ".join(f"{describe_process(p)} ({p.kind.value})" for p in sharers)
    if len(sharers) > 1:
        return f"handle table {table.koid}, shared by {len(sharers)} processes: {names}"
    return f"handle table {table.koid} of process {names}"


def _handle_rows(table: HandleTable) -> str:
    entries = list(table)
    if not entries:
        return "0 handles\n"
    koid_width = max(len("koid"), *(len(str(h.obj.koid)) for h in entries))
    related_width = max(len("rkoid"), *(len(str(h.obj.related_koid())) for h in entries))
    type_width = max(len("type"), *(len(h.obj.type_name) for h in entries))
    names = [_object_name(h.obj) for h in entries]
    name_width = max(len("name"), *(len(name) for name in names))
    lines = [
        f"{'handle':>10}  {'koid':>{koid_width}} {'rkoid':>{related_width}} {'rights':>10} "
        f"{'type':<{type_width}} {'name':<{name_width}} rights by name"
    ]
    for handle, name in zip(entries, names, strict=True):
        related = handle.obj.related_koid()
        lines.append(
            f"0x{table.value_of(handle):08x}: {handle.obj.koid:>{koid_width}} "
            f"{related if related else '':>{related_width}} 0x{handle.rights:08x} "
            f"{handle.obj.type_name:<{type_width}} {name:<{name_width}} "
            f"{'|'.join(rights_names(handle.rights)) or 'NONE'}"
        )
    lines.append(f"{len(entries)} handles")
    return "\n".join(lines) + "\n"


def _object_name(obj: KernelObject) -> str:
    if isinstance(obj, (Process, Thread, Job, VmoDispatcher)):
        return repr(obj.name)
    if isinstance(obj, VmarDispatcher):
        region = obj.vmar
        return f"{region.name!r} [{region.base:#x}, {region.end:#x})"
    return ""
