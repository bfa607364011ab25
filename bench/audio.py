"""How the local voice sounds, measured (not a test). Run: .venv/bin/python bench/audio.py

In one run, on the shipped prompts (static prompts of prompts/*.toml) and the read-outs of the
amounts, a date and a time the issue lists:

- Mandarin: syllables spoken in another language (espeak's ``(en)`` switches in its phonemes),
  syllables per second of speech, the pronunciation overrides as spoken;
- English: words per minute, and the word error rate of the rendered 8 kHz prompts with
  pocketsphinx's shipped US English model, beside ``espeak-ng -w`` of the same texts at 16 kHz;
- levels: peak dBFS, silence before and after speech, of every render.

``after`` is this pipeline (espeak-ng 1.52 from espeakng-loader, spoken-form text, overrides,
levels); ``before`` is the previous one, run in a child process: the system's espeak-ng 1.51 given
the prompt texts as written, converted to 8 kHz with no trimming or normalisation.

Options: --json FILE (write the figures), --lang zh-CN|en-US|all, --side before|after (internal).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AMOUNTS_FEN = (0, 5, 200, 1000, 10010, 100505, 200000, 2222200, 1_000_000_000)


def texts(lang: str) -> list[tuple[str, str]]:
    """(label, text): every static prompt, then read-outs of amounts, a date and a time."""
    from ivr.tts import readout
    from ivr.engine.prompts import Catalogue

    cat = Catalogue.load(ROOT / "prompts")
    out = [(pid, cat.raw(pid, lang)) for pid in cat.static_ids(lang)]
    out += [(f"money {f}", readout.money(f, lang)) for f in AMOUNTS_FEN]
    out.append(("date", readout.date_text(dt.date(2026, 3, 5), lang)))
    out.append(("datetime", readout.datetime_text(dt.datetime(2026, 3, 5, 6, 5, tzinfo=dt.timezone.utc), lang)))
    out.append(("id", readout.digits("11010519491231002X", lang, group=6)))
    return out


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """English words of 0..999,999 (what espeak says for a number written in digits)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    return number_words(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + number_words(n % 1000))


def _words(text: str) -> list[str]:
    """Words a listener hears: numbers written in digits as espeak says them."""
    text = re.sub(r"\d[\d,]*", lambda m: " " + number_words(int(m.group(0).replace(",", ""))) + " ",
                  text.lower().replace("-", " "))
    return re.findall(r"[a-z']+", text)


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(edit distance in words, reference words)."""
    r, h = _words(ref), _words(hyp)
    prev = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hw in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw))
        prev = cur
    return prev[-1], len(r)


_decoder = None


def recognise(samples, rate: int) -> str:
    """pocketsphinx (shipped en-US model, 16 kHz) on int16 samples."""
    global _decoder
    import numpy as np
    import soxr
    from pocketsphinx import Decoder

    if _decoder is None:
        _decoder = Decoder(samprate=16000, loglevel="FATAL")
    x = np.asarray(samples, dtype=np.float32) / 32768.0
    if rate != 16000:
        x = soxr.resample(x, rate, 16000)
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16).tobytes()
    _decoder.start_utt()
    _decoder.process_raw(pcm, full_utt=True)
    _decoder.end_utt()
    hyp = _decoder.hyp()
    return hyp.hypstr if hyp else ""


def side(which: str, langs: list[str]) -> dict:
    """Render and measure every text in this process (``before`` runs with the system library)."""
    import numpy as np
    import soundfile as sf
    import soxr

    from ivr.tts import espeak
    from ivr.tts.engine import TTSWorker
    from ivr.tts.render import DEFAULT_RATES, DEFAULT_VOICES, Voice, render_text, voice_for
    from ivr.tts.wav import RATE, encode, levels

    worker = TTSWorker()
    result: dict = {"side": which, "espeak": espeak.version(), "langs": {}}
    tmp = Path(tempfile.mkdtemp(prefix="ivr-audio-bench-"))
    try:
        for lang in langs:
            voice = voice_for({"PROMPTS_DIR": str(ROOT / "prompts")}, lang) if which == "after" else \
                Voice(lang, DEFAULT_VOICES[lang], DEFAULT_RATES[lang])
            rows = []
            for label, text in texts(lang):
                given = voice.engine_text(text) if which == "after" else text
                phon = espeak.phonemes(given, voice.voice)
                if which == "after":
                    audio, _ = render_text(text, voice, timeout=60, label=label, worker=worker)
                    samples, rate = sf.read(__import__("io").BytesIO(audio.wav), dtype="int16")
                else:
                    raw = tmp / "raw.wav"
                    worker.render(given, DEFAULT_VOICES[lang], DEFAULT_RATES[lang], raw, 60)
                    src, src_rate = sf.read(raw, dtype="int16")
                    x = soxr.resample(src.astype(np.float32) / 32768, src_rate, RATE)
                    peak = float(np.abs(x).max())
                    if peak > 0.97:
                        x *= 0.97 / peak
                    samples, rate = np.round(x * 32767).astype(np.int16), RATE
                    encode(samples)
                lv = levels(samples, rate)
                row = {"label": label, "text": text, "given": given, "phonemes": phon, **lv}
                if lang.startswith("zh"):
                    row["syllables"] = espeak.syllable_count(phon)
                    row["foreign"] = espeak.foreign_syllables(phon, "cmn")
                    row["foreign_spans"] = [f.phonemes for f in espeak.foreign_spans(phon, "cmn")]
                else:
                    row["words"] = len(_words(text if which == "before" else given))
                    row["heard"] = recognise(samples, rate)
                    row["errors"], row["ref_words"] = wer(text if which == "before" else given, row["heard"])
                rows.append(row)
            result["langs"][lang] = rows
    finally:
        worker.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def espeak_cli_wer(langs: list[str]) -> dict | None:
    """``espeak-ng -w`` (the system binary) of the en-US prompt texts at 16 kHz, recognised."""
    import numpy as np
    import soundfile as sf
    import soxr

    exe = shutil.which("espeak-ng")
    if not exe or "en-US" not in langs:
        return None
    errors = words = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in texts("en-US"):
            out = Path(tmp) / "x.wav"
            subprocess.run([exe, "-v", "en-us", "-s", "160", "-w", str(out), text], check=True)
            src, rate = sf.read(out, dtype="int16")
            x = soxr.resample(src.astype(np.float32) / 32768, rate, 16000)
            e, n = wer(text, recognise(np.round(x * 32767).astype(np.int16), 16000))
            errors, words = errors + e, words + n
    return {"errors": errors, "words": words, "wer": round(errors / max(words, 1), 3)}


def summarise(res: dict) -> dict:
    out = {"espeak": res["espeak"]}
    for lang, rows in res["langs"].items():
        s = {"texts": len(rows), "peak_dbfs_max": round(max(r["peak_dbfs"] for r in rows), 2),
             "peak_dbfs_min": round(min(r["peak_dbfs"] for r in rows), 2),
             "lead_ms": [round(1000 * min(r["lead"] for r in rows)), round(1000 * max(r["lead"] for r in rows))],
             "trail_ms": [round(1000 * min(r["trail"] for r in rows)), round(1000 * max(r["trail"] for r in rows))]}
        if lang.startswith("zh"):
            syl = sum(r["syllables"] for r in rows)
            s.update(syllables=syl, foreign=sum(r["foreign"] for r in rows),
                     foreign_texts=[r["label"] for r in rows if r["foreign"]],
                     syll_per_s=round(syl / sum(r["speech"] for r in rows), 2),
                     syll_per_s_range=[round(min(r["syllables"] / r["speech"] for r in rows if r["speech"]), 2),
                                       round(max(r["syllables"] / r["speech"] for r in rows if r["speech"]), 2)])
        else:
            rates = [60 * r["words"] / r["speech"] for r in rows if r["speech"] and r["words"] >= 4]
            s.update(wpm_median=round(statistics.median(rates)), wpm_range=[round(min(rates)), round(max(rates))],
                     wer=round(sum(r["errors"] for r in rows) / max(1, sum(r["ref_words"] for r in rows)), 3))
        out[lang] = s
    return out


def overrides() -> list[dict]:
    from ivr.tts import espeak, lexicon

    lex = lexicon.load(ROOT / "prompts")
    rows = []
    for e in lex.entries:
        rows.append({"word": e.word, "pinyin": " ".join(e.pinyin), "given": lex.apply(e.word),
                     "espeak_alone": espeak.phonemes(e.word, "cmn")})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", default="all", choices=["all", "zh-CN", "en-US"])
    ap.add_argument("--side", choices=["before", "after"])
    ap.add_argument("--json")
    args = ap.parse_args()
    langs = ["zh-CN", "en-US"] if args.lang == "all" else [args.lang]
    if args.side:
        print(json.dumps(side(args.side, langs), ensure_ascii=False))
        return 0
    started = time.perf_counter()
    env = dict(os.environ, IVR_ESPEAK_LIBRARY="system")
    done = subprocess.run([sys.executable, __file__, "--side", "before", "--lang", args.lang], env=env,
                          capture_output=True, text=True, check=True)
    before = json.loads(done.stdout)
    after = side("after", langs)
    report = {"before": summarise(before), "after": summarise(after), "espeak_cli_16k": espeak_cli_wer(langs),
              "overrides": overrides(), "seconds": round(time.perf_counter() - started, 1),
              "after_rows": after["langs"], "before_rows": before["langs"]}
    for name in ("before", "after"):
        print(f"== {name}: {json.dumps(report[name], ensure_ascii=False)}")
    print(f"== espeak-ng -w 16 kHz: {json.dumps(report['espeak_cli_16k'])}")
    for row in report["overrides"]:
        print(f"   {row['word']} {row['pinyin']}: {row['given']}  (espeak alone: {row['espeak_alone']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
