"""The scribe's capture (issue 14): an unregistered speaker no longer inherits the
commune of the registered official captured before them, while a commune typed by hand
stays."""

from __future__ import annotations

import pytest

from deliberation.corpus import DEMO_SCRIBE

from .support import staff_login

pytestmark = pytest.mark.browser


def test_an_unregistered_speaker_does_not_inherit_the_previous_commune(server, browser):
    context, page = staff_login(browser, server.url, DEMO_SCRIBE)
    with context:
        page.goto(server.url + "/animation/releve")
        option = page.locator("#speakers option").first
        name, commune = option.get_attribute("value"), option.get_attribute("data-commune")
        assert commune
        page.fill("#speaker", name)
        page.dispatch_event("#speaker", "input")
        assert page.input_value("#commune") == commune  # a registered official's commune
        page.fill("#speaker", "Mme Bernadette Inconnue")
        page.dispatch_event("#speaker", "input")
        assert page.input_value("#commune") == ""  # not the previous speaker's
        page.fill("#commune", "Lauzerte")
        page.fill("#speaker", "Mme Bernadette Inconnue, adjointe")
        page.dispatch_event("#speaker", "input")
        assert page.input_value("#commune") == "Lauzerte"  # typed by hand: kept
