"""Markdown is rendered in one place and sanitised after rendering."""

from __future__ import annotations

import pytest

from deliberation.rendering import plain_excerpt, render_markdown


@pytest.mark.parametrize("source, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ("[x](javascript:alert(1))", "javascript:"),
    ("[x](JaVaScRiPt:alert(1))", "avascript"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
    ('<a href="#" onclick="steal()">x</a>', "onclick"),
    ("<style>body{display:none}</style>", "<style"),
    ("<svg onload=alert(1)>", "onload"),
])
def test_dangerous_markup_comes_out_inert(source, forbidden):
    html = render_markdown(source)
    assert forbidden.lower() not in html.lower()


def test_ordinary_markdown_survives():
    html = render_markdown("**Fibre** et *4G* : [Arcep](https://www.arcep.fr)\n\n- un\n- deux")
    assert "<strong>Fibre</strong>" in html and "<em>4G</em>" in html
    assert 'href="https://www.arcep.fr"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert html.count("<li>") == 2


def test_excerpt_is_one_line_and_bounded():
    assert plain_excerpt("a\n\nb   c") == "a b c"
    long = plain_excerpt("mot " * 100, 20)
    assert len(long) <= 20 and long.endswith("…")
