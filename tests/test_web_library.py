"""Library browsing and downloads, confined to the library folders."""

from pathlib import Path
from urllib.parse import quote

import pytest

from test_web_search import page
from web.files import confined_path

LIB = "/bibliotheque/" + quote("Bibliothèque")


def test_library_index_lists_folders(web_client):
    soup = page(web_client, "/bibliotheque")
    link = soup.select_one("ul.folders a")
    assert link.get_text() == "Bibliothèque" and link["href"] == LIB


def test_folder_lists_subfolders_then_files_with_notice(web_client, web_config, login_staff):
    from web import create_app

    staff = login_staff(create_app(web_config, {"TESTING": True}))
    soup = page(staff, LIB)
    rows = [r.select_one("td a").get_text(" ", strip=True) for r in soup.select("table.files tbody tr")]
    assert rows == ["📁 fiches", "notes.txt"]
    notes = soup.select("table.files tbody tr")[1]
    assert "pas encore indexé" in notes.get_text()                 # a file the index has not seen
    assert "octets" in notes.select_one("td.num").get_text()
    # the public sees no file whose visibility is not known yet
    soup = page(web_client, LIB)
    rows = [r.select_one("td a").get_text(" ", strip=True) for r in soup.select("table.files tbody tr")]
    assert rows == ["📁 fiches"]
    assert web_client.get(LIB + "/notes.txt").status_code == 404

    sub = page(web_client, soup.select_one("a.dir")["href"])
    row = sub.select_one("table.files tbody tr:not(:first-child)")
    assert "Fiche d'expérience : jardins partagés" in row.get_text()
    assert "fiche d'expérience" in row.get_text()
    assert row.select_one("a[href^='/documents/']")
    crumbs = [li.get_text(strip=True) for li in sub.select("nav.crumbs li")]
    assert crumbs == ["Bibliothèque", "Bibliothèque", "fiches"]
    download = row.select_one("td a")["href"]
    response = web_client.get(download)
    assert response.status_code == 200 and response.data == "Les jardins partagés du Lamentin.".encode()


@pytest.mark.parametrize("path", [
    "../secret.txt", "fiches/../../secret.txt", "%2e%2e/secret.txt", "..%2fsecret.txt",
    "/etc/passwd", "fiches/..%5c..%5csecret.txt", "fiches\\..\\..\\secret.txt", "missing.txt",
    "fiches", "notes.txt%00.pdf",
])
def test_downloads_cannot_leave_the_library(web_client, path):
    response = web_client.get(f"{LIB}/{path}", follow_redirects=True)
    assert response.status_code == 404
    assert b"outside the library" not in response.data


@pytest.mark.parametrize("dossier", ["..", "../..", "fiches/../..", "/etc", "notes.txt", "absent"])
def test_browsing_cannot_leave_the_library(web_client, dossier):
    assert web_client.get(LIB, query_string={"dossier": dossier}).status_code == 404


def test_unknown_library_is_404(web_client):
    assert web_client.get("/bibliotheque/inconnue").status_code == 404
    assert web_client.get("/bibliotheque/inconnue/notes.txt").status_code == 404


def test_symlink_out_of_the_library_is_refused(web_config, web_client):
    library = web_config.library[0].path
    (library / "lien").symlink_to(web_config.path.parent / "secret.txt")
    assert web_client.get(f"{LIB}/lien").status_code == 404
    assert "lien" not in page(web_client, LIB).get_text()


def test_confined_path(tmp_path):
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "root" / "a" / "f.txt").write_text("x")
    (tmp_path / "out.txt").write_text("y")
    root = tmp_path / "root"
    assert confined_path(root, "a/f.txt") == (root / "a" / "f.txt").resolve()
    for bad in ("../out.txt", "a/../../out.txt", str(tmp_path / "out.txt"), "",
                "a/f.txt\x00", "a\\f.txt", "nope"):
        assert confined_path(root, bad) is None, bad
    assert confined_path(Path("/nonexistent-root"), "a") is None


def test_human_size():
    from web.library import human_size

    assert human_size(0) == "0 octets"
    assert human_size(1023) == "1023 octets"
    assert human_size(1536) == "1,5 Ko"
    assert human_size(15 * 1024 * 1024) == "15 Mo"
    assert human_size(3 * 1024 ** 4) == "3072 Go"
