"""`pyzircon.debug`: dumps and the map from inside a guest program."""

from __future__ import annotations

import io
from pathlib import Path

from pyzircon import Kernel, debug, zx
from pyzircon.tools.trace import TextTrace
from support import expect_status, run_guest

PAGE = 4096


def make_member() -> tuple[int, int]:
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
    vmo = zx.vmo_create(PAGE, 0)
    zx.object_set_property(vmo, zx.ZX_PROP_NAME, "private-page")
    zx.vmar_map(restricted_vmar, zx.ZX_VM_PERM_READ, 0, vmo, 0, PAGE)
    return member, vmo


def test_dump_prints_and_returns_text() -> None:
    def body() -> tuple[str, str]:
        make_member()
        out = io.StringIO()
        text = debug.dump("ps", file=out)
        return text, out.getvalue()

    text, printed = run_guest(body)
    assert text == printed
    assert text.startswith("TASK ")
    assert " member " in text


def test_dump_vmaps_by_handle() -> None:
    def body() -> str:
        member, _vmo = make_member()
        return debug.dump("vmaps", member, file=io.StringIO())

    text = run_guest(body)
    assert "'member'" in text.splitlines()[0]
    assert "'private-page'" in text


def test_dump_vmaps_by_name() -> None:
    def body() -> str:
        make_member()
        return debug.dump("vmaps", "member", file=io.StringIO())

    assert "'private-page'" in run_guest(body)


def test_dump_bad_handle() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_BAD_HANDLE, debug.dump, "vmaps", 0x7)

    run_guest(body)


def test_dump_wrong_type() -> None:
    def body() -> None:
        _member, vmo = make_member()
        expect_status(zx.ZX_ERR_WRONG_TYPE, debug.dump, "handles", vmo)

    run_guest(body)


def test_dump_unknown_kind() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, debug.dump, "threads", file=io.StringIO())

    run_guest(body)


def test_dump_outside_guest() -> None:
    expect_status(zx.ZX_ERR_BAD_STATE, debug.dump, "ps")


def test_save_map(tmp_path: Path) -> None:
    picture = tmp_path / "map.svg"

    def body() -> None:
        member, _vmo = make_member()
        debug.save_map(picture, member)

    run_guest(body)
    text = picture.read_text()
    assert text.count('class="mapping"') == 1
    assert text.count('class="process"') == 2


def test_debug_calls_do_not_change_run() -> None:
    def program(with_dumps: bool) -> int:
        member, _vmo = make_member()
        if with_dumps:
            debug.dump("ps", file=io.StringIO())
            debug.dump("vmaps", member, file=io.StringIO())
            debug.dump("memory", file=io.StringIO())
        zx.vmo_create(PAGE, 0)
        return 0

    traces = []
    for with_dumps in (False, True):
        kernel = Kernel(seed=2)
        stream = io.StringIO()
        TextTrace(kernel, stream)
        kernel.run(program, with_dumps)
        traces.append(stream.getvalue())
    assert traces[0] == traces[1]
