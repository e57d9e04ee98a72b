"""HTML extraction: main content only, title and date from meta tags."""

from __future__ import annotations

from datetime import datetime, timezone

from indexer.extract import extract
from indexer.extract.html import extract_html, html_to_text

PAGE = """<!doctype html>
<html lang="fr-FR"><head>
<meta charset="utf-8">
<title>Contrat de ville 2024-2030 | Préfecture de Martinique</title>
<meta property="og:title" content="Signature du contrat de ville de Fort-de-France">
<meta property="article:published_time" content="2024-03-12T10:30:00+01:00">
<meta name="author" content="Service communication">
<style>body { color: red }</style>
<script>var tracking = "ne pas indexer";</script>
</head><body>
<header class="site-header"><a href="/">Accueil</a> Menu principal</header>
<nav><ul><li>Actualités</li><li>Démarches</li></ul></nav>
<div class="breadcrumb">Accueil &gt; Politique de la ville</div>
<main>
  <article>
    <header><h1>Signature du contrat de ville</h1><time datetime="2024-03-12">12 mars 2024</time></header>
    <p>Le contrat de ville <strong>« Quartiers 2030 »</strong> a été signé à Fort-de-France.</p>
    <p>Il concerne les quartiers prioritaires de Volga-Plage et Trénelle-Citron.</p>
    <div class="share">Partager sur Facebook</div>
  </article>
  <aside>À lire aussi : autre article</aside>
</main>
<footer>Mentions légales — Plan du site</footer>
<noscript>Activez JavaScript</noscript>
</body></html>"""


def test_main_content_without_furniture():
    text = html_to_text(PAGE)
    assert "Le contrat de ville « Quartiers 2030 » a été signé à Fort-de-France." in text
    assert "Volga-Plage et Trénelle-Citron" in text
    # the article's own header (headline) is content
    assert "Signature du contrat de ville" in text
    for furniture in ("Menu principal", "Démarches", "Politique de la ville", "Partager",
                      "Mentions légales", "À lire aussi", "tracking", "color: red", "JavaScript"):
        assert furniture not in text, furniture


def test_paragraphs_on_their_own_lines():
    text = html_to_text("<body><p>Un</p><p>Deux<br>Trois</p><ul><li>a</li><li>b</li></ul></body>")
    assert [line for line in text.split("\n") if line] == ["Un", "Deux", "Trois", "a", "b"]
    # source line breaks are spaces; <pre> keeps them
    assert html_to_text("<p>un\n   deux</p><pre>a\n  b</pre>").split("\n\n") == ["un deux", "a\nb"]


def test_metadata_from_meta_tags():
    result = extract_html(PAGE.encode("utf-8"))
    assert result.title == "Signature du contrat de ville de Fort-de-France"
    assert result.published == datetime(2024, 3, 12, 9, 30, tzinfo=timezone.utc)
    assert result.authors == ("Service communication",)
    assert result.language == "fr"


def test_title_and_date_fallbacks():
    html = """<html><head><title>Rapport annuel — Cour des comptes</title>
    <meta name="DC.date" content="2023-11-05"></head><body><p>Texte du rapport.</p></body></html>"""
    result = extract_html(html.encode())
    assert result.title == "Rapport annuel"
    assert result.published.date().isoformat() == "2023-11-05"

    html = """<html><body><h1>Fiche d'expérience</h1><p>Publié le <time>1er février 2022</time></p></body></html>"""
    result = extract_html(html.encode())
    assert result.title == "Fiche d'expérience"
    assert result.published.date().isoformat() == "2022-02-01"


def test_json_ld_date():
    html = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",
     "headline": "Appel à projets QPV", "datePublished": "2025-01-20T08:00:00Z"}]}
    </script></head><body><p>Texte.</p></body></html>"""
    result = extract_html(html.encode())
    assert result.title == "Appel à projets QPV"
    assert result.published == datetime(2025, 1, 20, 8, 0, tzinfo=timezone.utc)


def test_legacy_charset_declared_in_meta():
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Rénovation urbaine à Schœlcher</p></body></html>'
    result = extract(html.encode("cp1252"), filename="page.html")
    assert "Rénovation urbaine à Schœlcher" in result.text


def test_broken_html_never_raises():
    for junk in (b"<html><body><p>texte <b>sans fin", b"<<<>>>", b"\x00\x01<html>"):
        result = extract(junk, filename="x.html")
        assert result.status in ("ok", "empty", "error")
