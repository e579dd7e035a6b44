"""Both reports open in a real headless browser with no network: every chart is drawn, nothing is fetched.

Chromium and ChromeDriver come from Debian (/usr/bin); the test skips, saying so, where they are absent.
Marked slow (a browser start and two reports to build); it runs in CI's slow lane.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.report.shop import write_reports

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not shutil.which("chromedriver"):
        pytest.skip("the browser test needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--window-size=1200,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return write_reports(tmp_path_factory.mktemp("browser"))


# every chart: its size on the page and the marks it holds
_CHARTS = """
return Array.from(document.querySelectorAll('svg.chart')).map(function (svg) {
  var box = svg.getBoundingClientRect();
  var marks = svg.querySelectorAll('polyline.series, rect.bar');
  var drawn = Array.from(marks).filter(function (m) { var b = m.getBBox(); return b.width > 0 || b.height > 0; });
  return {kind: svg.getAttribute('data-kind'), width: box.width, height: box.height, marks: marks.length,
          drawn: drawn.length, title: svg.querySelector('title').textContent};
});
"""


@pytest.mark.parametrize("name, at_least", [("campaign", 3), ("overview", 4)])
def test_every_chart_renders_and_nothing_is_fetched(browser, reports, name, at_least):
    page = Path(reports[name]["report"]).resolve()
    browser.get(page.as_uri())
    assert browser.title
    charts = browser.execute_script(_CHARTS)
    assert len(charts) >= at_least and len(charts) == page.read_text(encoding="utf-8").count("<svg "), charts
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["marks"] > 0 and chart["drawn"] > 0, chart
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    assert [r for r in resources if not r.startswith("file://")] == []
    assert browser.execute_script("return document.querySelectorAll('script, link[href], img[src]').length") == 0
