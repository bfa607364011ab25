"""The phone is a pure TwiML client for any app: it must not reach into the hotline it tests.
Inside ivr/phone/ only ivr.phone.* and the offline voice (ivr.tts*, for recordings and --play)
may be imported, with no exception; this project's hotline is plugged in from outside
(ivr/testing.py, handed to the phone's commands by ivr/cli.py)."""
import ast
from pathlib import Path

import ivr.phone

PACKAGE = Path(ivr.phone.__file__).parent


def _package_of(path: Path) -> str:
    return ".".join(("ivr", "phone", *path.relative_to(PACKAGE).parent.parts))


def _imports(source: str, package: str):
    """Every ivr module or name an import statement reaches, relative imports resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(parts + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module != "ivr":  # `from ivr import x` is judged by x
                yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _allowed(name: str) -> bool:
    if not (name == "ivr" or name.startswith("ivr.")):
        return True  # not this project's
    return name == "ivr.phone" or name.startswith(("ivr.phone.", "ivr.tts"))


def test_the_phone_imports_nothing_of_ivr_but_itself_and_the_voice():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        bad = sorted({n for n in _imports(path.read_text(encoding="utf-8"), _package_of(path)) if not _allowed(n)})
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = bad
    assert not offenders, f"ivr/phone imports from outside the phone: {offenders}"


def test_the_check_sees_every_spelling_of_an_import():
    source = ("import ivr\nimport ivr.web\nfrom ivr import create_app\nfrom ivr.logs import LOGGER\n"
              "from ... import hotline\nfrom .. import x\n"
              "def f():\n    from ivr.accounts.seed import seed_demo\n")
    found = set(_imports(source, "ivr.phone.verbs"))
    assert {"ivr", "ivr.web", "ivr.create_app", "ivr.logs", "ivr.hotline", "ivr.phone.x",
            "ivr.accounts.seed"} <= found
    assert not any(_allowed(n) for n in found - {"ivr.phone", "ivr.phone.x"})
    assert _allowed("ivr.phone.transport") and _allowed("ivr.tts") and _allowed("ivr.tts.render")
    assert _allowed("requests") and not _allowed("ivr.say_voices") and not _allowed("ivr.progress")
