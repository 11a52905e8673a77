"""ZX_INFO_* topics of VMOs, VMARs and address spaces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any

from pyzircon.abi import info
from pyzircon.abi.rights import ZX_RIGHT_INSPECT, ZX_RIGHT_NONE
from pyzircon.abi.status import ZX_ERR_BAD_STATE
from pyzircon.abi.vm import ZX_VM_PERM_MASK
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.handle_table import Handle
from pyzircon.kernel.objects.process import Process, ProcessState
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.kernel.vm.aspace import VmAspace
from pyzircon.kernel.vm.vmar import VmAddressRegion, VmMapping, VmNode
from pyzircon.kernel.vm.vmo import VmObjectPaged
from pyzircon.syscalls.info_common import InfoTopic


def mmu_flags_for(perms: int) -> int:
    """Return the `mmu_flags` word of a zx_info_maps_t mapping record.

    Despite the field's name, Zircon converts the mapping's MMU flags back to
    ZX_VM_PERM_READ, ZX_VM_PERM_WRITE and ZX_VM_PERM_EXECUTE bits before it reports
    them, so the word contains only those bits.
    """
    return perms & ZX_VM_PERM_MASK


# ZX_INFO_VMO.


def fixed_point_fraction(value: Fraction) -> int:
    """Return the fractional part of `value` in Zircon's 63-bit fixed point (1 << 63 is one)."""
    return int((value - int(value)) * (1 << 63))


def vmo_record(vmo: VmObjectPaged, flags: int, rights: int) -> info.InfoVmo:
    """Build a zx_info_vmo_t. `flags` marks how the VMO was reached: by handle or mapping.

    The memory figures are the VMO's attribution: the pages it sees, its own and those it
    still shares with snapshot relatives, which count 1/n when n VMOs see them. A slice is
    attributed nothing. pyzircon compresses no pages, so committed and populated figures
    are equal.
    """
    counts = vmo.attribution(0, vmo.size)
    flags |= info.ZX_INFO_VMO_TYPE_PAGED
    if vmo.resizable:
        flags |= info.ZX_INFO_VMO_RESIZABLE
    if vmo.is_cow_clone:
        flags |= info.ZX_INFO_VMO_IS_COW_CLONE
    scaled = int(counts.scaled)
    fraction = fixed_point_fraction(counts.scaled)
    return info.InfoVmo(
        koid=vmo.user_id,
        name=vmo.name,
        size_bytes=vmo.size,
        parent_koid=vmo.parent.user_id if vmo.parent is not None else 0,
        num_children=vmo.num_children,
        num_mappings=vmo.num_mappings,
        share_count=vmo.share_count(),
        flags=flags,
        committed_bytes=counts.total,
        handle_rights=rights,
        cache_policy=vmo.cache_policy,
        metadata_bytes=vmo.metadata_bytes(),
        committed_change_events=0,
        populated_bytes=counts.total,
        committed_private_bytes=counts.private,
        populated_private_bytes=counts.private,
        committed_scaled_bytes=scaled,
        populated_scaled_bytes=scaled,
        committed_fractional_scaled_bytes=fraction,
        populated_fractional_scaled_bytes=fraction,
    )


def _vmo(thread: Thread, handle: Handle, vmo: VmoDispatcher) -> info.InfoVmo:
    flags = info.ZX_INFO_VMO_VIA_HANDLE
    if vmo.immutable:
        flags |= info.ZX_INFO_VMO_IMMUTABLE
    return vmo_record(vmo.vmo, flags, handle.rights)


# ZX_INFO_VMAR and the maps walks.


def _vmar(thread: Thread, handle: Handle, vmar: VmarDispatcher) -> info.InfoVmar:
    return info.InfoVmar(base=vmar.vmar.base, len=vmar.vmar.size)


def _mapping_details(mapping: VmMapping) -> info.InfoMapsMapping:
    counts = mapping.vmo.attribution(mapping.vmo_offset, mapping.size)
    share_count = mapping.vmo.share_count()
    private = counts.private if share_count == 1 else 0
    scaled = counts.scaled / share_count
    fraction = fixed_point_fraction(scaled)
    return info.InfoMapsMapping(
        mmu_flags=mmu_flags_for(mapping.perms),
        vmo_koid=mapping.vmo.user_id,
        vmo_offset=mapping.vmo_offset,
        committed_bytes=counts.total,
        populated_bytes=counts.total,
        committed_private_bytes=private,
        populated_private_bytes=private,
        committed_scaled_bytes=int(scaled),
        populated_scaled_bytes=int(scaled),
        committed_fractional_scaled_bytes=fraction,
        populated_fractional_scaled_bytes=fraction,
    )


def maps_records(nodes: Iterable[tuple[int, VmNode]], depth_offset: int) -> Iterator[info.InfoMaps]:
    """Turn a (depth, node) walk into zx_info_maps_t records."""
    for depth, node in nodes:
        if isinstance(node, VmMapping):
            yield info.InfoMaps(
                name=node.vmo.name,
                base=node.base,
                size=node.size,
                depth=depth + depth_offset,
                type=info.ZX_INFO_MAPS_TYPE_MAPPING,
                u=_mapping_details(node),
            )
        else:
            assert isinstance(node, VmAddressRegion)
            yield info.InfoMaps(
                name=node.name,
                base=node.base,
                size=node.size,
                depth=depth + depth_offset,
                type=info.ZX_INFO_MAPS_TYPE_VMAR,
            )


def aspace_maps(aspace: VmAspace) -> list[info.InfoMaps]:
    """Return the records of one address space: itself at depth 0, then its VMAR tree."""
    walk = aspace.walk()
    records = [
        info.InfoMaps(
            name=aspace.name,
            base=aspace.base,
            size=aspace.size,
            depth=0,
            type=info.ZX_INFO_MAPS_TYPE_ASPACE,
        )
    ]
    records.extend(maps_records(walk, 1))
    return records


def _vmar_maps(thread: Thread, handle: Handle, vmar: VmarDispatcher) -> list[info.InfoMaps]:
    region = vmar.vmar
    if not region.is_alive:
        raise ZxError(ZX_ERR_BAD_STATE, f"{vmar!r} was destroyed")
    return list(maps_records(region.walk(), 0))


def process_aspaces(process: Process) -> list[VmAspace]:
    """Return the process's address spaces in address order: restricted first."""
    spaces = []
    if process.restricted_aspace is not None:
        spaces.append(process.restricted_aspace)
    spaces.append(process.shared_aspace)
    return spaces


def _process_maps(thread: Thread, handle: Handle, process: Process) -> list[info.InfoMaps]:
    records: list[info.InfoMaps] = []
    for aspace in process_aspaces(process):
        records.extend(aspace_maps(aspace))
    return records


def _process_vmos(thread: Thread, handle: Handle, process: Process) -> list[info.InfoVmo]:
    if process.state is not ProcessState.RUNNING:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            f"ZX_INFO_PROCESS_VMOS needs a running process; {process!r} is {process.state.value}",
        )
    records: list[info.InfoVmo] = []
    for entry in process.handle_table:
        if isinstance(entry.obj, VmoDispatcher):
            records.append(vmo_record(entry.obj.vmo, info.ZX_INFO_VMO_VIA_HANDLE, entry.rights))
    spaces = [process.shared_aspace]
    if process.restricted_aspace is not None:
        spaces.append(process.restricted_aspace)
    for aspace in spaces:
        if aspace.is_destroyed:
            continue
        for mapping in aspace.mappings():
            records.append(vmo_record(mapping.vmo, info.ZX_INFO_VMO_VIA_MAPPING, 0))
    return records


def _task_stats(thread: Thread, handle: Handle, process: Process) -> info.InfoTaskStats:
    return task_stats(process)


def task_stats(process: Process) -> info.InfoTaskStats:
    """Return the ZX_INFO_TASK_STATS record of `process`.

    Raises ZX_ERR_BAD_STATE for a dead process or one whose shared state is gone.
    """
    if process.state is ProcessState.DEAD:
        raise ZxError(ZX_ERR_BAD_STATE, f"{process!r} is dead and has no memory statistics")
    share_count = process.shared_state.share_count
    if share_count < 1:
        raise ZxError(ZX_ERR_BAD_STATE, f"the shared state of {process!r} is gone")

    usage = process.shared_aspace.usage()
    mapped = usage.mapped
    if share_count == 1:
        private = usage.private
        shared = usage.shared
        scaled = usage.scaled_shared
    else:
        # In a group, what the shared address space holds privately is shared among the
        # live members, so each member is charged 1/n of it.
        private = 0
        shared = usage.private + usage.shared
        scaled = usage.scaled_shared / share_count + Fraction(usage.private, share_count)
    if process.restricted_aspace is not None and not process.restricted_aspace.is_destroyed:
        restricted = process.restricted_aspace.usage()
        mapped += restricted.mapped
        private += restricted.private
        shared += restricted.shared
        scaled += restricted.scaled_shared
    # DIVERGENCE(zircon): the kernel takes the fractional part from the shared address
    # space's own scaled figure alone, which does not match the integral part it reports
    # beside it. pyzircon reports the fraction of the same sum as mem_scaled_shared_bytes.
    fraction = fixed_point_fraction(scaled)
    return info.InfoTaskStats(
        mem_mapped_bytes=mapped,
        mem_private_bytes=private,
        mem_shared_bytes=shared,
        mem_scaled_shared_bytes=int(scaled),
        mem_fractional_scaled_shared_bytes=fraction,
    )


def _topic(name: str, kind: type[Any], rights: int, single: bool, read: Any) -> InfoTopic:
    return InfoTopic(name=name, kind=kind, rights=rights, single=single, read=read)


TOPICS: dict[int, InfoTopic] = {
    info.ZX_INFO_VMO: _topic("ZX_INFO_VMO", VmoDispatcher, ZX_RIGHT_NONE, True, _vmo),
    info.ZX_INFO_VMAR: _topic("ZX_INFO_VMAR", VmarDispatcher, ZX_RIGHT_INSPECT, True, _vmar),
    info.ZX_INFO_VMAR_MAPS: _topic(
        "ZX_INFO_VMAR_MAPS", VmarDispatcher, ZX_RIGHT_INSPECT, False, _vmar_maps
    ),
    info.ZX_INFO_PROCESS_MAPS: _topic(
        "ZX_INFO_PROCESS_MAPS", Process, ZX_RIGHT_INSPECT, False, _process_maps
    ),
    info.ZX_INFO_PROCESS_VMOS: _topic(
        "ZX_INFO_PROCESS_VMOS", Process, ZX_RIGHT_INSPECT, False, _process_vmos
    ),
    info.ZX_INFO_TASK_STATS: _topic(
        "ZX_INFO_TASK_STATS", Process, ZX_RIGHT_INSPECT, True, _task_stats
    ),
}
