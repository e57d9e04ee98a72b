"""Feed parsing (pure) over fixtures and over the real feeds of the shared corpus."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import FIXTURES
from watch.errors import ParseError
from watch.sources.feed import parse_feed

WATCH = FIXTURES / "watch"


def test_rss2_items_with_relative_links_dates_and_plain_text():
    listing = parse_feed((WATCH / "actualites.rss").read_bytes(), "https://agence.example/rss.xml")
    assert listing.title == "Agence — actualités"
    assert listing.warnings == ()
    assert [i.url for i in listing.items] == [
        "https://agence.example/actualites/renovation-urbaine-martinique?utm_source=rss&utm_medium=feed",
        "https://agence.example/actualites/contrats-de-ville-2030",
        "https://agence.example/documents/guide-renouvellement.pdf",
    ]
    first = listing.items[0]
    assert first.title == "Rénovation urbaine : lancement du nouveau programme en Martinique"
    assert first.summary.startswith("Le programme de rénovation urbaine des quartiers prioritaires")
    assert "<" not in first.summary
    assert first.published == datetime(2025, 3, 12, 14, 0, tzinfo=timezone.utc)
    assert first.guid == "actu-1"


def test_atom_entries_with_html_content():
    listing = parse_feed((WATCH / "textes.atom").read_bytes(), "https://textes.example/atom")
    assert len(listing.items) == 2
    decree = listing.items[0]
    assert decree.url == "https://legifrance.example/jorf/id/JORFTEXT000001"
    assert decree.content.startswith("Article 1 : Le présent décret adapte")
    assert decree.published == datetime(2025, 3, 12, 8, 0, tzinfo=timezone.utc)
    assert listing.items[1].summary == "Nomination au conseil d'administration."


def test_ill_formed_feed_keeps_entries_and_warns():
    listing = parse_feed((WATCH / "mal-forme.rss").read_bytes(), "https://site.example/rss")
    assert [i.url for i in listing.items] == ["https://site.example/article-1", "https://site.example/article-2"]
    assert len(listing.warnings) == 1 and listing.warnings[0].startswith("flux mal formé, 2 entrées")


def test_html_page_is_not_a_feed():
    with pytest.raises(ParseError) as caught:
        parse_feed(b"<html><body><p>Maintenance</p></body></html>", "https://site.example/rss")
    assert caught.value.code == "parse_error"


def test_garbage_is_not_a_feed():
    with pytest.raises(ParseError):
        parse_feed(b"\x00\x01\x02 garbage", "https://site.example/rss")


def test_empty_valid_feed_is_an_empty_listing():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Vide</title></channel></rss>'
    listing = parse_feed(body, "https://site.example/rss")
    assert listing.items == () and listing.title == "Vide" and listing.warnings == ()


def test_repeated_entries_are_kept_once():
    entry = "<item><title>A</title><link>https://s.example/a</link><guid>a</guid></item>"
    body = f'<rss version="2.0"><channel><title>T</title>{entry}{entry}</channel></rss>'.encode()
    assert len(parse_feed(body, "https://s.example/rss").items) == 1


def test_charset_from_http_header_is_used():
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Préfecture</title>'
            '<item><title>Arrêté</title><link>https://p.example/a</link></item></channel></rss>').encode("cp1252")
    listing = parse_feed(body, "https://p.example/rss", "application/rss+xml; charset=windows-1252")
    assert listing.title == "Préfecture" and listing.items[0].title == "Arrêté"


def _corpus_feeds(corpus, folder):
    return sorted(p for p in (corpus / "feeds" / folder).rglob("*.xml"))


@pytest.mark.slow  # loi_all.xml holds 2.4 MB of law text as HTML
def test_legifrss_atom_feeds_parse_to_french_entries(shared_corpus):
    feeds = _corpus_feeds(shared_corpus, "legifrss-jorf-atom")
    assert len(feeds) >= 10
    total = 0
    for path in feeds:
        listing = parse_feed(path.read_bytes(), "https://legifrss.example/feed.xml")
        for item in listing.items:
            assert item.url.startswith("https://www.legifrance.gouv.fr/jorf/id/JORFTEXT")
            assert item.title
        total += len(listing.items)
    assert total > 50
    outre_mer = [p for p in feeds if p.name == "all_ministere-des-outre-mer.xml"]
    counts = sorted(len(parse_feed(p.read_bytes(), "https://x.example/").items) for p in outre_mer)
    assert counts == [7, 8]  # SOURCES.md: 7 -> 8 distinct entries between the two snapshots


def test_html_page_announcing_its_feed_names_it_in_the_error():
    page = b"""<html><head><title>Actualites</title>
      <link rel="alternate" type="application/rss+xml" title="RSS" href="/rss/actualites.xml">
      </head><body><p>Bienvenue</p></body></html>"""
    with pytest.raises(ParseError) as caught:
        parse_feed(page, "https://site.example/actualites")
    assert "la page annonce le flux https://site.example/rss/actualites.xml" in str(caught.value)
