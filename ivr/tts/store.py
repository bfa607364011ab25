"""Prompt audio on disk: recordings, rendered static prompts, rendered dynamic texts.

Folder layout (``AUDIO_DIR``)::

    manifest.json                 see ivr.tts.manifest
    zh-CN/welcome.wav             static prompt, rendered ahead of time (ivr prompts render)
    zh-CN/_dynamic/<key>.wav      dynamic text (a balance read-out), rendered on first use

Human recordings live with the prompts: ``<PROMPTS_DIR>/recorded/<lang>/<prompt_id>.wav``; a valid
one (telephony WAV) replaces the TTS audio of that static prompt.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ivr.engine.prompts import Catalogue, PromptError
from ivr.tts.engine import TTSWorker
from ivr.tts.errors import TTSError
from ivr.tts.manifest import Manifest
from ivr.tts.render import Voice, engine_render, finish_render, timeout_for, voice_for
from ivr.tts.wav import discard, format_problems, write_temp

log = logging.getLogger(__name__)

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SAFE_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
DYNAMIC_DIR = "_dynamic"


@dataclass(frozen=True)
class PromptFile:
    """Audio ready to serve."""

    filename: str
    source: str  # "recording" | "tts"
    text: str
    etag: str
    key: str | None = None  # the cache key of a dynamic render (its URL name)

    @property
    def path(self) -> Path:
        return Path(self.filename)


@dataclass(frozen=True)
class _Spoken:
    lang: str
    prompt_id: str
    text: str
    voice: Voice
    raw: str  # the engine's 22.05 kHz file
    voice_id: str


@dataclass(frozen=True)
class Job:
    lang: str
    prompt_id: str
    text: str
    voice: Voice
    reason: str  # "new" | "changed" | "missing file" | "forced"


@dataclass
class Problem:
    kind: str  # no-audio | orphan-recording | bad-recording
    lang: str
    prompt_id: str
    path: str | None
    message: str


class PromptAudio:
    def __init__(self, audio_dir: str | os.PathLike, prompts_dir: str | os.PathLike,
                 config: Mapping | None = None, catalogue: Catalogue | None = None,
                 worker: TTSWorker | None = None):
        self.worker = worker  # None: the process-wide pyttsx3 worker
        self.audio_dir = Path(audio_dir)
        self.prompts_dir = Path(prompts_dir)
        self.config = dict(config or {})
        self.manifest = Manifest(self.audio_dir)
        self.timeout = timeout_for(self.config)
        self.dynamic_max = int(self.config.get("TTS_DYNAMIC_CACHE_MAX") or 2000)
        self._catalogue = catalogue
        self._catalogue_error: str | None = None
        self._catalogue_loaded = catalogue is not None
        # Caches for the hot path (audio_path() runs for every prompt of every webhook in auto
        # mode): plain strings and dicts, a stat or two per lookup, no pathlib.
        self._audio_root = os.fspath(self.audio_dir)
        self._static_texts: dict[tuple[str, str], str] | None = None
        self._voices: dict[str, Voice] = {}
        self._keys: dict[tuple[str, str], str] = {}
        # Dynamic read-outs (balances, payments) are named by a keyed hash of their text and kept
        # without it (issue 16): neither the manifest nor a file name can be matched to a guess.
        self._dynamic_secret = str(self.config.get("SECRET_KEY") or "").encode()
        self._recorded_dirs: dict[str, tuple[int, frozenset[str]]] = {}
        self._recorded_folders: dict[str, str] = {}
        self._recordings: dict[str, tuple[tuple, bool, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping) -> "PromptAudio":
        return cls(config["AUDIO_DIR"], config["PROMPTS_DIR"], config)

    # -- catalogue ------------------------------------------------------------------------------
    @property
    def catalogue(self) -> Catalogue | None:
        """The prompt texts (loaded once); None when the prompt files are missing or invalid."""
        if not self._catalogue_loaded:
            with self._lock:
                if not self._catalogue_loaded:
                    try:
                        self._catalogue = Catalogue.load(self.prompts_dir)
                    except PromptError as exc:
                        self._catalogue_error = str(exc)
                        log.warning("prompt audio: %s", exc)
                    self._catalogue_loaded = True
        return self._catalogue

    def use_catalogue(self, catalogue: Catalogue) -> None:
        """Serve these prompt texts from now on (the hotline switched menu versions)."""
        with self._lock:
            self._catalogue, self._catalogue_loaded, self._catalogue_error = catalogue, True, None
            self._static_texts = None

    def catalogue_or_raise(self) -> Catalogue:
        cat = self.catalogue
        if cat is None:
            raise PromptError(self._catalogue_error or f"{self.prompts_dir}: no prompts")
        return cat

    def static_text(self, lang: str, prompt_id: str) -> str | None:
        """The text of a static prompt, None when there is no such static prompt."""
        texts = self._static_texts
        if texts is None:
            cat = self.catalogue
            texts = {} if cat is None else {
                (lang_, pid): cat.raw(pid, lang_) for lang_ in cat.languages for pid in cat.static_ids(lang_)}
            self._static_texts = texts
        return texts.get((lang, prompt_id))

    def voice(self, lang: str) -> Voice:
        voice = self._voices.get(lang)
        if voice is None:
            voice = self._voices[lang] = voice_for(self.config, lang)  # raises TTSError if none
        return voice

    def _key(self, lang: str, text: str) -> str:
        key = self._keys.get((lang, text))
        if key is None:
            key = self.voice(lang).key(text)
            if len(self._keys) > 4096:
                self._keys.clear()
            self._keys[(lang, text)] = key
        return key

    # -- recordings -----------------------------------------------------------------------------
    def recording_path(self, lang: str, prompt_id: str) -> Path:
        return self.prompts_dir / "recorded" / lang / f"{prompt_id}.wav"

    def _recorded_names(self, lang: str) -> frozenset[str]:
        """File names in recorded/<lang>/, re-listed when the folder changes."""
        folder = self._recorded_folders.get(lang)
        if folder is None:
            folder = self._recorded_folders[lang] = os.path.join(self.prompts_dir, "recorded", lang)
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            return frozenset()
        cached = self._recorded_dirs.get(lang)
        if cached is None or cached[0] != mtime:
            try:
                cached = (mtime, frozenset(os.listdir(folder)))
            except OSError:
                return frozenset()
            self._recorded_dirs[lang] = cached
        return cached[1]

    def recording(self, lang: str, prompt_id: str) -> PromptFile | None:
        """A valid human recording for the prompt (wrong-format recordings are ignored, logged)."""
        name = f"{prompt_id}.wav"
        if name not in self._recorded_names(lang) or not (SAFE_ID.match(prompt_id) and SAFE_LANG.match(lang)):
            return None
        path = os.path.join(self.prompts_dir, "recorded", lang, name)
        try:
            st = os.stat(path)  # also catches a recording replaced in place
        except OSError:
            return None
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._recordings.get(path)
        if cached is None or cached[0] != signature:
            problems = format_problems(path)
            if problems:
                log.warning("recording %s ignored: %s", path, "; ".join(problems))
                etag = ""
            else:
                with open(path, "rb") as fh:
                    etag = "rec-" + hashlib.sha256(fh.read()).hexdigest()[:32]
            cached = (signature, not problems, etag)
            self._recordings[path] = cached
        if not cached[1]:
            return None
        return PromptFile(filename=path, source="recording", text=self.static_text(lang, prompt_id) or "",
                          etag=cached[2])

    # -- lookups --------------------------------------------------------------------------------
    def _valid(self, entry: dict | None, key: str | None) -> PromptFile | None:
        if not entry or (key is not None and entry.get("key") != key):
            return None
        path = os.path.join(self._audio_root, entry["file"])
        try:
            if os.stat(path).st_size != entry.get("bytes"):
                return None  # replaced or truncated behind the manifest's back
        except OSError:
            return None
        return PromptFile(filename=path, source="tts", text=entry["text"], etag="tts-" + entry["sha256"][:32],
                          key=entry["key"])

    def lookup_static(self, lang: str, prompt_id: str, text: str) -> PromptFile | None:
        """Audio of static prompt ``prompt_id`` saying exactly ``text``: recording, else current render."""
        rec = self.recording(lang, prompt_id)
        if rec is not None:
            return rec
        try:
            key = self._key(lang, text)
        except TTSError:
            return None
        return self._valid(self.manifest.data()["static"].get(f"{lang}/{prompt_id}"), key)

    def _keyed(self, lang: str, plain_key: str) -> str:
        return hmac.digest(self._dynamic_secret, f"dynamic:{lang}:{plain_key}".encode(), "sha256").hex()[:32]

    def lookup_dynamic(self, lang: str, text: str, max_age: float = 0.0) -> PromptFile | None:
        """The render of a read-out, if any; ``max_age``: see ``Manifest.data``."""
        renders = self.manifest.data(max_age)["dynamic"]
        if not renders:   # none rendered yet (the usual case without on-demand TTS): no key to compute
            return None
        try:
            key = self._keyed(lang, self._key(lang, text))
        except TTSError:
            return None
        return self._valid(renders.get(f"{lang}/{key}"), key)

    def dynamic_file(self, lang: str, prompt_id: str, key: str) -> PromptFile | None:
        """A cached dynamic render by key (what its URL names), whatever the current voice.
        The prompt id in the URL is informational: the same text may serve several prompts."""
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            return None
        return self._valid(self.manifest.data()["dynamic"].get(f"{lang}/{key}"), None)

    def is_static(self, lang: str, prompt_id: str, text: str) -> bool:
        """Whether ``text`` is the catalogue's fixed text of ``prompt_id`` (so the file is named
        after the prompt); anything else is cached by text hash."""
        return SAFE_ID.match(prompt_id) is not None and self.static_text(lang, prompt_id) == text

    # -- rendering ------------------------------------------------------------------------------
    def _render_entry(self, lang: str, prompt_id: str, text: str, voice: Voice, *,
                      dynamic: bool) -> tuple[dict, str]:
        """Render; return the manifest entry and the temporary file holding the audio (see
        ``_commit``)."""
        started = self._engine_step(lang, prompt_id, text, voice)
        return self._finish_step(started, dynamic=dynamic)

    def _engine_step(self, lang: str, prompt_id: str, text: str, voice: Voice) -> "_Spoken":
        """The part that needs the TTS worker (one at a time per process)."""
        if not SAFE_LANG.match(lang):
            raise TTSError(f"prompt {prompt_id!r}: bad language tag {lang!r}", prompt_id=prompt_id, lang=lang)
        label = f"prompt {prompt_id!r} ({lang})"
        try:
            raw, voice_id = engine_render(text, voice, timeout=self.timeout, label=label, worker=self.worker)
        except TTSError as exc:
            raise TTSError(str(exc), prompt_id=prompt_id, lang=lang) from None
        return _Spoken(lang, prompt_id, text, voice, raw, voice_id)

    def _finish_step(self, spoken: "_Spoken", *, dynamic: bool) -> tuple[dict, str]:
        """Check, convert to 8 kHz and write a temporary file (no worker needed: overlaps with the
        next render in ``Batch``)."""
        lang, prompt_id, text, voice = spoken.lang, spoken.prompt_id, spoken.text, spoken.voice
        try:
            audio = finish_render(spoken.raw, text, voice, label=f"prompt {prompt_id!r} ({lang})")
        except TTSError as exc:
            raise TTSError(str(exc), prompt_id=prompt_id, lang=lang) from None
        key = self._keyed(lang, voice.key(text)) if dynamic else voice.key(text)
        rel = f"{lang}/{DYNAMIC_DIR}/{key}.wav" if dynamic else f"{lang}/{prompt_id}.wav"
        tmp = write_temp(self.audio_dir / rel, audio.wav)
        entry = {
            "id": prompt_id, "lang": lang, "text": "" if dynamic else text,
            "text_hash": "" if dynamic else hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "key": key, "voice": voice.voice, "voice_id": spoken.voice_id, "rate": voice.rate,
            "file": rel, "duration": audio.duration, "bytes": len(audio.wav),
            "sha256": hashlib.sha256(audio.wav).hexdigest(),
            "rendered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "created": time.time(),
        }
        return entry, tmp

    def _commit(self, data: dict, entry: dict, tmp: str, *, dynamic: bool, replace: bool) -> tuple[dict, bool]:
        """Inside ``Manifest.update``: move the rendered file into place and record it, both under
        the lock, so file and entry always agree. Unless ``replace``, an equivalent entry another
        process committed meanwhile wins (espeak's output differs by a few samples from run to run,
        so two renders of one text are not byte-identical). Returns (entry in force, changed)."""
        table = data["dynamic" if dynamic else "static"]
        name = f"{entry['lang']}/{entry['key'] if dynamic else entry['id']}"
        existing = table.get(name)
        if not replace and existing and existing.get("key") == entry["key"] and self._valid(existing, None):
            discard(tmp)
            return existing, False
        try:
            os.replace(tmp, self.audio_dir / entry["file"])
        except OSError:
            discard(tmp)
            raise
        table[name] = entry
        if dynamic and len(table) > self.dynamic_max:  # forget the oldest renders, and their files
            oldest = sorted(table, key=lambda k: table[k].get("created", 0))[: len(table) - self.dynamic_max]
            for old in oldest:
                self._unlink(table.pop(old)["file"])
        return entry, True

    def _render_and_commit(self, lang: str, prompt_id: str, text: str, *, dynamic: bool) -> PromptFile:
        entry, tmp = self._render_entry(lang, prompt_id, text, self._voice_or_raise(lang, prompt_id),
                                        dynamic=dynamic)
        result: list[dict] = []

        def change(data: dict) -> bool:
            kept, changed = self._commit(data, entry, tmp, dynamic=dynamic, replace=False)
            result.append(kept)
            return changed

        try:
            self.manifest.update(change)
        except BaseException:
            discard(tmp)
            raise
        found = self._valid(result[0], None)
        if found is None:  # removed in the instant since: very unlikely; say so rather than crash
            raise TTSError(f"prompt {prompt_id!r} ({lang}): audio vanished right after rendering",
                           prompt_id=prompt_id, lang=lang)
        return found

    def ensure_static(self, lang: str, prompt_id: str, text: str) -> PromptFile:
        return self.lookup_static(lang, prompt_id, text) or self._render_and_commit(
            lang, prompt_id, text, dynamic=False)

    def ensure_dynamic(self, lang: str, prompt_id: str, text: str) -> PromptFile:
        return self.lookup_dynamic(lang, text) or self._render_and_commit(lang, prompt_id, text, dynamic=True)

    def forget_clear_dynamic(self) -> int:
        """Drop dynamic renders stored before issue 16 (with their text in clear), and their files."""
        dropped: list[str] = []

        def change(data: dict) -> bool:
            table = data["dynamic"]
            for name in [n for n, e in table.items() if e.get("text")]:
                self._unlink(table.pop(name)["file"])
                dropped.append(name)
            return bool(dropped)

        if self.manifest.path.exists() and any(e.get("text") for e in self.manifest.data()["dynamic"].values()):
            self.manifest.update(change)
        return len(dropped)

    def _voice_or_raise(self, lang: str, prompt_id: str) -> Voice:
        try:
            return self.voice(lang)
        except TTSError as exc:
            raise TTSError(f"prompt {prompt_id!r} ({lang}): {exc}", prompt_id=prompt_id, lang=lang) from None

    def _unlink(self, rel: str) -> None:
        try:
            (self.audio_dir / rel).unlink()
        except OSError:
            pass

    # -- batch rendering (ivr prompts render) ----------------------------------------------------
    def plan(self, langs: Iterable[str], force: bool = False) -> tuple[list[Job], dict]:
        """The static prompts to render, and counts of what needs nothing (recorded, current)."""
        cat = self.catalogue_or_raise()
        static = self.manifest.data()["static"]
        jobs: list[Job] = []
        counts = {"recorded": 0, "current": 0}
        for lang in langs:
            voice = self.voice(lang)  # TTSError names the language
            for prompt_id in cat.static_ids(lang):
                if not SAFE_ID.match(prompt_id):
                    raise TTSError(f"prompt {prompt_id!r} ({lang}): id unusable as a file name",
                                   prompt_id=prompt_id, lang=lang)
                text = cat.raw(prompt_id, lang)
                if self.recording(lang, prompt_id) is not None:
                    counts["recorded"] += 1
                    continue
                entry = static.get(f"{lang}/{prompt_id}")
                if force:
                    reason = "forced"
                elif entry is None:
                    reason = "new"
                elif entry.get("key") != voice.key(text):
                    reason = "changed"
                elif self._valid(entry, None) is None:
                    reason = "missing file"
                else:
                    counts["current"] += 1
                    continue
                jobs.append(Job(lang, prompt_id, text, voice, reason))
        return jobs, counts

    @contextmanager
    def batch(self, langs: Iterable[str]) -> Iterator["Batch"]:
        """Render jobs, saving the manifest every few renders and at the end (even on errors);
        at the end, forget static renders of prompts that no longer exist in ``langs``."""
        batch = Batch(self)
        try:
            yield batch
        finally:
            batch.close()
            batch.flush(prune_langs=list(langs), catalogue=self.catalogue)

    def remove_stale_temp_files(self, age: float = 3600) -> None:
        """Temporary files a killed process left behind (renders are renamed within seconds)."""
        limit = time.time() - age
        for path in self.audio_dir.rglob(".*.tmp"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
            except OSError:
                pass

    # -- checks ---------------------------------------------------------------------------------
    def check(self) -> list[Problem]:
        cat = self.catalogue_or_raise()
        problems: list[Problem] = []
        static = self.manifest.data()["static"]
        for lang in cat.languages:
            for prompt_id in cat.static_ids(lang):
                text = cat.raw(prompt_id, lang)
                if self.lookup_static(lang, prompt_id, text) is not None:
                    continue
                entry = static.get(f"{lang}/{prompt_id}")
                why = "its render is out of date (text or voice changed)" if entry else "no recording and no render"
                problems.append(Problem("no-audio", lang, prompt_id, None,
                                        f"{lang} prompt {prompt_id!r}: no audio ({why}); run `ivr prompts render`"))
        root = self.prompts_dir / "recorded"
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if not path.is_file() or path.name.startswith("."):
                    continue
                rel = path.relative_to(root)
                lang = rel.parts[0] if len(rel.parts) == 2 else ""
                prompt_id = path.stem
                if lang not in cat.languages or path.suffix != ".wav":
                    problems.append(Problem("orphan-recording", lang, prompt_id, str(path),
                                            f"{path}: not a recording of any prompt (expected "
                                            f"recorded/<{'|'.join(cat.languages)}>/<prompt_id>.wav)"))
                    continue
                if not cat.has(prompt_id, lang):
                    problems.append(Problem("orphan-recording", lang, prompt_id, str(path),
                                            f"{path}: recording with no prompt: {lang} has no prompt {prompt_id!r}"))
                    continue
                if cat.is_dynamic(prompt_id, lang):
                    problems.append(Problem("orphan-recording", lang, prompt_id, str(path),
                                            f"{path}: prompt {prompt_id!r} is dynamic (has placeholders), "
                                            "so a fixed recording cannot replace it"))
                    continue
                bad = format_problems(path)
                if bad:
                    problems.append(Problem("bad-recording", lang, prompt_id, str(path),
                                            f"{path}: wrong format for prompt {prompt_id!r}: {'; '.join(bad)} "
                                            "(need WAV, 8000 Hz, mono, 16-bit PCM)"))
        return problems


class Batch:
    """Renders for ``ivr prompts render``.

    Pipelined: while the TTS worker process speaks prompt n+1, a thread checks and converts prompt
    n (2 cores: both busy). Renders are committed (file renamed into place, entry recorded, under
    the manifest lock) every ``every`` prompts and at the end. A failing prompt does not stop the
    others: its error is in ``failures``.
    """

    def __init__(self, store: PromptAudio, every: int = 16):
        self.store = store
        self.every = every
        self.pending: list[tuple[dict, str]] = []
        self.failures: list[TTSError | OSError] = []
        self.rendered = 0
        self._converting: list[Future] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ivr-tts-convert")

    def render(self, job: Job) -> None:
        try:
            spoken = self.store._engine_step(job.lang, job.prompt_id, job.text, job.voice)
        except (TTSError, OSError) as exc:
            self.failures.append(exc)
            return
        self._converting.append(self._pool.submit(self.store._finish_step, spoken, dynamic=False))
        self._collect(wait=False)
        if len(self.pending) >= self.every:
            self.flush()

    def _collect(self, wait: bool) -> None:
        still: list[Future] = []
        for future in self._converting:
            if not wait and not future.done():
                still.append(future)
                continue
            try:
                self.pending.append(future.result())
                self.rendered += 1
            except (TTSError, OSError) as exc:
                self.failures.append(exc)
        self._converting = still

    def close(self) -> None:
        self._collect(wait=True)
        self._pool.shutdown(wait=True)

    def flush(self, prune_langs: list[str] | None = None, catalogue: Catalogue | None = None) -> None:
        pending, self.pending = self.pending, []
        if not pending and not prune_langs:
            return
        removed: list[str] = []
        keep = {lang: set(catalogue.static_ids(lang)) for lang in prune_langs or () if catalogue
                and lang in catalogue.languages}
        committed: set[str] = set()

        def change(data: dict) -> bool:
            for entry, tmp in pending:
                self.store._commit(data, entry, tmp, dynamic=False, replace=True)
                committed.add(tmp)
            static = data["static"]
            for name in list(static):
                lang, _, prompt_id = name.partition("/")
                if lang in keep and prompt_id not in keep[lang]:
                    removed.append(static.pop(name)["file"])
            return bool(pending or removed)

        try:
            self.store.manifest.update(change)
        finally:
            for _, tmp in pending:
                if tmp not in committed:
                    discard(tmp)
        for rel in removed:
            self.store._unlink(rel)
        if prune_langs is not None:
            self.store.remove_stale_temp_files()
