"""The JSON API: exact shapes, filters, errors as JSON, and the OpenAPI description."""

import json
from pathlib import Path

import pytest

from conftest import HOSTILE
from test_web_sources import record_run
from veille.core.records import document_id

RESULT_KEYS = {"id", "title", "url", "source", "kind", "published", "score", "snippet"}
FACET_KEYS = {"kind", "source", "theme", "territory", "doc_type", "year"}
OPENAPI = Path(__file__).resolve().parents[1] / "web" / "static" / "openapi.json"


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "application/json"
    return response.get_json()


def test_search_shape(web_client):
    body = get_json(web_client, "/api/search?q=logement")
    assert {"total", "page", "results", "facets"} <= set(body)
    assert body["total"] == 13 and body["page"] == 1 and body["pages"] == 2
    assert len(body["results"]) == 10
    for result in body["results"]:
        assert set(result) == RESULT_KEYS
        assert isinstance(result["score"], (int, float))
        assert result["published"] is None or result["published"][:4].isdigit()
    assert set(body["facets"]) == FACET_KEYS
    kinds = {f["value"]: f["count"] for f in body["facets"]["kind"]}
    assert kinds["publication"] == 12
    assert all(set(f) == {"value", "count"} for values in body["facets"].values() for f in values)


def test_search_params(web_client):
    second = get_json(web_client, "/api/search?q=logement&page=2")
    assert second["page"] == 2 and len(second["results"]) == 3
    by_date = get_json(web_client, "/api/search?q=logement&sort=date&per_page=50")
    dates = [r["published"] for r in by_date["results"]]
    assert dates == sorted(dates, reverse=True) and by_date["sort"] == "date"
    filtered = get_json(web_client, "/api/search?theme=coh%C3%A9sion+sociale&kind=biblioth%C3%A8que")
    assert [r["title"] for r in filtered["results"]] == ["Fiche d'expérience : jardins partagés"]
    assert get_json(web_client, "/api/search?source=prefecture")["total"] == 1
    assert get_json(web_client, "/api/search?territory=Fort-de-France")["total"] == 1
    assert get_json(web_client, "/api/search?doc_type=guide")["total"] == 1
    year = get_json(web_client, "/api/search?q=logement")["facets"]["year"][0]
    assert get_json(web_client, f"/api/search?q=logement&year={year['value']}")["total"] == year["count"]
    windowed = get_json(web_client, "/api/search?q=logement&from=2000-01-01&to=2000-12-31")
    assert windowed["total"] == 0 and windowed["results"] == []


@pytest.mark.parametrize("query, word", [
    ("page=abc", "page"), ("page=0", "page"), ("sort=random", "sort"), ("from=yesterday", "date"),
    ("per_page=1000", "per_page"), ("per_page=x", "per_page"),
])
def test_search_bad_params_are_json_400(web_client, query, word):
    body = get_json(web_client, f"/api/search?q=ville&{query}", status=400)
    assert body["ok"] is False and word in body["error"]


def test_malformed_query_is_not_an_error(web_client):
    body = get_json(web_client, "/api/search?q=%22contrat+de+(ville")
    assert isinstance(body["total"], int)


def test_hostile_text_is_escaped_in_snippets(web_client):
    body = get_json(web_client, "/api/search?q=pi%C3%A9g%C3%A9")
    hit = body["results"][0]
    assert hit["title"] == f"Titre piégé {HOSTILE}"          # JSON carries the text as it is
    assert "<script" not in hit["snippet"]                   # the snippet is HTML: escaped


def test_document(web_client):
    doc_id = document_id("https://anct.example/guide.pdf")
    body = get_json(web_client, f"/api/documents/{doc_id}")
    assert body["id"] == doc_id and body["title"] == "Guide des conseils citoyens"
    assert body["kind"] == "publication" and body["page_count"] == 3
    assert body["themes"] == ["participation des habitants"]
    assert body["page_url"].endswith(f"/documents/{doc_id}")
    assert body["stored_copy_url"].endswith(f"/documents/{doc_id}/copie")
    assert body["download_url"] is None
    assert isinstance(body["similar"], list) and isinstance(body["cites"], list)
    loi = get_json(web_client, "/api/documents/" + document_id("https://www.legifrance.gouv.fr/loi/jo/2014/2/21/2014-173"))
    assert loi["cited_by"] == [document_id("https://www.vie-publique.fr/renovation")]
    renovation = get_json(web_client, "/api/documents/" + document_id("https://www.vie-publique.fr/renovation"))
    cite = renovation["cites"][0]
    assert "2014-173" in cite["label"] and cite["documents"] == [loi["id"]]
    assert cite["legifrance_url"].startswith("https://www.legifrance.gouv.fr/")
    fiche = get_json(web_client, "/api/documents/" + document_id("library:Bibliothèque/fiches/fiche-jardins.txt"))
    assert fiche["download_url"].endswith("/fiches/fiche-jardins.txt")


def test_unknown_document_and_route_are_json_404(web_client):
    assert get_json(web_client, "/api/documents/nope", status=404) == {
        "ok": False, "error": "Cette adresse ne correspond à aucune page."}
    assert get_json(web_client, "/api/nothing", status=404)["ok"] is False
    response = web_client.post("/api/search")
    assert response.status_code in (400, 405) and response.get_json()["ok"] is False   # CSRF first


def test_sources(web_config, web_client, login_staff):
    from veille.storage.catalog import Catalog

    catalog = Catalog.open(web_config.layout)
    record_run(catalog, "prefecture", new=1)
    record_run(catalog, "anct", error="HTTP 503 : serveur indisponible")
    body = get_json(web_client, "/api/sources")
    by_name = {s["name"]: s for s in body["sources"]}
    assert list(by_name) == ["vie-publique", "anct", "prefecture"]
    assert by_name["prefecture"]["state"] == "ok" and by_name["prefecture"]["last_success"]
    assert by_name["anct"]["state"] == "failing"
    assert by_name["anct"]["consecutive_failures"] == 1
    assert "last_error" not in by_name["anct"]               # error texts are for staff
    assert by_name["anct"]["documents"] == 13
    assert by_name["vie-publique"]["state"] == "never"
    staff = login_staff(web_client.application)
    by_name = {s["name"]: s for s in get_json(staff, "/api/sources")["sources"]}
    assert by_name["anct"]["last_error"] == "HTTP 503 : serveur indisponible"


def test_openapi_documents_every_api_route(web_client):
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/search", "/api/documents/{id}", "/api/sources"}
    params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params == {"q", "page", "per_page", "sort", "from", "to", "visibility"} | FACET_KEYS   # visibility: staff
    hit = spec["components"]["schemas"]["Hit"]
    assert set(hit["properties"]) == RESULT_KEYS
    served = web_client.get("/static/openapi.json")
    assert served.status_code == 200 and served.get_json() == spec
    rules = {r.rule for r in web_client.application.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert rules == {"/api/search", "/api/documents/<doc_id>", "/api/sources"}


def test_readme_documents_the_api():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for route in ("GET /api/search", "GET /api/documents/ID", "GET /api/sources", "openapi.json"):
        assert route in readme, route
    for param in ("q", "page", "per_page", "sort", "from", "to", *FACET_KEYS):
        assert f"`{param}`" in readme, param
