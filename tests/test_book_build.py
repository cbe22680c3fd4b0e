"""The book builds from executed smoke runs with zero warnings, and each chapter page shows its results."""

from pathlib import Path

import pytest

from ptft_utils.kit import runner

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_book_builds_an_index_and_a_page_per_chapter(built_book):
    assert (built_book / "index.html").exists()
    for notebook in runner.toc_notebooks(ROOT / "book" / "_toc.yml"):
        page = built_book / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), f"{page} missing"


def test_chapter_pages_carry_executed_outputs(built_book):
    for notebook in runner.toc_notebooks(ROOT / "book" / "_toc.yml"):
        html = (built_book / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert "cell_output" in html, f"{notebook.stem}: no executed output on the page"
        assert "holds" in html, f"{notebook.stem}: the claims table is not on the page"


def test_chapter_figures_are_written_as_image_files(built_book):
    images = list((built_book / "_images").glob("*.png"))
    assert images, "no figures in the built book"
    assert all(image.stat().st_size > 1000 for image in images)
