"""The call flow of a menu file as a diagram: SVG (laid out here), Graphviz DOT, or Mermaid.

``build(model)`` turns a parsed ``MenuFile`` into nodes and edges: one node per menu (listing its
keys and fallbacks), one per flow (its entries, success and give-up), the agent, recording and
hang-up ends, and the global keys. Every action that leads somewhere is an edge, so the picture
shows the same paths ``ivr menus check`` walks (``ivr.engine.check._targets``): a key's submenu,
``top``, a language's next menu, a flow's success and give-up, an agent's voicemail menu out of
hours, and each menu's fallbacks after too many invalid keys or silences.

``to_svg`` draws it top to bottom in layers (the longest path from the start menu, so fallbacks
sit below what falls back to them); edges that skip layers are routed between the nodes, edges
that go back up run along the right-hand side. No Graphviz needed; the output is deterministic.
"""
from __future__ import annotations

import html
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from ivr.engine.model import Action, MenuFile

FORMATS = ("svg", "dot", "mermaid")
KEY_ORDER = "123456789*0#"
ENDS = ("@agent", "@record", "@hangup")   # where a call leaves the menus

# Edge kinds: how an edge is drawn, and what the legend calls it.
EDGE_STYLES = {
    "option": {"color": "#174ea6", "dash": None, "legend": "key pressed"},
    "fallback": {"color": "#a04800", "dash": "7 4", "legend": "too many invalid keys or silences; flow gave up"},
    "success": {"color": "#137333", "dash": None, "legend": "flow completed"},
    "closed": {"color": "#7b1fa2", "dash": "2 3", "legend": "agents closed (outside hours)"},
}
NODE_STYLES = {
    "menu": {"head": "#d2e3fc", "title": "menu"},
    "flow": {"head": "#ceead6", "title": "flow"},
    "end": {"head": "#e8eaed", "title": ""},
    "global": {"head": "#feefc3", "title": ""},
}
TEXT = "#202124"
MUTED = "#3c4043"
BORDER = "#5f6368"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
MONO = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"


@dataclass
class Row:
    key: str      # the key pressed ("" for fallbacks and notes)
    text: str


@dataclass
class Node:
    id: str       # menu id, "flow:NAME", or one of: @agent, @record, @hangup, @global
    kind: str     # menu | flow | end | global
    title: str
    note: str = ""
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str     # option | fallback | success | closed
    label: str    # the key, or what triggers it ("3 invalid", "success", ...)
    row: int | None = None  # the source row it belongs to


@dataclass
class Graph:
    name: str
    start: str
    top: str
    nodes: dict[str, Node]
    edges: list[Edge]

    def pairs(self) -> set[tuple[str, str]]:
        return {(e.source, e.target) for e in self.edges}


# -- building ------------------------------------------------------------------------------------
def _key_sort(key: str) -> int:
    return KEY_ORDER.index(key) if key in KEY_ORDER else len(KEY_ORDER)


def build(model: MenuFile, name: str | None = None) -> Graph:
    from pathlib import Path

    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    used_ends: set[str] = set()

    def flow_id(flow: str) -> str:
        return f"flow:{flow}"

    def lead(node: Node, row_text: str, key: str, action: Action, label: str, kind: str = "option") -> None:
        """Add a row for ``action`` and the edge it implies."""
        node.rows.append(Row(key, row_text))
        row = len(node.rows) - 1
        for target, edge_kind in _action_targets(model, action, kind):
            if target in ENDS:
                used_ends.add(target)
            edges.append(Edge(node.id, target, edge_kind, label, row))

    for menu in model.menus.values():
        badges = []
        if menu.id == model.start:
            badges.append("start")
        if menu.id == model.top:
            badges.append("main menu")
        if not menu.global_keys:
            badges.append("no global keys")
        node = nodes[menu.id] = Node(menu.id, "menu", menu.id, ", ".join(badges))
        for key in sorted(menu.options, key=_key_sort):
            action = menu.options[key]
            lead(node, _describe(model, action), key, action, key)
        same = menu.on_max_failures == menu.on_max_timeouts
        if same:
            text = f"{menu.max_failures} invalid or {menu.max_timeouts} silent: {_describe(model, menu.on_max_failures)}"
            lead(node, text, "", menu.on_max_failures, f"{menu.max_failures} invalid / {menu.max_timeouts} silent",
                 "fallback")
        else:
            lead(node, f"{menu.max_failures} invalid: {_describe(model, menu.on_max_failures)}", "",
                 menu.on_max_failures, f"{menu.max_failures} invalid", "fallback")
            lead(node, f"{menu.max_timeouts} silent: {_describe(model, menu.on_max_timeouts)}", "",
                 menu.on_max_timeouts, f"{menu.max_timeouts} silent", "fallback")

    for flow in model.flows.values():
        node = nodes[flow_id(flow.id)] = Node(flow_id(flow.id), "flow", f"flow {flow.id}")
        for entry in flow.entries.values():
            digits = str(entry.min_digits) if entry.min_digits == entry.max_digits else \
                f"{entry.min_digits}-{entry.max_digits}"
            finish = f" then {entry.finish_on_key}" if entry.finish_on_key else ""
            secret = ", masked" if entry.sensitive else ""
            node.rows.append(Row("", f"{entry.id}: {digits} digits{finish}{secret}"))
        if flow.on_success is not None:
            lead(node, f"success: {_describe(model, flow.on_success)}", "", flow.on_success, "success", "success")
        else:
            node.rows.append(Row("", "success: back to the menu"))
        lead(node, f"{flow.max_attempts} failed tries: {_describe(model, flow.on_max_attempts)}", "",
             flow.on_max_attempts, f"{flow.max_attempts} failed", "fallback")

    if model.global_keys:
        node = Node("@global", "global", "global keys", "in every menu unless noted")
        for key in sorted(model.global_keys, key=_key_sort):
            action = model.global_keys[key]
            lead(node, _describe(model, action), key, action, key)
        nodes["@global"] = node

    agent = model.agent
    if "@agent" in used_ends:
        where = f"dial {agent.number}" if agent.mode == "dial" else f"queue {agent.queue}"
        node = nodes["@agent"] = Node("@agent", "end", "agent", f"in hours: {where}")
        node.rows.append(Row("", f"closed: {agent.voicemail_menu}"))
        edges.append(Edge("@agent", agent.voicemail_menu, "closed", "closed", 0))
    if "@record" in used_ends:
        nodes["@record"] = Node("@record", "end", "record a message", f"up to {agent.voicemail_max_length} s")
    if "@hangup" in used_ends:
        nodes["@hangup"] = Node("@hangup", "end", "hang up", "goodbye")
    edges = [e for e in edges if e.target in nodes]  # unknown targets: `ivr menus check` reports them
    return Graph(name or Path(model.path).name, model.start, model.top, nodes, edges)


def _action_targets(model: MenuFile, action: Action, kind: str) -> list[tuple[str, str]]:
    """Where an action leads (the nodes of this diagram), as (target, edge kind)."""
    k = action.kind
    if k == "submenu" or (k == "run" and action.menu):
        return [(action.menu, kind)]
    if k == "top":
        return [(model.top, kind)]
    if k == "language":
        return [(action.then, kind)]
    if k == "collect":
        return [(f"flow:{action.flow}", kind)]
    if k in ("agent", "record", "hangup"):
        return [(f"@{k}", kind)]
    return []   # back, repeat, play, run: the caller stays in (or returns to) a menu


LANGUAGE_NAMES = {"zh-CN": "Mandarin", "en-US": "English"}


def _describe(model: MenuFile, action: Action) -> str:
    k = action.kind
    if k == "submenu":
        return action.menu
    if k == "top":
        return f"top ({model.top})"
    if k == "language":
        return f"{LANGUAGE_NAMES.get(action.lang, action.lang)}, then {action.then}"
    if k == "collect":
        return f"enter: flow {action.flow}"
    if k == "run":
        return action.op + (f", then {action.menu}" if action.menu else "")
    if k == "play":
        return f"play {action.prompt}"
    if k == "hangup":
        return "hang up"
    if k == "record":
        return "record a message"
    return k  # back, repeat, agent


# -- DOT and Mermaid -----------------------------------------------------------------------------
def _ids(graph: Graph) -> dict[str, str]:
    return {node_id: f"n{i}" for i, node_id in enumerate(graph.nodes)}


def _row_label(row: Row) -> str:
    return f"{row.key}  {row.text}" if row.key else row.text


def to_dot(graph: Graph) -> str:
    ids = _ids(graph)
    e = lambda text: html.escape(text, quote=True)  # noqa: E731
    lines = [f"// The call flow of {graph.name}, generated by `ivr menus graph --format dot`.",
             "digraph ivr {", "  rankdir=TB;",
             '  node [shape=plain fontname="Helvetica" fontsize=11];',
             '  edge [fontname="Helvetica" fontsize=9 arrowsize=0.7];']
    for node_id, node in graph.nodes.items():
        head = NODE_STYLES[node.kind]["head"]
        cells = [f'<tr><td bgcolor="{head}"><b>{e(node.title)}</b>'
                 + (f'<br/><font point-size="9">{e(node.note)}</font>' if node.note else "") + "</td></tr>"]
        for index, row in enumerate(node.rows):
            cells.append(f'<tr><td port="r{index}" align="left">{e(_row_label(row))}</td></tr>')
        lines.append(f'  {ids[node_id]} [label=<<table border="1" cellborder="0" cellspacing="0" '
                     f'cellpadding="4">{"".join(cells)}</table>> tooltip="{e(node_id)}"];')
    for edge in graph.edges:
        style = EDGE_STYLES[edge.kind]
        port = f":r{edge.row}" if edge.row is not None else ""
        attrs = [f'color="{style["color"]}"', f'label="{e(edge.label)}"', f'fontcolor="{style["color"]}"']
        if style["dash"]:
            attrs.append("style=dashed" if edge.kind == "fallback" else "style=dotted")
        lines.append(f"  {ids[edge.source]}{port} -> {ids[edge.target]} [{' '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "#quot;")


def to_mermaid(graph: Graph) -> str:
    ids = _ids(graph)
    lines = [f"%% The call flow of {graph.name}, generated by `ivr menus graph --format mermaid`.",
             "flowchart TB"]
    shapes = {"menu": ('["', '"]'), "flow": ('[["', '"]]'), "end": ('(["', '"])'), "global": ('{{"', '"}}')}
    for node_id, node in graph.nodes.items():
        parts = [f"<b>{_mermaid_text(node.title)}</b>"]
        if node.note:
            parts.append(f"<i>{_mermaid_text(node.note)}</i>")
        parts += [_mermaid_text(_row_label(row)) for row in node.rows]
        left, right = shapes[node.kind]
        lines.append(f"  {ids[node_id]}{left}{'<br/>'.join(parts)}{right}")
    for edge in graph.edges:
        arrow = "-.->" if EDGE_STYLES[edge.kind]["dash"] else "-->"
        lines.append(f'  {ids[edge.source]} {arrow}|"{_mermaid_text(edge.label)}"| {ids[edge.target]}')
    for kind in ("menu", "flow", "end", "global"):
        members = [ids[n.id] for n in graph.nodes.values() if n.kind == kind]
        if members:
            lines.append(f"  classDef {kind} fill:{NODE_STYLES[kind]['head']},stroke:{BORDER},color:{TEXT}")
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


# -- SVG layout ----------------------------------------------------------------------------------
TITLE_SIZE = 14
ROW_SIZE = 12
HEAD_H = 26
NOTE_H = 15
ROW_H = 19
PAD_X = 10
KEY_W = 20
MIN_W = 140
GAP_X = 64         # between nodes of a layer (edges run down these gaps)
DUMMY_GAP = 18     # around an edge passing through a layer
GAP_Y = 64         # between layers (edges turn here)
MARGIN = 24
LANE_STEP = 7      # between parallel edge segments


def text_width(text: str, size: float) -> float:
    """An estimate of rendered width: wide (CJK) characters are square, Latin ones narrower."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            total += 1.0
        elif ch in "il.,:;'|!()[] ":
            total += 0.34
        elif ch.isupper() or ch in "mwMW@%":
            total += 0.8
        else:
            total += 0.6
    return total * size


@dataclass
class _Box:
    id: str
    layer: int
    width: float
    height: float
    x: float = 0.0  # left
    y: float = 0.0  # top
    dummy: bool = False

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


def _size(node: Node) -> tuple[float, float]:
    width = text_width(node.title, TITLE_SIZE) + 12
    if node.note:
        width = max(width, text_width(node.note, ROW_SIZE - 1))
    for row in node.rows:
        width = max(width, (KEY_W + 6 if row.key else 0) + text_width(row.text, ROW_SIZE))
    height = HEAD_H + (NOTE_H if node.note else 0) + len(node.rows) * ROW_H + (6 if node.rows else 0)
    return max(MIN_W, round(width + 2 * PAD_X)), height


def _forward_edges(graph: Graph) -> tuple[list[Edge], list[Edge]]:
    """Split edges into forward (a DAG from the start menu) and back edges, by depth-first search
    that follows keys before fallbacks."""
    out = defaultdict(list)
    for edge in graph.edges:
        out[edge.source].append(edge)
    for source in out:
        out[source].sort(key=lambda e: (e.kind in ("fallback", "closed"), e.row if e.row is not None else 0))
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[int] = set()

    def visit(node_id: str) -> None:
        stack = [(node_id, iter(out[node_id]))]
        state[node_id] = 1
        while stack:
            current, edges = stack[-1]
            for edge in edges:
                if state.get(edge.target) == 1:
                    back.add(id(edge))
                elif edge.target not in state:
                    state[edge.target] = 1
                    stack.append((edge.target, iter(out[edge.target])))
                    break
            else:
                state[current] = 2
                stack.pop()

    roots = [graph.start] if graph.start in graph.nodes else []
    for root in roots + list(graph.nodes):
        if root not in state:
            visit(root)
    forward = [e for e in graph.edges if id(e) not in back]
    return forward, [e for e in graph.edges if id(e) in back]


def _layers(graph: Graph, forward: list[Edge]) -> dict[str, int]:
    """Longest path from the roots: each node one layer below its lowest predecessor."""
    preds = defaultdict(set)
    for edge in forward:
        preds[edge.target].add(edge.source)
    layer: dict[str, int] = {}

    def depth(node_id: str, seen: frozenset = frozenset()) -> int:
        if node_id in layer:
            return layer[node_id]
        if node_id in seen:  # cannot happen on a DAG; be safe
            return 0
        value = max((depth(p, seen | {node_id}) + 1 for p in preds[node_id]), default=0)
        layer[node_id] = value
        return value

    for node_id in graph.nodes:
        depth(node_id)
    return layer


@dataclass
class _Route:
    edge: Edge
    chain: list[str]  # box ids: source, dummies..., target (forward edges)
    back: bool = False


def _place_row(boxes: list[_Box], desired: list[float]) -> None:
    """Put boxes (in order) as close to their desired centres as their widths and gaps allow:
    pool adjacent violators, so a crowded stretch centres on the mean of its wishes."""
    blocks: list[list] = []  # [first index, last index, left x]

    def gap(i: int) -> float:  # space before box i (i > 0)
        return DUMMY_GAP if boxes[i].dummy or boxes[i - 1].dummy else GAP_X

    offsets = [0.0]
    for i in range(1, len(boxes)):
        offsets.append(offsets[-1] + boxes[i - 1].width + gap(i))
    for i, box in enumerate(boxes):
        blocks.append([i, i, desired[i] - box.width / 2])
        while len(blocks) > 1:
            a, b = blocks[-2], blocks[-1]
            a_right = a[2] + offsets[a[1]] - offsets[a[0]] + boxes[a[1]].width
            if a_right + gap(b[0]) <= b[2]:
                break
            first, last = a[0], b[1]
            wishes = [desired[j] - boxes[j].width / 2 - (offsets[j] - offsets[first]) for j in range(first, last + 1)]
            blocks[-2:] = [[first, last, sum(wishes) / len(wishes)]]
    for first, last, left in blocks:
        for j in range(first, last + 1):
            boxes[j].x = left + offsets[j] - offsets[first]


def layout(graph: Graph):
    forward, back = _forward_edges(graph)
    layer = _layers(graph, forward)
    boxes: dict[str, _Box] = {}
    for node_id, node in graph.nodes.items():
        width, height = _size(node)
        boxes[node_id] = _Box(node_id, layer[node_id], width, height)
    routes: list[_Route] = []
    for edge in forward:
        chain = [edge.source]
        for level in range(layer[edge.source] + 1, layer[edge.target]):
            dummy = f"~{len(boxes)}"
            boxes[dummy] = _Box(dummy, level, 0, 0, dummy=True)
            chain.append(dummy)
        chain.append(edge.target)
        routes.append(_Route(edge, chain))
    routes += [_Route(edge, [edge.source, edge.target], back=True) for edge in back]

    depth = max((b.layer for b in boxes.values()), default=0) + 1
    rows: list[list[_Box]] = [[] for _ in range(depth)]
    for node_id in list(graph.nodes) + [b for b in boxes if b.startswith("~")]:
        rows[boxes[node_id].layer].append(boxes[node_id])
    up = defaultdict(list)    # box -> boxes above it it connects to
    down = defaultdict(list)
    for route in routes:
        if route.back:
            continue
        for a, b in zip(route.chain, route.chain[1:]):
            up[b].append(a)
            down[a].append(b)

    # Order within layers: barycentre sweeps.
    def index_of(row):
        return {b.id: i for i, b in enumerate(row)}

    for sweep in range(6):
        order = range(1, depth) if sweep % 2 == 0 else range(depth - 2, -1, -1)
        for level in order:
            neighbours = up if sweep % 2 == 0 else down
            ref = index_of(rows[level - 1] if sweep % 2 == 0 else rows[level + 1])
            current = index_of(rows[level])

            def key(box, neighbours=neighbours, ref=ref, current=current):
                near = [ref[n] for n in neighbours[box.id] if n in ref]
                return sum(near) / len(near) if near else current[box.id]
            rows[level].sort(key=key)

    # x: start packed, then pull each box toward the boxes it connects to.
    for row in rows:
        _place_row(row, [0.0] * len(row))
    for sweep in range(8):
        order = range(depth) if sweep % 2 == 0 else range(depth - 1, -1, -1)
        for level in order:
            row = rows[level]
            wishes = []
            for box in row:
                near = [boxes[n].cx for n in up[box.id] + down[box.id]]
                wishes.append(sum(near) / len(near) if near else box.cx)
            _place_row(row, wishes)
    left = min((b.x for b in boxes.values()), default=0.0)
    for box in boxes.values():
        box.x += MARGIN - left

    # y: layers as bands, each as tall as its tallest node.
    band_top, y = [], MARGIN + 30  # room for the title
    for row in rows:
        band_top.append(y)
        tallest = max((b.height for b in row), default=0)
        for box in row:
            box.y = y
        y += tallest + GAP_Y
    band_bottom = [band_top[i] + max((b.height for b in rows[i]), default=0) for i in range(depth)]
    return boxes, routes, band_top, band_bottom


def to_svg(graph: Graph, id_prefix: str = "ivrg-", title: str | None = None) -> str:
    boxes, routes, band_top, band_bottom = layout(graph)
    nodes = graph.nodes
    right = max((b.x + b.width for b in boxes.values()), default=0)

    def row_y(node_id: str, row: int) -> float:
        node = nodes[node_id]
        return boxes[node_id].y + HEAD_H + (NOTE_H if node.note else 0) + row * ROW_H + ROW_H / 2 + 2

    # Where edges leave their rows: the side facing the next point, one lane per edge.
    side_lanes: dict[tuple[str, str], int] = defaultdict(int)
    paths: list[tuple[_Route, str]] = []
    entries: dict[str, list] = defaultdict(list)  # target -> [(approach x, route index)]
    starts = []
    for index, route in enumerate(routes):
        edge = route.edge
        src = boxes[edge.source]
        nxt = boxes[route.chain[1]] if not route.back else None
        go_right = route.back or (nxt.cx >= src.cx)
        side = "r" if go_right else "l"
        lane = side_lanes[(edge.source, side)]
        side_lanes[(edge.source, side)] += 1
        sy = row_y(edge.source, edge.row) if edge.row is not None else src.y + HEAD_H / 2
        sx = src.x + src.width if go_right else src.x
        lx = sx + (10 + lane * LANE_STEP) * (1 if go_right else -1)
        starts.append((sx, sy, lx))
        approach = boxes[route.chain[-2]].cx if len(route.chain) > 2 else lx
        entries[edge.target].append((1e9 if route.back else approach, index))
    entry_x: dict[int, float] = {}
    for target, items in entries.items():
        box = boxes[target]
        items.sort()
        span = box.width - 32
        for i, (_, index) in enumerate(items):
            entry_x[index] = box.x + 16 + (span * (i + 1) / (len(items) + 1) if len(items) > 1 else span / 2)

    corridor = right + 24
    back_count = 0
    for index, route in enumerate(routes):
        sx, sy, lx = starts[index]
        edge = route.edge
        src = boxes[edge.source]
        tgt = boxes[edge.target]
        tx, ty = entry_x[index], tgt.y
        d = [f"M{sx:.1f},{sy:.1f}", f"H{lx:.1f}"]
        if route.back:
            cx = corridor + back_count * LANE_STEP * 2
            back_count += 1
            below = band_bottom[src.layer] + 14 + back_count * 3
            above = band_top[tgt.layer] - 18 - back_count * 3
            d += [f"V{below:.1f}", f"H{cx:.1f}", f"V{above:.1f}", f"H{tx:.1f}", f"V{ty:.1f}"]
        else:
            x, y = lx, band_bottom[src.layer]
            d.append(f"V{y:.1f}")
            for box_id in route.chain[1:]:
                box = boxes[box_id]
                nx = box.cx if box.dummy else tx
                ny = band_top[box.layer]
                mid = (y + ny) / 2
                d.append(f"C{x:.1f},{mid:.1f} {nx:.1f},{mid:.1f} {nx:.1f},{ny:.1f}")
                x, y = nx, ny
                if box.dummy:
                    y = band_bottom[box.layer]
                    d.append(f"V{y:.1f}")
        paths.append((route, " ".join(d)))
    width = max(right, corridor + back_count * LANE_STEP * 2) + MARGIN
    legend = len({e.kind for e in graph.edges})
    height = max(band_bottom) + 40 + 22 * legend + MARGIN if band_bottom else 200
    return _svg_document(graph, boxes, paths, width, height, id_prefix, title)


def _svg_document(graph: Graph, boxes, paths, width: float, height: float, prefix: str, title: str | None) -> str:
    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    menus = sum(1 for n in graph.nodes.values() if n.kind == "menu")
    title = title or f"Call flow of {graph.name}"
    desc = (f"{menus} menus, {sum(1 for n in graph.nodes.values() if n.kind == 'flow')} flows and "
            f"{len(graph.edges)} connections, starting at menu {graph.start}.")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}" role="img" '
           f'aria-labelledby="{prefix}title {prefix}desc" font-family="{e(FONT)}" class="ivr-graph">',
           f'<title id="{prefix}title">{e(title)}</title>',
           f'<desc id="{prefix}desc">{e(desc)}</desc>',
           "<defs>"]
    for kind, style in EDGE_STYLES.items():
        out.append(f'<marker id="{prefix}arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{style["color"]}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect width="100%" height="100%" fill="#ffffff"/>')
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 8}" font-size="16" font-weight="700" fill="{TEXT}">{e(title)}</text>')

    out.append('<g class="edges" fill="none">')
    for route, d in paths:
        edge = route.edge
        style = EDGE_STYLES[edge.kind]
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        out.append(f'<g class="edge" data-source="{e(edge.source)}" data-target="{e(edge.target)}" '
                   f'data-kind="{edge.kind}" data-label="{e(edge.label)}">'
                   f'<title>{e(edge.source)}: {e(edge.label)} → {e(edge.target)}</title>'
                   f'<path d="{d}" stroke="{style["color"]}" stroke-width="1.6"{dash} '
                   f'marker-end="url(#{prefix}arrow-{edge.kind})"/></g>')
    out.append("</g>")

    out.append('<g class="nodes">')
    for node_id, node in graph.nodes.items():
        box = boxes[node_id]
        style = NODE_STYLES[node.kind]
        x, y, w, h = box.x, box.y, box.width, box.height
        out.append(f'<g class="node" data-node="{e(node_id)}" data-kind="{node.kind}" id="{prefix}node-{e(_css_id(node_id))}">')
        out.append(f"<title>{e(node.title)}</title>")
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="7" fill="#ffffff" '
                   f'stroke="{BORDER}" stroke-width="1.2"/>')
        head_h = HEAD_H + (NOTE_H if node.note else 0)
        out.append(f'<path d="M{x:.1f},{y + head_h:.1f} V{y + 7:.1f} Q{x:.1f},{y:.1f} {x + 7:.1f},{y:.1f} '
                   f'H{x + w - 7:.1f} Q{x + w:.1f},{y:.1f} {x + w:.1f},{y + 7:.1f} V{y + head_h:.1f} Z" '
                   f'fill="{style["head"]}" stroke="none"/>')
        if node.rows:
            out.append(f'<line x1="{x:.1f}" y1="{y + head_h:.1f}" x2="{x + w:.1f}" y2="{y + head_h:.1f}" '
                       f'stroke="{BORDER}" stroke-width="0.8"/>')
        out.append(f'<text x="{x + PAD_X:.1f}" y="{y + 18:.1f}" font-size="{TITLE_SIZE}" font-weight="700" '
                   f'fill="{TEXT}">{e(node.title)}</text>')
        if node.note:
            out.append(f'<text x="{x + PAD_X:.1f}" y="{y + HEAD_H + 8:.1f}" font-size="{ROW_SIZE - 1}" '
                       f'font-style="italic" fill="{MUTED}">{e(node.note)}</text>')
        for index, row in enumerate(node.rows):
            ry = y + head_h + index * ROW_H + 4
            tx = x + PAD_X
            if row.key:
                out.append(f'<rect x="{tx:.1f}" y="{ry + 2:.1f}" width="{KEY_W}" height="{ROW_H - 4}" rx="3" '
                           f'fill="#f1f3f4" stroke="#80868b" stroke-width="0.8"/>')
                out.append(f'<text x="{tx + KEY_W / 2:.1f}" y="{ry + ROW_H - 5:.1f}" font-size="{ROW_SIZE}" '
                           f'font-weight="700" text-anchor="middle" font-family="{e(MONO)}" fill="{TEXT}">'
                           f'{e(row.key)}</text>')
                tx += KEY_W + 6
            out.append(f'<text x="{tx:.1f}" y="{ry + ROW_H - 5:.1f}" font-size="{ROW_SIZE}" fill="{TEXT}">'
                       f'{e(row.text)}</text>')
        out.append("</g>")
    out.append("</g>")

    used = [(kind, style) for kind, style in EDGE_STYLES.items() if any(e.kind == kind for e in graph.edges)]
    ly = height - MARGIN - 22 * len(used) + 8
    out.append(f'<g class="legend" font-size="{ROW_SIZE}">')
    for i, (kind, style) in enumerate(used):
        yy = ly + i * 22
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        out.append(f'<path d="M{MARGIN},{yy:.1f} H{MARGIN + 44}" stroke="{style["color"]}" stroke-width="1.6" '
                   f'fill="none"{dash} marker-end="url(#{prefix}arrow-{kind})"/>')
        out.append(f'<text x="{MARGIN + 54}" y="{yy + 4:.1f}" fill="{TEXT}">{e(style["legend"])}</text>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _css_id(node_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in node_id)


def render(model: MenuFile, fmt: str = "svg", name: str | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    graph = build(model, name)
    return {"svg": to_svg, "dot": to_dot, "mermaid": to_mermaid}[fmt](graph)
