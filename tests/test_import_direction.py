"""The layers import one way: syscalls -> kernel.objects -> kernel.vm.

Every import statement of every module counts, including imports inside functions and
`if TYPE_CHECKING:` blocks, because each one is a dependency of the module's code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pyzircon

PACKAGE_DIR = Path(pyzircon.__file__).resolve().parent

# (package whose modules are checked, modules they must not import).
RULES = [
    (
        "pyzircon.kernel.vm",
        [
            "pyzircon.kernel.objects",
            "pyzircon.syscalls",
            "pyzircon.zx",
            "pyzircon.abi.rights",
        ],
    ),
    ("pyzircon.kernel.objects", ["pyzircon.syscalls"]),
    ("pyzircon.kernel", ["pyzircon.zx", "pyzircon.syscalls"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Return every module that `source` (the text of `module`) names in an import.

    `from a.b import c` names both a.b and a.b.c, since c may be a submodule. Relative
    imports are resolved against `module`.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def all_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in PACKAGE_DIR.rglob("*.py"))


def test_import_scan_finds_layers():
    names = [name for name, _ in all_modules()]
    for package, _forbidden in RULES:
        assert any(is_within(name, package) for name in names), package


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[rule[0] for rule in RULES])
def test_import_direction(package, forbidden):
    violations = []
    for name, path in all_modules():
        if not is_within(name, package):
            continue
        imports = imported_modules(path.read_text(), name, path.name == "__init__.py")
        for target in sorted(imports):
            if any(is_within(target, bad) for bad in forbidden):
                violations.append(f"{name} imports {target}")
    assert violations == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pyzircon import zx", "pyzircon.zx"),
        ("import pyzircon.syscalls.handle", "pyzircon.syscalls.handle"),
        ("from ..objects.process import Process", "pyzircon.kernel.objects.process"),
        ("from ...abi import rights", "pyzircon.abi.rights"),
        ("def f():\n    from pyzircon.syscalls import common", "pyzircon.syscalls.common"),
    ],
)
def test_import_resolution(source, expected):
    assert expected in imported_modules(source, "pyzircon.kernel.vm.aspace")
