"""A picture of address spaces: the processes of each shared group side by side, as SVG.

Each group gets a panel. Its columns are its live processes, in koid order, and its
vertical axis is the address, high addresses at the top:
- the shared part is drawn once, across every column, because every process of the
  group sees the same shared address space;
- the guard page between the two parts is a dark band;
- each member's restricted part is drawn in its own column, and the prototype's column
  says that it has none;
- a regular process gets a panel of its own with one column over its whole address space.

The axis is piecewise: every start and end of a VMAR or mapping in a panel is a break
point, a piece covered by a mapping gets a height that grows with the logarithm of its
size, and an unmapped piece gets a small fixed height. The same address is at the same
height in every column, so mappings at equal addresses line up. The drawing takes time
linear in the number of VMARs and mappings, plus one sort of the break points.

The SVG is built with drawsvg. Every mapping is one `<g class="mapping">` element and
every process one `<g class="process">` element, with `data-*` attributes for tools.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import drawsvg as draw

from pyzircon.abi.layout import PAGE_SIZE
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState
from pyzircon.kernel.vm.aspace import AspaceKind, VmAspace
from pyzircon.kernel.vm.vmar import VmAddressRegion, VmMapping, VmNode
from pyzircon.tools.dumps import format_perms, format_size
from pyzircon.tools.tasks import TaskTree, group_label

# Geometry, in SVG user units (pixels at 100% zoom).
MARGIN = 16
AXIS_WIDTH = 240
# Address labels are right-aligned at the axis; gap sizes end this far left of it.
GAP_LABEL_OFFSET = 118
COLUMN_WIDTH = 230
COLUMN_GAP = 10
TITLE_HEIGHT = 28
HEADER_HEIGHT = 52
PART_LABEL_HEIGHT = 18
GUARD_HEIGHT = 18
GAP_HEIGHT = 16
# A mapped piece of one page is MIN_MAPPED_HEIGHT tall, and each doubling of its size adds
# HEIGHT_PER_DOUBLING, up to MAX_MAPPED_HEIGHT.
MIN_MAPPED_HEIGHT = 24
HEIGHT_PER_DOUBLING = 5
MAX_MAPPED_HEIGHT = 84
# A mapping box at least this tall gets a second label line (VMO koid, committed bytes).
DETAIL_MIN_HEIGHT = 30
# Nested VMARs and mappings are inset by this much per level.
DEPTH_INSET = 6
PANEL_GAP = 28
LEGEND_HEIGHT = 30
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 11
SMALL_FONT_SIZE = 9
# Width of one character of FONT at FONT_SIZE, used to cut labels to their box.
CHAR_WIDTH = 6.7

# Fill colours of mappings, by permissions.
_PERM_COLOURS = {
    "r--": "#cfe2ff",
    "rw-": "#c7ecc9",
    "r-x": "#ffe0b2",
    "rwx": "#ffcdd2",
    "---": "#e0e0e0",
}
_OTHER_PERM_COLOUR = "#f0d9ff"
_SHARED_FILL = "#f3f6fb"
_RESTRICTED_FILL = "#fffdf5"
_USER_FILL = "#f7f7f7"
_GUARD_FILL = "#454545"
_TEXT_COLOUR = "#1a1a1a"
_MUTED_COLOUR = "#666666"


@dataclass(frozen=True)
class _Column:
    """One process of a panel and where its column starts."""

    process: Process
    x: int


class _Axis:
    """The piecewise address axis of one part: break points and their heights.

    `top` is the y of the part's end address; lower addresses are further down.
    """

    def __init__(self, base: int, end: int, nodes: Iterable[VmNode], top: int) -> None:
        points = {base, end}
        coverage: dict[int, int] = {}
        for node in nodes:
            points.add(node.base)
            points.add(node.end)
            if isinstance(node, VmMapping):
                coverage[node.base] = coverage.get(node.base, 0) + 1
                coverage[node.end] = coverage.get(node.end, 0) - 1
        self.points = sorted(points)
        # Which pieces [points[i], points[i + 1]) some mapping covers, by a running sum.
        self.mapped: list[bool] = []
        depth = 0
        for point in self.points[:-1]:
            depth += coverage.get(point, 0)
            self.mapped.append(depth > 0)

        self.y: dict[int, int] = {}
        y = top
        self.y[self.points[-1]] = y
        for index in range(len(self.points) - 2, -1, -1):
            size = self.points[index + 1] - self.points[index]
            y += _mapped_height(size) if self.mapped[index] else GAP_HEIGHT
            self.y[self.points[index]] = y
        self.top = top
        self.bottom = y

    def span(self, base: int, end: int) -> tuple[int, int]:
        """Return (y of the top, height) of the address range [base, end)."""
        top = self.y[end]
        return top, self.y[base] - top


def _mapped_height(size: int) -> int:
    pages = max(size // PAGE_SIZE, 1)
    grown = MIN_MAPPED_HEIGHT + HEIGHT_PER_DOUBLING * int(math.log2(pages))
    return min(grown, MAX_MAPPED_HEIGHT)


def draw_map(tree: TaskTree, processes: Iterable[Process] | None = None) -> str:
    """Return an SVG picture of the address spaces of the groups of `processes`.

    Without `processes`, every shared group with a live process is drawn, or every live
    regular process when there is no shared group. Each drawn group shows all of its live
    processes.
    """
    groups = _select_groups(tree, processes)
    panels: list[_Panel] = []
    y = MARGIN
    for group in groups:
        panel = _Panel(tree, group, y)
        panels.append(panel)
        y = panel.bottom + PANEL_GAP
    width = max([MARGIN * 2 + AXIS_WIDTH + COLUMN_WIDTH, *(panel.width for panel in panels)])
    height = y + LEGEND_HEIGHT

    drawing = draw.Drawing(width, height, font_family=FONT, font_size=FONT_SIZE)
    drawing.append(draw.Rectangle(0, 0, width, height, fill="white"))
    if not panels:
        drawing.append(_text("no live process has an address space", MARGIN, MARGIN + 12))
    for panel in panels:
        panel.render(drawing)
    _draw_legend(drawing, height - LEGEND_HEIGHT + 8)
    return drawing.as_svg()  # type: ignore[no-any-return]


def _select_groups(tree: TaskTree, processes: Iterable[Process] | None) -> list[list[Process]]:
    selected = None if processes is None else {id(p.shared_state) for p in processes}
    groups = []
    for group in tree.groups():
        if selected is not None and id(group[0].shared_state) not in selected:
            continue
        live = [p for p in group if p.state is not ProcessState.DEAD]
        if live and not live[0].shared_aspace.is_destroyed:
            groups.append(live)
    if selected is None and any(group[0].kind is not ProcessKind.REGULAR for group in groups):
        groups = [group for group in groups if group[0].kind is not ProcessKind.REGULAR]
    return groups


class _Panel:
    """The layout of one group: columns, the shared or user part, the guard page, the rest."""

    def __init__(self, tree: TaskTree, processes: list[Process], top: int) -> None:
        self.processes = processes
        self.layout = tree.kernel.layout
        self.top = top
        self.columns = [
            _Column(p, MARGIN + AXIS_WIDTH + i * (COLUMN_WIDTH + COLUMN_GAP))
            for i, p in enumerate(processes)
        ]
        self.left = MARGIN + AXIS_WIDTH
        self.right = self.columns[-1].x + COLUMN_WIDTH
        self.width = self.right + MARGIN
        self.upper = processes[0].shared_aspace
        self.shared = self.upper.kind is AspaceKind.SHARED

        y = top + TITLE_HEIGHT + HEADER_HEIGHT + PART_LABEL_HEIGHT
        self.upper_axis = _Axis(self.upper.base, self.upper.end, _nodes(self.upper), y)
        y = self.upper_axis.bottom
        self.restricted_axis: _Axis | None = None
        if self.shared:
            self.guard_top = y
            y += GUARD_HEIGHT + PART_LABEL_HEIGHT
            restricted = [
                node
                for p in processes
                if p.restricted_aspace is not None and not p.restricted_aspace.is_destroyed
                for node in _nodes(p.restricted_aspace)
            ]
            self.restricted_axis = _Axis(
                self.layout.restricted_base, self.layout.restricted_end, restricted, y
            )
            y = self.restricted_axis.bottom
        self.bottom = y

    # Drawing.

    def render(self, drawing: draw.Drawing) -> None:
        drawing.append(_text(self._title(), MARGIN, self.top + 18, font_weight="bold"))
        for column in self.columns:
            drawing.append(_process_header(column, self.top + TITLE_HEIGHT))

        part_label_y = self.top + TITLE_HEIGHT + HEADER_HEIGHT + 13
        if self.shared:
            label = f"shared part, seen by all {len(self.columns)} processes"
        else:
            label = "address space"
        drawing.append(_text(self._part_label(label, self.upper), self.left, part_label_y))
        self._draw_axis(drawing, self.upper_axis)
        self._draw_aspace(drawing, self.upper, self.upper_axis, self.left, self.right)

        if self.restricted_axis is not None:
            self._draw_guard(drawing)
            restricted_label_y = self.guard_top + GUARD_HEIGHT + 13
            label = f"restricted parts [{self.layout.restricted_base:#x}, "
            label += f"{self.layout.restricted_end:#x}), one per member"
            drawing.append(_text(label, self.left, restricted_label_y))
            self._draw_axis(drawing, self.restricted_axis)
            for column in self.columns:
                self._draw_restricted(drawing, column, self.restricted_axis)

    def _title(self) -> str:
        first = self.processes[0]
        if not self.shared:
            return f"process {first.koid} {first.name!r}: a regular process"
        return (
            f"shared group {group_label(first)}: {len(self.processes)} live processes "
            "sharing one handle table and the shared part"
        )

    @staticmethod
    def _part_label(text: str, aspace: VmAspace) -> str:
        return f"{text} [{aspace.base:#x}, {aspace.end:#x}) {aspace.name!r}"

    def _draw_axis(self, drawing: draw.Drawing, axis: _Axis) -> None:
        x = self.left - 8
        drawing.append(draw.Line(x, axis.top, x, axis.bottom, stroke=_MUTED_COLOUR))
        for index, point in enumerate(axis.points):
            y = axis.y[point]
            drawing.append(draw.Line(x - 4, y, x, y, stroke=_MUTED_COLOUR))
            drawing.append(
                _text(f"{point:#x}", x - 6, y + 3, font_size=SMALL_FONT_SIZE, text_anchor="end")
            )
            if index + 1 < len(axis.points) and not axis.mapped[index]:
                size = axis.points[index + 1] - point
                gap_y = axis.y[axis.points[index + 1]] + GAP_HEIGHT // 2 + 3
                drawing.append(
                    _text(
                        f"~ {format_size(size)} unmapped",
                        x - GAP_LABEL_OFFSET,
                        gap_y,
                        font_size=SMALL_FONT_SIZE,
                        fill=_MUTED_COLOUR,
                        text_anchor="end",
                    )
                )

    def _draw_aspace(
        self, drawing: draw.Drawing, aspace: VmAspace, axis: _Axis, left: int, right: int
    ) -> None:
        fill = _SHARED_FILL if self.shared else _USER_FILL
        top, height = axis.span(aspace.base, aspace.end)
        outline = draw.Rectangle(
            left, top, right - left, height, fill=fill, stroke="#7a8aa0", class_="aspace"
        )
        outline.append_title(f"address space {aspace.name!r} [{aspace.base:#x}, {aspace.end:#x})")
        drawing.append(outline)
        for depth, node in aspace.walk():
            if depth == 0:
                continue
            inset = (depth - 1) * DEPTH_INSET
            if isinstance(node, VmMapping):
                drawing.append(_mapping(node, axis, left + inset, right - inset))
            else:
                assert isinstance(node, VmAddressRegion)
                drawing.append(_vmar(node, axis, left + inset, right - inset))

    def _draw_guard(self, drawing: draw.Drawing) -> None:
        guard = draw.Group(class_="guard-page", data_base=f"{self.layout.guard_page:#x}")
        guard.append(
            draw.Rectangle(
                self.left,
                self.guard_top,
                self.right - self.left,
                GUARD_HEIGHT,
                fill=_GUARD_FILL,
            )
        )
        label = f"guard page [{self.layout.guard_page:#x}, "
        label += f"{self.layout.guard_page + PAGE_SIZE:#x}): no mapping can be placed here"
        guard.append(_text(label, self.left + 6, self.guard_top + 13, fill="white"))
        guard.append_title(label)
        drawing.append(guard)

    def _draw_restricted(self, drawing: draw.Drawing, column: _Column, axis: _Axis) -> None:
        left = column.x
        right = column.x + COLUMN_WIDTH
        aspace = column.process.restricted_aspace
        if aspace is None or aspace.is_destroyed:
            note = draw.Rectangle(
                left,
                axis.top,
                COLUMN_WIDTH,
                axis.bottom - axis.top,
                fill="none",
                stroke="#bbbbbb",
                stroke_dasharray="4 3",
            )
            drawing.append(note)
            if column.process.kind is ProcessKind.PROTOTYPE:
                text = "no restricted part (prototype)"
            else:
                text = "no restricted part"
            drawing.append(_text(text, left + 8, axis.top + 16, fill=_MUTED_COLOUR))
            return
        top, height = axis.span(aspace.base, aspace.end)
        outline = draw.Rectangle(
            left,
            top,
            COLUMN_WIDTH,
            height,
            fill=_RESTRICTED_FILL,
            stroke="#b39b5a",
            class_="aspace",
        )
        outline.append_title(f"address space {aspace.name!r} [{aspace.base:#x}, {aspace.end:#x})")
        drawing.append(outline)
        for depth, node in aspace.walk():
            if depth == 0:
                continue
            inset = (depth - 1) * DEPTH_INSET
            if isinstance(node, VmMapping):
                drawing.append(_mapping(node, axis, left + inset, right - inset))
            else:
                assert isinstance(node, VmAddressRegion)
                drawing.append(_vmar(node, axis, left + inset, right - inset))


def _nodes(aspace: VmAspace) -> list[VmNode]:
    """Return every VMAR and mapping of `aspace` below its root."""
    if aspace.is_destroyed:
        return []
    return [node for depth, node in aspace.walk() if depth > 0]


def _process_header(column: _Column, top: int) -> draw.Group:
    process = column.process
    group = draw.Group(
        class_="process",
        data_koid=str(process.koid),
        data_kind=process.kind.value,
        data_state=process.state.value,
    )
    group.append(
        draw.Rectangle(
            column.x, top + 4, COLUMN_WIDTH, HEADER_HEIGHT - 10, fill="#eef1f5", stroke="#9aa5b1"
        )
    )
    group.append(
        _text(
            _fit(process.name or "(no name)", COLUMN_WIDTH - 12),
            column.x + 6,
            top + 20,
            font_weight="bold",
        )
    )
    group.append(
        _text(
            f"koid {process.koid} {process.kind.value} {process.state.value}",
            column.x + 6,
            top + 36,
            fill=_MUTED_COLOUR,
        )
    )
    group.append_title(f"process {process.koid} {process.name!r}, {process.kind.value}")
    return group


def _mapping(mapping: VmMapping, axis: _Axis, left: int, right: int) -> draw.Group:
    """Draw one mapping: a box coloured by permissions, its labels and a hover title."""
    top, height = axis.span(mapping.base, mapping.end)
    perms = format_perms(mapping.perms)
    vmo = mapping.vmo
    name = vmo.name or "(unnamed VMO)"
    committed = vmo.committed_bytes_in_range(mapping.vmo_offset, mapping.size)

    group = draw.Group(
        class_="mapping",
        data_base=f"{mapping.base:#x}",
        data_size=str(mapping.size),
        data_perms=perms,
        data_vmo_koid=str(vmo.user_id),
    )
    group.append(
        draw.Rectangle(
            left + 1,
            top + 1,
            right - left - 2,
            height - 2,
            fill=_PERM_COLOURS.get(perms, _OTHER_PERM_COLOUR),
            stroke="#55606e",
            stroke_width=0.6,
            rx=2,
        )
    )

    width = right - left - 10
    group.append(
        _text(_fit(f"{name}  {format_size(mapping.size)} {perms}", width), left + 5, top + 14)
    )
    if height >= DETAIL_MIN_HEIGHT:
        detail = f"vmo {vmo.user_id} +{mapping.vmo_offset:#x}, {format_size(committed)} committed"
        group.append(
            _text(
                _fit(detail, width),
                left + 5,
                top + 26,
                font_size=SMALL_FONT_SIZE,
                fill=_MUTED_COLOUR,
            )
        )

    group.append_title(
        f"{name}: [{mapping.base:#x}, {mapping.end:#x}) {format_size(mapping.size)} {perms}, "
        f"VMO koid {vmo.user_id} at offset {mapping.vmo_offset:#x}, "
        f"{format_size(committed)} committed"
    )
    return group


def _vmar(region: VmAddressRegion, axis: _Axis, left: int, right: int) -> draw.Group:
    top, height = axis.span(region.base, region.end)
    group = draw.Group(class_="vmar", data_base=f"{region.base:#x}", data_size=str(region.size))
    group.append(
        draw.Rectangle(
            left,
            top,
            right - left,
            height,
            fill="none",
            stroke="#6d7b8d",
            stroke_dasharray="5 3",
        )
    )
    group.append_title(
        f"VMAR {region.name!r} [{region.base:#x}, {region.end:#x}) {format_size(region.size)}"
    )
    return group


def _draw_legend(drawing: draw.Drawing, y: int) -> None:
    x = MARGIN
    drawing.append(_text("mapping permissions:", x, y + 11, fill=_MUTED_COLOUR))
    x += 150
    for perms, colour in _PERM_COLOURS.items():
        drawing.append(
            draw.Rectangle(x, y, 16, 14, fill=colour, stroke="#55606e", stroke_width=0.6)
        )
        drawing.append(_text(perms, x + 20, y + 11))
        x += 64
    drawing.append(
        draw.Rectangle(x, y, 40, 14, fill="none", stroke="#6d7b8d", stroke_dasharray="5 3")
    )
    drawing.append(_text("VMAR", x + 46, y + 11))


def _text(text: str, x: float, y: float, **attributes: object) -> draw.Text:
    attributes.setdefault("fill", _TEXT_COLOUR)
    return draw.Text(text, attributes.pop("font_size", FONT_SIZE), x, y, **attributes)


def _fit(text: str, width: float) -> str:
    """Cut `text` to about `width` units of FONT, marking the cut with an ellipsis."""
    limit = max(int(width / CHAR_WIDTH), 1)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
