"""Find the WSGI app a ``MODULE:NAME`` spec names, the way ``flask --app`` does.

    examples.flask_menu.app            a module holding ``app``/``application``, or a factory
                                       ``create_app``/``make_app`` called with no arguments
    examples.flask_menu.app:app        a WSGI app object (a Flask app, any WSGI callable)
    examples.flask_menu.app:create_app a factory (a callable that takes no arguments)
    pkg.web:create_app()               a factory, called explicitly; literal arguments
    pkg.web:create_app("dev")          are passed as written
    path/to/app.py:create_app          a file: its folder (above any packages) goes on sys.path

Every failure is an ``AppLoadError`` whose message names the spec and what went wrong, so a
command line or a test run can show it without a traceback.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
from pathlib import Path

from ivr.phone.errors import PhoneError

# What a bare module is searched for, in order (flask's names).
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


class AppLoadError(PhoneError):
    """The spec does not lead to a WSGI app; the message says why."""


def load_app(spec: str):
    """The WSGI app ``spec`` names; factories are called here (one fresh app per call)."""
    module_name, expression = _split(spec)
    module = _import(module_name, spec)
    if expression is None:
        return _from_module(module, module_name, spec)
    name, args, kwargs, called = _parse(expression, spec)
    if not hasattr(module, name):
        raise AppLoadError(f"{spec!r}: module {module_name!r} has no attribute {name!r}")
    obj = getattr(module, name)
    # A WSGI app needs (environ, start_response); what can be called with nothing is a factory.
    if called or _takes_no_arguments(obj):
        return _call_factory(obj, args, kwargs, spec, name)
    if not callable(obj):
        raise AppLoadError(f"{spec!r}: {name} is {_describe(obj)}, not a WSGI app nor a factory")
    if not _is_wsgi_app(obj):
        raise AppLoadError(f"{spec!r}: {name}{_signature(obj)} is neither a WSGI app (environ, start_response) "
                           f"nor a factory callable with no arguments; give its arguments as {module_name}:{name}(...)")
    return obj


def _split(spec: str) -> tuple[str, str | None]:
    spec = (spec or "").strip()
    if not spec:
        raise AppLoadError("no app given: use MODULE or MODULE:NAME, e.g. myapp:create_app")
    drive = spec[:2] if re.match(r"^[A-Za-z]:[\\/]", spec) else ""  # a Windows path's colon is not the split
    head, sep, tail = spec[len(drive):].partition(":")
    if not head:
        raise AppLoadError(f"{spec!r}: no module before the colon; use MODULE:NAME")
    if sep and not tail.strip():
        raise AppLoadError(f"{spec!r}: no name after the colon; use MODULE:NAME or just MODULE")
    return _module_of(drive + head), tail.strip() if sep else None


def _module_of(target: str) -> str:
    """A module name; a file path (``dir/app.py``) puts its import root on sys.path first."""
    if not (target.endswith(".py") or os.sep in target or "/" in target):
        _with_cwd_on_path()
        return target
    path = Path(target).resolve()
    if path.suffix == ".py":
        path = path.with_suffix("")
    if path.name == "__init__":
        path = path.parent
    parts = [path.name]
    # Walk up through packages (folders with __init__.py), as flask's prepare_import does.
    while (path.parent / "__init__.py").exists():
        path = path.parent
        parts.insert(0, path.name)
    root = str(path.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return ".".join(parts)


def _with_cwd_on_path() -> None:
    # `python -m` has the current folder on sys.path, a console script does not; flask adds it.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import(module_name: str, spec: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise AppLoadError(f"{spec!r}: no module named {missing!r} (from {os.getcwd()})") from None
        raise AppLoadError(f"{spec!r}: importing {module_name!r} failed: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - anything the module raises while it loads
        raise AppLoadError(f"{spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}") from None


def _from_module(module, module_name: str, spec: str):
    for name in APP_NAMES:
        obj = getattr(module, name, None)
        if obj is not None and _is_wsgi_app(obj):
            return obj
    for name in FACTORY_NAMES:
        obj = getattr(module, name, None)
        if obj is not None and callable(obj):
            return _call_factory(obj, (), {}, f"{module_name}:{name}", name)
    raise AppLoadError(f"{spec!r}: module {module_name!r} has no app ({', '.join(APP_NAMES)}) and no factory "
                       f"({', '.join(FACTORY_NAMES)}); name one as {module_name}:NAME")


def _parse(expression: str, spec: str) -> tuple[str, tuple, dict, bool]:
    """``name`` or ``name(literal, key=literal)`` -> (name, args, kwargs, called)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise AppLoadError(f"{spec!r}: {expression!r} is not a name or a call like create_app()") from None
    if isinstance(node, ast.Name):
        return node.id, (), {}, False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        try:
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        except ValueError:
            raise AppLoadError(f"{spec!r}: the factory's arguments must be literals "
                               "(strings, numbers, lists...)") from None
        return node.func.id, args, kwargs, True
    raise AppLoadError(f"{spec!r}: {expression!r} is not a name or a call like create_app()")


def _call_factory(factory, args: tuple, kwargs: dict, spec: str, name: str):
    if not callable(factory):
        raise AppLoadError(f"{spec!r}: {name} is {_describe(factory)}, not callable, so not a factory")
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError as exc:
        raise AppLoadError(f"{spec!r}: {name}{_signature(factory)} cannot be called so ({exc}); "
                           "give its arguments as MODULE:NAME('value')") from None
    except ValueError:
        pass  # no signature to check (a builtin): just call it
    try:
        app = factory(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's factory; its failure is the message
        raise AppLoadError(f"{spec!r}: {name}() raised {type(exc).__name__}: {exc}") from None
    if not _is_wsgi_app(app):
        raise AppLoadError(f"{spec!r}: {name}() returned {_describe(app)}, not a WSGI app")
    return app


def _is_wsgi_app(obj) -> bool:
    """Callable with (environ, start_response): a Flask app, a werkzeug app, a plain function."""
    if obj is None or not callable(obj):
        return False
    try:
        inspect.signature(obj).bind({}, lambda *a: None)
    except TypeError:
        return False
    except ValueError:
        return True  # no signature to check: trust it
    return True


def _takes_no_arguments(obj) -> bool:
    if not callable(obj):
        return False
    try:
        inspect.signature(obj).bind()
    except (TypeError, ValueError):
        return False
    return True


def _describe(obj) -> str:
    if obj is None:
        return "None"
    kind = type(obj).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""
