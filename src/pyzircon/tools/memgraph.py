"""The memory graph: jobs, processes, threads, address spaces, VMARs, mappings and VMOs as JSON.

It follows the shape of Fuchsia's memgraph (`zircon/system/uapp/psutils/memgraph-schema.json`
in public Fuchsia sources): a JSON array of nodes, each with an `id`, a `type`, the `id` of
its `parent` ("" for none) and a `name`; the first element is a `__meta` record. Jobs,
processes and threads use memgraph's types "j", "p" and "t" and its fields (`koid`,
`private_bytes`, `shared_bytes`, `pss_bytes`, `vmo_refs`, `state`). pyzircon adds:

- "group": a shared group (id "g/<handle table koid>"), the parent of its shared
  address space, with the processes that share it;
- "aspace": an address space (id "a/<name>"); a member's restricted part has the member
  as parent, a regular process's only space has the process;
- "vmar" and "mapping": the VMAR tree below each address space (ids
  "r/<aspace name>/<depth>/<base>" and "m/<aspace name>/<base>"); a mapping names its
  VMO in `vmo`;
- "vmo": every VMO reachable through a handle or a mapping (id "v/<koid>", parent "").

Nodes come in a fixed order (the job tree walk, then groups, address spaces and VMOs),
so the same machine state always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from pyzircon.abi.rights import rights_names
from pyzircon.abi.status import ZX_ERR_BAD_STATE
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.aspace import VmAspace
from pyzircon.kernel.vm.vmar import VmAddressRegion, VmMapping
from pyzircon.kernel.vm.vmo import VmObjectPaged
from pyzircon.syscalls.info_vm import task_stats
from pyzircon.tools.dumps import format_perms, thread_state_name
from pyzircon.tools.tasks import TaskTree, process_aspaces

Node = dict[str, Any]

# Version of this graph's layout; raised when a field changes meaning or goes away.
GRAPH_VERSION = 1


def memory_graph(tree: TaskTree) -> list[Node]:
    """Return the memory graph of the machine as a list of JSON-ready nodes."""
    kernel = tree.kernel
    nodes: list[Node] = [
        {
            "type": "__meta",
            "format": "pyzircon memgraph",
            "version": GRAPH_VERSION,
            "arch": kernel.arch,
            "seed": kernel.seed,
            "time_ns": kernel.scheduler.now_ns,
        }
    ]
    vmos: dict[int, VmObjectPaged] = {}
    aspaces: list[tuple[VmAspace, str]] = []

    for depth, job in tree.jobs:
        parent = f"j/{job.parent.koid}" if depth > 0 and job.parent is not None else ""
        nodes.append(
            {
                "id": f"j/{job.koid}",
                "type": "j",
                "parent": parent,
                "name": job.name,
                "koid": job.koid,
                "state": job.state.value,
            }
        )
        for process in tree.processes_of(job):
            nodes.append(_process_node(tree, process, vmos, aspaces))
            for thread in tree.threads_of(process):
                nodes.append(
                    {
                        "id": f"t/{thread.koid}",
                        "type": "t",
                        "parent": f"p/{process.koid}",
                        "name": thread.name,
                        "koid": thread.koid,
                        "state": thread_state_name(thread),
                    }
                )

    for group in tree.groups():
        if group[0].kind is ProcessKind.REGULAR:
            continue
        state = group[0].shared_state
        nodes.append(
            {
                "id": _group_id(group[0]),
                "type": "group",
                "parent": "",
                "name": "",
                "handle_table_koid": state.handle_table.koid,
                "share_count": state.share_count,
                "processes": [f"p/{p.koid}" for p in group],
                "shared_aspace": _aspace_id(state.aspace),
            }
        )
        if not state.aspace.is_destroyed:
            aspaces.append((state.aspace, _group_id(group[0])))

    for aspace, parent in aspaces:
        nodes.extend(_aspace_nodes(aspace, parent, vmos))
    for koid in sorted(vmos):
        nodes.append(_vmo_node(vmos[koid]))
    return nodes


def memory_json(tree: TaskTree) -> str:
    """Return the memory graph as JSON text: an array with one node per line."""
    lines = ",\n".join(json.dumps(node) for node in memory_graph(tree))
    return f"[\n{lines}\n]\n"


def _process_node(
    tree: TaskTree,
    process: Process,
    vmos: dict[int, VmObjectPaged],
    aspaces: list[tuple[VmAspace, str]],
) -> Node:
    node: Node = {
        "id": f"p/{process.koid}",
        "type": "p",
        "parent": f"j/{process.job.koid}",
        "name": process.name,
        "koid": process.koid,
        "state": process.state.value,
        "kind": process.kind.value,
        "return_code": _return_code(process),
        "group": "" if process.kind is ProcessKind.REGULAR else _group_id(process),
    }
    node.update(_memory_fields(process))

    # A dead process sees no address space and refers to no VMO any more.
    spaces: list[VmAspace] = []
    if process.state is not ProcessState.DEAD:
        spaces = [a for a in process_aspaces(process) if not a.is_destroyed]
    node["aspaces"] = [_aspace_id(aspace) for aspace in spaces]
    for aspace in spaces:
        # A shared part is listed once, under its group.
        if process.kind is ProcessKind.REGULAR or aspace is process.restricted_aspace:
            aspaces.append((aspace, f"p/{process.koid}"))
    node["vmo_refs"] = _vmo_refs(process, spaces, vmos) if spaces else []
    return node


def _return_code(process: Process) -> int | None:
    """Return the return code of a dying or dead process; None while it runs."""
    if process.state in (ProcessState.DYING, ProcessState.DEAD):
        return process.return_code
    return None


def _memory_fields(process: Process) -> Node:
    if process.state is ProcessState.DEAD:
        return {"private_bytes": 0, "shared_bytes": 0, "pss_bytes": 0}
    try:
        stats = task_stats(process)
    except ZxError as error:
        if error.status != ZX_ERR_BAD_STATE:
            raise
        return {"private_bytes": 0, "shared_bytes": 0, "pss_bytes": 0}
    return {
        "private_bytes": stats.mem_private_bytes,
        "shared_bytes": stats.mem_shared_bytes,
        "pss_bytes": stats.mem_private_bytes + stats.mem_scaled_shared_bytes,
    }


def _vmo_refs(
    process: Process, spaces: list[VmAspace], vmos: dict[int, VmObjectPaged]
) -> list[Node]:
    """Return how the process reaches each VMO: by handle (with rights), by mapping, or both."""
    refs: dict[int, Node] = {}
    for handle in process.handle_table:
        if isinstance(handle.obj, VmoDispatcher):
            vmo = handle.obj.vmo
            vmos[vmo.user_id] = vmo
            ref = refs.setdefault(vmo.user_id, {"vmo_koid": vmo.user_id, "via": []})
            if "handle" not in ref["via"]:
                ref["via"].append("handle")
                ref["handle_rights"] = rights_names(handle.rights)
    for aspace in spaces:
        for mapping in aspace.mappings():
            vmo = mapping.vmo
            vmos[vmo.user_id] = vmo
            ref = refs.setdefault(vmo.user_id, {"vmo_koid": vmo.user_id, "via": []})
            if "mapping" not in ref["via"]:
                ref["via"].append("mapping")
    return [refs[koid] for koid in sorted(refs)]


def _aspace_nodes(aspace: VmAspace, parent: str, vmos: dict[int, VmObjectPaged]) -> list[Node]:
    aspace_id = _aspace_id(aspace)
    nodes: list[Node] = [
        {
            "id": aspace_id,
            "type": "aspace",
            "parent": parent,
            "name": aspace.name,
            "part": aspace.kind.value,
            "base": aspace.base,
            "size": aspace.size,
        }
    ]
    # The id of the innermost VMAR at each depth, so a child finds its parent.
    vmar_at_depth: dict[int, str] = {-1: aspace_id}
    for depth, node in aspace.walk():
        if isinstance(node, VmMapping):
            vmos[node.vmo.user_id] = node.vmo
            nodes.append(
                {
                    "id": f"m/{aspace.name}/{node.base:#x}",
                    "type": "mapping",
                    "parent": vmar_at_depth[depth - 1],
                    "name": node.vmo.name,
                    "base": node.base,
                    "size": node.size,
                    "perms": format_perms(node.perms),
                    "vmo": f"v/{node.vmo.user_id}",
                    "vmo_offset": node.vmo_offset,
                    "committed_bytes": node.vmo.committed_bytes_in_range(
                        node.vmo_offset, node.size
                    ),
                }
            )
        else:
            assert isinstance(node, VmAddressRegion)
            vmar_id = f"r/{aspace.name}/{depth}/{node.base:#x}"
            vmar_at_depth[depth] = vmar_id
            nodes.append(
                {
                    "id": vmar_id,
                    "type": "vmar",
                    "parent": vmar_at_depth[depth - 1],
                    "name": node.name,
                    "base": node.base,
                    "size": node.size,
                }
            )
    return nodes


def _vmo_node(vmo: VmObjectPaged) -> Node:
    return {
        "id": f"v/{vmo.user_id}",
        "type": "vmo",
        "parent": "",
        "name": vmo.name,
        "koid": vmo.user_id,
        "size_bytes": vmo.size,
        "committed_bytes": vmo.committed_bytes,
        "num_mappings": vmo.num_mappings,
        "share_count": vmo.share_count(),
        "resizable": vmo.resizable,
    }


def _group_id(process: Process) -> str:
    return f"g/{process.handle_table.koid}"


def _aspace_id(aspace: VmAspace) -> str:
    return f"a/{aspace.name}"
