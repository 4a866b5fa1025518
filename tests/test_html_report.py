"""The HTML report of the demo pipeline run: one self-contained file whose charts really render
(decoded PNGs with drawn content; a headless browser screenshot when Chromium is installed), the
same charts in the Dagster asset metadata."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from PIL import Image

from assets.report.html_report import PALETTE
from assets.warehouse import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class ReportParser(HTMLParser):
    """Sections, their chart images and every reference to something outside the file."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.outside: list[str] = []
        self.scripts = 0
        self._section: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "section":
            self._section = values["id"]
            self.sections[self._section] = []
        if tag == "img" and self._section:
            self.sections[self._section].append(values["src"])
        if tag in ("script", "link", "iframe", "object"):
            self.scripts += 1
        for name in ("src", "href"):
            value = values.get(name) or ""
            if value and not value.startswith(("data:", "#")):
                self.outside.append(value)


def report_path(settings):
    return settings.data_dir / "reports" / "lead_scoring_report.html"


def has_palette_colour(image: Image.Image, minimum_pixels: int) -> bool:
    """Whether the picture holds many pixels of the chart colours (bars drawn, not an empty frame)."""
    colours = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE[:4]}
    counts = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return sum(n for n, rgb in counts if rgb in colours) >= minimum_pixels


def test_the_report_is_one_file_whose_charts_are_drawn(first_run, demo_settings):
    assert first_run.success
    parser = ReportParser()
    parser.feed(report_path(demo_settings).read_text(encoding="utf-8"))
    assert parser.outside == [] and parser.scripts == 0  # opens offline, nothing to fetch
    charts = {key: images for key, images in parser.sections.items() if images}
    assert set(charts) == set(parser.sections) == {
        "score_distribution", "funnel", "sla_status", "campaign_conversion", "rule_effectiveness",
        "won_lost_review", "roi", "backtest", "calibration", "predictive_coefficients", "predictive_calibration",
    }
    for key, images in charts.items():
        assert len(images) == 1, key
        assert images[0].startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(images[0].split(",", 1)[1])))
        image.load()
        assert image.size[0] >= 500 and image.size[1] >= 250, key
        assert has_palette_colour(image, minimum_pixels=500), f"{key}: no bars drawn"


def test_the_score_distribution_counts_every_scored_person_once(first_run, demo_settings):
    from assets.report.html_report import score_distribution

    with connect(demo_settings.warehouse, read_only=True) as con:
        section = score_distribution(con)
        people = dict(con.execute("select rulebook_id, count(*) from marts.fct_lead_scores group by 1").fetchall())
    assert {rulebook: int(section.table[rulebook].sum()) for rulebook in people} == people


def test_the_charts_are_asset_metadata_in_the_ui(first_run):
    events = [e.event_specific_data.materialization for e in first_run.get_asset_materialization_events()]
    (report,) = [m for m in events if m.asset_key.to_user_string() == "reports/lead_scoring_report"]
    images = [v.value for v in report.metadata.values() if "data:image/png;base64," in str(getattr(v, "value", ""))]
    assert len(images) == 11


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium) to take the screenshot")
def test_a_headless_browser_shows_the_charts(first_run, demo_settings, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,4000",
         f"--screenshot={shot}", report_path(demo_settings).as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    image = Image.open(shot)
    # Scaled to fit the page, the three charts still leave thousands of bar pixels on screen.
    assert has_palette_colour(image, minimum_pixels=5000)
