"""Reading and cleaning articles: real files, metadata, encodings, HTML, Markdown."""

from __future__ import annotations

import pytest

from qa.errors import CorpusError, CorpusWarning, MetadataError
from qa.ingest.documents import clean_blocks, debris_reason, load_document, load_metadata, parse_date, scan_corpus

from .conftest import CORPUS

DEBRIS = [
    "spot_imgspot_img",
    "spot_img",
    "Popular Articles",
    "Related Posts",
    "LATEST",
    "date 2025-05-20 + ↺ − 16 px",
    "Home > Peace Talks > Putin Delays Talks",
    "Sunday, July 27, 2025",
]


def _docs():
    meta = load_metadata(CORPUS)
    return [load_document(CORPUS, doc_id, meta.get(doc_id)) for doc_id in scan_corpus(CORPUS)]


def test_real_corpus_has_five_articles_with_metadata():
    files = scan_corpus(CORPUS)
    assert len(files) == 5
    meta = load_metadata(CORPUS)
    assert set(meta) == set(files)
    assert meta["002_99214e3abbb71cf3.txt"].outlet == "News.Az"
    assert meta["002_99214e3abbb71cf3.txt"].kind == "interview"
    assert meta["001_cc5f1bbda9c16bd9.txt"].outlet == "The Moscow Times"
    assert meta["000_3ddd93d71f997d71.txt"].outlet == ""  # not stated in the text: left empty
    assert all(m.kind in ("report", "interview", "opinion") for m in meta.values())


def test_debris_never_reaches_a_block_of_the_real_files():
    for doc in _docs():
        kept = [doc.text[b.start : b.end] for b in doc.blocks]
        for block in kept:
            for junk in DEBRIS:
                assert block.strip() != junk, (doc.doc_id, junk)
            assert "spot_img" not in block
            assert "16 px" not in block
            assert not block.startswith("Home >")


def test_debris_lines_are_dropped_with_reasons_and_content_is_kept():
    docs = {d.doc_id: d for d in _docs()}
    d003 = docs["003_e354e611adafdd87.txt"]
    dropped = {d003.text[s:e]: why for s, e, why in d003.dropped}
    assert {"spot_imgspot_img", "LATEST", "spot_img", "Related Posts", "Popular Articles"} <= set(dropped)
    assert dropped["Sunday, July 27, 2025"] == "date line"
    first = d003.text[d003.blocks[0].start : d003.blocks[0].end]
    assert first.startswith("Ukraine and Russia Set for Another Round")
    assert d003.blocks[0].heading
    d004 = docs["004_934a92fb383001da.txt"]
    assert any(why == "breadcrumb" for *_, why in d004.dropped)
    d002 = docs["002_99214e3abbb71cf3.txt"]
    assert d002.text[d002.dropped[0][0] : d002.dropped[0][1]] == "date 2025-05-20 + ↺ − 16 px"
    # every sentence-bearing line of 001 (no debris at all) is kept
    d001 = docs["001_cc5f1bbda9c16bd9.txt"]
    assert not d001.dropped
    assert len(d001.blocks) == len([line for line in d001.text.splitlines() if line.strip()])


def test_block_offsets_point_into_the_original_file():
    for doc in _docs():
        raw = (CORPUS / doc.doc_id).read_text(encoding="utf-8")
        assert doc.text == raw
        for b in doc.blocks:
            assert raw[b.start : b.end].strip() == raw[b.start : b.end]


@pytest.mark.parametrize(
    "line",
    ["Share this article", "Read more", "Facebook Twitter Telegram", "5 min read", "© 2025 Example News", "tags"],
)
def test_other_common_debris(line):
    assert debris_reason(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "Progress Unlikely, Analysts Say",
        "“None.",
        "Reports were also contributed by AFP and Reuters.",
        "ISTANBUL, July 23 — A new round of talks is set to take place.",
        "On May 16, 2025 the delegations met for two hours.",
    ],
)
def test_content_is_not_debris(line):
    assert debris_reason(line) is None


def test_repeated_lines_are_dropped_once_seen():
    text = "Headline Here\n\nBody sentence one.\n\nHeadline Here\n"
    blocks, dropped = clean_blocks(text)
    assert [text[b.start : b.end] for b in blocks] == ["Headline Here", "Body sentence one."]
    assert dropped[0][2] == "repeated line"


def test_parse_date():
    assert parse_date("Sunday, July 27, 2025") == "2025-07-27"
    assert parse_date("date 2025-05-20 + ↺") == "2025-05-20"
    assert parse_date("no date here") is None


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        scan_corpus(tmp_path / "nope")


def test_corpus_without_articles(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.warns(CorpusWarning, match="notes.pdf"), pytest.raises(CorpusError, match="no article"):
        scan_corpus(tmp_path)


def test_corpus_path_is_a_file(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x")
    with pytest.raises(CorpusError, match="is a file"):
        scan_corpus(f)


def test_non_utf8_file_is_decoded_with_replacement_and_named(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Erdoğan met Sybiha in Ankara on Friday. Café talks went on.".encode("cp1254"))
    with pytest.warns(CorpusWarning, match=r"latin\.txt is not valid UTF-8"):
        doc = load_document(tmp_path, "latin.txt")
    assert "\ufffd" in doc.text
    assert "met Sybiha in Ankara" in doc.text
    assert doc.warnings and "latin.txt" in doc.warnings[0]


def test_article_that_is_all_debris(tmp_path):
    (tmp_path / "junk.txt").write_text("spot_img\nLATEST\nRelated Posts\n")
    with pytest.raises(CorpusError, match="no text once page debris is removed"):
        load_document(tmp_path, "junk.txt")


def test_html_article_goes_through_trafilatura(tmp_path):
    html = """<html><head><title>Talks resume in Istanbul</title></head><body>
    <nav><a href="/">Home</a> <a href="/world">World</a></nav>
    <article><h1>Talks resume in Istanbul</h1>
    <p>Delegations from Russia and Ukraine met in Istanbul on Wednesday for a third round of direct talks,
    officials said, with prisoner exchanges high on the agenda of both sides.</p>
    <p>Kremlin spokesperson Dmitry Peskov said expectations were low and that no breakthrough was expected
    from the meeting, which lasted less than an hour according to reporters present.</p></article>
    <footer>Related Posts</footer></body></html>"""
    (tmp_path / "page.html").write_text(html)
    doc = load_document(tmp_path, "page.html")
    kept = " ".join(doc.text[b.start : b.end] for b in doc.blocks)
    assert "Peskov said expectations were low" in kept
    assert "Related Posts" not in kept
    assert doc.meta.title == "Talks resume in Istanbul"


def test_markdown_markup_is_outside_blocks(tmp_path):
    (tmp_path / "a.md").write_text("# Big headline\n\n![photo](x.jpg)\n\nThe talks ended early on Friday.\n")
    doc = load_document(tmp_path, "a.md")
    assert [doc.text[b.start : b.end] for b in doc.blocks] == ["Big headline", "The talks ended early on Friday."]
    assert doc.meta.title == "Big headline"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('["a.txt"]\nkind = "news"\n', "use one of report, interview, opinion"),
        ('["a.txt"]\ndate = "May 5"\n', "YYYY-MM-DD"),
        ('["a.txt"]\nauthor = "x"\n', "unknown field"),
        ('["a.txt"\ntitle = "x"\n', "not valid TOML"),
        ('title = "x"\n', "must be a table"),
    ],
)
def test_bad_metadata_names_the_problem(tmp_path, content, message):
    (tmp_path / "metadata.toml").write_text(content)
    with pytest.raises(MetadataError, match=message):
        load_metadata(tmp_path)


def test_metadata_date_may_be_a_toml_date(tmp_path):
    (tmp_path / "metadata.toml").write_text('["a.txt"]\ndate = 2025-05-16\n')
    assert load_metadata(tmp_path)["a.txt"].date == "2025-05-16"
