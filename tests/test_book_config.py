"""Fast checks of the book's sources, without building it.

They catch what would otherwise only fail a full ``jupyter-book build -W`` (minutes): a toc entry
with no file, a citation key missing from ``references.bib``, a ``{doc}`` link to a page that is
not in the book, a chapter whose Colab badge opens another chapter or that lacks the shared GPU
note, and launch or execution settings that drifted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
REPOSITORY = "ptft-book/ptft"
COLAB_PREFIX = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/"
GPU_NOTE_INCLUDE = "```{include} ../book/_gpu_note.md\n```"

# {cite}`a,b`, {cite:p}`a`, {cite:t}`a`, {cite:ps}`a` ... (sphinxcontrib-bibtex roles)
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
DOC_ROLE = re.compile(r"\{doc\}`([^`]+)`")
# [text](/notebooks/04_cnn_transfer.ipynb#8-the-label-efficiency-curve): a link to a chapter section
SECTION_LINK = re.compile(r"\]\((/?[\w./-]+\.(?:ipynb|md))#([\w-]+)\)")


def toc_files() -> list[str]:
    files = [TOC["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in TOC.get("parts", []):
        walk(part.get("chapters", []))
    walk(TOC.get("chapters", []))
    return files


def source_of(docname: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        path = REPO / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


CHAPTERS = [name for name in toc_files() if name.startswith("notebooks/")]
PAGES = [name for name in toc_files() if name.startswith("book/")]


def markdown_text(path: Path) -> str:
    """The Markdown a page is made of: the file itself, or a notebook's markdown cells."""
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text(encoding="utf-8"))
        return "\n\n".join(
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in notebook["cells"]
            if cell["cell_type"] == "markdown"
        )
    return path.read_text(encoding="utf-8")


def notebook_cells(docname: str) -> list[dict]:
    path = REPO / f"{docname}.ipynb"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is listed in book/_toc.yml but does not exist")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return cells


def bib_entries() -> dict[str, dict[str, str]]:
    from pybtex.database import parse_file

    database = parse_file(str(BOOK / "references.bib"))
    entries = {}
    for key, entry in database.entries.items():
        fields = {name.lower(): str(value) for name, value in entry.fields.items()}
        fields["_authors"] = ", ".join(str(person) for person in entry.persons.get("author", []))
        fields["_type"] = entry.type
        entries[key] = fields
    return entries


# --- the table of contents -----------------------------------------------------------------------


def test_toc_root_is_the_introduction_and_parts_are_named() -> None:
    assert TOC["format"] == "jb-book"
    assert TOC["root"] == "book/intro"
    captions = [part["caption"] for part in TOC["parts"]]
    assert captions == ["Foundations", "Pretraining and fine-tuning", "Applications", "Reference"]


def test_toc_lists_the_chapters_in_order() -> None:
    assert CHAPTERS == [
        "notebooks/01_concepts",
        "notebooks/02_formulas",
        "notebooks/03_word_embeddings",
        "notebooks/04_cnn_transfer",
        "notebooks/05_rnn_transfer",
        "notebooks/06_finetuning",
        "notebooks/07_transformers",
        "notebooks/07_transformers_from_scratch",
        "notebooks/08_applications_text",
        "notebooks/08_applications_vision_speech",
    ]


def test_toc_lists_every_reference_page() -> None:
    for page in ("how_to_run", "gpu", "glossary", "faq", "bibliography"):
        assert f"book/{page}" in PAGES


@pytest.mark.parametrize("docname", toc_files())
def test_toc_entry_has_a_source_file(docname: str) -> None:
    assert source_of(docname) is not None, f"{docname}(.md|.ipynb) is in book/_toc.yml but does not exist"


def test_every_page_in_book_folder_is_in_the_toc_or_an_include() -> None:
    listed = {name.split("/", 1)[1] for name in PAGES} | {"intro"}
    for path in BOOK.glob("*.md"):
        assert path.stem in listed or path.stem.startswith("_"), f"{path.name} is neither in the toc nor an include"


# --- citations and links -------------------------------------------------------------------------


def test_references_bib_entries_are_complete() -> None:
    entries = bib_entries()
    assert len(entries) >= 17
    for key, fields in entries.items():
        assert fields["_authors"], f"{key}: no author"
        assert fields.get("title"), f"{key}: no title"
        assert re.fullmatch(r"(19|20)\d\d", fields.get("year", "")), f"{key}: year {fields.get('year')!r}"
        venue = fields.get("journal") or fields.get("booktitle") or fields.get("eprint") or fields.get("howpublished")
        assert venue, f"{key}: no journal, proceedings, arXiv id or publisher"


def test_references_bib_has_the_primary_sources() -> None:
    entries = bib_entries()
    expected = {
        "mikolov2013efficient": ("1301.3781", "2013"),
        "mikolov2013distributed": ("Compositionality", "2013"),
        "pennington2014glove": ("GloVe", "2014"),
        "hochreiter1997lstm": ("Long Short-Term Memory", "1997"),
        "gers2000forget": ("Learning to Forget", "2000"),
        "cho2014gru": ("Encoder--Decoder", "2014"),
        "kingma2015adam": ("Adam", "2015"),
        "yosinski2014transferable": ("Transferable", "2014"),
        "howard2018ulmfit": ("Universal Language Model Fine-tuning", "2018"),
        "devlin2019bert": ("BERT", "2019"),
        "hu2022lora": ("LoRA", "2022"),
        "lecun1998mnist": ("Document Recognition", "1998"),
        "pang2005seeing": ("Seeing Stars", "2005"),
        "finkelstein2002wordsim": ("Placing Search in Context", "2002"),
        "hill2015simlex": ("SimLex-999", "2015"),
        "gidaris2018rotation": ("Image Rotations", "2018"),
        "srivastava2014dropout": ("Dropout", "2014"),
    }
    for key, (title_part, year) in expected.items():
        assert key in entries, f"references.bib lacks {key}"
        text = " ".join(entries[key].values())
        assert title_part.lower() in text.lower(), f"{key}: {title_part!r} not in {entries[key]['title']!r}"
        assert entries[key]["year"] == year


def cited_keys() -> dict[str, set[str]]:
    """Citation keys used by each page and chapter in the toc (and the GPU note)."""
    used: dict[str, set[str]] = {}
    sources = [source_of(name) for name in toc_files()] + [BOOK / "_gpu_note.md"]
    for path in filter(None, sources):
        keys = set()
        for match in CITE_ROLE.finditer(markdown_text(path)):
            keys.update(key.strip() for key in match.group(1).split(","))
        used[str(path.relative_to(REPO))] = keys
    return used


def test_every_cited_key_is_in_references_bib() -> None:
    known = set(bib_entries())
    missing = {page: sorted(keys - known) for page, keys in cited_keys().items() if keys - known}
    assert missing == {}, f"citation keys missing from book/references.bib: {missing}"


def test_reference_pages_cite_primary_sources() -> None:
    used = cited_keys()
    assert "pennington2014glove" in used["book/glossary.md"]
    assert "micikevicius2018mixed" in used["book/gpu.md"]


@pytest.mark.parametrize("path", sorted(BOOK.glob("*.md")), ids=lambda p: p.name)
def test_doc_links_point_at_pages_in_the_toc(path: Path) -> None:
    known = set(toc_files())
    for match in DOC_ROLE.finditer(path.read_text(encoding="utf-8")):
        target = match.group(1)
        if "<" in target:  # {doc}`title <target>`
            target = target.rsplit("<", 1)[1].rstrip(">").strip()
        if target.startswith("/"):
            docname = target.lstrip("/")
        else:  # relative to the page's folder (for _gpu_note.md: to the including chapter's)
            base = "notebooks" if path.name.startswith("_") else "book"
            docname = str(PurePosixPath(base, target))
        assert docname in known, f"{path.name}: {{doc}}`{match.group(1)}` -> {docname} is not in the toc"


def heading_slugs(path: Path) -> set[str]:
    """The anchors MyST gives a page's headings (``myst_heading_anchors``), duplicates numbered."""
    from mdit_py_plugins.anchors.index import slugify

    slugs: set[str] = set()
    in_fence = False
    for line in markdown_text(path).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug, n = slugify(match.group(1)), 1
            while slug in slugs:
                slug, n = f"{slugify(match.group(1))}-{n}", n + 1
            slugs.add(slug)
    return slugs


@pytest.mark.parametrize("path", sorted(BOOK.glob("*.md")), ids=lambda p: p.name)
def test_section_links_point_at_existing_headings(path: Path) -> None:
    max_level = CONFIG["sphinx"]["config"]["myst_heading_anchors"]
    assert max_level >= 2
    for target, anchor in SECTION_LINK.findall(path.read_text(encoding="utf-8")):
        source = REPO / target.lstrip("/") if target.startswith("/") else (path.parent / target).resolve()
        assert source.is_file(), f"{path.name}: link to missing {target}"
        assert anchor in heading_slugs(source), f"{path.name}: no heading #{anchor} in {target}"


def test_gpu_note_links_to_the_gpu_page_by_absolute_docname() -> None:
    note = (BOOK / "_gpu_note.md").read_text(encoding="utf-8")
    assert "{doc}`/book/gpu`" in note
    assert 'device = "cuda"' in note and "Change runtime type" in note


# --- the chapters --------------------------------------------------------------------------------


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_colab_badge_opens_its_own_notebook(docname: str) -> None:
    first = notebook_cells(docname)[0]
    assert first["cell_type"] == "markdown"
    links = re.findall(r"https://colab\.research\.google\.com/github/[^\s)\"']+", first["source"])
    assert links, f"{docname}: no Colab badge in the first cell"
    assert set(links) == {COLAB_PREFIX + docname + ".ipynb"}, f"{docname}: badge links {links}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_includes_the_gpu_note_right_after_its_header(docname: str) -> None:
    cells = notebook_cells(docname)
    second = cells[1]
    assert second["cell_type"] == "markdown"
    assert second["source"].strip() == GPU_NOTE_INCLUDE, f"{docname}: second cell is {second['source'][:80]!r}"


# --- the configuration ---------------------------------------------------------------------------


def test_config_is_valid_for_jupyter_book() -> None:
    from jupyter_book.config import validate_yaml

    validate_yaml(CONFIG, raise_on_errors=True)
    assert CONFIG["author"] == "The ptft authors"
    assert (REPO / CONFIG["logo"]).is_file()
    assert (REPO / CONFIG["html"]["favicon"]).is_file()


def test_launch_buttons_open_colab_binder_and_jupyterhub_in_jupyterlab() -> None:
    launch = CONFIG["launch_buttons"]
    assert launch["notebook_interface"] == "jupyterlab"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["jupyterhub_url"].startswith("https://")
    repository = CONFIG["repository"]
    assert repository["url"] == f"https://github.com/{REPOSITORY}"
    assert repository["branch"] == "main"
    # The book's root is the repository's: an empty path keeps "./" out of every launch link.
    assert repository["path_to_book"] == ""
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_issues_button"]


def test_notebooks_are_executed_by_papermill_not_by_the_build() -> None:
    assert CONFIG["execute"]["execute_notebooks"] == "off"


def test_only_toc_pages_are_built_and_includes_are_excluded() -> None:
    from sphinx.util.matching import Matcher

    assert CONFIG["only_build_toc_files"] is True
    excluded = Matcher(CONFIG["exclude_patterns"])
    assert excluded("book/_gpu_note.md")
    assert excluded("_build")
    assert excluded("README.md")
    for docname in toc_files():
        source = source_of(docname)
        if source is not None:
            assert not excluded(str(source.relative_to(REPO))), f"{source} is excluded but listed in the toc"


def test_math_and_admonition_syntax_is_enabled() -> None:
    extensions = set(CONFIG["parse"]["myst_enable_extensions"])
    assert {"dollarmath", "amsmath", "colon_fence", "deflist", "substitution"} <= extensions
    if "linkify" in extensions:
        pytest.importorskip("linkify_it", reason="myst's linkify extension needs linkify-it-py")


def test_bibliography_and_mathjax_are_served_from_the_book() -> None:
    sphinx = CONFIG["sphinx"]["config"]
    assert CONFIG["bibtex_bibfiles"] == ["book/references.bib"]
    assert "{bibliography}" in (BOOK / "bibliography.md").read_text(encoding="utf-8")
    assert sphinx["html_static_path"] == ["book/_static"]
    assert (BOOK / "_static" / sphinx["mathjax_path"]).is_file()
    assert (BOOK / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_glossary_keeps_the_seed_terms() -> None:
    glossary = (BOOK / "glossary.md").read_text(encoding="utf-8")
    for term in (
        "预训练",
        "微调",
        "词嵌入",
        "卷积神经网络",
        "递归神经网络",
        "循环神经网络",
        "门控循环单元",
        "损失函数",
        "梯度下降",
        "随机梯度下降",
        "无监督学习",
        "自监督学习",
        "半监督学习",
        "大模型",
        "迁移学习",
        "特征",
        "过拟合",
    ):
        assert term in glossary, term
    assert "mistranslation" in glossary  # 递归 ("recursive") for recurrent networks is flagged
