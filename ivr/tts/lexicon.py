"""Mandarin pronunciation overrides (``prompts/pronunciations.toml``) and polyphone checks.

The file maps a word to its pinyin, one syllable per character, tone marks or numbers::

    "银行" = "yín háng"
    "为准" = "wei2 zhun3"

Before synthesis every occurrence of a listed word becomes espeak-ng phoneme input
(``[[ji35nXA35N]]``), so the voice says exactly the listed reading whatever its dictionary thinks.
The phonemes of a syllable come from espeak-ng itself: the phonemes it speaks for a character whose
only reading (in pypinyin's dictionary) is that syllable, with the tone set as listed.

Each entry is checked against pypinyin: every syllable must be a reading of its character; where
pypinyin's phrase reading differs, :func:`Lexicon.notes` says so (the override is the point).
:func:`polyphone_warnings` flags characters of a prompt whose reading depends on the word
(:func:`ambiguous_chars`) where neither an override, the file's ``checked`` list (words heard to be
read right as they are) nor a pypinyin phrase fixes the reading.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ivr.tts import espeak

FILE_NAME = "pronunciations.toml"
VOICE = "cmn"
# espeak-ng's Mandarin tone phonemes: tone 1..4 and neutral (5).
TONE_PHONEMES = {"1": "55", "2": "35", "3": "214", "4": "51", "5": "11"}
_TONE_OF = {v: k for k, v in TONE_PHONEMES.items()}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_STRESS = re.compile(r"[',]")
_TONE_DIGITS = re.compile(r"[1-5]{2,3}")


class LexiconError(ValueError):
    pass


def _tone3(syllable: str) -> str:
    """``yín`` / ``yin2`` / ``yin`` -> ``yin2`` / ``yin2`` / ``yin5`` (ü written v)."""
    from pypinyin.contrib.tone_convert import to_tone3

    s = to_tone3(syllable.strip().lower().replace("v", "ü")).replace("ü", "v")
    return s if s[-1:] in "12345" else s + "5"


def _readings(ch: str) -> list[str]:
    """pypinyin's readings of one character, as tone3 strings (``['hang2', 'xing2', ...]``)."""
    from pypinyin import Style, pinyin

    return [r if r[-1:].isdigit() else r + "5"
            for r in pinyin(ch, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]]


class _Syllables:
    """Toneless pinyin syllable -> espeak phoneme template, learnt from espeak itself."""

    def __init__(self):
        self._templates: dict[str, str | None] = {}
        self._by_syllable: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def _index(self) -> dict[str, list[str]]:
        if self._by_syllable is None:
            from pypinyin.contrib.tone_convert import to_tone3
            from pypinyin.pinyin_dict import pinyin_dict

            index: dict[str, list[str]] = {}
            for code, readings in pinyin_dict.items():
                if 0x4E00 <= code <= 0x9FFF and "," not in readings:
                    t3 = to_tone3(readings).replace("ü", "v")
                    if t3[-1:] in "1234":
                        index.setdefault(t3, []).append(chr(code))
            self._by_syllable = index
        return self._by_syllable

    def known(self, toneless: str) -> bool:
        """Whether pinyin has the syllable (in any tone)."""
        if not hasattr(self, "_toneless"):
            self._toneless = {k[:-1] for k in self._index()} | {"de", "le", "me", "ne", "zi"}
        return toneless in self._toneless

    def template(self, toneless: str) -> str | None:
        """``hang`` -> ``XA{t}N`` (``{t}`` is the tone), None when espeak has no such syllable."""
        with self._lock:
            if toneless not in self._templates:
                self._templates[toneless] = self._learn(toneless)
            return self._templates[toneless]

    def _learn(self, toneless: str) -> str | None:
        index = self._index()
        for tone in "1234":
            for ch in index.get(toneless + tone, ())[:12]:
                body = _STRESS.sub("", espeak.phonemes(ch, VOICE)).replace("_|", "").strip()
                tones = _TONE_DIGITS.findall(body)
                if len(tones) == 1 and _TONE_OF.get(tones[0]) == tone and "(" not in body:
                    return _TONE_DIGITS.sub("{t}", body)
        return None

    def phonemes(self, syllable3: str) -> str | None:
        template = self.template(syllable3[:-1])
        return None if template is None else template.replace("{t}", TONE_PHONEMES[syllable3[-1]])


SYLLABLES = _Syllables()


@dataclass(frozen=True)
class Entry:
    word: str
    pinyin: tuple[str, ...]  # tone3: ("yin2", "hang2")
    phonemes: str  # espeak phoneme input, without the brackets


@dataclass(frozen=True)
class Lexicon:
    path: Path | None
    entries: tuple[Entry, ...]
    fingerprint: str  # changes with the file's content: part of the audio cache key
    checked: tuple[str, ...] = ()  # words/characters heard to be read right as they are

    def apply(self, text: str) -> str:
        """``text`` with every listed word replaced by its phoneme input (longest words first)."""
        if not self.entries:
            return text
        return self._pattern().sub(lambda m: f"[[{self._by_word()[m.group(0)]}]]", text)

    def _by_word(self) -> dict[str, str]:
        return _by_word_cache(self)

    def _pattern(self) -> re.Pattern:
        return _pattern_cache(self)

    def covered(self, text: str) -> set[int]:
        """Positions of ``text`` inside a listed word or a word listed as checked."""
        out = {i for m in self._pattern().finditer(text) for i in range(m.start(), m.end())} \
            if self.entries else set()
        for word in self.checked:
            start = text.find(word)
            while start >= 0:
                out.update(range(start, start + len(word)))
                start = text.find(word, start + 1)
        return out

    def notes(self) -> list[str]:
        """Entries whose reading differs from pypinyin's phrase reading (informational)."""
        from pypinyin import Style, pinyin

        out = []
        for e in self.entries:
            theirs = tuple(r[0] if r[0][-1:].isdigit() else r[0] + "5" for r in
                           pinyin(e.word, style=Style.TONE3, neutral_tone_with_five=True))
            if theirs != e.pinyin:
                out.append(f"{self.path}: {e.word}: {' '.join(e.pinyin)} (pypinyin's phrase reading: "
                           f"{' '.join(theirs)})")
        return out


_derived: dict[str, tuple[dict, re.Pattern]] = {}


def _derive(lex: Lexicon) -> tuple[dict, re.Pattern]:
    got = _derived.get(lex.fingerprint)
    if got is None:
        words = sorted((e.word for e in lex.entries), key=len, reverse=True)
        got = ({e.word: e.phonemes for e in lex.entries}, re.compile("|".join(map(re.escape, words))))
        _derived[lex.fingerprint] = got
    return got


def _by_word_cache(lex: Lexicon) -> dict:
    return _derive(lex)[0]


def _pattern_cache(lex: Lexicon) -> re.Pattern:
    return _derive(lex)[1]


EMPTY = Lexicon(None, (), "none")


def parse(path: Path) -> Lexicon:
    """Read and check an override file; LexiconError names the file and the word."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        return EMPTY
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: not valid TOML: {exc}") from None
    entries = []
    checked = data.pop("checked", [])
    if not isinstance(checked, list) or not all(isinstance(w, str) and w and all(_CJK.fullmatch(c) for c in w)
                                                 for w in checked):
        raise LexiconError(f"{path}: 'checked' must be a list of Chinese words, like [\"的\", \"为您\"]")
    for word, value in data.items():
        where = f"{path}: {word!r}"
        if not isinstance(value, str):
            raise LexiconError(f"{where}: the pinyin must be a string like \"yín háng\", not {value!r}")
        chars = list(word)
        if not word or not all(_CJK.fullmatch(c) for c in chars):
            raise LexiconError(f"{where}: a word is Chinese characters only")
        syllables = value.split()
        if len(syllables) != len(chars):
            raise LexiconError(f"{where}: {len(chars)} characters but {len(syllables)} pinyin syllables "
                               f"in {value!r} (one syllable per character)")
        tone3 = []
        for ch, syl in zip(chars, syllables):
            try:
                s3 = _tone3(syl)
            except Exception:  # noqa: BLE001 - pypinyin's converter on garbage
                s3 = ""
            if not re.fullmatch(r"[a-z]+[1-5]", s3 or "") or not SYLLABLES.known(s3[:-1]):
                raise LexiconError(f"{where}: {syl!r} is not a pinyin syllable")
            known = _readings(ch)
            if s3 not in known and not (s3.endswith("5") and any(k[:-1] == s3[:-1] for k in known)):
                raise LexiconError(f"{where}: {syl!r} is not a reading of {ch} (pypinyin knows: "
                                   f"{', '.join(known)})")
            tone3.append(s3)
        parts = [SYLLABLES.phonemes(s) for s in tone3]
        if None in parts:
            bad = tone3[parts.index(None)]
            raise LexiconError(f"{where}: the Mandarin voice has no syllable {bad!r}")
        # espeak stresses the last syllable of a word: keep that mark only there.
        phon = "".join(_STRESS.sub("", p) for p in parts[:-1]) + parts[-1]
        entries.append(Entry(word, tuple(tone3), phon))
    return Lexicon(path, tuple(entries), hashlib.sha256(raw).hexdigest()[:16], tuple(checked))


_loaded: dict[str, tuple[tuple, Lexicon]] = {}
_loaded_lock = threading.Lock()


def load(prompts_dir: str | os.PathLike | None) -> Lexicon:
    """The override file of a prompt folder (re-read when it changes; none: no overrides)."""
    if prompts_dir is None:
        return EMPTY
    path = Path(prompts_dir) / FILE_NAME
    try:
        st = os.stat(path)
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        return EMPTY
    with _loaded_lock:
        cached = _loaded.get(os.fspath(path))
        if cached and cached[0] == signature:
            return cached[1]
        lex = parse(path)
        _loaded[os.fspath(path)] = (signature, lex)
        return lex


# --- polyphone warnings ----------------------------------------------------------------------

@dataclass(frozen=True)
class Warning_:
    char: str
    context: str
    message: str


# Particles whose second reading lives outside pypinyin's phrase list (慢慢地, 以...为准).
_ALWAYS_AMBIGUOUS = frozenset("地为得了着")
_ambiguous: frozenset[str] | None = None


def ambiguous_chars() -> frozenset[str]:
    """Characters whose reading really depends on the word: in pypinyin's phrase list, their second
    most common reading occurs in at least 3 phrases and 5% of them (行 xíng/háng, 重, 长, 还, ...;
    not 机, whose other reading is in no phrase)."""
    global _ambiguous
    if _ambiguous is None:
        from collections import Counter, defaultdict

        from pypinyin.phrases_dict import phrases_dict

        counts: dict[str, Counter] = defaultdict(Counter)
        for phrase, readings in phrases_dict.items():
            if len(phrase) == len(readings):
                for ch, r in zip(phrase, readings):
                    counts[ch][r[0]] += 1
        found = set(_ALWAYS_AMBIGUOUS)
        for ch, cnt in counts.items():
            if len(cnt) >= 2:
                (_, first), (_, second) = cnt.most_common(2)
                if second >= 3 and second / (first + second) >= 0.05:
                    found.add(ch)
        _ambiguous = frozenset(found)
    return _ambiguous


def polyphone_warnings(text: str, lex: Lexicon) -> list[Warning_]:
    """Characters of ``text`` whose reading depends on the word (:func:`ambiguous_chars`) that no
    override, ``checked`` word or pypinyin phrase around them covers."""
    from pypinyin import Style, pinyin
    from pypinyin.phrases_dict import phrases_dict

    covered = lex.covered(text)
    ambiguous = ambiguous_chars()
    context = pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [None] * len(s))
    flat: list[str | None] = []
    for item in context:
        flat.append(item[0] if item and item[0] and item[0][-1:].isdigit() else
                    (item[0] + "5" if item and item[0] else None))
    warnings = []
    for i, ch in enumerate(text):
        if not _CJK.fullmatch(ch) or i in covered or ch not in ambiguous:
            continue
        expected = flat[i] if i < len(flat) else None
        snippet = text[max(0, i - 4):i + 5]
        in_phrase = any(text[a:b] in phrases_dict for a in range(max(0, i - 3), i + 1)
                        for b in range(i + 1, min(len(text), i + 4) + 1) if b - a >= 2)
        if not in_phrase:
            warnings.append(Warning_(ch, snippet, f"polyphone {ch} in '{snippet}' "
                                     f"({', '.join(_readings(ch))}; pypinyin guesses {expected}): no "
                                     f"override or known phrase fixes its reading here; listen with "
                                     f"`ivr prompts pronounce`, then add the word to {FILE_NAME} (with "
                                     f"its pinyin, or under checked when it is read right)"))
    return warnings
