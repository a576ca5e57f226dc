"""The real-statement bench's protocol: a fixed confirmation draw, the review figures."""

from types import SimpleNamespace

from bench.real_text import confirmation_draw, review_figures

ROWS = [{"id": f"r{i:02d}", "theme": theme} for i, theme in
        enumerate(["a"] * 7 + ["b"] * 6 + ["c"] * 3)]


def test_the_draw_confirms_five_per_theme_and_never_changes():
    draw = confirmation_draw(ROWS)
    assert sorted(draw.values()).count("a") == 5 and sorted(draw.values()).count("b") == 5
    assert sorted(draw.values()).count("c") == 3  # a theme smaller than five: all of it
    assert all({"id": i, "theme": t} in ROWS for i, t in draw.items())
    assert confirmation_draw(list(reversed(ROWS))) == draw


def test_review_figures_count_errors_caught_and_rows_sent():
    rows = ROWS[:4]
    got = {"r00": SimpleNamespace(theme="b", review=True),    # wrong, caught
           "r01": SimpleNamespace(theme="b", review=False),   # wrong, missed
           "r02": SimpleNamespace(theme="a", review=True),    # right, sent anyway
           "r03": SimpleNamespace(theme="a", review=False)}
    assert review_figures(rows, got) == {"review_recall_dev": 0.5, "review_share_dev": 0.5}
