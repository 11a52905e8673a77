"""The inspection options of `pyzircon run`: --trace, --trace-file, --trace-json, --dump, --map."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from pyzircon.cli.main import EXIT_FAILURE, main
from tools.trace_format import check_trace_events

EXAMPLES = Path(__file__).parents[2] / "examples"
PROGRAM = """\
from pyzircon import zx

def main():
    proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
    vmo = zx.vmo_create(4096, 0)
    zx.object_set_property(vmo, zx.ZX_PROP_NAME, "shared-page")
    zx.vmar_map(shared_vmar, zx.ZX_VM_PERM_READ, 0, vmo, 0, 4096)
    print("program output")
    return 3
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    return path


def run(args: list[str]) -> int:
    return main(["run", *args])


def test_trace_prints_line_per_syscall(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([str(program), "--trace"]) == 3
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 5
    assert ":program 1028:main zx_process_create(" in lines[0]
    assert lines[-1].endswith("-> ZX_OK 0x400000001000")
    assert captured.out == "program output\n"


def test_trace_repeats_with_seed(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run([str(program), "--trace", "--seed", "6"])
    first = capsys.readouterr().err
    run([str(program), "--trace", "--seed", "6"])
    assert capsys.readouterr().err == first


def test_trace_file(program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.txt"
    assert run([str(program), "--trace-file", str(trace)]) == 3
    assert capsys.readouterr().err == ""
    assert len(trace.read_text().splitlines()) == 5


def test_trace_json_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    example = str(EXAMPLES / "mini_starnix.py")
    assert run([example, "--trace-json", str(first)]) == 0
    assert run([example, "--trace-json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    check_trace_events(document)
    reasons = {
        event["args"]["reason"]
        for event in document["traceEvents"]
        if event["ph"] == "E" and event["name"] == "restricted mode"
    }
    assert reasons == {
        "ZX_RESTRICTED_REASON_SYSCALL",
        "ZX_RESTRICTED_REASON_EXCEPTION",
        "ZX_RESTRICTED_REASON_KICK",
    }


def test_dump_ps_at_exit(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([str(program), "--dump", "ps"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("program output\nTASK ")
    lines = out.splitlines()
    program_row = next(line for line in lines if line.endswith(" program"))
    assert " running " in program_row
    assert any(line.endswith(" member") and " member " in line for line in lines)


def test_dump_each_kind(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(program), "--dump", "vmaps:member", "--dump", "handles", "--dump", "memory"]
    assert run(args) == 3
    out = capsys.readouterr().out
    assert "vmaps of process " in out
    assert "'member'" in out
    assert "'shared-page'" in out
    assert "handle table " in out
    memory = out[out.index("\n[\n") + 1 :]
    assert json.loads(memory)[0]["type"] == "__meta"


def test_dump_unknown_process_reported(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([str(program), "--dump", "vmaps:nobody"]) == 3
    err = capsys.readouterr().err
    assert "--dump vmaps:" in err
    assert "no process is named 'nobody'" in err


@pytest.mark.parametrize("request_text", ["pmap", "ps:1", "memory:member"])
def test_dump_rejects_bad_request(
    program: Path, request_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        run([str(program), "--dump", request_text])
    assert caught.value.code == 2
    assert "--dump" in capsys.readouterr().err


def test_dump_after_guest_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crash.py"
    path.write_text("def main():\n    raise ValueError('boom')\n")
    assert run([str(path), "--dump", "ps"]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert captured.out.startswith("TASK ")
    assert "ValueError: boom" in captured.err


def test_map_writes_svg(program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "map.svg"
    assert run([str(program), "--map", str(picture)]) == 3
    root = ElementTree.fromstring(picture.read_text())
    classes = [element.get("class") for element in root.iter()]
    assert classes.count("mapping") == 1
    assert classes.count("process") == 2


def test_map_unwritable_path_reported(
    program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "missing-dir" / "map.svg"
    assert run([str(program), "--map", str(picture)]) == 3
    assert "--map" in capsys.readouterr().err


def test_example_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "group.svg"
    assert run([str(EXAMPLES / "inspect_group.py"), "--map", str(picture)]) == 0
    root = ElementTree.fromstring(picture.read_text())
    classes = [element.get("class") for element in root.iter()]
    # Two shared mappings, three in each of the three live tasks.
    assert classes.count("mapping") == 11
    assert classes.count("process") == 4


def test_trace_file_unwritable(
    program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "missing-dir" / "trace.txt"
    assert run([str(program), "--trace-file", str(trace)]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "--trace-file" in err
    assert "No such file or directory" in err


def test_trace_json_unwritable(
    program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "missing-dir" / "trace.json"
    assert run([str(program), "--trace-json", str(trace)]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert captured.out == "program output\n"
    assert "--trace-json" in captured.err


def test_trace_json_after_deadlock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deadlock.py"
    path.write_text("from pyzircon import zx\ndef main():\n    zx.nanosleep(zx.ZX_TIME_INFINITE)\n")
    trace = tmp_path / "trace.json"
    assert run([str(path), "--trace-json", str(trace)]) == EXIT_FAILURE
    assert "deadlock" in capsys.readouterr().err
    check_trace_events(json.loads(trace.read_text()))
