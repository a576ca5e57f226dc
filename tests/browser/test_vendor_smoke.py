"""Smoke test of the vendored front-end libraries in a real headless chromium.

A tiny page served over HTTP (with the strict CSP the app will use: no inline
script) loads socket.io-client, SortableJS and Chart.js from /static/vendor/,
uses them, and must pass axe-core at phone width.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from tests.browser.support import (
    AXE_URL,
    REPO_ROOT,
    STATIC_DIR,
    ChromiumMissing,
    check_axe,
    launch_browser,
    phone_context,
    screenshot,
    serve_directory,
)

pytestmark = pytest.mark.browser

VENDOR = STATIC_DIR / "vendor"
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"

PAGE = """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Motion — test des bibliothèques</title>
  <script src="/static/vendor/socket.io-client/socket.io.min.js"></script>
  <script src="/static/vendor/sortablejs/Sortable.min.js"></script>
  <script src="/static/vendor/chart.js/chart.umd.min.js"></script>
  <script src="/smoke.js" defer></script>
</head>
<body>
  <main>
    <h1>Bibliothèques embarquées</h1>
    <h2>Idées à classer</h2>
    <ul id="ideas">
      <li>Fibre dans les zones blanches</li>
      <li>Former les agents au numérique</li>
      <li>Hébergement souverain des données</li>
    </ul>
    <h2>Votes</h2>
    <canvas id="chart" width="320" height="200" role="img"
            aria-label="Votes : 12 pour, 3 contre, 2 abstentions"></canvas>
  </main>
</body>
</html>
"""

SMOKE_JS = """
Sortable.create(document.getElementById('ideas'), {animation: 0});
window.smokeChart = new Chart(document.getElementById('chart'), {
  type: 'bar',
  data: {labels: ['Pour', 'Contre', 'Abstention'],
         datasets: [{label: 'Votes', data: [12, 3, 2]}]},
  options: {animation: false, responsive: false},
});
window.smokeReady = true;
"""


def _manifest() -> dict:
    return json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "smoke.js").write_text(SMOKE_JS, encoding="utf-8")
    (tmp_path / "static").symlink_to(STATIC_DIR, target_is_directory=True)
    return tmp_path


def test_manifest_matches_vendored_files() -> None:
    manifest = _manifest()
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]
    packages = {entry["package"] for entry in manifest["files"]}
    assert packages == {"socket.io-client", "sortablejs", "axe-core", "chart.js"}
    for entry in manifest["files"]:
        path = VENDOR / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]
        assert entry["version"] == pinned[entry["package"]], entry["package"]
        assert entry["license"] in {"MIT", "MPL-2.0"}, entry["license"]
        for licence in entry["license_files"]:
            assert (VENDOR / licence).stat().st_size > 0, licence


def test_vendored_libraries_load_under_csp_at_phone_width(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    versions = {entry["package"]: entry["version"] for entry in _manifest()["files"]}
    with serve_directory(site, headers={"Content-Security-Policy": CSP}) as (base, requests):
        with phone_context(browser) as context:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

            def on_console(msg: ConsoleMessage) -> None:
                url = msg.location.get("url", "")
                # Chromium asks for /favicon.ico by itself; the app will serve one.
                if msg.type == "error" and not url.endswith("/favicon.ico"):
                    problems.append(f"console: {msg.text} ({url})")

            page.on("console", on_console)

            response = page.goto(base + "/index.html")
            assert response is not None and response.ok
            page.wait_for_function("() => window.smokeReady === true", timeout=10_000)

            globals_ = page.evaluate(
                """() => ({
                    io: typeof window.io, Sortable: typeof window.Sortable,
                    Chart: typeof window.Chart, chartVersion: Chart.version,
                    sortableVersion: Sortable.version,
                    sortableBound: !!Sortable.get(document.getElementById('ideas')),
                    bars: window.smokeChart.getDatasetMeta(0).data.length,
                    width: document.documentElement.clientWidth,
                })"""
            )
            assert globals_["io"] == "function"
            assert globals_["Sortable"] == "function"
            assert globals_["Chart"] == "function"
            assert globals_["chartVersion"] == versions["chart.js"]
            assert globals_["sortableVersion"] == versions["sortablejs"]
            assert globals_["sortableBound"] is True
            assert globals_["bars"] == 3
            assert globals_["width"] == 360

            # axe must come in as a same-origin script: inline injection is blocked by the CSP.
            check_axe(page)
            assert page.evaluate("() => typeof window.axe") == "object"
            assert (AXE_URL, 200) in requests

            shot = screenshot(page, "vendor-smoke", directory=tmp_path / "shots")
            header = shot.read_bytes()[:24]
            assert header[:8] == b"\x89PNG\r\n\x1a\n"
            assert struct.unpack(">I", header[16:20])[0] == 720  # 360 CSS px at 2x

            page.close()

    assert not problems, "\n".join(problems)
    served = {path for path, status in requests if status == 200}
    for entry in _manifest()["files"]:
        if entry["package"] != "axe-core":
            assert "/static/vendor/" + entry["file"] in served, entry["file"]
    missing = [
        path
        for path, status in requests
        if status >= 400 and not path.endswith((".map", "/favicon.ico"))
    ]
    assert not missing, missing


def test_check_axe_reports_blocking_violations_without_a_server(browser: Browser) -> None:
    # about:blank has no origin serving static/: axe is injected inline from the file.
    with browser.new_context(locale="fr-FR") as context:
        page = context.new_page()
        page.set_content(
            '<!doctype html><html lang="fr"><head><title>t</title></head>'
            '<body><main><h1>Titre</h1><img src="data:,"></main></body></html>'
        )
        blocking = check_axe(page, assert_clean=False)
        assert "image-alt" in {v["id"] for v in blocking}
        with pytest.raises(AssertionError, match=r"image-alt.*-> img"):
            check_axe(page)
        page.close()


def test_missing_chromium_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")

    class NoPlaywright:  # the path is checked before Playwright is touched
        def __getattr__(self, name: str) -> None:
            raise AssertionError(f"launch_browser used playwright.{name} without chromium")

    with pytest.raises(ChromiumMissing, match="ensure-chromium.sh"):
        launch_browser(NoPlaywright())  # type: ignore[arg-type]
