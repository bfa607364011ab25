"""Menu versions: every loaded flow (menus.toml + prompt texts + recordings) kept in the database.

A version is named by a hash of its content and stored with the texts needed to rebuild it, so any
worker of any server sharing the database can answer any call on the version that call started on.
One row, ``flow_current``, says which version new calls get. A process looks at it at most every
``RELOAD_CHECK_SECONDS`` (one indexed read), and switches when it changed; a call in progress keeps
the version pinned in its state (``CallState.version``), so no call ever hears a mix.

Publishing (``FlowVersions.publish``) reads the files, checks them with the same loader and checks
as ``ivr menus check``, and only when they pass renders changed prompts (unless VOICE_MODE is say),
stores the version and points ``flow_current`` at it. An edit that fails is logged line by line with
the same file/menu/key messages and the old version keeps serving. Versions no call uses any more are
pruned: their texts are dropped, the row stays for the dashboard's history.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ivr.config import ConfigError

from sqlalchemy import JSON, DateTime, Integer, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ivr.engine.loader import MenuFileError
from ivr.hotline.models import Call, FlowCurrent, FlowVersion, utcnow
from ivr.engine.prompts import LANGUAGES, Catalogue, PromptError

log = logging.getLogger("ivr")

CACHE_SIZE = 8                 # versions a process keeps built (calls in progress on older ones)
MAX_CALL = dt.timedelta(hours=4)   # Twilio ends any call after 4 hours (its default time limit)
RETIRED_GRACE = dt.timedelta(minutes=10)   # a version just replaced may still start calls elsewhere


# -- the files ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sources:
    """What one version is made of, as read from disk. ``files``: "menus" and each language ->
    text (None when unreadable: the loader then reports it as ``ivr menus check`` does)."""
    menus_name: str
    files: dict
    recordings: dict

    @property
    def id(self) -> str:
        raw = json.dumps([self.menus_name, self.files, self.recordings], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read_sources(menus_file: str | os.PathLike, prompts_dir: str | os.PathLike) -> Sources:
    menus_file, prompts_dir = Path(menus_file), Path(prompts_dir)
    files = {"menus": _text(menus_file)}
    for lang in LANGUAGES:
        files[lang] = _text(prompts_dir / f"{lang}.toml")
    recordings = {}
    root = prompts_dir / "recorded"
    for lang in LANGUAGES:
        folder = root / lang
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if name.endswith(".wav") and not name.startswith("."):
                try:
                    data = (folder / name).read_bytes()
                except OSError:
                    continue
                recordings[f"{lang}/{name}"] = hashlib.sha256(data).hexdigest()[:16]
    return Sources(menus_file.name, files, recordings)


def watched_paths(menus_file, prompts_dir) -> list[Path]:
    """The folders holding the files a version is made of (watched without recursion)."""
    prompts_dir = Path(prompts_dir)
    candidates = [Path(menus_file).resolve().parent, prompts_dir, prompts_dir / "recorded",
                  *(prompts_dir / "recorded" / lang for lang in LANGUAGES)]
    out: list[Path] = []
    for path in candidates:
        if path.is_dir() and path.resolve() not in out:
            out.append(path.resolve())
    return out


def is_source(path: str, menus_file, prompts_dir) -> bool:
    """Whether a changed path is one a version is made of."""
    path, prompts_dir = Path(path), Path(prompts_dir).resolve()
    if path == Path(menus_file).resolve():
        return True
    if path.parent == prompts_dir and path.suffix == ".toml":
        return True
    return path.suffix == ".wav" and path.parent.parent == prompts_dir / "recorded"


# -- one built version ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Loaded:
    id: str
    engine: object
    catalogue: Catalogue
    warnings: tuple = ()
    summary: str = ""


def speech_confidence(config) -> float:
    """IVR_SPEECH_CONFIDENCE: below it a spoken menu choice is confirmed first (0 never asks)."""
    value = config.get("SPEECH_CONFIDENCE", 0.5)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"IVR_SPEECH_CONFIDENCE must be a number from 0 to 1, not {value!r}")
    return float(value)


def build(config, menus_name: str, files: dict, version_id: str) -> Loaded:
    """The engine of one version; raises MenuFileError listing every problem (PromptError included)."""
    from ivr.engine import Engine
    from ivr.hotline.menus import load_menus, plugins

    menus_path = Path(config["MENUS_FILE"]).with_name(menus_name)
    sources = {lang: files[lang] for lang in LANGUAGES if files.get(lang) is not None}
    try:
        catalogue = Catalogue.load(config["PROMPTS_DIR"], sources=sources)
    except PromptError as exc:
        raise MenuFileError([str(exc)]) from None
    model, warnings = load_menus(menus_path, catalogue, text=files.get("menus"))
    flows, ops = plugins()
    summary = (f"{len(model.menus)} menus, {len(model.flows)} flows, "
               f"{sum(len(m.options) for m in model.menus.values())} options")
    return Loaded(version_id, Engine(model, catalogue, flows, ops, speech_confidence=speech_confidence(config)), catalogue, tuple(warnings), summary)


def render_prompts(config, catalogue: Catalogue) -> tuple[int, list[str]]:
    """Render the static prompts whose audio is missing or out of date (the same plan as
    ``ivr prompts render``). Nothing in say mode. Returns (rendered, failures)."""
    if config.get("VOICE_MODE") == "say":
        return 0, []
    from ivr.tts.errors import TTSError
    from ivr.tts.store import PromptAudio

    store = PromptAudio(config["AUDIO_DIR"], config["PROMPTS_DIR"], config, catalogue=catalogue)
    langs = list(catalogue.languages)
    try:
        jobs, _counts = store.plan(langs)
    except (PromptError, TTSError) as exc:
        return 0, [str(exc)]
    if not jobs:
        return 0, []
    with store.batch(langs) as batch:
        for job in jobs:
            batch.render(job)
    return batch.rendered, [str(exc) for exc in batch.failures]


@dataclass
class Published:
    """What a publish did: ``version`` serving now; ``problems`` when the edit was refused."""
    version: str
    previous: str | None = None
    changed: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rendered: int = 0
    refused: str | None = None     # the refused content's hash

    @property
    def ok(self) -> bool:
        return not self.problems


class FlowVersions:
    """This process's view of the versions: the current one, and the ones calls are pinned to."""

    def __init__(self, db, config, check_seconds: float | None = None):
        self.db = db
        self.config = config
        self.check_seconds = float(config.get("RELOAD_CHECK_SECONDS", 2) if check_seconds is None else check_seconds)
        self._current: Loaded | None = None
        self._cache: OrderedDict[str, Loaded] = OrderedDict()
        self._checked = 0.0
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Loaded], None]] = []
        self._refused: str | None = None

    # -- the hot path -----------------------------------------------------------------------------
    def current(self) -> Loaded:
        """The version new calls get; looks at ``flow_current`` at most every check_seconds."""
        if time.monotonic() - self._checked >= self.check_seconds:
            self.follow()
        return self._current

    def for_call(self, version_id: str | None) -> Loaded:
        """The version a call runs on: the one it started on, else (a call from before versions,
        or a version that cannot be had) the current one."""
        if not version_id:
            return self.current()
        current = self._current
        if current is not None and current.id == version_id:
            return current
        found = self._cache.get(version_id)
        if found is None:
            found = self.get(version_id)
        if found is None:
            log.warning("menu version unavailable, call continues on the current one",
                        extra={"fields": {"version": version_id}})
            return self.current()
        return found

    def adopt(self, version_id: str | None) -> None:
        """Take ``version_id`` (stored) as this process's current one, e.g. before a publish from
        the command line, so that an unchanged file is reported as unchanged."""
        loaded = self.get(version_id) if version_id else None
        if loaded is not None:
            self._switch(loaded, "adopted")

    def listen(self, callback: Callable[[Loaded], None]) -> None:
        """Call ``callback(version)`` whenever this process switches to another current version."""
        self._listeners.append(callback)

    # -- following other processes --------------------------------------------------------------
    def follow(self) -> None:
        """Switch to the version ``flow_current`` names, if it is another one."""
        self._checked = time.monotonic()
        try:
            with self.db.engine.connect() as conn:
                version_id = conn.execute(select(FlowCurrent.version).where(FlowCurrent.id == 1)).scalar()
        except Exception as exc:  # noqa: BLE001 - the database may be down: keep serving
            log.warning("menu version check failed", extra={"fields": {"error": type(exc).__name__}})
            return
        if version_id and (self._current is None or version_id != self._current.id):
            loaded = self.get(version_id)
            if loaded is not None:
                self._switch(loaded, "followed")

    def get(self, version_id: str) -> Loaded | None:
        """A version by id: built here before, else rebuilt from its stored texts."""
        with self._lock:
            if self._current is not None and self._current.id == version_id:
                return self._current
            found = self._cache.get(version_id)
            if found is not None:
                self._cache.move_to_end(version_id)
                return found
            try:
                with self.db.Session() as session:
                    row = session.get(FlowVersion, version_id)
                    if row is None or row.files is None:
                        return None
                    name, files = row.menus_name, dict(row.files)
                found = build(self.config, name, files, version_id)
            except Exception as exc:  # noqa: BLE001 - a stored version that no longer builds
                log.error("menu version cannot be rebuilt",
                          extra={"fields": {"version": version_id, "error": str(exc)[:300]}})
                return None
            self._remember(found)
            return found

    def _remember(self, loaded: Loaded) -> None:
        self._cache[loaded.id] = loaded
        self._cache.move_to_end(loaded.id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _switch(self, loaded: Loaded, how: str) -> None:
        with self._lock:
            previous = self._current
            self._current = loaded
            self._remember(loaded)
        if previous is not None and previous.id != loaded.id:
            log.info("menu version now serving", extra={"fields": {
                "version": loaded.id, "was": previous.id, "how": how, "pid": os.getpid()}})
        for callback in self._listeners:
            try:
                callback(loaded)
            except Exception:  # noqa: BLE001
                log.warning("menu version listener failed", exc_info=True)

    # -- publishing from the files --------------------------------------------------------------
    def publish(self, source: str, *, strict: bool = False, render: bool = True) -> Published:
        """Read the files; if they changed and pass the checks, render changed prompts, store the
        version and make it current everywhere. ``strict`` (start-up) raises MenuFileError instead
        of keeping the old version."""
        with self._lock:
            sources = read_sources(self.config["MENUS_FILE"], self.config["PROMPTS_DIR"])
            version_id = sources.id
            previous = self._current.id if self._current else None
            if version_id == previous:
                self._refused = None
                self._point(version_id, sources, source, None)   # the database may say otherwise
                return Published(version_id, previous)
            try:
                loaded = build(self.config, sources.menus_name, sources.files, version_id)
            except MenuFileError as exc:
                if strict:
                    raise
                return self._refuse(version_id, previous, list(exc.problems), list(exc.warnings), source)
            rendered, failures = (render_prompts(self.config, loaded.catalogue) if render else (0, []))
            if failures and self.config.get("VOICE_MODE") == "play":
                # play mode would point callers at audio that is not there
                return self._refuse(version_id, previous, [f"prompt audio: {f}" for f in failures],
                                    list(loaded.warnings), source)
            for failure in failures:
                log.warning("menu reload: prompt not rendered", extra={"fields": {"error": failure}})
            self._point(version_id, sources, source, loaded)
            self._refused = None
            self._switch(loaded, source)
            if previous is not None:
                log.info("menu reloaded", extra={"fields": {
                    "version": version_id, "was": previous, "source": source, "rendered": rendered,
                    "summary": loaded.summary}})
            self.prune()
            return Published(version_id, previous, True, [], list(loaded.warnings), rendered)

    def _refuse(self, version_id, previous, problems, warnings, source) -> Published:
        if self._refused != version_id:   # each refused content is logged once, not on every save
            log.error("menu reload refused: the old menu keeps serving", extra={"fields": {
                "problems": len(problems), "serving": previous, "source": source}})
            for line in problems:
                log.error("menu problem: %s", line)
            self._refused = version_id
        return Published(previous or "", previous, False, problems, warnings, refused=version_id)

    def _point(self, version_id: str, sources: Sources, source: str, loaded: Loaded | None) -> None:
        """Store the version (once) and make it the current one; two servers may race: retry."""
        for attempt in (1, 2):
            try:
                with self.db.Session() as session, session.begin():
                    now = utcnow()
                    if session.get(FlowVersion, version_id) is None:
                        session.add(FlowVersion(
                            id=version_id, loaded_at=now, source=source[:24], menus_name=sources.menus_name[:128],
                            files=sources.files, recordings=sources.recordings,
                            summary=(loaded.summary if loaded else "")[:200]))
                    else:
                        session.execute(update(FlowVersion).where(FlowVersion.id == version_id)
                                        .values(files=sources.files, retired_at=None, pruned_at=None))
                    pointer = session.get(FlowCurrent, 1)
                    if pointer is None:
                        session.add(FlowCurrent(id=1, version=version_id, changed_at=now))
                    elif pointer.version != version_id:
                        session.execute(update(FlowVersion).where(FlowVersion.id == pointer.version)
                                        .values(retired_at=now))
                        pointer.version, pointer.changed_at = version_id, now
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def prune(self) -> int:
        """Drop the texts of versions no call uses: not current, replaced more than RETIRED_GRACE
        ago, and no call in progress on them (calls end within MAX_CALL). Returns how many."""
        now = utcnow()
        try:
            with self.db.Session() as session, session.begin():
                current = session.scalar(select(FlowCurrent.version).where(FlowCurrent.id == 1))
                in_use = select(Call.menu_version).where(
                    Call.ended_at.is_(None), Call.outcome.is_(None), Call.updated_at > now - MAX_CALL)
                result = session.execute(
                    update(FlowVersion)
                    .where(FlowVersion.files.is_not(None), FlowVersion.id != (current or ""),
                           FlowVersion.retired_at.is_not(None), FlowVersion.retired_at < now - RETIRED_GRACE,
                           FlowVersion.id.not_in(in_use))
                    .values(files=None, pruned_at=now))
                return result.rowcount or 0
        except Exception:  # noqa: BLE001 - pruning is housekeeping
            log.warning("pruning menu versions failed", exc_info=True)
            return 0


def version_rows(session, current_id: str | None, limit: int = 20) -> list[dict]:
    """The latest versions with how many calls ran on each (and how many are still in progress)."""
    rows = session.execute(select(FlowVersion.id, FlowVersion.loaded_at, FlowVersion.source,
                                  FlowVersion.summary, FlowVersion.pruned_at, FlowVersion.retired_at)
                           .order_by(FlowVersion.loaded_at.desc()).limit(limit)).all()
    counts = {version: (total, live) for version, total, live in session.execute(
        select(Call.menu_version, func.count(),
               func.count().filter(Call.outcome.is_(None), Call.ended_at.is_(None)))
        .group_by(Call.menu_version)).all()}
    out = []
    for r in rows:
        total, live = counts.get(r.id, (0, 0))
        out.append({"id": r.id, "loaded_at": r.loaded_at.isoformat() if r.loaded_at else None,
                    "source": r.source, "summary": r.summary, "current": r.id == current_id,
                    "pruned": r.pruned_at is not None, "calls": total, "in_progress": live})
    return out
