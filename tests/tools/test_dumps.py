"""The ps, vmaps, handles and memory dumps: golden outputs, sizes, selection, errors."""

from __future__ import annotations

import json

import pytest

from guest_tasks import park
from pyzircon import Kernel, ZxError, zx
from pyzircon.tools.dumps import format_size
from support import expect_status
from tools.inspection import check_golden, run_and_capture


def capture_all(kernel: Kernel) -> dict[str, str]:
    inspect = kernel.inspect
    return {
        "ps": inspect.ps(),
        "vmaps": inspect.vmaps(),
        "vmaps_alpha": inspect.vmaps("alpha"),
        "handles": inspect.handles(),
        "memory": inspect.memory_json(),
    }


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return run_and_capture(capture_all)[1]


# Golden outputs.


def test_ps_golden(dumps: dict[str, str]) -> None:
    check_golden("ps.txt", dumps["ps"])


def test_vmaps_golden(dumps: dict[str, str]) -> None:
    check_golden("vmaps.txt", dumps["vmaps"])


def test_handles_golden(dumps: dict[str, str]) -> None:
    check_golden("handles.txt", dumps["handles"])


def test_memory_golden(dumps: dict[str, str]) -> None:
    check_golden("memory.json", dumps["memory"])


def test_dumps_repeat_with_seed() -> None:
    first = run_and_capture(capture_all)[1]
    second = run_and_capture(capture_all)[1]
    assert first == second


# ps.


def test_ps_lists_states_and_return_code(dumps: dict[str, str]) -> None:
    lines = dumps["ps"].splitlines()
    gamma = next(line for line in lines if line.endswith(" gamma"))
    assert " dead " in gamma
    assert " 7 " in gamma
    idle = next(line for line in lines if line.endswith(" idle"))
    assert " new " in idle
    assert lines[0] == lines[-1]
    assert lines[0].split() == [
        "TASK",
        "PSS",
        "PRIVATE",
        "SHARED",
        "STATE",
        "RETCODE",
        "KIND",
        "GROUP",
        "NAME",
    ]


def test_ps_shows_group_membership(dumps: dict[str, str]) -> None:
    rows = {line.split()[-1]: line.split() for line in dumps["ps"].splitlines()[1:-1]}
    group = rows["supervisor"][-2]
    assert rows["supervisor"][-3] == "prototype"
    for member in ("alpha", "beta", "gamma"):
        assert rows[member][-3] == "member"
        assert rows[member][-2] == group
    assert rows["logger"][-2] == "regular"


def test_ps_nests_child_job(dumps: dict[str, str]) -> None:
    lines = dumps["ps"].splitlines()
    services = next(line for line in lines if line.endswith(" services"))
    logger = next(line for line in lines if line.endswith(" logger"))
    assert services.startswith("  j: ")
    assert logger.startswith("    p: ")


# vmaps.


def test_vmaps_marks_parts(dumps: dict[str, str]) -> None:
    text = dumps["vmaps_alpha"]
    lines = text.splitlines()
    restricted = next(i for i, line in enumerate(lines) if "[restricted part" in line)
    guard = next(i for i, line in enumerate(lines) if line.startswith("/G "))
    shared = next(i for i, line in enumerate(lines) if "[shared part" in line)
    assert restricted < guard < shared
    assert "1038 'supervisor'" in lines[shared]
    assert "gamma" not in lines[shared]


def test_vmaps_mapping_columns(dumps: dict[str, str]) -> None:
    line = next(line for line in dumps["vmaps_alpha"].splitlines() if "'alpha-stack'" in line)
    fields = line.split()
    assert fields[0] == "M"
    assert fields[1] == "________00201000-________00203000"
    assert fields[2:6] == ["rw-", "8k:sz", "4k:res", f"{fields[5].split(':')[0]}:vmo"]


def test_vmaps_one_process_by_koid() -> None:
    def capture(kernel: Kernel) -> dict[str, str]:
        tree = kernel.inspect.tasks()
        beta = tree.find_process("beta")
        return {"by_koid": kernel.inspect.vmaps(beta.koid), "by_name": kernel.inspect.vmaps("beta")}

    captured = run_and_capture(capture)[1]
    assert captured["by_koid"] == captured["by_name"]
    assert captured["by_koid"].startswith("vmaps of process ")
    assert "'beta-stack'" in captured["by_koid"]
    assert "'alpha-stack'" not in captured["by_koid"]


def test_vmaps_of_dead_process() -> None:
    captured = run_and_capture(lambda kernel: {"gamma": kernel.inspect.vmaps("gamma")})[1]
    assert "dead: it has no address space any more" in captured["gamma"]


# handles.


def test_handles_shows_group_table_once(dumps: dict[str, str]) -> None:
    text = dumps["handles"]
    assert text.count("shared by 3 processes") == 1
    titles = [line for line in text.splitlines() if line.startswith("handle table ")]
    assert len(titles) == 3


def test_handles_names_rights(dumps: dict[str, str]) -> None:
    reduced = next(line for line in dumps["handles"].splitlines() if " 0x00000024 " in line)
    assert reduced.endswith(" READ|MAP")
    assert "'heap'" in reduced


def test_handles_of_member_is_group_table() -> None:
    captured = run_and_capture(lambda kernel: {"beta": kernel.inspect.handles("beta")})[1]
    assert captured["beta"].startswith("handle table ")
    assert "shared by 3 processes" in captured["beta"]
    assert " event " in captured["beta"]
    assert captured["beta"].endswith("1 handles\n")


# memory.


def test_memory_graph_shape(dumps: dict[str, str]) -> None:
    nodes = json.loads(dumps["memory"])
    assert nodes[0]["type"] == "__meta"
    ids = {node["id"] for node in nodes[1:]}
    assert len(ids) == len(nodes) - 1
    for node in nodes[1:]:
        assert {"id", "type", "parent", "name"} <= node.keys()
        assert node["parent"] == "" or node["parent"] in ids
    for node in nodes:
        if node["type"] == "mapping":
            assert node["vmo"] in ids
    types = {node["type"] for node in nodes}
    assert types == {"__meta", "j", "p", "t", "group", "aspace", "vmar", "mapping", "vmo"}


def test_memory_graph_shared_part_once(dumps: dict[str, str]) -> None:
    nodes = json.loads(dumps["memory"])
    group = next(node for node in nodes if node["type"] == "group")
    shared = [node for node in nodes if node["type"] == "aspace" and node["part"] == "shared"]
    assert [node["id"] for node in shared] == [group["shared_aspace"]]
    assert shared[0]["parent"] == group["id"]
    assert len(group["processes"]) == 4


def test_memory_graph_process_fields(dumps: dict[str, str]) -> None:
    nodes = {node.get("id"): node for node in json.loads(dumps["memory"])}
    processes = [node for node in nodes.values() if node.get("type") == "p"]
    for process in processes:
        assert {"private_bytes", "shared_bytes", "pss_bytes", "koid"} <= process.keys()
    gamma = next(node for node in processes if node["name"] == "gamma")
    assert gamma["return_code"] == 7
    assert gamma["aspaces"] == []
    alpha = next(node for node in processes if node["name"] == "alpha")
    assert alpha["return_code"] is None
    assert len(alpha["aspaces"]) == 2


# format_size, as Fuchsia's pretty sizes print.


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (1, "1B"),
        (1023, "1023B"),
        (1024, "1k"),
        (1025, "1025B"),
        (9999, "9999B"),
        (10000, "9.8k"),
        (4096, "4k"),
        (1536 * 1024, "1536k"),
        (10 * 1024 * 1024, "10M"),
        (0x3FFF_FFE0_0000, "64.0T"),
        ((1 << 64) - 1, "16.0E"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


# Selection and errors.


def test_dump_rejects_unknown_kind() -> None:
    kernel = Kernel(seed=0)
    expect_status(zx.ZX_ERR_INVALID_ARGS, kernel.inspect.dump, "pmap")


def test_dump_rejects_process_for_ps() -> None:
    kernel = Kernel(seed=0)
    expect_status(zx.ZX_ERR_INVALID_ARGS, kernel.inspect.dump, "ps", "root")
    expect_status(zx.ZX_ERR_INVALID_ARGS, kernel.inspect.dump, "memory", 1024)


def test_unknown_process_not_found() -> None:
    kernel = Kernel(seed=0)
    expect_status(zx.ZX_ERR_NOT_FOUND, kernel.inspect.vmaps, "nobody")
    expect_status(zx.ZX_ERR_NOT_FOUND, kernel.inspect.handles, 99999)


def test_ambiguous_name_not_found() -> None:
    def capture(kernel: Kernel) -> dict[str, str]:
        zx.process_create(zx.job_default(), "twin", 0)
        zx.process_create(zx.job_default(), "twin", 0)
        with pytest.raises(ZxError) as caught:
            kernel.inspect.vmaps("twin")
        return {"status": str(caught.value.status), "message": str(caught.value)}

    captured = run_and_capture(capture)[1]
    assert captured["status"] == str(zx.ZX_ERR_NOT_FOUND)
    assert "2 processes are named 'twin'" in captured["message"]


def test_dump_outside_run_shows_root_job() -> None:
    text = Kernel(seed=0).inspect.ps()
    assert text.splitlines()[1].startswith("j: 1024")


def test_ps_shows_suspended_thread() -> None:
    def capture(kernel: Kernel) -> dict[str, str]:
        process, _ = zx.process_create(zx.job_default(), "sleeper", 0)
        thread = zx.thread_create(process, "parked", 0)
        zx.process_start(process, thread, park, 0, zx.ZX_HANDLE_INVALID, 0)
        token = zx.task_suspend(thread)
        # Let the blocked thread wake up and stop as SUSPENDED.
        zx.nanosleep(zx.deadline_after(10_000))
        text = kernel.inspect.ps()
        zx.handle_close(token)
        return {"ps": text}

    lines = run_and_capture(capture)[1]["ps"].splitlines()
    parked = next(line for line in lines if line.endswith(" parked"))
    assert " susp " in parked
