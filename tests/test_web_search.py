"""The home page, the search page (every parameter) and the Atom feed, on an indexed space."""

import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from conftest import HOSTILE
from indexer.search.fields import sample_part


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def titles(soup):
    return [a.get_text(strip=True) for a in soup.select("ol.results li.result h3 a")]


def facet_links(soup, param):
    return {a.get_text(" ", strip=True): a["href"] for a in soup.select(f"#facet-{param} ~ ul a, #facet-{param} ~ details a")}


def assert_no_live_markup(soup):
    """Nothing hostile became an element or a clickable script URL."""
    assert not soup.find_all("script")
    assert not soup.find_all("img")
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), tag
            if name in ("href", "src", "action"):
                assert not str(value).strip().lower().startswith("javascript:"), tag


# ------------------------------------------------------------------ home


def test_home_lists_this_weeks_additions_by_theme(web_client):
    soup = page(web_client, "/")
    assert soup.html["lang"] == "fr"
    assert soup.find("main") and soup.find("header") and soup.find("footer")
    themes = [h.get_text(" ", strip=True) for h in soup.select(".theme h3")]
    assert any(t.startswith("habitat et renouvellement urbain") for t in themes)
    assert any(t.startswith("cohésion sociale") for t in themes)
    text = soup.get_text(" ")
    assert "Rénovation urbaine : le nouveau programme" in text
    assert "Logement social, étude 05" not in text     # months old: not this week
    assert soup.select_one("form[role=search] label[for=q]")
    assert_no_live_markup(soup)


# ------------------------------------------------------------------ search page


def test_search_shows_results_with_metadata_and_french_dates(web_client):
    soup = page(web_client, "/search?q=quartiers")
    assert titles(soup)[0] == "Rénovation urbaine : le nouveau programme"
    result = soup.select_one("li.result")
    meta = result.select_one(".meta").get_text(" ", strip=True)
    assert "Actualité" in meta and "Vie publique — actualités" in meta
    assert any(month in meta for month in ("janvier", "février", "mars", "avril", "mai", "juin", "juillet",
                                            "août", "septembre", "octobre", "novembre", "décembre"))
    assert result.select_one("time")["datetime"]
    assert result.select_one(".snippet mark")          # highlighted by the engine
    assert "habitat et renouvellement urbain" in result.select_one("ul.tags").get_text()
    assert soup.select_one("input#q")["value"] == "quartiers"


def test_help_panel_spells_out_the_syntax_without_script(web_client):
    soup = page(web_client, "/search?q=ville")
    help_panel = soup.select_one("details.help")
    text = help_panel.get_text(" ")
    for syntax in ('"contrat de ville"', "OR", "-social", "title:", "source:", "theme:", "urba*"):
        assert syntax in text
    assert not soup.find_all("script")


def test_pagination_and_result_count(web_client):
    soup = page(web_client, "/search?q=logement")
    assert "Résultats 1 à 10 sur 13" in soup.select_one(".count").get_text(" ", strip=True)
    nav = soup.select_one("nav.pagination")
    assert nav.select_one("a[aria-current=page]").get_text() == "1"
    next_href = nav.select_one("a[rel=next]")["href"]
    assert parse_qs(urlsplit(next_href).query)["page"] == ["2"]
    second = page(web_client, next_href)
    assert "Résultats 11 à 13 sur 13" in second.select_one(".count").get_text(" ", strip=True)
    assert len(titles(second)) == 3
    assert not set(titles(second)) & set(titles(soup))
    assert second.select_one("ol.results")["start"] == "11"
    assert second.select_one("nav.pagination a[rel=prev]")


def test_page_past_the_end_redirects_to_the_last_page(web_client):
    response = web_client.get("/search?q=logement&page=9")
    assert response.status_code == 302
    assert "page=2" in response.headers["Location"]


def test_facets_have_counts_combine_and_remove(web_client):
    soup = page(web_client, "/search?q=logement")
    kinds = facet_links(soup, "kind")
    assert set(kinds) >= {"Publication 12", "Actualité 1"}
    years = facet_links(soup, "year")
    assert len(years) >= 2
    for param in ("kind", "source", "theme", "doc_type", "year"):
        assert soup.select_one(f"#facet-{param}"), param

    narrowed = page(web_client, kinds["Publication 12"])
    assert len(titles(narrowed)) == 10 and "Titre piégé" not in " ".join(titles(narrowed))
    selected = narrowed.select_one("#facet-kind ~ ul a.selected")
    assert selected and selected["aria-current"] == "true"
    assert "Catégorie : Publication" in narrowed.select_one(".active-filters").get_text(" ", strip=True)

    # combine with a second facet (AND across fields)
    years = facet_links(narrowed, "year")
    year_label, year_href = sorted(years.items())[-1]
    combined = page(web_client, year_href)
    query = parse_qs(urlsplit(year_href).query)
    assert query["kind"] == ["publication"] and len(query["year"]) == 1
    count = int(year_label.split()[-1])
    assert len(titles(combined)) == min(count, 10)
    # the hidden inputs keep the filters when the words change
    hidden = {(i["name"], i["value"]) for i in combined.select("form.search input[type=hidden]")}
    assert ("kind", "publication") in hidden and ("year", query["year"][0]) in hidden

    # removing the kind filter keeps the year
    remove = [a for a in combined.select(".active-filters a") if "Catégorie" in a.get_text()][0]
    assert parse_qs(urlsplit(remove["href"]).query).get("kind") is None
    assert parse_qs(urlsplit(remove["href"]).query)["year"] == query["year"]
    clear = combined.select_one(".active-filters a.clear")["href"]
    assert parse_qs(urlsplit(clear).query) == {"q": ["logement"]}


def test_or_within_one_facet(web_client):
    soup = page(web_client, "/search?kind=actualit%C3%A9&kind=page+modifi%C3%A9e")
    kinds = {r.select_one(".kind").get_text() for r in soup.select("li.result")}
    assert kinds == {"Actualité", "Page modifiée"}


def test_theme_territory_source_filters(web_client):
    assert titles(page(web_client, "/search?territory=Le+Lamentin")) == ["Fiche d'expérience : jardins partagés"]
    assert titles(page(web_client, "/search?source=prefecture")) == ["Actualités de la préfecture (modifiée)"]
    themed = titles(page(web_client, "/search?theme=cohésion+sociale"))
    assert sorted(themed) == ["Actualités de la préfecture (modifiée)", "Fiche d'expérience : jardins partagés"]
    assert titles(page(web_client, "/search?doc_type=guide")) == ["Guide des conseils citoyens"]


def test_date_range_filter(web_client):
    soup = page(web_client, "/search?q=logement")
    all_titles = set(titles(soup)) | set(titles(page(web_client, "/search?q=logement&page=2")))
    from datetime import date, timedelta
    since = (date.today() - timedelta(days=100)).isoformat()
    recent = page(web_client, f"/search?q=logement&from={since}")
    recent_titles = titles(recent)
    assert recent_titles and set(recent_titles) < all_titles
    assert "Logement social, étude 11" not in recent_titles
    assert recent.select_one("input#from")["value"] == since
    assert "Période" in recent.select_one(".active-filters").get_text()
    before = (date.today() - timedelta(days=101)).isoformat()    # both bounds are inclusive
    until = page(web_client, f"/search?q=logement&to={before}")
    assert set(titles(until)).isdisjoint(recent_titles)


def test_bad_date_is_explained_not_an_error(web_client):
    soup = page(web_client, "/search?q=logement&from=31/12/2024")
    assert "AAAA-MM-JJ" in soup.select_one("p.notice").get_text()
    assert len(titles(soup)) == 10


def test_sort_by_date_newest_first(web_client):
    soup = page(web_client, "/search?q=logement&sort=date")
    dates = [t["datetime"] for t in soup.select("li.result .meta time")]
    assert dates == sorted(dates, reverse=True)
    assert soup.select_one(".sort strong").get_text() == "date"
    relevance = soup.select_one(".sort a")["href"]
    assert "sort" not in parse_qs(urlsplit(relevance).query)


@pytest.mark.parametrize("q", ['"contrat de ville', "(logement", "title:", "*", "-", "OR", "AND AND",
                               ":::", "\\", "[a TO", "~", "^2", "logement)", '""', "a" * 600])
def test_malformed_queries_never_give_an_error_page(web_client, q):
    response = web_client.get("/search", query_string={"q": q})
    assert response.status_code == 200


def test_repaired_query_shows_one_line_notice(web_client):
    soup = page(web_client, '/search?q="contrat de ville')
    assert soup.select("p.notice")
    assert titles(soup)


def test_did_you_mean(web_client):
    soup = page(web_client, "/search?q=renovaton")
    suggestion = soup.select_one(".suggestion a")
    assert suggestion, "no 'Vouliez-vous dire' for a misspelled word of the index"
    assert "Vouliez-vous dire" in soup.select_one(".suggestion").get_text()
    fixed = page(web_client, suggestion["href"])
    assert titles(fixed)
    assert len(soup.select(f"a[href='{suggestion['href']}']")) == 1     # offered once


def test_empty_state_helps(web_client):
    soup = page(web_client, "/search?q=xylophone&theme=santé")
    empty = soup.select_one(".empty")
    assert "Aucun document ne correspond" in empty.get_text()
    assert empty.select_one("a[href*='bibliotheque']")
    without_filters = [a for a in empty.select("a") if "sans les filtres" in a.get_text()][0]
    assert parse_qs(urlsplit(without_filters["href"]).query) == {"q": ["xylophone"]}
    recent = empty.select("ol.results li.result")
    assert recent                                      # recent documents offered
    assert not soup.select("nav.pagination")


def test_browse_without_words_lists_newest_first(web_client):
    soup = page(web_client, "/search")
    dates = [t["datetime"] for t in soup.select("li.result .meta time")]
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)


def test_hostile_text_is_escaped_everywhere_in_results(web_client):
    for url in ("/search?q=piégé", "/search", "/search?q=logement&sort=date", "/"):
        response = web_client.get(url)
        body = response.get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body
        assert_no_live_markup(BeautifulSoup(body, "html.parser"))
    soup = page(web_client, "/search?q=piégé")
    assert HOSTILE in soup.get_text()                  # shown as text, not dropped


def test_hostile_query_is_escaped(web_client):
    response = web_client.get("/search", query_string={"q": '"><script>alert(1)</script>'})
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert_no_live_markup(BeautifulSoup(body, "html.parser"))


# ------------------------------------------------------------------ Atom


def test_atom_feed_is_valid_and_escaped(web_client):
    response = web_client.get("/search.atom?q=logement")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert "logement" in feed.feed.title
    assert len(feed.entries) == 13
    links = [entry.link for entry in feed.entries]
    assert all(link.startswith("http://veille.example.org/documents/") for link in links)
    dates = [entry.updated_parsed for entry in feed.entries]
    assert dates == sorted(dates, reverse=True)        # a feed is newest first
    hostile = [e for e in feed.entries if "piégé" in e.title][0]
    assert hostile.title == f"Titre piégé {HOSTILE}"   # the text survives, as text
    assert hostile.title_detail.type == "text/plain"
    assert "<script" not in hostile.summary            # feedparser sanitises; we escaped anyway
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw and "&lt;script&gt;" in raw


def test_atom_feed_follows_filters(web_client):
    feed = feedparser.parse(web_client.get("/search.atom?source=prefecture").data)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["Actualités de la préfecture (modifiée)"]
    assert feed.feed.links[0].href.startswith("http://veille.example.org/search.atom?source=prefecture")


def test_search_page_announces_its_feed(web_client):
    soup = page(web_client, "/search?q=logement&theme=éducation")
    alternate = soup.select_one("link[rel=alternate][type='application/atom+xml']")["href"]
    assert alternate.startswith("/search.atom?") and "q=logement" in alternate


def test_pdf_snippet_names_its_page(web_client):
    soup = page(web_client, "/search?q=conseils+citoyens")
    result = soup.select_one("li.result")
    assert result.h3.get_text() == "Guide des conseils citoyens"
    ref = result.select_one(".snippet a.page-ref")
    assert ref.get_text() == "p. 2"
    assert ref["href"].endswith("?p=2#texte")
    text_page = page(web_client, ref["href"])
    assert "page 2 sur 3" in text_page.select_one("#texte").get_text()


def test_estimated_facet_counts_say_so(web_client, monkeypatch):
    from indexer.search import facet_counts

    exact = page(web_client, "/search?q=")
    assert "Nombres estimés" not in exact.get_text() and "≈" not in exact.select_one("aside.facets").get_text()
    everything = web_client.get("/api/search?q=&per_page=100").get_json()["results"]
    [(part, _)] = Counter(sample_part(hit["id"]) for hit in everything).most_common(1)
    monkeypatch.setattr(facet_counts, "SAMPLED_PART", part)      # a part this small space has documents in
    monkeypatch.setattr(facet_counts, "FACETS_SAMPLED_ABOVE", 0)
    estimated = page(web_client, "/search?q=&from=2000-01-01")   # a request not cached yet
    facets = estimated.select_one("aside.facets")
    assert "Nombres estimés" in facets.get_text()
    counts = [n.get_text() for n in facets.select(".n")]
    assert counts and all(text.startswith("≈ ") for text in counts if text != "0")
    assert "sur environ " in estimated.select_one("p.count").get_text()
    api = web_client.get("/api/search?q=&from=2000-01-02").get_json()
    assert api["facets_estimated"] is True and api["total_estimated"] is True


def test_a_search_becomes_an_alert_for_staff_and_an_email_subscription_for_others(web_config, login_staff):
    from web import create_app

    app = create_app(web_config, {"TESTING": True})
    public = app.test_client().get("/search?q=logement&theme=habitat+et+renouvellement+urbain").get_data(as_text=True)
    assert "Créer une alerte" not in public
    assert ('href="/abonnement/recherche?q=logement&amp;theme=habitat+et+renouvellement+urbain"' in public)
    staff = login_staff(app).get("/search?q=logement&theme=habitat+et+renouvellement+urbain").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Créer une alerte à partir de cette recherche</a>', staff).group(1)
    assert link == "/alertes/nouvelle?q=logement&amp;theme=habitat+et+renouvellement+urbain"
    form = login_staff(app).get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="query" value="logement"' in form and 'value="habitat et renouvellement urbain"' in form


@pytest.mark.parametrize("url", ["/search?q=ville&to=9999-12-31", "/search?q=ville&from=0001-01-01",
                                 "/api/search?q=ville&to=9999-12-31&from=0001-01-01",
                                 "/search.atom?q=ville&to=9999-12-31", "/search?from=9999-12-31"])
def test_extreme_dates_are_answered_not_an_error(web_client, url):
    response = web_client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_extreme_dates_keep_the_results_of_no_bound(web_client):
    everything = web_client.get("/api/search?q=ville").get_json()["total"]
    assert web_client.get("/api/search?q=ville&from=0001-01-01&to=9999-12-31").get_json()["total"] == everything
    bad = web_client.get("/api/search?q=ville&to=31/12/2024")
    assert bad.status_code == 400 and "n'est pas une date" in bad.get_json()["error"]


def test_a_one_letter_wildcard_says_why_it_found_nothing(web_client):
    soup = page(web_client, "/search?q=r*")
    assert "un joker demande au moins 2 lettres" in soup.get_text()
    assert web_client.get("/api/search?q=r*").get_json()["notice"].startswith("« r* » ignoré")


def test_anonymous_searches_are_rate_limited_per_address(web_config, login_staff):
    from web import create_app
    from web.throttle import RequestRate

    app = create_app(web_config, {"TESTING": True})
    now = [0.0]
    app.state.search_rate = RequestRate(3, clock=lambda: now[0])
    visitor = app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for url in ("/search?q=ville", "/api/search?q=ville", "/search.atom?q=ville"):
        assert visitor.get(url).status_code == 200
    page_429 = visitor.get("/search?q=ville")
    assert page_429.status_code == 429 and int(page_429.headers["Retry-After"]) == 60
    assert "Trop de recherches depuis votre adresse" in page_429.get_data(as_text=True)
    api_429 = visitor.get("/api/search?q=ville")
    assert api_429.status_code == 429 and api_429.get_json()["ok"] is False
    assert visitor.get("/").status_code == 200                 # only searches are counted
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "203.0.113.8"
    assert neighbour.get("/search?q=ville").status_code == 200
    staff = login_staff(app)
    staff.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert staff.get("/search?q=ville").status_code == 200     # staff are not limited
    now[0] += 61
    assert visitor.get("/search?q=ville").status_code == 200
