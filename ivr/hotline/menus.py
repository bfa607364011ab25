"""Reading the menu file with this hotline's plug-ins: the Python flows and operations menus.toml
may name (``ivr.hotline.account_flow``), checked together with the menus and prompts."""
from __future__ import annotations

from pathlib import Path

from ivr.engine import MenuFile
from ivr.engine.check import check_menu_file
from ivr.engine.loader import MenuFileError, read_menu_file
from ivr.engine.model import q
from ivr.engine.prompts import Catalogue


def plugins() -> tuple[dict, dict]:
    """The Python flows and operations menus.toml may name."""
    from ivr.hotline import account_flow

    return dict(account_flow.FLOWS), dict(account_flow.OPS)


def load_menus(path: str | Path, catalogue: Catalogue, text: str | None = None) -> tuple[MenuFile, list[str]]:
    """Read and check a menu file (its ``text`` when given); raise MenuFileError with every problem."""
    flows, ops = plugins()
    model, problems = read_menu_file(path, text)
    if model is None:
        raise MenuFileError(problems)
    errors, warnings = check_menu_file(model, catalogue, set(ops))
    name = Path(path).name
    for flow_id in model.flows:
        if flow_id not in flows:
            errors.append(f"{name}: flow {q(flow_id)}: no Python handler (known: {', '.join(sorted(flows))})")
        else:
            missing = set(getattr(flows[flow_id], "entries", ())) - set(model.flows[flow_id].entries)
            for entry in sorted(missing):
                errors.append(f"{name}: flow {q(flow_id)}: missing entry {q(entry)}")
    if problems or errors:
        raise MenuFileError(problems + errors, warnings)
    return model, warnings
