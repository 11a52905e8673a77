"""Drive one pyzircon machine from the host, one step at a time, and watch every syscall.

Syscalls run only in guest threads, but Hypothesis runs its rules on the host. A Session
runs the machine's scheduler in a greenlet of its own. The program's first thread, the
controller, runs each request the host sends and switches back with the result. Other
guest threads are agents: they take commands from a mailbox that the controller fills,
and poll it with short sleeps. When the host has control, every guest thread is parked
at a switch point, so the host finds the machine at rest.

Every zx call an action makes goes through `invoke`, which records:
- any exception other than ZxError (or ZX_ERR_INTERNAL) as a failure;
- a mismatch with an expected status, when the caller predicted one;
- a failed call that added handles to its caller's table, or removed handles the call
  does not document as consumed (failed calls are atomic).

The session also counts syscalls, renders each one into a text trace (for comparing two
runs with one seed) and can make one chosen allocation fail (fault injection).
"""

from __future__ import annotations

import dataclasses
import importlib
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from greenlet import GreenletExit, greenlet

import pyzircon.kernel.vm.vmo as vm_vmo
from pyzircon import Kernel, ZxError, zx
from pyzircon.abi.status import ZX_ERR_INTERNAL, ZX_ERR_NO_MEMORY, ZX_OK, status_name
from pyzircon.kernel.current import current_thread
from pyzircon.kernel.objects.handle_table import Handle, HandleTable
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.sched.scheduler import ThreadExit
from pyzircon.machine import SyscallEvent

# How long an idle agent, or the controller waiting for one, sleeps between polls.
POLL_NS = 5_000
# Polls after which a command that has not finished counts as stuck. Any command needs far
# fewer, because each poll lets every other thread run.
MAX_WAIT_POLLS = 20_000


@dataclasses.dataclass
class Outcome:
    """What one zx call did: its status (None for a foreign exception) and value.

    `detail` is the exception's type and message. The exception itself is not kept: its
    traceback would keep the call's frame, and the kernel objects it names, alive.
    """

    status: int | None
    value: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == ZX_OK


NOT_RUN = Outcome(status=None)


class HarnessError(AssertionError):
    """The harness lost control of the machine (a stuck agent, a dead controller)."""


class AgentReturn:
    """A command result that makes the agent's entry function return `code`."""

    def __init__(self, code: int) -> None:
        self.code = code


class InjectedCrash(Exception):
    """Raised on purpose by guest code, to crash its thread as a buggy program would."""


def render(value: Any) -> str:
    """Return a text form of a syscall argument or result that is stable across runs."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b'" + bytes(value).hex() + "'"
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(render(item) for item in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{render(k)}:{render(v)}" for k, v in value.items()) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(
            f"{field.name}={render(getattr(value, field.name))}"
            for field in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({fields})"
    if callable(value):
        return getattr(value, "__qualname__", type(value).__name__)
    return f"<{type(value).__name__}>"


def render_event(event: SyscallEvent) -> str:
    return (
        f"{event.time_ns} {event.process_koid}/{event.thread_koid} {event.name}"
        f"{render(event.args)} -> {event.status} {render(event.result)}"
    )


def snapshot(table: HandleTable) -> frozenset[int]:
    """Return the base values of the handles in `table` (no syscall, no switch)."""
    return frozenset(handle.base_value for handle in table)


@dataclasses.dataclass
class _Watch:
    """The table of a thread's pending call, as it was before the call.

    `probe` reads more state the call must leave unchanged if it fails; `probed` is its
    value before the call and `probed_after` at the end of the call.
    """

    thread_koid: int
    table: HandleTable
    before: frozenset[int]
    after: frozenset[int] | None = None
    probe: Callable[[], Any] | None = None
    probed: Any = None
    probed_after: Any = None


@dataclasses.dataclass
class _Fault:
    """An armed allocation failure: the `countdown`-th allocation at `site` fails."""

    site: str
    countdown: int
    thread_koid: int
    fired: bool = False


class Command:
    """An action for an agent to run, and what came of it."""

    def __init__(self, action: Callable[[], Any]) -> None:
        self.action = action
        self.result: Any = None
        self.done = False


class Agent:
    """A guest thread that runs commands from its mailbox.

    `thread` is a weak reference to the kernel's Thread object, for the host's checks.
    `arg1` is the handle value the thread received when it started.
    """

    def __init__(self, ident: int, process_key: int) -> None:
        self.ident = ident
        self.process_key = process_key
        self.inbox: deque[Command] = deque()
        self.thread: weakref.ref[Thread] | None = None
        self.started = False
        self.exited = False
        self.busy = False
        self.arg1 = 0

    @property
    def dead(self) -> bool:
        """Whether the thread can never run a command again."""
        if self.exited:
            return True
        thread = self.thread() if self.thread is not None else None
        return thread is None or thread.state in (ThreadState.DYING, ThreadState.DEAD)

    @property
    def idle(self) -> bool:
        return self.started and not self.dead and not self.busy and not self.inbox

    def __repr__(self) -> str:
        return f"<agent {self.ident} of process {self.process_key}>"


class Session:
    """A machine, its controller thread and its agents."""

    def __init__(self, seed: int, *, record_trace: bool = False) -> None:
        self.seed = seed
        self.record_trace = record_trace
        self.kernel = Kernel(seed=seed)
        self.buffers_before = vm_vmo.live_buffer_count()
        # A new machine contains only its root job, so counting needs no garbage collection.
        self.objects_before = len(self.kernel._objects)
        self.failures: list[str] = []
        self.trace: list[str] = []
        self.syscall_count = 0
        self.quiesced = False
        self.agents: list[Agent] = []
        self.finished = False
        # The pending call of each thread, by thread koid: calls of several threads
        # interleave, because each call ends with a switch point.
        self._watches: dict[int, _Watch] = {}
        self._fault: _Fault | None = None
        self._host = greenlet.getcurrent()
        self._controller: greenlet | None = None
        self.controller_thread: weakref.ref[Thread] | None = None
        self.kernel.syscall_hooks.append(self._on_syscall)
        self.kernel.handle_arena.allocate = self._allocate_handle  # type: ignore[method-assign]
        self._original_allocate = type(self.kernel.handle_arena).allocate.__get__(
            self.kernel.handle_arena
        )
        self._runner = greenlet(self._run_machine)
        reply = self._runner.switch()
        assert reply == ("ready",), reply

    # The machine's side.

    def _run_machine(self) -> tuple[str, int]:
        with _buffer_faults(self):
            code = self.kernel.run(self._controller_main, name="controller")
        return ("finished", code)

    def _controller_main(self) -> int:
        self._controller = greenlet.getcurrent()
        self.controller_thread = weakref.ref(current_thread())
        request = self._host.switch(("ready",))
        while request is not None:
            try:
                reply: tuple[str, Any] = ("value", request())
            except (ThreadExit, GreenletExit):
                raise
            except BaseException as error:  # noqa: BLE001 - handed to the host to raise
                reply = ("raised", error)
            request = self._host.switch(reply)
        return 0

    def agent_entry(self, agent: Agent) -> Callable[[int, int], int]:
        """Return the thread entry that makes the starting thread `agent`."""

        def run_agent(arg1: int, arg2: int) -> int:
            agent.thread = weakref.ref(current_thread())
            agent.arg1 = arg1
            agent.started = True
            try:
                while True:
                    if agent.inbox and not self.quiesced:
                        command = agent.inbox.popleft()
                        agent.busy = True
                        command.result = command.action()
                        command.done = True
                        agent.busy = False
                        if isinstance(command.result, AgentReturn):
                            return command.result.code
                    else:
                        zx.nanosleep(zx.deadline_after(POLL_NS))
            finally:
                agent.exited = True

        run_agent.__qualname__ = "agent_entry"
        return run_agent

    def pause_until_quiesced(self) -> None:
        """Wait while the host checks the machine (called by agents before each call)."""
        while self.quiesced:
            zx.nanosleep(zx.deadline_after(POLL_NS))

    # The host's side.

    def run(self, request: Callable[[], Any]) -> Any:
        """Run `request()` in the controller thread and return its result."""
        if self.finished or self._controller is None:
            raise HarnessError("the machine has stopped")
        reply = self._controller.switch(request)
        if reply[0] == "finished":
            self.finished = True
            raise HarnessError("the controller's process died; the machine stopped")
        if reply[0] == "raised":
            raise reply[1]
        return reply[1]

    def ask(self, agent: Agent, action: Callable[[], Any], *, wait: bool = True) -> Any:
        """Give `action` to `agent`; return its result, or None if the agent died first.

        Without `wait` the command runs in the background and this returns None at once.
        """
        command = Command(action)

        def post() -> Any:
            agent.inbox.append(command)
            if not wait:
                return None
            return self._wait_for(agent, command)

        return self.run(post)

    def wait_for(self, agent: Agent, command: Command) -> Any:
        return self.run(lambda: self._wait_for(agent, command))

    def _wait_for(self, agent: Agent, command: Command) -> Any:
        for _ in range(MAX_WAIT_POLLS):
            if command.done:
                return command.result
            if agent.dead:
                return None
            zx.nanosleep(zx.deadline_after(POLL_NS))
        self.failures.append(f"{agent!r} did not finish a command after {MAX_WAIT_POLLS} polls")
        return None

    def post(self, agent: Agent, action: Callable[[], Any]) -> Command:
        """Queue `action` for `agent` without waiting (from the host)."""
        command = Command(action)
        agent.inbox.append(command)
        return command

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Hold every agent at its next poll while the host checks the machine."""
        self.quiesced = True
        try:
            yield
        finally:
            self.quiesced = False

    def stop(self) -> int:
        """Let the controller return; return the program's exit code."""
        if self.finished:
            return 0
        assert self._controller is not None
        reply = self._controller.switch(None)
        self.finished = True
        assert reply[0] == "finished", reply
        return int(reply[1])

    # Hooks.

    def _on_syscall(self, event: SyscallEvent) -> None:
        self.syscall_count += 1
        if self.record_trace:
            self.trace.append(render_event(event))
        watch = self._watches.get(event.thread_koid)
        if watch is not None and watch.after is None:
            watch.after = snapshot(watch.table)
            if watch.probe is not None:
                watch.probed_after = watch.probe()

    def arm_fault(self, site: str, countdown: int) -> None:
        """Make the `countdown`-th allocation at `site` by the current thread fail."""
        self._fault = _Fault(site, countdown, current_thread().koid)

    def disarm_fault(self) -> bool:
        """Disarm the fault; return whether it fired."""
        fault, self._fault = self._fault, None
        return fault is not None and fault.fired

    def should_fail(self, site: str) -> bool:
        fault = self._fault
        if fault is None or fault.fired or fault.site != site:
            return False
        try:
            if current_thread().koid != fault.thread_koid:
                return False
        except ZxError:
            return False
        fault.countdown -= 1
        if fault.countdown > 0:
            return False
        fault.fired = True
        return True

    def _allocate_handle(self, obj: Any, rights: int) -> Handle:
        if self.should_fail("handle"):
            raise ZxError(ZX_ERR_NO_MEMORY, "injected fault: no handle slot left")
        return self._original_allocate(obj, rights)

    # Calls.

    def invoke(
        self,
        function: Callable[..., Any],
        *args: Any,
        expect: int | None = None,
        consumes: Callable[[frozenset[int], frozenset[int]], bool] | None = None,
        probe: Callable[[], Any] | None = None,
    ) -> Outcome:
        """Call `function(*args)` in the current guest thread and check what it did.

        `expect` is the status the call must end with, when the caller can predict it.
        `consumes(before, after)` returns whether the handles a failed call removed from the
        caller's table are ones the call documents as consumed. By default none are.
        `probe()` reads other state that a failed call must leave as it was.
        """
        thread = current_thread()
        controller = self.controller_thread() if self.controller_thread else None
        if thread is not controller:
            # Background work waits while the host checks the machine.
            self.pause_until_quiesced()
        table = thread.process.handle_table
        watch = _Watch(thread.koid, table, snapshot(table), probe=probe)
        watch.probed = probe() if probe is not None else None
        self._watches[thread.koid] = watch
        name = getattr(function, "__name__", repr(function))
        try:
            outcome = Outcome(ZX_OK, function(*args))
        except ZxError as error:
            outcome = Outcome(error.status, detail=str(error))
        except Exception as error:  # noqa: BLE001 - a foreign exception is what we look for
            outcome = Outcome(None, detail=f"{type(error).__name__}: {error}")
        finally:
            watch = self._watches.pop(thread.koid, None)

        call = f"zx.{name}{render(args)}"
        if outcome.status is None:
            self.failures.append(f"{call} raised {outcome.detail}")
            return outcome
        if outcome.status == ZX_ERR_INTERNAL:
            self.failures.append(f"{call} hit a kernel bug: {outcome.detail}")
        if expect is not None and outcome.status != expect:
            self.failures.append(
                f"{call} returned {status_name(outcome.status)}, expected {status_name(expect)}"
            )
        if not outcome.ok and watch is not None and watch.after is not None:
            added = watch.after - watch.before
            removed = watch.before - watch.after
            if added:
                self.failures.append(
                    f"{call} failed with {status_name(outcome.status)} but added "
                    f"{len(added)} handles to the caller's table"
                )
            if removed and (consumes is None or not consumes(watch.before, watch.after)):
                self.failures.append(
                    f"{call} failed with {status_name(outcome.status)} but removed "
                    f"{len(removed)} handles from the caller's table"
                )
            if watch.probed_after != watch.probed:
                self.failures.append(
                    f"{call} failed with {status_name(outcome.status)} but changed "
                    f"{watch.probed!r} into {watch.probed_after!r}"
                )
        return outcome

    # Leaks.

    def check_no_leaks(self) -> None:
        """After stop(): every object but the root job is freed, and every VMO buffer.

        Objects freed by reference counting leave at once. A full garbage collection, which
        is slow in a large process, runs only when some objects remain.
        """
        if len(self.kernel._objects) == self.objects_before:
            live = [self.kernel.root_job]
        else:
            live = self.kernel.live_objects()
        if len(live) != self.objects_before:
            raise AssertionError(
                f"{len(live) - self.objects_before} kernel objects leaked: "
                + ", ".join(repr(obj) for obj in live[:12])
            )
        leaked_buffers = vm_vmo.live_buffer_count() - self.buffers_before
        if leaked_buffers:
            raise AssertionError(f"{leaked_buffers} VMO buffers were never released")


def _find_buffer_module() -> ModuleType | None:
    """Return the VM module whose `_allocate_buffer` makes VMO buffers, if any."""
    for name in ("pyzircon.kernel.vm.pages", "pyzircon.kernel.vm.vmo"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "_allocate_buffer"):
            return module
    return None


# NOTE: buffer faults reach the VM layer through a private function. If it is renamed,
# "buffer" faults never fire, and the suite still runs with handle faults only.
_BUFFER_MODULE = _find_buffer_module()
_original_allocate_buffer = getattr(_BUFFER_MODULE, "_allocate_buffer", None)
_buffer_fault_owner: Session | None = None


def _allocate_buffer_or_fail(capacity: int) -> Any:
    owner = _buffer_fault_owner
    if owner is not None and owner.should_fail("buffer"):
        raise ZxError(ZX_ERR_NO_MEMORY, "injected fault: no memory for a VMO buffer")
    assert _original_allocate_buffer is not None
    return _original_allocate_buffer(capacity)


@contextmanager
def _buffer_faults(session: Session) -> Iterator[None]:
    """Route the VM layer's buffer allocations through `session`'s fault injector."""
    global _buffer_fault_owner
    if _BUFFER_MODULE is None:
        yield
        return
    previous = _buffer_fault_owner
    _buffer_fault_owner = session
    _BUFFER_MODULE._allocate_buffer = _allocate_buffer_or_fail  # type: ignore[attr-defined]
    try:
        yield
    finally:
        _buffer_fault_owner = previous
        if previous is None:
            _BUFFER_MODULE._allocate_buffer = _original_allocate_buffer  # type: ignore[attr-defined]


def thread_of(agent: Agent) -> Thread | None:
    return agent.thread() if agent.thread is not None else None


def is_running(thread: Thread | None) -> bool:
    return thread is not None and thread.state not in (ThreadState.DYING, ThreadState.DEAD)
