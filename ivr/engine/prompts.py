"""The prompt catalogue: what the hotline says, per language.

``prompts/<lang>.toml`` is a flat table ``prompt_id = "text"``. Texts may hold ``{name}``
placeholders filled at run time (balances, dates, reference numbers): those are *dynamic* prompts.
Human recordings live at ``prompts/recorded/<lang>/<prompt_id>.wav`` and replace the TTS audio.
"""
from __future__ import annotations

import functools
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("zh-CN", "en-US")


class PromptError(Exception):
    pass


@dataclass(frozen=True)
class Catalogue:
    texts: dict[str, dict[str, str]]  # lang -> prompt id -> text
    directory: Path

    @classmethod
    def load(cls, directory: str | Path, sources: dict[str, str] | None = None) -> "Catalogue":
        """Read ``<directory>/<lang>.toml``; with ``sources`` (lang -> TOML text, e.g. a stored menu
        version) the texts come from there, named after the same files."""
        directory = Path(directory)
        texts: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            path = directory / f"{lang}.toml"
            try:
                if sources is not None:
                    if lang not in sources:
                        raise FileNotFoundError(path)
                    data = tomllib.loads(sources[lang])
                else:
                    with open(path, "rb") as fh:
                        data = tomllib.load(fh)
            except FileNotFoundError:
                raise PromptError(f"{path}: missing prompt file for {lang}") from None
            except tomllib.TOMLDecodeError as exc:
                raise PromptError(f"{path}: {exc}") from None
            bad = [k for k, v in data.items() if not isinstance(v, str)]
            if bad:
                raise PromptError(f"{path}: prompt {bad[0]!r} must be a string")
            texts[lang] = data
        return cls(texts=texts, directory=directory)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def has(self, prompt_id: str, lang: str) -> bool:
        return prompt_id in self.texts.get(lang, {})

    def raw(self, prompt_id: str, lang: str) -> str:
        try:
            return self.texts[lang][prompt_id]
        except KeyError:
            raise PromptError(f"prompt {prompt_id!r} has no {lang} text") from None

    def text(self, prompt_id: str, lang: str, **values: object) -> str:
        raw = self.raw(prompt_id, lang)
        return raw.format(**values) if values or placeholders(raw) else raw

    def is_dynamic(self, prompt_id: str, lang: str) -> bool:
        return bool(placeholders(self.raw(prompt_id, lang)))

    def static_ids(self, lang: str) -> list[str]:
        """Prompt ids whose text is fixed (renderable ahead of time)."""
        return sorted(k for k, v in self.texts[lang].items() if not placeholders(v))

    def recording_path(self, prompt_id: str, lang: str) -> Path:
        return self.directory / "recorded" / lang / f"{prompt_id}.wav"


@functools.lru_cache(maxsize=4096)   # asked for every prompt of every webhook (issue 17: 6% of a call)
def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
