"""The prompt audio cache: real renders of both languages, incremental re-rendering, recordings,
dynamic prompts rendered on first use, several processes at once."""
import json
import multiprocessing
import os

from ivr.tts.store import PromptAudio

from .conftest import EN, STATIC_IDS, ZH, render_all
from .helpers import assert_telephony_wav, write_tone

LANGS = ("zh-CN", "en-US")


def mtimes(audio_dir):
    return {p.relative_to(audio_dir).as_posix(): p.stat().st_mtime_ns for p in audio_dir.rglob("*.wav")}


def test_render_all_prompts_in_both_languages(store, audio_dir):
    jobs, counts = render_all(store)
    assert sorted((j.lang, j.prompt_id) for j in jobs) == sorted((l, i) for l in LANGS for i in STATIC_IDS)
    assert {j.reason for j in jobs} == {"new"}
    manifest = json.loads((audio_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "WAV, 8000 Hz, mono, 16-bit PCM"
    for lang in LANGS:
        voice = store.voice(lang)
        for prompt_id in STATIC_IDS:
            entry = manifest["static"][f"{lang}/{prompt_id}"]
            text = store.catalogue.raw(prompt_id, lang)
            assert {"id", "lang", "text_hash", "voice", "rate", "file", "duration"} <= set(entry)
            assert (entry["id"], entry["lang"], entry["text"]) == (prompt_id, lang, text)
            assert (entry["voice"], entry["rate"]) == (voice.voice, voice.rate)
            assert entry["voice_id"] == {"zh-CN": "sit/cmn", "en-US": "gmw/en-us"}[lang]
            duration = assert_telephony_wav(audio_dir / entry["file"], text, voice.rate)
            assert abs(duration - entry["duration"]) < 0.01
    # Dynamic prompts are not rendered ahead of time.
    assert not any("balance" in name for name in manifest["static"])
    assert manifest["dynamic"] == {}


def test_second_render_renders_nothing(store, audio_dir):
    render_all(store)
    before = mtimes(audio_dir)
    manifest_before = (audio_dir / "manifest.json").stat().st_mtime_ns
    jobs, counts = render_all(PromptAudio.from_config(store.config))
    assert jobs == [] and counts == {"recorded": 0, "current": 6}
    assert mtimes(audio_dir) == before
    assert (audio_dir / "manifest.json").stat().st_mtime_ns == manifest_before


def test_changed_text_rerenders_only_that_prompt(store, prompts_dir, audio_dir):
    render_all(store)
    before = mtimes(audio_dir)
    (prompts_dir / "zh-CN.toml").write_text(ZH.replace("感谢您的来电，再见。", "感谢您的来电，祝您生活愉快，再见。"),
                                            encoding="utf-8")
    fresh = PromptAudio.from_config(store.config)
    jobs, _ = render_all(fresh)
    assert [(j.lang, j.prompt_id, j.reason) for j in jobs] == [("zh-CN", "goodbye", "changed")]
    after = mtimes(audio_dir)
    assert [name for name in after if after[name] != before[name]] == ["zh-CN/goodbye.wav"]
    assert_telephony_wav(audio_dir / "zh-CN/goodbye.wav", "感谢您的来电，祝您生活愉快，再见。", 150)
    assert fresh.lookup_static("zh-CN", "goodbye", "感谢您的来电，祝您生活愉快，再见。") is not None
    assert fresh.lookup_static("zh-CN", "goodbye", "感谢您的来电，再见。") is None


def test_changed_voice_or_rate_rerenders_that_language(store, config):
    render_all(store)
    slower = PromptAudio.from_config({**config, "TTS_RATES": {"en-US": 120}})
    jobs, counts = slower.plan(LANGS)
    assert sorted((j.lang, j.reason) for j in jobs) == [("en-US", "changed")] * 3
    assert counts["current"] == 3
    other_voice = PromptAudio.from_config({**config, "TTS_VOICES": {"zh-CN": "cmn-latn-pinyin"}})
    assert sorted(j.lang for j in other_voice.plan(LANGS)[0]) == ["zh-CN"] * 3


def test_missing_file_rerenders_and_force_rerenders_all(store, audio_dir):
    render_all(store)
    (audio_dir / "en-US" / "welcome.wav").unlink()
    jobs, _ = render_all(store)
    assert [(j.lang, j.prompt_id, j.reason) for j in jobs] == [("en-US", "welcome", "missing file")]
    jobs, _ = render_all(store, langs=("en-US",), force=True)
    assert len(jobs) == 3 and {j.reason for j in jobs} == {"forced"}


def test_removed_prompt_is_forgotten(store, prompts_dir, audio_dir):
    render_all(store)
    (prompts_dir / "en-US.toml").write_text(EN.replace('main_menu = "For your', 'x_menu = "For your'),
                                            encoding="utf-8")
    fresh = PromptAudio.from_config(store.config)
    jobs, _ = render_all(fresh)
    assert [(j.lang, j.prompt_id) for j in jobs] == [("en-US", "x_menu")]
    static = fresh.manifest.data()["static"]
    assert "en-US/main_menu" not in static and "zh-CN/main_menu" in static
    assert not (audio_dir / "en-US" / "main_menu.wav").exists()


def test_recording_replaces_tts(store, prompts_dir, audio_dir):
    render_all(store)
    recording = write_tone(prompts_dir / "recorded" / "zh-CN" / "welcome.wav", seconds=2.0)
    fresh = PromptAudio.from_config(store.config)
    found = fresh.lookup_static("zh-CN", "welcome", fresh.catalogue.raw("welcome", "zh-CN"))
    assert found.source == "recording" and found.path.read_bytes() == recording
    # A recorded prompt needs no render, even when its text changes.
    jobs, counts = fresh.plan(LANGS, force=True)
    assert ("zh-CN", "welcome") not in [(j.lang, j.prompt_id) for j in jobs] and counts["recorded"] == 1


def test_recording_in_wrong_format_is_ignored(store, prompts_dir):
    render_all(store)
    write_tone(prompts_dir / "recorded" / "en-US" / "goodbye.wav", rate=44100, channels=2)
    found = store.lookup_static("en-US", "goodbye", store.catalogue.raw("goodbye", "en-US"))
    assert found.source == "tts"


def test_dynamic_text_renders_once_and_is_cached(store, audio_dir):
    text = store.catalogue.text("balance", "zh-CN", amount="1234.56元")
    assert store.lookup_dynamic("zh-CN", text) is None
    found = store.ensure_dynamic("zh-CN", "balance", text)
    assert found.source == "tts" and found.path.parent == audio_dir / "zh-CN" / "_dynamic"
    assert_telephony_wav(found.path, text, 150)
    mtime = found.path.stat().st_mtime_ns
    again = PromptAudio.from_config(store.config).ensure_dynamic("zh-CN", "balance", text)
    assert again.path == found.path and found.path.stat().st_mtime_ns == mtime
    entry = store.manifest.data()["dynamic"][f"zh-CN/{found.key}"]
    # Issue 16: named by a keyed hash, and the personal text is not kept.
    assert (entry["id"], entry["text"], entry["file"]) == ("balance", "", f"zh-CN/_dynamic/{found.key}.wav")
    assert entry["text_hash"] == "" and found.key != store.voice("zh-CN").key(text)


def test_dynamic_cache_keeps_the_newest(config, audio_dir):
    store = PromptAudio.from_config({**config, "TTS_DYNAMIC_CACHE_MAX": 2})
    files = [store.ensure_dynamic("en-US", "balance", f"Your medical insurance balance is {n} yuan.").path
             for n in (10, 20, 30)]
    assert [f.exists() for f in files] == [False, True, True]
    assert len(store.manifest.data()["dynamic"]) == 2


def _render_in_process(config, texts, results):
    store = PromptAudio.from_config(config)
    for text in texts:
        try:
            found = store.ensure_dynamic("en-US", "balance", text)
        except Exception as exc:  # reported to the test, not lost in a child's stderr
            results.put((text, f"{type(exc).__name__}: {exc}", os.getpid()))
        else:
            results.put((text, found.key, os.getpid()))


def test_dynamic_renders_from_several_processes(config, audio_dir):
    texts = [f"Your medical insurance balance is {n} yuan." for n in range(6)]
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    # Three processes: each renders two texts of its own and two shared with the others.
    procs = [ctx.Process(target=_render_in_process, args=(config, texts[i::3] + texts[:2], results))
             for i in range(3)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in range(12)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [key for _, key, _ in got if len(key) != 32] == []  # no render failed
    assert len({pid for _, _, pid in got}) == 3
    keys = {text: key for text, key, _ in got}
    dynamic = PromptAudio.from_config(config).manifest.data()["dynamic"]
    assert set(dynamic) == {f"en-US/{key}" for key in keys.values()}  # no update lost
    for text, key in keys.items():
        assert dynamic[f"en-US/{key}"]["text"] == ""   # issue 16: no personal text kept
        assert_telephony_wav(audio_dir / "en-US" / "_dynamic" / f"{key}.wav", text, 160)
    assert not [p for p in audio_dir.rglob("*") if p.name.endswith(".tmp")]


def test_a_read_out_rendered_by_another_process_is_seen_within_max_age(store, monkeypatch):
    """Lookups on every webhook look at the manifest at most every ``max_age`` seconds (issue 17
    round 5): a read-out another process renders is found after that, and at once with 0."""
    from ivr.tts import manifest as manifest_mod

    text = store.catalogue.text("balance", "en-US", amount="12.34 yuan")
    now = {"t": 1000.0}
    monkeypatch.setattr(manifest_mod.time, "monotonic", lambda: now["t"])
    assert store.lookup_dynamic("en-US", text, max_age=1.0) is None
    rendered = PromptAudio.from_config(store.config).ensure_dynamic("en-US", "balance", text)   # elsewhere
    stats = []
    real_stat = store.manifest._stat
    monkeypatch.setattr(store.manifest, "_stat", lambda: stats.append(1) or real_stat())
    now["t"] += 0.5
    assert store.lookup_dynamic("en-US", text, max_age=1.0) is None and stats == []   # not looked at yet
    assert store.lookup_dynamic("en-US", text).path == rendered.path                  # 0: looked at now
    other = store.catalogue.text("balance", "en-US", amount="56.78 yuan")
    second = PromptAudio.from_config(store.config).ensure_dynamic("en-US", "balance", other)
    now["t"] += 1.0
    assert store.lookup_dynamic("en-US", other, max_age=1.0).path == second.path      # a second later
