"""The phone is a pure TwiML client: it must not reach into the hotline it tests."""
import ast
from pathlib import Path

import ivr.phone

PACKAGE = Path(ivr.phone.__file__).parent
FORBIDDEN = ("ivr.engine", "ivr.hotline.hotline", "ivr.web")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            if node.module == "ivr":
                yield from (f"ivr.{alias.name}" for alias in node.names)


def test_no_module_imports_the_hotline():
    for path in PACKAGE.rglob("*.py"):
        bad = [name for name in _imports(path) if name.startswith(FORBIDDEN)]
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_only_the_glue_builds_our_app():
    users = sorted(p.name for p in PACKAGE.rglob("*.py") if "ivr.create_app" in set(_imports(p)))
    assert users == ["ourapp.py"]
