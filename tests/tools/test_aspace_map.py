"""The address-space picture: valid SVG, one element per mapping and per process, alignment."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from pyzircon import Kernel, zx
from pyzircon.tools.dumps import format_size
from tools.inspection import run_and_capture

SVG = "{http://www.w3.org/2000/svg}"
PAGE = 4096
RW = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def elements_of_class(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [element for element in root.iter() if element.get("class") == name]


def text_of(element: ElementTree.Element) -> str:
    return " ".join(text.text or "" for text in element.iter(f"{SVG}text"))


def capture_map(kernel: Kernel) -> dict[str, str]:
    return {
        "default": kernel.inspect.map_svg(),
        "logger": kernel.inspect.map_svg(["logger"]),
        "both": kernel.inspect.map_svg(["alpha", "logger"]),
    }


def test_map_one_element_per_mapping_and_process() -> None:
    svg = run_and_capture(capture_map)[1]["default"]
    root = parse(svg)
    # The shared part's two mappings once, and two in each live member's restricted part.
    assert len(elements_of_class(root, "mapping")) == 6
    processes = elements_of_class(root, "process")
    assert [p.get("data-kind") for p in processes] == ["prototype", "member", "member"]
    assert len(elements_of_class(root, "guard-page")) == 1


def test_map_shared_mapping_drawn_once() -> None:
    svg = run_and_capture(capture_map)[1]["default"]
    mappings = elements_of_class(parse(svg), "mapping")
    labels = [text_of(mapping) for mapping in mappings]
    assert sum("task-table" in label for label in labels) == 1
    assert sum("heap" in label for label in labels) == 1


def test_map_labels_name_size_perms() -> None:
    svg = run_and_capture(capture_map)[1]["default"]
    stack = next(m for m in elements_of_class(parse(svg), "mapping") if "alpha-stack" in text_of(m))
    assert f"alpha-stack  {format_size(2 * PAGE)} rw-" in text_of(stack)
    assert stack.get("data-perms") == "rw-"
    assert stack.get("data-size") == str(2 * PAGE)


def test_map_aligns_equal_addresses() -> None:
    svg = run_and_capture(capture_map)[1]["default"]
    mappings = elements_of_class(parse(svg), "mapping")
    stacks = [m for m in mappings if "-stack" in text_of(m)]
    assert len(stacks) == 2
    assert stacks[0].get("data-base") == stacks[1].get("data-base")
    rects = [m.find(f"{SVG}rect") for m in stacks]
    assert rects[0] is not None and rects[1] is not None
    assert rects[0].get("y") == rects[1].get("y")
    assert rects[0].get("x") != rects[1].get("x")


def test_map_selects_regular_process() -> None:
    captured = run_and_capture(capture_map)[1]
    root = parse(captured["logger"])
    assert len(elements_of_class(root, "mapping")) == 1
    assert [p.get("data-kind") for p in elements_of_class(root, "process")] == ["regular"]
    assert elements_of_class(root, "guard-page") == []
    both = parse(captured["both"])
    assert len(elements_of_class(both, "process")) == 4
    assert len(elements_of_class(both, "mapping")) == 7


def test_map_repeats_with_seed() -> None:
    first = run_and_capture(capture_map)[1]
    second = run_and_capture(capture_map)[1]
    assert first == second


def test_map_without_processes() -> None:
    root = parse(Kernel(seed=0).inspect.map_svg())
    assert elements_of_class(root, "mapping") == []
    assert "no live process" in text_of(root)


def test_map_draws_regular_processes_without_groups() -> None:
    def program() -> int:
        process, vmar = zx.process_create(zx.job_default(), "solo", 0)
        zx.vmar_map(vmar, RW, 0, zx.vmo_create(PAGE, 0), 0, PAGE)
        captured["svg"] = kernel.inspect.map_svg()
        return 0

    captured: dict[str, str] = {}
    kernel = Kernel(seed=0)
    kernel.run(program)
    root = parse(captured["svg"])
    kinds = [p.get("data-kind") for p in elements_of_class(root, "process")]
    assert kinds == ["regular", "regular"]
    assert len(elements_of_class(root, "mapping")) == 1


def test_map_large_group_counts() -> None:
    members = 20
    per_member = 5

    def program() -> int:
        proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        zx.vmar_map(shared_vmar, RW, 0, zx.vmo_create(PAGE, 0), 0, PAGE)
        for index in range(members):
            _member, restricted_vmar = zx.process_create_shared(proto, 0, f"m{index}")
            # Different sizes per member, so the columns do not all line up.
            for _ in range(per_member):
                size = PAGE * (1 + index % 3)
                zx.vmar_map(restricted_vmar, RW, 0, zx.vmo_create(size, 0), 0, size)
        captured["svg"] = kernel.inspect.map_svg()
        return 0

    captured: dict[str, str] = {}
    kernel = Kernel(seed=0)
    kernel.run(program)
    root = parse(captured["svg"])
    assert len(elements_of_class(root, "mapping")) == 1 + members * per_member
    assert len(elements_of_class(root, "process")) == 1 + members
