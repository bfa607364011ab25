"""The call flow diagram (ivr.web.graph, `ivr menus graph`): every menu and every edge, in each format."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.web import graph as graphs
from ivr.cli import main as cli
from ivr.engine.check import _targets
from ivr.hotline.menus import load_menus
from ivr.engine.prompts import Catalogue

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SVG = "{http://www.w3.org/2000/svg}"
MENU_FILES = [
    (ROOT / "menus.toml", ROOT / "prompts"),
    (FIXTURES / "menus" / "wide_and_deep.toml", FIXTURES / "prompts"),
]


@pytest.fixture(params=MENU_FILES, ids=lambda p: p[0].name)
def model(request):
    menus, prompts = request.param
    return load_menus(menus, Catalogue.load(prompts))[0]


def expected_targets(model, menu) -> set[str]:
    """Where a menu leads, as `ivr menus check` walks it: keys, fallbacks, global keys."""
    actions = list(menu.options.values()) + [menu.on_max_failures, menu.on_max_timeouts]
    if menu.global_keys:
        actions += list(model.global_keys.values())
    return {t for t in _targets(model, actions) if t in model.menus}


def drawn_targets(model, pairs: set[tuple[str, str]], menu) -> set[str]:
    """The menus a menu's node leads to in the drawing, through flows, the agent and (for menus
    with global keys) the global keys node."""
    out = defaultdict(set)
    for source, target in pairs:
        out[source].add(target)
    starts = set(out[menu.id]) | (set(out["@global"]) if menu.global_keys else set())
    found, todo, seen = set(), list(starts), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in model.menus:
            found.add(node)
        else:
            todo += list(out[node])
    return found


def svg_pairs(svg: str) -> tuple[set[str], set[tuple[str, str]], ET.Element]:
    root = ET.fromstring(svg)
    nodes = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    for edge in edges:
        path = edge.find(f"{SVG}path")
        assert path is not None and path.get("d").startswith("M")
        assert path.get("marker-end", "").startswith("url(#")
    return nodes, {(g.get("data-source"), g.get("data-target")) for g in edges}, root


def test_every_menu_and_every_edge_is_in_the_svg(model):
    built = graphs.build(model)
    nodes, pairs, root = svg_pairs(graphs.to_svg(built))
    assert set(model.menus) <= nodes
    assert {f"flow:{f}" for f in model.flows} <= nodes
    for menu in model.menus.values():
        assert drawn_targets(model, pairs, menu) == expected_targets(model, menu), menu.id
    assert pairs == built.pairs()
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]) == len(built.edges)
    # Readable on its own: a title and description for screen readers.
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text.startswith("Call flow of")
    assert f"{len(model.menus)} menus" in root.find(f"{SVG}desc").text


def test_the_shipped_menus_in_detail():
    model = load_menus(ROOT / "menus.toml", Catalogue.load(ROOT / "prompts"))[0]
    built = graphs.build(model)
    pairs = built.pairs()
    for pair in [("language", "main"), ("main", "flow:login"), ("main", "apply"), ("main", "check_ways"),
                 ("main", "law"), ("main", "@agent"), ("main", "offer_agent"), ("flow:login", "account"),
                 ("flow:login", "main"), ("account", "flow:change_password"), ("account", "report_lost"),
                 ("offer_agent", "main"), ("offer_agent", "@agent"), ("offer_agent", "@hangup"),
                 ("@agent", "voicemail"), ("voicemail", "@record"), ("voicemail", "offer_agent"),
                 ("voicemail", "@hangup"), ("@global", "@agent")]:
        assert pair in pairs, pair
    kinds = {(e.source, e.target): e.kind for e in built.edges}
    assert kinds[("main", "offer_agent")] == "fallback"
    assert kinds[("flow:login", "account")] == "success"
    assert kinds[("@agent", "voicemail")] == "closed"
    main = built.nodes["main"]
    assert [r.key for r in main.rows if r.key] == ["1", "2", "3", "4", "0"]
    assert "3 invalid or 3 silent: offer_agent" in [r.text for r in main.rows]
    apply = built.nodes["apply"]
    assert "play apply_bureau" in [r.text for r in apply.rows]   # plays stay in the menu: rows, no edge


def test_dot_and_mermaid_have_every_node_and_edge(model):
    built = graphs.build(model)
    ids = {node_id: f"n{i}" for i, node_id in enumerate(built.nodes)}
    dot = graphs.to_dot(built)
    mermaid = graphs.to_mermaid(built)
    assert dot.startswith("//") and "digraph ivr {" in dot and dot.rstrip().endswith("}")
    assert mermaid.splitlines()[1] == "flowchart TB"
    for node_id, node in built.nodes.items():
        assert re.search(rf"^  {ids[node_id]} \[label=<.*<b>{re.escape(node.title)}</b>", dot, re.M), node_id
        assert re.search(rf"^  {ids[node_id]}\S*<b>{re.escape(node.title)}</b>", mermaid, re.M), node_id
    dot_edges = re.findall(r"^  (n\d+)(?::r\d+)? -> (n\d+) ", dot, re.M)
    mermaid_edges = re.findall(r'^  (n\d+) -\.?->\|"[^"]*"\| (n\d+)$', mermaid, re.M)
    expected = sorted((ids[e.source], ids[e.target]) for e in built.edges)
    assert sorted(dot_edges) == expected
    assert sorted(mermaid_edges) == expected


def test_the_layout_keeps_nodes_apart():
    model = load_menus(ROOT / "menus.toml", Catalogue.load(ROOT / "prompts"))[0]
    boxes, _routes, _top, _bottom = graphs.layout(graphs.build(model))
    real = [b for b in boxes.values() if not b.dummy]
    for i, a in enumerate(real):
        for b in real[i + 1:]:
            apart = (a.x + a.width <= b.x or b.x + b.width <= a.x or
                     a.y + a.height <= b.y or b.y + b.height <= a.y)
            assert apart, (a.id, b.id)


def test_output_is_deterministic_and_text_is_escaped(model):
    assert graphs.render(model, "svg") == graphs.render(model, "svg")
    svg = graphs.render(model, "svg", name='a "quoted" <name> & co')
    assert "&lt;name&gt; &amp; co" in svg
    ET.fromstring(svg)
    with pytest.raises(ValueError):
        graphs.render(model, "png")


# -- the command ----------------------------------------------------------------------------------
def run(*args):
    result = CliRunner().invoke(cli, ["menus", "graph", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_the_command_writes_each_format(tmp_path):
    code, out = run("-o", str(tmp_path / "menu.svg"))
    assert code == 0 and "svg diagram of menus.toml (9 menus)" in out
    nodes, _, _ = svg_pairs((tmp_path / "menu.svg").read_text(encoding="utf-8"))
    assert "offer_agent" in nodes
    code, out = run("-o", str(tmp_path / "flow.dot"))
    assert code == 0 and (tmp_path / "flow.dot").read_text().count("digraph ivr") == 1
    code, out = run("--format", "mermaid")
    assert code == 0 and out.splitlines()[1] == "flowchart TB"
    code, out = run(str(FIXTURES / "menus" / "wide_and_deep.toml"), "--prompts", str(FIXTURES / "prompts"),
                    "--format", "dot")
    assert code == 0 and "<b>four</b>" in out


def test_the_command_refuses_a_broken_menu_file(tmp_path):
    code, out = run(str(FIXTURES / "menus" / "duplicate_menu.toml"), "--prompts", str(FIXTURES / "prompts"),
                    "-o", str(tmp_path / "x.svg"))
    assert code == 1 and "no diagram drawn" in out
    assert not (tmp_path / "x.svg").exists()


def test_the_readme_diagram_is_up_to_date():
    """docs/menu.svg is what `ivr menus graph -o docs/menu.svg` draws from menus.toml."""
    model = load_menus(ROOT / "menus.toml", Catalogue.load(ROOT / "prompts"))[0]
    assert (ROOT / "docs" / "menu.svg").read_text(encoding="utf-8") == graphs.render(model, "svg"), \
        "regenerate it: ivr menus graph -o docs/menu.svg"
