"""ivr.web.softphone.audio_cache: bounded by bytes, least recently used dropped first."""
from ivr.web.softphone.audio_cache import AudioCache


def test_least_recently_used_files_are_dropped_past_the_bound():
    cache = AudioCache(max_bytes=10)
    cache.put("a", b"1234", "A")
    cache.put("b", b"1234", None)
    assert cache.get("a") == (b"1234", "A")      # a is now the most recent
    cache.put("c", b"1234", None)                # 12 bytes: b goes
    assert cache.get("b") is None and cache.get("a") and cache.get("c")


def test_a_file_larger_than_the_cache_is_not_kept_and_a_replaced_one_counts_once():
    cache = AudioCache(max_bytes=10)
    cache.put("big", b"x" * 11, None)
    assert cache.get("big") is None
    cache.put("a", b"12345", None)
    cache.put("a", b"123456", "again")
    cache.put("b", b"1234", None)                # 6 + 4 = 10: both fit
    assert cache.get("a") == (b"123456", "again") and cache.get("b") == (b"1234", None)
