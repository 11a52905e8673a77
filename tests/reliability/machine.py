"""A Hypothesis state machine that drives pyzircon as a hostile or buggy program would.

Every rule is one step: a syscall (or a short fixed sequence) made by the controller or
by an agent thread of one of the processes the program created. Arguments are valid or
not, as drawn: closed handles, values from another table, wrong object types, reduced
rights, unaligned and overflowing addresses and sizes, dead objects. Other rules kill
processes (prototypes included), threads and jobs. Agents end the ways a program ends
(exit, crash, fault) and run guest machine code in restricted mode. Background bursts
of syscalls interleave with later steps, and one rule makes a kernel allocation fail.

After every step `check_all` (invariants.py) verifies the machine:
- no zx call raised anything but ZxError, hit ZX_ERR_INTERNAL, or broke an expected
  status or the atomicity of a failed call (see harness.invoke);
- every handle in the model still names its object, with rights within its bound;
- a group's share count is its number of processes that are not DEAD, and no unstarted
  process or thread lives on without a handle;
- every live process of a group reports identical handle values for the group's table;
- a shared mapping reads the same bytes through every live process of its group, and
  a member's restricted mapping is never readable through another process;
- zx_process_create_shared returns ZX_ERR_BAD_STATE for every group whose processes
  are all dead (the rule that creates members checks the converse).
After the last step the program kills its job, closes its handles and ends. Then every
kernel object but the root job must be freed, and every VMO buffer released.

A new syscall becomes a rule in four parts: pick the actor (`_actor`), choose each
handle argument with `_choose` (which also draws bad values), run an action that
predicts the status where it can (`predict_lookup`) and calls `self.s.invoke`, then add
the handles the call created to the model (`_learn_new`) and drop the ones it consumed
(`_forget`). The model lives in model.py and the machinery that runs guest code in
harness.py.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from pyzircon import user, zx
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NO_MEMORY,
    ZX_OK,
)
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.handle_table import HandleTable
from pyzircon.kernel.objects.job import Job, JobState
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.objects.vmar import ROOT_VMAR_RIGHTS
from pyzircon.kernel.vm.aspace import AspaceKind
from pyzircon.syscalls.object import INFO_TOPICS
from pyzircon.tools.assemble import load_blob
from reliability.harness import (
    NOT_RUN,
    POLL_NS,
    Agent,
    AgentReturn,
    InjectedCrash,
    Outcome,
    Session,
    thread_of,
)
from reliability.invariants import Invariants
from reliability.model import (
    CONTROLLER,
    GroupModel,
    JobModel,
    ProcModel,
    Ref,
    TableModel,
    default_rights,
    predict_lookup,
    processes_sharing,
)
from reliability.stats import STATS

PAGE = zx.PAGE_SIZE
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
RX = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
GUEST = load_blob(Path(__file__).resolve().parents[1] / "restricted" / "guest_code.S")

# The object types steps use (process, thread and job handles name tasks).
JOB = zx.ZX_OBJ_TYPE_JOB
PROCESS = zx.ZX_OBJ_TYPE_PROCESS
THREAD = zx.ZX_OBJ_TYPE_THREAD
VMO = zx.ZX_OBJ_TYPE_VMO
VMAR = zx.ZX_OBJ_TYPE_VMAR
EVENT = zx.ZX_OBJ_TYPE_EVENT
TASKS = (JOB, PROCESS, THREAD)

# How a step names a handle: mostly one the model holds, sometimes a bad value.
HANDLE_MODES = ("ref",) * 6 + ("any", "closed", "foreign", "garbage", "invalid")
GARBAGE = (1, 2, 3, 7, 0xFFFF_FFFF, 0x8000_0003, (1 << 32) + 3, -1, (1 << 64) + 3, None, "3", 1.5)

handle_choices = st.tuples(st.sampled_from(HANDLE_MODES), st.integers(0, 255))
actors = st.integers(0, 15)
picks = st.integers(0, 255)
names = st.sampled_from(["p", "", "n" * 40, "a\0b", b"bytes", "\u00e9t\u00e9"])

# Sizes and offsets: the first choices are valid, later ones unaligned or overflowing.
sizes = st.one_of(
    st.sampled_from([PAGE, 2 * PAGE, 4 * PAGE]),
    st.sampled_from([0, 1, PAGE - 1, PAGE + 1, 3 * PAGE + 17]),
    st.sampled_from([(1 << 64) - PAGE, (1 << 64) - 1, 1 << 63, 1 << 64, -PAGE, -1]),
)
offsets = st.one_of(
    st.sampled_from([0, PAGE, 2 * PAGE]),
    st.sampled_from([1, PAGE - 1, 17]),
    st.sampled_from([(1 << 64) - PAGE, (1 << 64) - 1, 1 << 64, -1]),
)
# Where an address comes from: a mapping or VMAR the machine has (shifted by a delta),
# or a fixed value (guard page, range ends, beyond 2**47, beyond 2**64).
address_choices = st.tuples(
    st.sampled_from(["mapping", "mapping", "vmar", "fixed"]),
    st.integers(0, 255),
    st.sampled_from([0, 0, PAGE, -PAGE, 1, 2 * PAGE]),
)
datas = st.sampled_from([b"x", b"hello", b"\xff" * 100, bytes(range(256)) * 20, b""])

VM_OPTION_CHOICES = [
    RW,
    zx.ZX_VM_PERM_READ,
    RW | zx.ZX_VM_SPECIFIC,
    RW | zx.ZX_VM_SPECIFIC_OVERWRITE,
    zx.ZX_VM_PERM_WRITE,
    RX,
    RW | zx.ZX_VM_MAP_RANGE,
    RW | zx.ZX_VM_OFFSET_IS_UPPER_LIMIT,
    RW | (1 << 23),
    RW | (40 << zx.ZX_VM_ALIGN_BASE),
    RW | zx.ZX_VM_ALIGN_64KB,
    0,
]
ALLOCATE_OPTION_CHOICES = [
    zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE,
    zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC,
    zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_SPECIFIC,
    zx.ZX_VM_CAN_MAP_EXECUTE,
    zx.ZX_VM_PERM_READ,
    0,
    zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_COMPACT,
]
RIGHTS_MODES = ["same", "subset", "none", "superset", "garbage"]
INFO_TOPIC_CHOICES = sorted(INFO_TOPICS)
ROUTINES = [
    "syscall_bounce",
    "exception_bounce",
    "store_then_syscall",
    "load_then_syscall",
    "jump_to_rdi",
    "breakpoint",
    "bare_syscall",
    "store_one",
]
ENDINGS = ["wait", "kick", "kill_thread", "kill_process"]
EXITS = ["process_exit", "thread_exit", "crash", "fault_load", "fault_store", "return"]
BURSTS = ["handles", "memory", "threads", "sleep"]
FAULT_SITES = ["handle", "buffer"]
FAULTY_OPS = [
    "process_create",
    "process_create_shared",
    "job_create",
    "thread_create",
    "vmo_create",
    "vmo_set_size",
    "handle_duplicate",
    "handle_replace",
    "eventpair_create",
    "vmar_allocate",
    "restricted_bind_state",
    "object_get_child",
]


def recorded(function: Callable[..., None]) -> Callable[..., None]:
    """Record a rule's name and arguments, so a sequence can be replayed."""

    @functools.wraps(function)
    def record(self: ReliabilityMachine, **kwargs: Any) -> None:
        self.steps.append((function.__name__, kwargs))
        STATS["steps"] += 1
        function(self, **kwargs)

    return record


def truth_table() -> HandleTable:
    """Return the calling guest thread's handle table (no syscall, no switch)."""
    return current_thread().process.handle_table


def handle_base(table: HandleTable, value: object) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 32:
        return None
    handle = table.get(value)
    return None if handle is None else handle.base_value


def region_children(vmar_value: object) -> tuple[int, ...] | None:
    """Return the bases of the children of the VMAR `vmar_value` names, in the caller."""
    table = truth_table()
    handle = table.get(vmar_value) if _is_u32(vmar_value) else None
    region = getattr(handle.obj, "vmar", None) if handle is not None else None
    if region is None or not region.is_alive:
        return None
    return tuple(child.base for child in region.children)


def consumes_only(*bases: int | None) -> Callable[[frozenset[int], frozenset[int]], bool]:
    """Return a check that a failed call removed no handles but those in `bases`."""
    allowed = {base for base in bases if base is not None}
    return lambda before, after: (before - after) <= allowed


class ReliabilityMachine(Invariants, RuleBasedStateMachine):
    """Steps over the syscall surface, with the invariants in the module docstring."""

    # Whether sessions render every syscall into a text trace, which replays compare.
    record_trace = False

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.seed = 0
        self.tables: dict[int, TableModel] = {}
        self.groups: list[GroupModel] = []
        self.procs: list[ProcModel] = []
        self.jobs: list[JobModel] = []
        self.agents: list[Agent] = []
        # A controller handle to each agent's thread, for kicks (0: none).
        self.agent_anchors: dict[int, int] = {}
        self.arena: JobModel | None = None
        self.steps: list[tuple[str, dict[str, Any]]] = []

    # Setup and teardown.

    @initialize(seed=st.integers(0, (1 << 32) - 1))
    @recorded
    def boot(self, seed: int) -> None:
        """Start the machine; the controller makes the job all other tasks live in."""
        STATS["sequences"] += 1
        self.seed = seed
        self.session = Session(seed, record_trace=self.record_trace)
        session = self.session
        controller = session.controller_thread() if session.controller_thread else None
        assert controller is not None
        self.tables[CONTROLLER] = TableModel(
            CONTROLLER, weakref.ref(controller.process.handle_table)
        )

        def make_arena() -> int:
            return int(zx.job_create(zx.job_default(), 0))

        arena = session.run(make_arena)
        job = self._object(CONTROLLER, arena)
        assert isinstance(job, Job)
        self.arena = JobModel(job.koid, weakref.ref(job), arena)
        self.jobs.append(self.arena)
        # Steps may close or kill through this duplicate; the anchor stays.
        self._add_ref(CONTROLLER, self._forge(job, zx.ZX_DEFAULT_JOB_RIGHTS), job.koid, JOB)
        self._populate()

    def _populate(self) -> None:
        """Start every sequence with a shared group and a regular process, all running.

        The prototype gets two members, the second made from the first (a member can be
        a `shared_proc`). Each of them and a regular process runs an agent; a member's
        agent receives a handle to its restricted VMAR, the prototype's its shared one.
        """
        arena = self.tables[CONTROLLER].refs[0].value

        def create() -> list[int]:
            proto, shared_vmar = zx.process_create(arena, "proto", zx.ZX_PROCESS_SHARED)
            first, first_vmar = zx.process_create_shared(proto, 0, "member-1")
            second, second_vmar = zx.process_create_shared(first, 0, "member-2")
            regular, regular_vmar = zx.process_create(arena, "regular", 0)
            return [
                proto,
                shared_vmar,
                first,
                first_vmar,
                second,
                second_vmar,
                regular,
                regular_vmar,
            ]

        values = self.s.run(create)
        for value in values:
            self._learn_new(CONTROLLER, value)
        for process_value, vmar_value in zip(values[0::2], values[1::2], strict=True):
            gift = self.s.run(
                lambda vmar=vmar_value: zx.handle_duplicate(vmar, zx.ZX_RIGHT_SAME_RIGHTS)
            )
            self._learn_new(CONTROLLER, gift)
            self._start_agent(None, process_value, gift)
        for agent in list(self.agents):
            self._runtime_handles(agent)

    def teardown(self) -> None:
        session = self.session
        if session is None:
            return
        STATS["syscalls"] += session.syscall_count
        if not session.finished:
            session.run(self._shut_down)
            session.stop()
        session.check_no_leaks()
        STATS["leak_checks"] += 1

    def _shut_down(self) -> None:
        """Kill every task of the program, wait until they are dead, close every handle."""
        assert self.arena is not None
        zx.task_kill(self.arena.anchor)
        arena = self.arena.obj()
        for _ in range(100_000):
            if arena is None or arena.state is JobState.DEAD:
                break
            zx.nanosleep(zx.deadline_after(POLL_NS))
        else:
            raise AssertionError(f"the program's job is still {arena!r} after it was killed")
        values = [
            self.tables[CONTROLLER].truth().value_of(handle)  # type: ignore[union-attr]
            for handle in truth_table()
        ]
        zx.handle_close_many(values)

    # The model's helpers.

    def _object(self, table_key: int, value: int) -> KernelObject:
        table = self.tables[table_key].truth()
        assert table is not None
        handle = table.get(value)
        assert handle is not None, f"{value:#x} names nothing in table {table_key}"
        return handle.obj

    def _forge(self, obj: KernelObject, rights: int) -> int:
        """Add a controller handle to `obj` through the kernel's internals (an anchor)."""
        table = self.tables[CONTROLLER].truth()
        assert table is not None
        handle = self.s.kernel.handle_arena.allocate(obj, rights)
        return table.add(handle)

    def _add_ref(
        self, table_key: int, value: int, koid: int, obj_type: int, bound: int | None = None
    ) -> Ref | None:
        table = self.tables[table_key]
        truth = table.truth()
        handle = truth.get(value) if truth is not None else None
        if handle is None:
            return None
        ref = Ref(
            value,
            obj_type,
            koid,
            handle.rights,
            default_rights(obj_type) if bound is None else bound,
        )
        table.refs.append(ref)
        return ref

    def _actor(self, pick: int) -> Agent | None:
        """Return the actor `pick` names: None for the controller, else an idle agent."""
        idle = [agent for agent in self.agents if agent.idle]
        choices: list[Agent | None] = [None, *idle]
        return choices[pick % len(choices)]

    def _table_key(self, actor: Agent | None) -> int:
        if actor is None:
            return CONTROLLER
        return self._proc(actor.process_key).group.table.key

    def _proc(self, koid: int) -> ProcModel:
        for proc in self.procs:
            if proc.koid == koid:
                return proc
        raise KeyError(koid)

    def _execute(self, actor: Agent | None, action: Callable[[], Any]) -> Any:
        """Run `action` as `actor`; return its result, or None when the agent died."""
        if actor is None:
            return self.s.run(action)
        return self.s.ask(actor, action)

    def _choose(
        self, table_key: int, choice: tuple[str, int], types: tuple[int, ...] | None
    ) -> Any:
        """Return a handle value (or a bad value) for one argument."""
        mode, pick = choice
        table = self.tables[table_key]
        if mode == "ref":
            fitting = [ref for ref in table.refs if types is None or ref.obj_type in types]
            if fitting:
                return fitting[pick % len(fitting)].value
            mode = "any"
        if mode == "any" and table.refs:
            return table.refs[pick % len(table.refs)].value
        if mode == "closed" and table.closed:
            return table.closed[pick % len(table.closed)]
        if mode == "foreign":
            foreign = [
                ref.value
                for key, other in self.tables.items()
                if key != table_key
                for ref in other.refs
            ]
            if foreign:
                return foreign[pick % len(foreign)]
        if mode == "invalid":
            return zx.ZX_HANDLE_INVALID
        return GARBAGE[pick % len(GARBAGE)]

    def _group_of(self, process: Process) -> GroupModel | None:
        for group in self.groups:
            if group.state() is process.shared_state:
                return group
        return None

    def _register_process(self, process: Process) -> ProcModel:
        """Add a new process to the model, with a controller anchor to it."""
        group = self._group_of(process)
        if group is None:
            key = len(self.tables)
            table = TableModel(key, weakref.ref(process.handle_table))
            self.tables[key] = table
            group = GroupModel(
                key,
                process.kind is ProcessKind.PROTOTYPE,
                table,
                weakref.ref(process.shared_state),
            )
            self.groups.append(group)
        vmar = process.restricted_vmar or process.shared_state.root_vmar
        proc = ProcModel(
            process.koid,
            process.kind,
            group,
            weakref.ref(process),
            self._forge(process, zx.ZX_DEFAULT_PROCESS_RIGHTS),
            self._forge(vmar, ROOT_VMAR_RIGHTS),
        )
        group.procs.append(proc)
        self.procs.append(proc)
        return proc

    def _register_job(self, job: Job) -> None:
        self.jobs.append(
            JobModel(job.koid, weakref.ref(job), self._forge(job, zx.ZX_DEFAULT_JOB_RIGHTS))
        )

    def _new_agent(self, process: Process, thread: Thread) -> Agent:
        agent = Agent(len(self.agents) + 1, process.koid)
        agent.thread = weakref.ref(thread)
        self.agents.append(agent)
        self.agent_anchors[agent.ident] = self._forge(thread, zx.ZX_DEFAULT_THREAD_RIGHTS)
        return agent

    def _learn_new(self, table_key: int, value: int, bound: int | None = None) -> None:
        """Add a handle a step created to the model, reading its object from the table."""
        table = self.tables[table_key].truth()
        handle = table.get(value) if table is not None else None
        if handle is None:
            return
        obj = handle.obj
        if isinstance(obj, Process) and not any(p.koid == obj.koid for p in self.procs):
            self._register_process(obj)
        if isinstance(obj, Job) and not any(j.koid == obj.koid for j in self.jobs):
            self._register_job(obj)
        self._add_ref(table_key, value, obj.koid, obj.obj_type, bound)

    def _forget(self, table_key: int, *values: object) -> None:
        """Drop handles a step may have closed or moved."""
        for value in values:
            if isinstance(value, int):
                self.tables[table_key].remove(value)

    # Rules: jobs and processes.

    @rule(actor=actors, parent=handle_choices)
    @recorded
    def create_job(self, actor: int, parent: tuple[str, int]) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        parent_value = self._choose(key, parent, (JOB,))

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), parent_value, (JOB,), zx.ZX_RIGHT_MANAGE_JOB)
            if expect is None:
                job = truth_table().get(parent_value).obj  # type: ignore[union-attr]
                expect = ZX_OK if job.state is JobState.READY and job.height > 0 else None
            return self.s.invoke(zx.job_create, parent_value, 0, expect=expect)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok:
            self._learn_new(key, outcome.value)

    @rule(actor=actors, job=handle_choices, shared=st.booleans(), name=names)
    @recorded
    def create_process(
        self, actor: int, job: tuple[str, int], shared: bool, name: str | bytes
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        job_value = self._choose(key, job, (JOB,))
        options = zx.ZX_PROCESS_SHARED if shared else 0

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, job_value, (JOB,), zx.ZX_RIGHT_MANAGE_PROCESS)
            if expect is None:
                parent = table.get(job_value).obj  # type: ignore[union-attr]
                expect = ZX_OK if parent.state is JobState.READY else ZX_ERR_BAD_STATE
            return self.s.invoke(zx.process_create, job_value, name, options, expect=expect)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok:
            process_value, vmar_value = outcome.value
            self._learn_new(key, process_value)
            self._learn_new(key, vmar_value, ROOT_VMAR_RIGHTS)

    @rule(actor=actors, proc=handle_choices, name=names)
    @recorded
    def create_member(self, actor: int, proc: tuple[str, int], name: str | bytes) -> None:
        """zx_process_create_shared; BAD_STATE exactly when every sharer is dead."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        proc_value = self._choose(key, proc, (PROCESS,))

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, proc_value, (PROCESS,), zx.ZX_RIGHT_MANAGE_PROCESS)
            if expect is None:
                process = table.get(proc_value).obj  # type: ignore[union-attr]
                expect = self._expect_create_shared(process)
            return self.s.invoke(zx.process_create_shared, proc_value, 0, name, expect=expect)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok:
            process_value, vmar_value = outcome.value
            self._learn_new(key, process_value)
            self._learn_new(key, vmar_value, ROOT_VMAR_RIGHTS)

    def _expect_create_shared(self, process: Process) -> int:
        if process.shared_state.aspace.kind is not AspaceKind.SHARED:
            return ZX_ERR_INVALID_ARGS
        sharers = processes_sharing(self.s.kernel, process.shared_state)
        if all(sharer.state is ProcessState.DEAD for sharer in sharers):
            STATS["create_shared_dead_group"] += 1
            return ZX_ERR_BAD_STATE
        if process.job.state is not JobState.READY:
            return ZX_ERR_BAD_STATE
        STATS["create_shared_live_group"] += 1
        return ZX_OK

    @rule(actor=actors, proc=handle_choices, arg1=handle_choices, pass_handle=st.booleans())
    @recorded
    def start_process(
        self, actor: int, proc: tuple[str, int], arg1: tuple[str, int], pass_handle: bool
    ) -> None:
        """Start a process's first thread as an agent, moving `arg1` into its table."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        proc_value = self._choose(key, proc, (PROCESS,))
        arg1_value = self._choose(key, arg1, None) if pass_handle else zx.ZX_HANDLE_INVALID
        self._start_agent(agent, proc_value, arg1_value)

    def _start_agent(self, actor: Agent | None, proc_value: Any, arg1_value: Any) -> None:
        """As `actor`, create a thread in a process and start it as an agent.

        zx_process_start moves `arg1_value` into the process's table, whether or not the
        start succeeds.
        """
        key = self._table_key(actor)
        if not _is_int(arg1_value):
            arg1_value = zx.ZX_HANDLE_INVALID
        box: dict[str, Any] = {}

        def action() -> Outcome:
            created = self.s.invoke(zx.thread_create, proc_value, "agent", 0)
            if not created.ok:
                return created
            table = truth_table()
            thread = table.get(created.value).obj  # type: ignore[union-attr]
            assert isinstance(thread, Thread)
            new_agent = Agent(0, thread.process.koid)
            new_agent.thread = weakref.ref(thread)
            box["agent"] = new_agent
            box["thread_value"] = created.value
            moved = table.get(arg1_value) if _is_u32(arg1_value) and arg1_value else None
            box["moved"] = moved
            expect = predict_lookup(table, proc_value, (PROCESS,), zx.ZX_RIGHT_WRITE)
            if expect is None:
                target = table.get(proc_value).obj  # type: ignore[union-attr]
                if thread.process is not target:
                    expect = ZX_ERR_ACCESS_DENIED
                elif moved is not None and not moved.rights & zx.ZX_RIGHT_TRANSFER:
                    expect = ZX_ERR_ACCESS_DENIED
                elif target.state is not ProcessState.INITIAL:
                    expect = ZX_ERR_BAD_STATE
                else:
                    expect = ZX_OK
            entry = self.s.agent_entry(new_agent)
            return self.s.invoke(
                zx.process_start,
                proc_value,
                created.value,
                entry,
                0,
                arg1_value,
                0,
                expect=expect,
                consumes=consumes_only(moved.base_value if moved else None),
            )

        outcome = self._execute(actor, action)
        self._forget(key, arg1_value)
        if "thread_value" in box:
            self._learn_new(key, box["thread_value"])
        if outcome is None or not outcome.ok:
            return
        new_agent = box["agent"]
        thread = thread_of(new_agent)
        if thread is None:
            return
        if not any(proc.koid == thread.process.koid for proc in self.procs):
            self._register_process(thread.process)
        new_agent.ident = len(self.agents) + 1
        self.agents.append(new_agent)
        self.agent_anchors[new_agent.ident] = self._forge(thread, zx.ZX_DEFAULT_THREAD_RIGHTS)
        moved = box["moved"]
        target = self._group_of(thread.process)
        if moved is not None and target is not None and moved.owner is not None:
            self._add_ref(
                target.table.key,
                target.table.truth().value_of(moved),  # type: ignore[union-attr]
                moved.obj.koid,
                moved.obj.obj_type,
                moved.rights,
            )

    @rule(actor=actors, proc=handle_choices)
    @recorded
    def start_thread(self, actor: int, proc: tuple[str, int]) -> None:
        """Add an agent thread to a process with zx_thread_create and zx_thread_start."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        proc_value = self._choose(key, proc, (PROCESS,))
        box: dict[str, Any] = {}

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, proc_value, (PROCESS,), zx.ZX_RIGHT_MANAGE_THREAD)
            created = self.s.invoke(zx.thread_create, proc_value, "agent", 0, expect=expect)
            if not created.ok:
                return created
            box["thread_value"] = created.value
            thread = table.get(created.value).obj  # type: ignore[union-attr]
            assert isinstance(thread, Thread)
            new_agent = Agent(0, thread.process.koid)
            new_agent.thread = weakref.ref(thread)
            box["agent"] = new_agent
            state = thread.process.state
            started = state in (ProcessState.INITIAL, ProcessState.RUNNING)
            return self.s.invoke(
                zx.thread_start,
                created.value,
                self.s.agent_entry(new_agent),
                0,
                0,
                0,
                expect=ZX_OK if started else ZX_ERR_BAD_STATE,
            )

        outcome = self._execute(agent, action)
        if "thread_value" in box:
            self._learn_new(key, box["thread_value"])
        if outcome is None or not outcome.ok:
            return
        new_agent = box["agent"]
        thread = thread_of(new_agent)
        if thread is None:
            return
        if not any(proc.koid == thread.process.koid for proc in self.procs):
            self._register_process(thread.process)
        new_agent.ident = len(self.agents) + 1
        self.agents.append(new_agent)
        self.agent_anchors[new_agent.ident] = self._forge(thread, zx.ZX_DEFAULT_THREAD_RIGHTS)

    @rule(actor=actors, task=handle_choices)
    @recorded
    def kill(self, actor: int, task: tuple[str, int]) -> None:
        """zx_task_kill on a job, process (prototypes too) or thread, or a bad handle."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, task, TASKS)

        def action() -> Outcome:
            expect = predict_lookup(
                truth_table(), value, TASKS, zx.ZX_RIGHT_DESTROY, rights_first=True
            )
            return self.s.invoke(zx.task_kill, value, expect=expect or ZX_OK)

        self._execute(agent, action)
        STATS["kills"] += 1

    @rule(agent_pick=picks, how=st.sampled_from(EXITS))
    @recorded
    def end_agent(self, agent_pick: int, how: str) -> None:
        """End an agent the ways a program ends: exit, crash or fault."""
        idle = [agent for agent in self.agents if agent.idle]
        if not idle:
            return
        agent = idle[agent_pick % len(idle)]

        def action() -> Any:
            if how == "process_exit":
                self.s.invoke(zx.process_exit, -agent_pick)
            elif how == "thread_exit":
                self.s.invoke(zx.thread_exit)
            elif how == "crash":
                raise InjectedCrash("a guest bug, raised on purpose")
            elif how == "fault_load":
                user.load(self.s.kernel.layout.guard_page, 8)
            elif how == "fault_store":
                user.store(1 << 47, b"x")
            else:
                return AgentReturn(agent_pick)
            return NOT_RUN

        self.s.ask(agent, action)
        STATS["agent_endings"] += 1

    # Rules: handles.

    def _rights_value(self, source_rights: int, mode: str, pick: int) -> Any:
        if mode == "same":
            return zx.ZX_RIGHT_SAME_RIGHTS
        if mode == "subset":
            return source_rights & (pick * 0x9E37_79B9 & 0xFFFF_FFFF)
        if mode == "none":
            return zx.ZX_RIGHT_NONE
        if mode == "superset":
            return source_rights | (1 << (pick % 25))
        return GARBAGE[pick % len(GARBAGE)]

    @rule(actor=actors, source=handle_choices, mode=st.sampled_from(RIGHTS_MODES), pick=picks)
    @recorded
    def duplicate(self, actor: int, source: tuple[str, int], mode: str, pick: int) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, source, None)
        ref = self.tables[key].find(value) if isinstance(value, int) else None
        rights = self._rights_value(ref.rights if ref else 0, mode, pick)

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, value, None, zx.ZX_RIGHT_DUPLICATE)
            if expect is None:
                expect = self._expect_rights(table.get(value).rights, rights)  # type: ignore
            return self.s.invoke(zx.handle_duplicate, value, rights, expect=expect)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok:
            source_ref = self.tables[key].find(value)
            bound = source_ref.rights if source_ref else None
            if bound is not None:
                self._learn_new(key, outcome.value, bound)

    @staticmethod
    def _expect_rights(source_rights: int, requested: Any) -> int:
        if not isinstance(requested, int) or isinstance(requested, bool):
            return ZX_ERR_INVALID_ARGS
        if not 0 <= requested < 1 << 32:
            return ZX_ERR_INVALID_ARGS
        if requested == zx.ZX_RIGHT_SAME_RIGHTS or not requested & ~source_rights:
            return ZX_OK
        return ZX_ERR_INVALID_ARGS

    @rule(actor=actors, source=handle_choices, mode=st.sampled_from(RIGHTS_MODES), pick=picks)
    @recorded
    def replace(self, actor: int, source: tuple[str, int], mode: str, pick: int) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, source, None)
        ref = self.tables[key].find(value) if isinstance(value, int) else None
        rights = self._rights_value(ref.rights if ref else 0, mode, pick)

        def action() -> Outcome:
            table = truth_table()
            base = handle_base(table, value)
            expect = predict_lookup(table, value, None, 0)
            if expect is None:
                expect = self._expect_rights(table.get(value).rights, rights)  # type: ignore
            return self.s.invoke(
                zx.handle_replace, value, rights, expect=expect, consumes=consumes_only(base)
            )

        outcome = self._execute(agent, action)
        source_ref = self.tables[key].find(value) if isinstance(value, int) else None
        self._forget(key, value)
        if outcome is not None and outcome.ok and source_ref is not None:
            self._learn_new(key, outcome.value, source_ref.rights)

    @rule(actor=actors, subject=handle_choices)
    @recorded
    def close(self, actor: int, subject: tuple[str, int]) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, subject, None)

        def action() -> Outcome:
            if value == zx.ZX_HANDLE_INVALID and isinstance(value, int):
                expect: int | None = ZX_OK
            else:
                expect = predict_lookup(truth_table(), value, None, 0) or ZX_OK
            return self.s.invoke(zx.handle_close, value, expect=expect)

        self._execute(agent, action)
        self._forget(key, value)

    @rule(actor=actors, subjects=st.lists(handle_choices, max_size=4))
    @recorded
    def close_many(self, actor: int, subjects: list[tuple[str, int]]) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        values = [self._choose(key, subject, None) for subject in subjects]

        def action() -> Outcome:
            table = truth_table()
            seen: set[int] = set()
            bad = False
            bases: list[int | None] = []
            for value in values:
                if isinstance(value, int) and not isinstance(value, bool) and value == 0:
                    continue
                base = handle_base(table, value)
                if base is None or base in seen:
                    bad = True
                else:
                    seen.add(base)
                    bases.append(base)
            return self.s.invoke(
                zx.handle_close_many,
                values,
                expect=ZX_ERR_BAD_HANDLE if bad else ZX_OK,
                consumes=consumes_only(*bases),
            )

        self._execute(agent, action)
        self._forget(key, *values)

    @rule(agent_pick=picks)
    @recorded
    def runtime_handles(self, agent_pick: int) -> None:
        """An agent gets its process, root VMAR, job and thread handles from the runtime."""
        idle = [agent for agent in self.agents if agent.idle]
        if idle:
            self._runtime_handles(idle[agent_pick % len(idle)])

    def _runtime_handles(self, agent: Agent) -> None:
        key = self._table_key(agent)
        helpers = (zx.process_self, zx.vmar_root_self, zx.job_default, zx.thread_self)

        def action() -> list[Outcome]:
            return [self.s.invoke(helper) for helper in helpers]

        outcomes = self.s.ask(agent, action)
        for outcome in outcomes or []:
            if outcome.ok and self.tables[key].find(outcome.value) is None:
                self._learn_new(key, outcome.value)

    @rule(pick=picks, reduce=st.booleans(), rights_pick=picks)
    @recorded
    def grab(self, pick: int, reduce: bool, rights_pick: int) -> None:
        """The controller duplicates a handle it keeps aside, so steps never run dry."""
        anchors = [job.anchor for job in self.jobs]
        anchors += [value for proc in self.procs for value in (proc.anchor, proc.vmar_anchor)]
        anchors += list(self.agent_anchors.values())
        anchor = anchors[pick % len(anchors)]
        handle = self.tables[CONTROLLER].truth().get(anchor)  # type: ignore[union-attr]
        assert handle is not None
        rights = self._rights_value(handle.rights, "subset" if reduce else "same", rights_pick)

        def action() -> Outcome:
            return self.s.invoke(zx.handle_duplicate, anchor, rights, expect=ZX_OK)

        outcome = self.s.run(action)
        if outcome.ok:
            self._learn_new(CONTROLLER, outcome.value, handle.rights)

    @rule(actor=actors, parent=handle_choices, pick=picks, mode=st.sampled_from(RIGHTS_MODES))
    @recorded
    def get_child(self, actor: int, parent: tuple[str, int], pick: int, mode: str) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, parent, (JOB, PROCESS))
        koids = [proc.koid for proc in self.procs] + [job.koid for job in self.jobs]
        koid: Any = koids[pick % len(koids)] if koids and pick % 5 else GARBAGE[pick % 12]
        ref = self.tables[key].find(value) if isinstance(value, int) else None
        rights = self._rights_value(ref.rights if ref else 0, mode, pick)

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), value, None, zx.ZX_RIGHT_ENUMERATE)
            return self.s.invoke(zx.object_get_child, value, koid, rights, expect=expect)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok and ref is not None:
            self._learn_new(key, outcome.value, ref.rights)

    # Rules: memory.

    @rule(actor=actors, size=sizes, resizable=st.booleans())
    @recorded
    def vmo_create(self, actor: int, size: Any, resizable: bool) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        options = zx.ZX_VMO_RESIZABLE if resizable else 0
        valid = isinstance(size, int) and 0 <= size <= 4 * PAGE

        def action() -> Outcome:
            return self.s.invoke(zx.vmo_create, size, options, expect=ZX_OK if valid else None)

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok:
            self._learn_new(key, outcome.value)

    @rule(actor=actors, vmo=handle_choices, offset=offsets, data=datas, read=st.booleans())
    @recorded
    def vmo_io(
        self, actor: int, vmo: tuple[str, int], offset: Any, data: bytes, read: bool
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, vmo, (VMO,))
        right = zx.ZX_RIGHT_READ if read else zx.ZX_RIGHT_WRITE

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), value, (VMO,), right)
            if read:
                return self.s.invoke(zx.vmo_read, value, len(data), offset, expect=expect)
            return self.s.invoke(zx.vmo_write, value, data, offset, expect=expect)

        self._execute(agent, action)

    @rule(actor=actors, vmo=handle_choices, size=sizes)
    @recorded
    def vmo_set_size(self, actor: int, vmo: tuple[str, int], size: Any) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, vmo, (VMO,))

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), value, (VMO,), zx.ZX_RIGHT_WRITE)
            return self.s.invoke(zx.vmo_set_size, value, size, expect=expect)

        self._execute(agent, action)

    def _address(self, table_key: int, vmar_value: Any, choice: tuple[str, int, int]) -> Any:
        """Return an address for a step: near a mapping or VMAR, or a fixed odd value."""
        mode, pick, delta = choice
        layout = self.s.kernel.layout
        table = self.tables[table_key].truth()
        handle = table.get(vmar_value) if table is not None and _is_u32(vmar_value) else None
        region = getattr(handle.obj, "vmar", None) if handle is not None else None
        if mode == "mapping" and region is not None and region.is_alive:
            mappings = list(islice(region.aspace.mappings(), 16))
            if mappings:
                return mappings[pick % len(mappings)].base + delta
        if mode in ("mapping", "vmar") and region is not None:
            return region.base + delta
        fixed = [
            layout.guard_page,
            layout.restricted_base,
            layout.shared_base,
            layout.user_base + delta,
            layout.user_end - PAGE,
            1 << 47,
            (1 << 64) - PAGE,
            1 << 64,
            -PAGE,
            0,
        ]
        return fixed[pick % len(fixed)]

    @rule(
        actor=actors,
        vmar=handle_choices,
        vmo=handle_choices,
        options=st.sampled_from(VM_OPTION_CHOICES),
        where=address_choices,
        vmo_offset=offsets,
        length=sizes,
    )
    @recorded
    def vmar_map(
        self,
        actor: int,
        vmar: tuple[str, int],
        vmo: tuple[str, int],
        options: int,
        where: tuple[str, int, int],
        vmo_offset: Any,
        length: Any,
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))
        vmo_value = self._choose(key, vmo, (VMO,))
        offset: Any = 0
        if options & (zx.ZX_VM_SPECIFIC | zx.ZX_VM_SPECIFIC_OVERWRITE):
            address = self._address(key, vmar_value, where)
            table = self.tables[key].truth()
            handle = table.get(vmar_value) if table and _is_u32(vmar_value) else None
            region = getattr(handle.obj, "vmar", None) if handle else None
            offset = address - region.base if region is not None and _is_int(address) else address

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), vmar_value, (VMAR,), 0)
            return self.s.invoke(
                zx.vmar_map,
                vmar_value,
                options,
                offset,
                vmo_value,
                vmo_offset,
                length,
                expect=expect,
            )

        self._execute(agent, action)
        STATS["maps"] += 1

    @rule(actor=actors, vmar=handle_choices, where=address_choices, length=sizes)
    @recorded
    def vmar_unmap(
        self, actor: int, vmar: tuple[str, int], where: tuple[str, int, int], length: Any
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))
        address = self._address(key, vmar_value, where)

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), vmar_value, (VMAR,), 0)
            return self.s.invoke(zx.vmar_unmap, vmar_value, address, length, expect=expect)

        self._execute(agent, action)

    @rule(
        actor=actors,
        vmar=handle_choices,
        options=st.sampled_from([zx.ZX_VM_PERM_READ, RW, 0, RX, zx.ZX_VM_PERM_WRITE, 1 << 20]),
        where=address_choices,
        length=sizes,
    )
    @recorded
    def vmar_protect(
        self,
        actor: int,
        vmar: tuple[str, int],
        options: int,
        where: tuple[str, int, int],
        length: Any,
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))
        address = self._address(key, vmar_value, where)

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, vmar_value, (VMAR,), 0)
            return self.s.invoke(
                zx.vmar_protect, vmar_value, options, address, length, expect=expect
            )

        self._execute(agent, action)

    @rule(
        actor=actors,
        vmar=handle_choices,
        options=st.sampled_from(ALLOCATE_OPTION_CHOICES),
        offset=offsets,
        size=sizes,
    )
    @recorded
    def vmar_allocate(
        self, actor: int, vmar: tuple[str, int], options: int, offset: Any, size: Any
    ) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))
        ref = self.tables[key].find(vmar_value) if _is_int(vmar_value) else None

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), vmar_value, (VMAR,), 0)
            return self.s.invoke(
                zx.vmar_allocate,
                vmar_value,
                options,
                offset,
                size,
                expect=expect,
                probe=lambda: region_children(vmar_value),
            )

        outcome = self._execute(agent, action)
        if outcome is not None and outcome.ok and ref is not None:
            bound = zx.ZX_DEFAULT_VMAR_RIGHTS | (
                ref.rights & (zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_EXECUTE)
            )
            self._learn_new(key, outcome.value[0], bound)

    @rule(actor=actors, vmar=handle_choices)
    @recorded
    def vmar_destroy(self, actor: int, vmar: tuple[str, int]) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), vmar_value, (VMAR,), zx.ZX_RIGHT_OP_CHILDREN)
            return self.s.invoke(zx.vmar_destroy, vmar_value, expect=expect)

        self._execute(agent, action)

    @rule(
        actor=actors,
        proc=handle_choices,
        vmar=handle_choices,
        where=address_choices,
        data=datas,
        read=st.booleans(),
    )
    @recorded
    def process_memory(
        self,
        actor: int,
        proc: tuple[str, int],
        vmar: tuple[str, int],
        where: tuple[str, int, int],
        data: bytes,
        read: bool,
    ) -> None:
        """zx_process_read_memory or zx_process_write_memory near some mapping."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        proc_value = self._choose(key, proc, (PROCESS,))
        address = self._address(key, self._choose(key, vmar, (VMAR,)), where)
        size_valid = 0 < len(data)
        rights = zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE if read else zx.ZX_RIGHT_WRITE

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), proc_value, (PROCESS,), rights)
            if not size_valid:
                expect = ZX_ERR_INVALID_ARGS
            if read:
                return self.s.invoke(
                    zx.process_read_memory, proc_value, address, len(data), expect=expect
                )
            return self.s.invoke(zx.process_write_memory, proc_value, address, data, expect=expect)

        self._execute(agent, action)

    @rule(agent_pick=picks, vmar=handle_choices, where=address_choices, data=datas)
    @recorded
    def guest_access(
        self, agent_pick: int, vmar: tuple[str, int], where: tuple[str, int, int], data: bytes
    ) -> None:
        """An agent loads or stores its own memory; a fault kills its process."""
        idle = [agent for agent in self.agents if agent.idle]
        if not idle:
            return
        agent = idle[agent_pick % len(idle)]
        key = self._table_key(agent)
        address = self._address(key, self._choose(key, vmar, (VMAR,)), where)

        def action() -> Outcome:
            try:
                if data:
                    user.store(address, data)
                    return Outcome(ZX_OK)
                return Outcome(ZX_OK, user.load(address, 16))
            except zx.ZxError as error:
                return Outcome(error.status)
            except Exception as error:  # noqa: BLE001 - recorded as a failure
                detail = f"{type(error).__name__}: {error}"
                self.s.failures.append(f"user access raised {detail}")
                return Outcome(None, detail=detail)

        self.s.ask(agent, action)

    # Rules: information.

    @rule(actor=actors, subject=handle_choices, topic=st.sampled_from(INFO_TOPIC_CHOICES))
    @recorded
    def get_info(self, actor: int, subject: tuple[str, int], topic: int) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, subject, None)
        entry = INFO_TOPICS[topic]
        types = None if entry.kind is KernelObject else (entry.kind.obj_type,)

        def action() -> Outcome:
            expect = predict_lookup(truth_table(), value, types, entry.rights)
            return self.s.invoke(zx.object_get_info, value, topic, expect=expect)

        self._execute(agent, action)

    @rule(actor=actors, subject=handle_choices, name=names)
    @recorded
    def set_name(self, actor: int, subject: tuple[str, int], name: str | bytes) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, subject, None)

        def action() -> Outcome:
            expect = predict_lookup(
                truth_table(), value, None, zx.ZX_RIGHT_SET_PROPERTY, rights_first=True
            )
            return self.s.invoke(
                zx.object_set_property, value, zx.ZX_PROP_NAME, name, expect=expect
            )

        self._execute(agent, action)

    # Rules: restricted mode.

    @rule(
        agent_pick=picks,
        vmar=handle_choices,
        routine=st.sampled_from(ROUTINES),
        ending=st.sampled_from(ENDINGS),
        rdi=st.sampled_from(["data", "zero", "guard", "high"]),
    )
    @recorded
    def restricted(
        self, agent_pick: int, vmar: tuple[str, int], routine: str, ending: str, rdi: str
    ) -> None:
        """An agent runs guest machine code; a spinning guest is kicked or killed."""
        idle = [agent for agent in self.agents if agent.idle]
        if not idle:
            return
        agent = idle[agent_pick % len(idle)]
        key = self._table_key(agent)
        vmar_value = self._choose(key, vmar, (VMAR,))
        spins = routine == "store_one"
        if spins and ending == "wait":
            ending = "kick"
        layout = self.s.kernel.layout
        rdi_values = {"zero": 0, "guard": layout.guard_page, "high": 1 << 47}

        def action() -> Outcome:
            invoke = self.s.invoke
            code_vmo = invoke(zx.vmo_create, PAGE, 0)
            if not code_vmo.ok:
                return code_vmo
            invoke(zx.vmo_write, code_vmo.value, GUEST.code, 0)
            executable = invoke(
                zx.vmo_replace_as_executable,
                code_vmo.value,
                zx.ZX_HANDLE_INVALID,
                consumes=consumes_only(handle_base(truth_table(), code_vmo.value)),
            )
            if not executable.ok:
                return executable
            code = invoke(zx.vmar_map, vmar_value, RX, 0, executable.value, 0, PAGE)
            invoke(zx.handle_close, executable.value)
            data_vmo = invoke(zx.vmo_create, PAGE, 0)
            data = invoke(zx.vmar_map, vmar_value, RW, 0, data_vmo.value, 0, PAGE)
            invoke(zx.handle_close, data_vmo.value)
            state_vmo = invoke(zx.restricted_bind_state, 0)
            if not state_vmo.ok:
                return state_vmo
            base = code.value if code.ok else layout.user_base
            data_address = data.value if data.ok else 0
            state = zx.RestrictedState(
                rdi=data_address if rdi == "data" else rdi_values[rdi],
                rsi=agent_pick,
                ip=base + GUEST.symbols[routine],
                fs_base=data_address,
                gs_base=data_address + 8 if data_address else 0,
            )
            invoke(zx.vmo_write, state_vmo.value, state.to_bytes(), 0)
            reason = invoke(zx.restricted_enter, 0, base, 0)
            invoke(zx.handle_close, state_vmo.value)
            invoke(zx.restricted_unbind_state, 0)
            return reason

        if ending == "wait":
            self.s.ask(agent, action)
            STATS["restricted_entries"] += 1
            return
        command = self.s.post(agent, action)
        anchor = self.agent_anchors.get(agent.ident, 0)
        proc_anchor = self._proc(agent.process_key).anchor

        def end_it() -> None:
            if ending == "kick":
                self.s.invoke(zx.restricted_kick, anchor, 0)
            elif ending == "kill_thread":
                self.s.invoke(zx.task_kill, anchor)
            else:
                self.s.invoke(zx.task_kill, proc_anchor)

        self.s.run(end_it)
        self.s.wait_for(agent, command)
        STATS["restricted_entries"] += 1

    @rule(actor=actors, thread=handle_choices)
    @recorded
    def kick(self, actor: int, thread: tuple[str, int]) -> None:
        agent = self._actor(actor)
        key = self._table_key(agent)
        value = self._choose(key, thread, (THREAD,))

        def action() -> Outcome:
            table = truth_table()
            expect = predict_lookup(table, value, (THREAD,), zx.ZX_RIGHT_MANAGE_THREAD)
            if expect is None:
                target = table.get(value).obj  # type: ignore[union-attr]
                dying = target.state in (ThreadState.DYING, ThreadState.DEAD)
                expect = ZX_ERR_BAD_STATE if dying else ZX_OK
            return self.s.invoke(zx.restricted_kick, value, 0, expect=expect)

        self._execute(agent, action)

    # Rules: concurrency and faults.

    @rule(agent_pick=picks, kind=st.sampled_from(BURSTS), count=st.integers(1, 6))
    @recorded
    def burst(self, agent_pick: int, kind: str, count: int) -> None:
        """Start a burst of syscalls on an agent; it interleaves with the next steps."""
        idle = [agent for agent in self.agents if agent.idle]
        if not idle:
            return
        agent = idle[agent_pick % len(idle)]
        self.s.post(agent, functools.partial(self._burst, kind, count))
        STATS["bursts"] += 1

    def _burst(self, kind: str, count: int) -> None:
        invoke = self.s.invoke
        for index in range(count):
            self.s.pause_until_quiesced()
            if kind == "handles":
                event = invoke(zx.event_create, 0)
                if event.ok:
                    copy = invoke(zx.handle_duplicate, event.value, zx.ZX_RIGHT_SAME_RIGHTS)
                    invoke(zx.handle_close_many, [event.value, copy.value if copy.ok else 0])
            elif kind == "memory":
                vmo = invoke(zx.vmo_create, PAGE, 0)
                root = invoke(zx.vmar_root_self)
                if not vmo.ok or not root.ok:
                    continue
                mapped = invoke(zx.vmar_map, root.value, RW, 0, vmo.value, 0, PAGE)
                invoke(zx.handle_close, vmo.value)
                if mapped.ok:
                    invoke(zx.vmar_unmap, root.value, mapped.value, PAGE)
            elif kind == "threads":
                process = invoke(zx.process_self)
                thread = invoke(zx.thread_create, process.value, f"burst-{index}", 0)
                if thread.ok:
                    entry = functools.partial(_short_thread, self.s)
                    invoke(zx.thread_start, thread.value, entry, 0, 0, index)
                    invoke(zx.handle_close, thread.value)
            else:
                invoke(zx.nanosleep, zx.deadline_after(count * POLL_NS))

    @rule(ticks=st.integers(1, 20))
    @recorded
    def settle(self, ticks: int) -> None:
        """The controller sleeps, so background bursts and dying threads make progress."""
        self.s.run(lambda: zx.nanosleep(zx.deadline_after(ticks * POLL_NS)))

    @rule(
        actor=actors,
        site=st.sampled_from(FAULT_SITES),
        countdown=st.integers(1, 3),
        op=st.sampled_from(FAULTY_OPS),
        subject=handle_choices,
    )
    @recorded
    def faulty_call(
        self, actor: int, site: str, countdown: int, op: str, subject: tuple[str, int]
    ) -> None:
        """Make one kernel allocation fail during a call that allocates."""
        agent = self._actor(actor)
        key = self._table_key(agent)
        types = {
            "process_create": (JOB,),
            "job_create": (JOB,),
            "process_create_shared": (PROCESS,),
            "thread_create": (PROCESS,),
            "vmo_set_size": (VMO,),
            "vmar_allocate": (VMAR,),
            "object_get_child": (JOB, PROCESS),
        }.get(op)
        value = self._choose(key, subject, types)
        koids = [proc.koid for proc in self.procs]
        child_koid = koids[countdown % len(koids)] if koids else 0
        calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
            "process_create": (zx.process_create, (value, "f", zx.ZX_PROCESS_SHARED)),
            "process_create_shared": (zx.process_create_shared, (value, 0, "f")),
            "job_create": (zx.job_create, (value, 0)),
            "thread_create": (zx.thread_create, (value, "f", 0)),
            "vmo_create": (zx.vmo_create, (2 * PAGE, zx.ZX_VMO_RESIZABLE)),
            "vmo_set_size": (zx.vmo_set_size, (value, 64 * PAGE)),
            "handle_duplicate": (zx.handle_duplicate, (value, zx.ZX_RIGHT_SAME_RIGHTS)),
            "handle_replace": (zx.handle_replace, (value, zx.ZX_RIGHT_SAME_RIGHTS)),
            "eventpair_create": (zx.eventpair_create, (0,)),
            "vmar_allocate": (zx.vmar_allocate, (value, zx.ZX_VM_CAN_MAP_READ, 0, PAGE)),
            "restricted_bind_state": (zx.restricted_bind_state, (0,)),
            "object_get_child": (zx.object_get_child, (value, child_koid, 3)),
        }
        function, args = calls[op]

        derives = op in ("handle_duplicate", "handle_replace", "object_get_child")
        box: dict[str, int] = {}

        def action() -> Outcome:
            table = truth_table()
            consumed = handle_base(table, value) if op == "handle_replace" else None
            source = table.get(value) if _is_u32(value) else None
            if source is not None and derives:
                # A derived handle may hold at most its source's rights.
                box["bound"] = source.rights
            probe = (lambda: region_children(value)) if op == "vmar_allocate" else None
            self.s.arm_fault(site, countdown)
            try:
                outcome = self.s.invoke(
                    function, *args, consumes=consumes_only(consumed), probe=probe
                )
            finally:
                fired = self.s.disarm_fault()
            if fired:
                STATS["faults_injected"] += 1
                if outcome.status != ZX_ERR_NO_MEMORY:
                    self.s.failures.append(
                        f"zx.{op} hit an injected allocation failure but returned "
                        f"{outcome.status}, not ZX_ERR_NO_MEMORY"
                    )
            return outcome

        outcome = self._execute(agent, action)
        if op == "handle_replace":
            self._forget(key, value)
        if outcome is None or not outcome.ok:
            return
        results = outcome.value if isinstance(outcome.value, tuple) else (outcome.value,)
        for result in results:
            if _is_u32(result) and result & 3 == 3:
                self._learn_new(key, result, box.get("bound"))


def _short_thread(session: Session, arg1: int, arg2: int) -> int:
    """Entry of a burst's short-lived thread: make and close an event, then return."""
    event = session.invoke(zx.event_create, 0)
    if event.ok:
        session.invoke(zx.handle_close, event.value)
    return 0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_u32(value: object) -> bool:
    return _is_int(value) and 0 <= value < 1 << 32  # type: ignore[operator]


def replay(seed_steps: list[tuple[str, dict[str, Any]]]) -> tuple[bytes, int]:
    """Run a recorded sequence again in a new machine; return its trace and syscall count.

    The first step must be `boot`. Invariants run after every step, as in the original,
    and the trace ends with the teardown's syscalls.
    """
    machine = ReliabilityMachine()
    machine.record_trace = True
    try:
        for name, kwargs in seed_steps:
            getattr(machine, name)(**kwargs)
            machine.check_all()
    except BaseException:
        # The first broken invariant is the finding, not a leak the teardown then reports.
        with contextlib.suppress(Exception):
            machine.teardown()
        raise
    machine.teardown()
    return "\n".join(machine.s.trace).encode(), machine.s.syscall_count
