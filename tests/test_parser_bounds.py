"""Parser bounds: pathological input is cut off with a recorded reason, quickly, never a crash.

(Decompression bombs in DOCX/ODT and gzip bodies, hanging or memory-hungry files and huge
PDFs are covered beside their parsers: test_extract_office, test_fetcher, test_extract_bounded,
test_extract_pdf.)
"""

from __future__ import annotations

from indexer.extract import extract
from indexer.extract.html import DEPTH_REASON, html_to_text, too_deep
from watch.sources.feed import MAX_FEED_ENTRIES, parse_feed


def nested(depth: int) -> str:
    return ("<html><head><title>Titre</title><style>p{}</style></head><body><h1>Titre</h1>"
            + "<div>" * depth + "texte <b>profond</b> &eacute;t&eacute;" + "</div>" * depth
            + "<script>alert(1)</script></body></html>")


def test_deeply_nested_html_is_read_flat_with_a_reason():
    result = extract(nested(200_000).encode(), filename="page.html")
    assert result.ok and result.reason == DEPTH_REASON
    assert result.text == "Titre\n\ntexte profond été"
    assert html_to_text(nested(200_000)) == "Titre\n\ntexte profond été"   # the crawler's path


def test_ordinary_pages_keep_their_tree():
    assert not too_deep(nested(100))
    assert not too_deep("<ul>" + "<li>point" * 5000 + "</ul>")       # unclosed <li>: not depth
    assert too_deep(nested(600))
    assert extract(nested(100).encode(), filename="page.html").reason == ""


def _feed(count: int) -> bytes:
    items = "".join(f"<item><title>T{i}</title><link>http://a.fr/{i}</link></item>" for i in range(count))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def test_a_feed_of_a_million_entries_is_cut_with_a_warning():
    listing = parse_feed(_feed(1_000_000), "http://a.fr/")
    assert len(listing.items) == MAX_FEED_ENTRIES
    assert listing.warnings == (f"flux tronqué : 1000000 entrées, seules les {MAX_FEED_ENTRIES} premières ont été lues",)
    assert listing.items[-1].url == f"http://a.fr/{MAX_FEED_ENTRIES - 1}"


def test_a_feed_within_the_bound_is_untouched():
    listing = parse_feed(_feed(50), "http://a.fr/")
    assert len(listing.items) == 50 and not listing.warnings


def test_a_page_of_too_many_elements_is_read_flat_in_bounded_pieces():
    from indexer.extract.html import MAX_TREE_TAGS, SIZE_REASON, flat_text

    unit = "<p><b>mot</b> <i>x&eacute;</i></p>\n"
    page = "<html><head><title>T</title><script>var x = '<p>pas du texte</p>';</script></head><body>" \
        + unit * (MAX_TREE_TAGS // 6 + 1) + "</body></html>"
    result = extract(page.encode(), filename="page.html")
    assert result.ok and result.reason == SIZE_REASON
    assert result.text.startswith("mot xé\n\nmot xé") and "pas du texte" not in result.text
    assert result.text.count("mot xé") == MAX_TREE_TAGS // 6 + 1
    # the reading stops once the budget of kept text is reached: the rest is not scanned
    assert len(flat_text(unit * 400_000, budget=1000)) < 2 * (1 << 20)
