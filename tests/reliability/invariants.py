"""The checks the state machine runs after every step (see machine.py for the list).

`Invariants` is a mixin of ReliabilityMachine: it reads the machine's model and session.
Checks that need syscalls run in the controller while every agent waits, after dying
threads have finished dying, so the machine does not change under them.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING

from hypothesis.stateful import invariant

from pyzircon import zx
from pyzircon.abi.status import ZX_ERR_BAD_STATE, ZX_ERR_NOT_FOUND, ZX_ERR_OUT_OF_RANGE, ZX_OK
from pyzircon.kernel.objects.process import Process, ProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadState
from reliability.harness import InjectedCrash, Session
from reliability.model import GroupModel, ProcModel, TableModel, processes_sharing
from reliability.stats import STATS

if TYPE_CHECKING:
    from pyzircon.kernel.vm.aspace import VmAspace

# Polls after which a thread that is still DYING counts as stuck.
MAX_SETTLE_POLLS = 10_000


class Invariants:
    """The invariant checks, over the model of a ReliabilityMachine."""

    session: Session | None
    tables: dict[int, TableModel]
    groups: list[GroupModel]
    procs: list[ProcModel]

    @property
    def s(self) -> Session:
        assert self.session is not None
        return self.session

    @invariant()
    def check_all(self) -> None:
        if self.session is None or self.session.finished:
            return
        STATS["invariant_checks"] += 1
        self._check_failures()
        self._refresh_tables()
        self._check_refs()
        self._check_share_counts()
        self._check_unreachable_tasks()
        with self.s.quiet():
            self.s.run(self._let_dying_threads_die)
            self.s.run(self._check_group_tables)
            self.s.run(self._check_memory)
            self.s.run(self._check_dead_groups)
        self._check_failures()

    def _let_dying_threads_die(self) -> None:
        """Yield until no thread is DYING, so the checks that follow see a stable machine.

        Agents wait while the host checks, but a killed thread still unwinds at its next
        turn, and its process may die and destroy its address space with it.
        """
        for _ in range(MAX_SETTLE_POLLS):
            dying = [
                obj
                for obj in self.s.kernel._objects
                if isinstance(obj, Thread) and obj.state is ThreadState.DYING
            ]
            if not dying:
                return
            zx.nanosleep(0)
        self.s.failures.append(f"threads still dying after {MAX_SETTLE_POLLS} polls: {dying}")

    def _check_failures(self) -> None:
        session = self.s
        crashes = [
            crash
            for crash in session.kernel.guest_crashes
            if not isinstance(crash.error, InjectedCrash)
        ]
        problems = list(session.failures)
        problems += [f"kernel bug: {error!r}" for error in session.kernel.internal_errors]
        problems += [f"guest thread crashed: {crash.error!r}" for crash in crashes]
        if problems:
            STATS["failed_sequences"] += 1
            raise AssertionError("\n".join(problems))

    def _refresh_tables(self) -> None:
        """Mark the tables of groups whose last process died: their handles are closed."""
        for group in self.groups:
            state = group.state()
            if not group.table.dead and (state is None or not state.alive):
                group.table.dead = True
                group.table.closed.extend(ref.value for ref in group.table.refs)
                group.table.refs.clear()

    def _check_refs(self) -> None:
        """Every handle in the model names its object, with rights within its bound."""
        for table in self.tables.values():
            truth = table.truth()
            if table.dead or truth is None:
                continue
            STATS["handle_checks"] += len(table.refs)
            for ref in table.refs:
                handle = truth.get(ref.value)
                assert handle is not None, f"handle {ref} vanished from table {table.key}"
                assert handle.obj.koid == ref.koid, f"handle {ref} now names {handle.obj!r}"
                assert handle.rights == ref.rights, f"handle {ref} changed rights"
                assert not ref.rights & ~ref.bound, (
                    f"handle {ref} has rights {ref.rights & ~ref.bound:#x} beyond its source"
                )

    def _check_share_counts(self) -> None:
        for group in self.groups:
            state = group.state()
            if state is None:
                continue
            sharers = processes_sharing(self.s.kernel, state)
            alive = [p for p in sharers if p.state is not ProcessState.DEAD]
            STATS["share_count_checks"] += 1
            assert state.share_count == len(alive), (
                f"group {group.key}: share count {state.share_count}, "
                f"but {len(alive)} processes are not dead"
            )

    def _check_unreachable_tasks(self) -> None:
        """An unstarted process or thread that no handle names has died, as in Zircon."""
        for obj in sorted(self.s.kernel._objects, key=lambda obj: obj.koid):
            unstarted = (isinstance(obj, Process) and obj.state is ProcessState.INITIAL) or (
                isinstance(obj, Thread) and obj.state is ThreadState.INITIAL
            )
            if unstarted:
                assert obj.handle_count > 0, (
                    f"{obj!r} was never started and no handle names it, but it is not dead"
                )

    def _live_procs(self, group: GroupModel | None = None) -> list[ProcModel]:
        procs = self.procs if group is None else group.procs
        return [proc for proc in procs if proc.anchor and not proc.dead]

    def _check_group_tables(self) -> None:
        """Every live process of a group reports the same handle values for its table."""
        for group in self.groups:
            live = self._live_procs(group)
            if len(live) < 2:
                continue
            views = []
            for proc in live:
                outcome = self.s.invoke(
                    zx.object_get_info, proc.anchor, zx.ZX_INFO_HANDLE_TABLE, expect=ZX_OK
                )
                if outcome.ok:
                    views.append(
                        [(entry.handle_value, entry.rights, entry.koid) for entry in outcome.value]
                    )
            STATS["table_comparisons"] += 1
            for view in views[1:]:
                if view != views[0]:
                    self.s.failures.append(
                        f"group {group.key}: processes see different handle tables: "
                        f"{views[0]} != {view}"
                    )

    def _check_memory(self) -> None:
        """Shared mappings read alike through every sharer; restricted ones stay private."""
        for group in self.groups:
            state = group.state()
            live = self._live_procs(group)
            if state is None or not live or state.aspace.is_destroyed:
                continue
            for mapping in islice(state.aspace.mappings(), 4):
                reads = [self._read(proc, mapping.base) for proc in live]
                STATS["shared_reads"] += len(reads)
                if any(read != reads[0] for read in reads[1:]):
                    self.s.failures.append(
                        f"group {group.key}: the shared mapping at {mapping.base:#x} reads "
                        f"differently through its processes: {reads}"
                    )

        everyone = self._live_procs()
        for owner in everyone:
            process = owner.process
            if process is None or process.restricted_aspace is None:
                continue
            if process.restricted_aspace.is_destroyed:
                continue
            for mapping in islice(process.restricted_aspace.mappings(), 3):
                for other in everyone:
                    if other is owner:
                        continue
                    STATS["restricted_reads"] += 1
                    self._check_private_read(owner, other, mapping.base)

    def _read(self, proc: ProcModel, address: int) -> tuple[int | None, bytes | None]:
        outcome = self.s.invoke(zx.process_read_memory, proc.anchor, address, 16)
        return (outcome.status, outcome.value)

    def _check_private_read(self, owner: ProcModel, other: ProcModel, address: int) -> None:
        """Reading `owner`'s restricted mapping through `other` reads only `other`'s memory."""
        process = other.process
        if process is None:
            return
        aspace: VmAspace = process.aspace_at(address)
        own = aspace is process.restricted_aspace or aspace is process.shared_aspace
        mapping = aspace.find_mapping(address)
        status, data = self._read(other, address)
        owner_process = owner.process
        foreign = owner_process is not None and aspace is owner_process.restricted_aspace
        if not own or foreign:
            self.s.failures.append(f"{process!r} resolves {address:#x} in {aspace!r}")
        if mapping is None:
            if status != ZX_ERR_NOT_FOUND:
                self.s.failures.append(
                    f"{process!r} has no mapping at {address:#x}, where process koid "
                    f"{owner.koid} has a restricted one, but reading it returned {status} "
                    f"{data!r}"
                )
            return
        offset = mapping.vmo_offset_of(address)
        count = min(16, mapping.end - address, max(0, mapping.vmo.size - offset))
        expected = mapping.vmo.read(offset, count) if count else None
        wanted = (ZX_OK, expected) if count else (ZX_ERR_OUT_OF_RANGE, None)
        if (status, data) != wanted:
            self.s.failures.append(
                f"reading {address:#x} through {process!r} returned {status} {data!r}, "
                f"not its own mapping's {wanted}"
            )

    def _check_dead_groups(self) -> None:
        """zx_process_create_shared returns ZX_ERR_BAD_STATE once every sharer is dead."""
        for group in self.groups:
            if not group.shared:
                continue
            state = group.state()
            anchors = [proc.anchor for proc in group.procs if proc.anchor]
            if not anchors or (state is not None and state.alive):
                continue
            STATS["dead_group_probes"] += 1
            self.s.invoke(zx.process_create_shared, anchors[0], 0, "probe", expect=ZX_ERR_BAD_STATE)
