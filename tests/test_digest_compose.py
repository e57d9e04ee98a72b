"""The digest's composition and rendering, from records (pure functions, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

from veille.core.records import KIND_LEGAL, KIND_NEWS, Document
from veille.core.dates import french_date
from veille.digest.alerts import AlertRecord, parse_alert_form, subscriptions
from veille.digest.compose import (LEGAL_SECTION, DigestPeriod, Match, build_digest, day_text, next_period,
                                   render_html, render_text, snippet_parts)

TZ = ZoneInfo("America/Martinique")
NOW = datetime(2025, 3, 17, 11, 0, tzinfo=timezone.utc)   # Monday 07:00 in Martinique
PERIOD = DigestPeriod(NOW - timedelta(days=7), NOW)
BASE = "https://veille.example.org"


def doc(doc_id, title, *, days_ago=1.0, kind=KIND_NEWS, source="vie-publique", themes=(), summary="",
        published=None, url=None, extra=None, doc_type=""):
    return Document(id=doc_id, title=title, source=source, kind=kind,
                    first_seen=NOW - timedelta(days=days_ago), url=url or f"https://example.org/{doc_id}",
                    summary=summary, published=published, themes=tuple(themes),
                    extra=MappingProxyType(extra or {}), doc_type=doc_type)


def alert(key, name, query="q", recipients=("doc@example.org",)):
    return AlertRecord(key=key, name=name, query=query, recipients=recipients)


def test_french_dates_in_martinique_time():
    assert french_date(datetime(2025, 3, 12, 12, tzinfo=timezone.utc), TZ) == "12 mars 2025"
    assert french_date(datetime(2025, 5, 1, 12, tzinfo=timezone.utc), TZ) == "1er mai 2025"
    # 02:00 UTC on 1 August is still 31 July in Martinique (UTC-4)
    assert french_date(datetime(2025, 8, 1, 2, tzinfo=timezone.utc), TZ) == "31 juillet 2025"
    assert french_date(datetime(2025, 12, 25, 12, tzinfo=timezone.utc), TZ) == "25 décembre 2025"
    # a publication date is the calendar day its source stated, whatever the hour or offset
    assert day_text(doc("a", "A", published=datetime(2025, 3, 13, tzinfo=timezone.utc)), TZ) == "13 mars 2025"
    assert day_text(doc("b", "B", published=datetime(2025, 3, 13, 2, tzinfo=timezone.utc)), TZ) == "13 mars 2025"
    # a document without one shows the day it came in, in Martinique time
    late = datetime(2025, 3, 13, 2, tzinfo=timezone.utc)
    assert day_text(doc("c", "C", days_ago=(NOW - late).total_seconds() / 86400), TZ) == "12 mars 2025"


def test_first_digest_covers_one_period_back_then_starts_at_the_last_end():
    assert next_period(NOW, 7, None) == DigestPeriod(NOW - timedelta(days=7), NOW)
    last, unsent = NOW - timedelta(days=3), NOW - timedelta(days=14)
    assert next_period(NOW, 7, last) == DigestPeriod(last, NOW)
    assert next_period(NOW, 7, last, unsent) == DigestPeriod(last, NOW)
    assert next_period(NOW, 7, None, unsent) == DigestPeriod(unsent, NOW)


def test_grouping_dedup_and_newest_first():
    shared = doc("d-shared", "Quartiers prioritaires et rénovation", days_ago=1)
    old = doc("d-old", "Rénovation : bilan", days_ago=5)
    new = doc("d-new", "Rénovation : appel à projets", days_ago=2)
    water = doc("d-water", "Eau potable en Martinique", days_ago=3)
    a1, a2 = alert("yaml-renovation", "Rénovation urbaine"), alert("yaml-eau", "Eau")
    digest = build_digest("doc@example.org", PERIOD,
                          [(a1, [Match(old), Match(shared), Match(new)]), (a2, [Match(water), Match(shared)])],
                          base_url=BASE, tz=TZ)
    assert [s.title for s in digest.sections] == ["Rénovation urbaine", "Eau"]
    assert [e.doc_id for e in digest.sections[0].entries] == ["d-shared", "d-new", "d-old"]
    assert [e.doc_id for e in digest.sections[1].entries] == ["d-water"]   # shown once only
    shared_entry = digest.sections[0].entries[0]
    assert shared_entry.alerts == ("Rénovation urbaine", "Eau")
    assert shared_entry.link == f"{BASE}/documents/d-shared"
    assert digest.total == 4
    assert digest.alert_counts == (("Rénovation urbaine", 3), ("Eau", 2))
    assert digest.subject == "Veille : 4 nouveaux documents (du 10 mars 2025 au 17 mars 2025)"


def test_documents_outside_the_period_are_left_out():
    inside = doc("in", "Dedans", days_ago=6.9)
    before = doc("before", "Avant", days_ago=7.1)
    future = doc("future", "Après", days_ago=-0.5)
    digest = build_digest("a@example.org", PERIOD, [(alert("k", "A"), [Match(inside), Match(before), Match(future)])],
                          base_url=BASE, tz=TZ)
    assert [e.doc_id for e in digest.entries()] == ["in"]


def test_legal_texts_first_with_nor_and_publication_date():
    decree = doc("jo-1", "Décret n° 2025-123 relatif à la politique de la ville", kind=KIND_LEGAL,
                 published=datetime(2025, 3, 12, 12, tzinfo=timezone.utc), extra={"nor": "TREL2501234D"},
                 doc_type="Décret")
    news = doc("n-1", "Actualité de la ville")
    digest = build_digest("a@example.org", PERIOD, [(alert("k", "Politique de la ville"), [Match(news), Match(decree)])],
                          base_url=BASE, tz=TZ)
    assert [s.title for s in digest.sections] == [LEGAL_SECTION, "Politique de la ville"]
    legal = digest.sections[0].entries[0]
    assert (legal.nor, legal.published_text) == ("TREL2501234D", "12 mars 2025")
    html, text = render_html(digest), render_text(digest)
    assert html.index(LEGAL_SECTION) < html.index("Actualité de la ville")
    assert "NOR : TREL2501234D — publié le 12 mars 2025\n" in text
    assert "TREL2501234D" in html


def test_summary_counts_per_alert_and_theme():
    docs = [doc("1", "Un", themes=["Habitat"]), doc("2", "Deux", themes=["Habitat", "Emploi"]),
            doc("3", "Trois", themes=["Emploi"]), doc("4", "Quatre", themes=["Habitat"])]
    digest = build_digest("a@example.org", PERIOD, [(alert("k", "Tout"), [Match(d) for d in docs])],
                          base_url=BASE, tz=TZ)
    assert digest.theme_counts == (("Habitat", 3), ("Emploi", 2))
    text = render_text(digest)
    assert "4 nouveaux documents pour vos alertes" in text
    assert "- Tout : 4 documents" in text
    assert "Thèmes : Habitat (3), Emploi (2)" in text


def test_nothing_new():
    digest = build_digest("a@example.org", PERIOD, [(alert("k", "Tout"), [])], base_url=BASE, tz=TZ)
    assert digest.empty and digest.sections == ()
    assert digest.subject == "Veille : rien de nouveau (du 10 mars 2025 au 17 mars 2025)"
    assert "Rien de nouveau pour vos alertes" in render_html(digest)


def test_hostile_titles_urls_and_snippets_are_escaped():
    evil = doc("evil", '<script>alert("x")</script><img src=x onerror=alert(1)>',
               url="javascript:alert(document.cookie)", summary="<b onclick='x()'>résumé</b>")
    sneaky = doc("sneaky", "Titre", days_ago=2)
    digest = build_digest("a@example.org", PERIOD,
                          [(alert("k", "<i>Alerte</i>"), [Match(evil), Match(sneaky, snippet='un <mark>mot</mark> <a href="javascript:x">lien</a> &lt;b&gt;')])],
                          base_url=BASE, tz=TZ)
    html = render_html(digest)
    assert "<script>" not in html and "<img" not in html and "<i>Alerte" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert "onclick" not in html and "<b " not in html and "<a href=\"javascript" not in html
    assert all(e.original is None for e in digest.entries() if e.doc_id == "evil")
    entry = [e for e in digest.entries() if e.doc_id == "sneaky"][0]
    assert entry.snippet_text == "un mot lien <b>"
    assert ">mot</strong>" in str(entry.snippet_html) and "&lt;b&gt;" in str(entry.snippet_html)
    # the plain-text part shows the characters themselves, not entities
    assert '<script>alert("x")</script>' in render_text(digest)


def test_snippet_falls_back_to_a_shortened_summary():
    text, markup = snippet_parts("", "mot " * 200)
    assert len(text) <= 285 and text.endswith("…")
    assert str(markup) == text


def test_subscriptions_honour_unsubscriptions():
    a = AlertRecord(key="a", name="A", query="x", recipients=("x@example.org", "y@example.org"))
    b = AlertRecord(key="b", name="B", query="y", recipients=("x@example.org",))
    subs = subscriptions([a, b], {("y@example.org", "*"), ("x@example.org", "b")})
    assert subs == {"x@example.org": [a]}


def test_alert_form_validation_in_french():
    form = parse_alert_form({"name": "  Eau ", "query": "", "recipients": "a@example.org, pas-une-adresse",
                             "filter_theme": "Eau, Assainissement", "filter_kind": ""}, taken_names=["eau"])
    assert form.errors["name"] == "Une autre alerte porte déjà ce nom."
    assert form.errors["query"] == "Indiquez les mots recherchés."
    assert "pas-une-adresse" in form.errors["recipients"]
    assert dict(form.filters) == {"theme": ("Eau", "Assainissement")}
    ok = parse_alert_form({"name": "Habitat", "query": "logement", "recipients": "A@Example.org;b@example.org"})
    assert not ok.errors and ok.recipients == ("a@example.org", "b@example.org")


def test_long_sections_are_cut_with_a_link_to_the_rest():
    from veille.digest.compose import MAX_PER_SECTION

    many = [doc(f"d{i:03}", f"Document {i}", days_ago=1 + i / 100) for i in range(MAX_PER_SECTION + 3)]
    digest = build_digest("a@example.org", PERIOD, [(alert("k", "Large", query="ville durable"),
                                                     [Match(d) for d in many])], base_url=BASE, tz=TZ)
    (section,) = digest.sections
    assert len(section.entries) == MAX_PER_SECTION and section.more == 3
    assert section.entries[0].doc_id == "d000"                    # the newest are kept
    assert digest.total == MAX_PER_SECTION + 3 and digest.alert_counts == (("Large", MAX_PER_SECTION + 3),)
    assert section.more_url == f"{BASE}/search?q=ville+durable&sort=date"
    assert "Et 3 autres documents : " + section.more_url in render_text(digest)
    assert "Et 3 autres documents" in render_html(digest)
