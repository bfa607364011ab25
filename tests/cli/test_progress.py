"""Plain-line progress when the output is not a terminal (ivr.cli.progress)."""
import io

from ivr.cli.progress import progress


def test_plain_lines_each_tenth_and_the_item():
    out = io.StringIO()
    with progress(list(range(20)), label="Rendering 20 prompts", describe=lambda i: f"prompt {i}", file=out) as bar:
        seen = list(bar)
    assert seen == list(range(20))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Rendering 20 prompts: 2/20 (10%) prompt 1"
    assert lines[-1] == "Rendering 20 prompts: 20/20 (100%) prompt 19" and len(lines) == 10


def test_a_run_stopped_early_still_ends_with_a_line():
    out = io.StringIO()
    with progress(length=100, label="calls", file=out) as bar:
        bar.update(3)
    assert out.getvalue().splitlines() == ["calls: 3/100 (3%)"]
