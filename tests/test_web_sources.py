"""The sources status page: staff only, one row per source with its state."""

from datetime import datetime, timezone

from test_web_search import page


def record_run(catalog, source, error=None, new=0):
    """A crawl run as watch.crawler records it: the run log, then the source's state."""
    now = datetime.now(timezone.utc)
    catalog.runs.finish(catalog.runs.start(source), http_status=None if error else 200, new=new, error=error)
    if error:
        catalog.source_state.record_failure(source, now, error, "http", None)
    else:
        catalog.source_state.record_success(source, now)


def test_sources_page_is_for_staff(web_client):
    response = web_client.get("/sources")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Sources" not in [a.get_text() for a in page(web_client, "/").select("nav.site-nav a")]


def test_sources_page_shows_each_source_state(web_config, web_client, login_staff):
    from veille.storage.catalog import Catalog

    catalog = Catalog.open(web_config.layout)
    record_run(catalog, "prefecture", new=1)
    record_run(catalog, "anct", error="ancienne erreur")
    record_run(catalog, "anct")
    record_run(catalog, "vie-publique", error="HTTP 503 <b>indisponible</b>")
    record_run(catalog, "vie-publique", error="HTTP 503 <b>indisponible</b>")
    staff = login_staff(web_client.application)
    soup = page(staff, "/sources")
    rows = {r.th.a.get_text(): r for r in soup.select("table.sources tbody tr")}
    assert list(rows) == ["Vie publique — actualités", "Agence nationale de la cohésion des territoires",
                          "Préfecture de la Martinique"]
    failing = rows["Vie publique — actualités"]
    assert failing.select_one(".badge").get_text() == "en échec"
    assert "2 échecs de suite" in failing.get_text()
    assert "HTTP 503 <b>indisponible</b>" in failing.get_text() and not failing.find("b")
    recovered = rows["Agence nationale de la cohésion des territoires"]
    assert recovered.select_one(".badge").get_text() == "en service"
    assert "Dernière erreur" in recovered.get_text()           # recovered: the old error is history
    assert not recovered.select(".error-text")
    assert "+1 au dernier relevé" in rows["Préfecture de la Martinique"].get_text()
    assert recovered.select_one("td.num").get_text() == "13"
    assert "dont 1 en échec" in soup.get_text()
    assert "Sources" in [a.get_text() for a in page(staff, "/").select("nav.site-nav a")]
