"""The sources status page: staff only, one row per source with its state."""

from test_web_search import page


def test_sources_page_is_for_staff(web_client):
    response = web_client.get("/sources")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Sources" not in [a.get_text() for a in page(web_client, "/").select("nav.site-nav a")]


def test_sources_page_shows_each_source_state(web_config, web_client, login_staff):
    from indexer.catalog import Catalog

    catalog = Catalog.in_data_dir(web_config.data_dir)
    catalog.finish_run(catalog.start_run("prefecture"), http_status=200, new=1)
    catalog.finish_run(catalog.start_run("anct"), error="ancienne erreur")
    catalog.finish_run(catalog.start_run("anct"), http_status=200)
    catalog.finish_run(catalog.start_run("vie-publique"), error="HTTP 503 <b>indisponible</b>")
    catalog.finish_run(catalog.start_run("vie-publique"), error="HTTP 503 <b>indisponible</b>")
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
    assert "ancienne erreur" not in recovered.get_text()       # recovered: the old error is gone
    assert recovered.select_one("td.num").get_text() == "13"
    assert "dont 1 en échec" in soup.get_text()
    assert "Sources" in [a.get_text() for a in page(staff, "/").select("nav.site-nav a")]
