"""Forms list every error at once (issue 14, RGAA 11.10): the summary names each refused
field, and each field is marked invalid and tied to its message."""

from __future__ import annotations

import re

from deliberation import drafting
from deliberation.extensions import db

from .conftest import login


def _marked(page: str, field: str) -> bool:
    tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field}"[^>]*>', page)
    return bool(tag) and 'aria-invalid="true"' in tag.group(0) \
        and f"{field}-erreur" in tag.group(0)


def test_the_scribe_sees_every_error_of_a_capture(client, congress, scribe):
    congress.phase = "debate"
    db.session.commit()
    login(client, scribe)
    response = client.post("/animation/releve", data={
        "key": "capture-erreurs-1", "speaker": "", "commune": "x" * 130, "text": "ok"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = page[page.index('class="error-box error-summary"'):]
    summary = summary[:summary.index("</div>")]
    for field in ("speaker", "commune", "text"):
        assert f'href="#{field}"' in summary, field
        assert _marked(page, field), field
    assert 'value="' + "x" * 120 in page  # what was typed comes back


def test_the_proxy_form_names_both_missing_choices(client, congress, facilitator, official):
    login(client, facilitator)
    response = client.post("/animation/procurations", data={"giver": "", "holder": "²"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#giver"' in page and 'href="#holder"' in page
    assert _marked(page, "giver") and _marked(page, "holder")
    kept = client.post("/animation/procurations", data={"giver": str(official.id),
                                                        "holder": ""})
    page = kept.get_data(as_text=True)
    assert f'<option value="{official.id}" selected>' in page  # the choice made is kept
    assert _marked(page, "holder") and not _marked(page, "giver")


def _theme_article(congress):
    return drafting.articles(congress)[1]


def test_the_article_form_marks_each_refused_field(client, congress, facilitator):
    congress.phase = "drafting"
    db.session.commit()
    article = _theme_article(congress)
    login(client, facilitator)
    response = client.post(f"/animation/redaction/article/{article.id}", data={
        "title": "", "body_md": "Le très haut débit partout.", "note": "n" * 310})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#article-title"' in page and 'href="#article-note"' in page
    assert _marked(page, "article-title") and _marked(page, "article-note")
    assert not _marked(page, "article-body") and "Le très haut débit partout." in page


def test_the_amendment_form_marks_each_refused_field(client, congress, facilitator,
                                                     official):
    congress.phase = "drafting"
    db.session.commit()
    article = _theme_article(congress)
    drafting.save_version(article, "La fibre", "Le très haut débit partout.", facilitator)
    drafting.set_amendments_open(congress, True, facilitator)
    db.session.commit()
    login(client, official)
    response = client.post(f"/c/{congress.join_code}/amendements", data={
        "article_id": str(article.id), "body_md": "Le très haut débit partout.",
        "rationale": "r" * 1200})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in (f"body-{article.id}", f"rationale-{article.id}"):
        assert f'href="#{field}"' in page and _marked(page, field), field
