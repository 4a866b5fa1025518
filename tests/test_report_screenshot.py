"""The demo run's report as a reader sees it: a headless Chromium screenshot of the page. Skipped
where no Chromium is installed (CI has none; `apt-get install chromium` to run it)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from tests.test_html_report import has_palette_colour, report_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium, chromium-browser or google-chrome binary on PATH to take the screenshot "
    "(apt-get install chromium)")
WIDTH, HEIGHT = 1280, 2000


def screenshot(page, shot, width: int, height: int) -> Image.Image:
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    assert shot.is_file()
    return Image.open(shot)


@needs_chromium
def test_the_sales_view_renders_at_the_top_of_the_page(first_run, tmp_path):
    image = screenshot(report_file(first_run), tmp_path / "report.png", WIDTH, HEIGHT)
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    # Text, table borders and the sales view's shading: a blank or unstyled page has a handful
    # of colours, anti-aliased text in tables hundreds.
    top = image.convert("RGB").crop((0, 0, WIDTH, 600))
    assert len(top.getcolors(maxcolors=1 << 20)) > 100
    # The sales view's blue band on the left is drawn.
    assert has_palette_colour(top, minimum_pixels=1000)


@needs_chromium
def test_a_headless_browser_shows_the_charts(first_run, tmp_path):
    image = screenshot(report_file(first_run), tmp_path / "report.png", 1100, 8000)
    # Scaled to fit the page, the charts below the sales view leave thousands of bar pixels on screen.
    assert has_palette_colour(image, minimum_pixels=5000)
