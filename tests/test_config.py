"""sources.yaml loading: valid files become records, every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from veille.core.config import ConfigError, load_config
from veille.core.schedules import parse_interval

ROOT = Path(__file__).resolve().parents[1]


def problems_of(write_config, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    return info.value.problems


def test_committed_sources_yaml_is_valid():
    config = load_config(ROOT / "sources.yaml")
    assert config.timezone == "America/Martinique"
    assert len(config.sources) >= 8
    assert all(s.url.startswith("https://") for s in config.sources)
    assert config.data_dir == (ROOT / "index").resolve()


def test_full_example_loads_into_records(write_config, tmp_path):
    config = load_config(write_config("""
        data_dir: data
        timezone: America/Martinique
        http: {user_agent: "Test/1", delay_per_host: 0.5, timeout: 10, allow_private_networks: true}
        library:
          - {name: Bibliothèque, path: library/}
        sources:
          - name: vie-publique
            title: "Vie publique — actualités"
            kind: feed
            url: https://www.vie-publique.fr/rss.xml
            schedule: 6h
            tags: [juridique]
          - name: anct
            kind: page
            url: https://example.org/actus
            schedule: "0 7 * * mon"
            select: {item: article, link: a, date: time}
        alerts:
          - {name: Rénovation urbaine, query: "rénovation urbaine", recipients: [doc@example.org],
             filters: {kind: [juridique]}}
        digest: {schedule: "0 7 * * mon", from: veille@example.org, smtp: {host: localhost, port: 2525}}
        web: {base_url: "http://localhost:5000"}
    """))
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.http.delay_per_host == 0.5 and config.http.allow_private_networks is True
    assert config.library[0].name == "Bibliothèque"
    assert config.library[0].path == (tmp_path / "library").resolve()
    feed, page = config.sources
    assert (feed.name, feed.kind, feed.tags, feed.title) == ("vie-publique", "feed", ("juridique",),
                                                            "Vie publique — actualités")
    assert page.title == "anct" and page.options["select"]["item"] == "article"
    assert config.alerts[0].filters == {"kind": ("juridique",)}
    assert config.digest.smtp.port == 2525 and config.digest.sender == "veille@example.org"


def test_errors_name_file_line_and_key(write_config):
    problems = problems_of(write_config, """
        sources:
          - name: ok
            kind: feed
            url: https://example.org/rss
          - name: bad
            kind: feed
            url: ftp://example.org/rss
    """)
    assert problems == ["sources.yaml:7: sources[1].url: adresse http(s) invalide"]


def test_all_problems_are_listed_in_line_order(write_config):
    problems = problems_of(write_config, """
        timezone: Europe/Nowhere
        http: {delay_per_host: -1, timout: 3}
        sources:
          - name: Bad Name
            kind: rss
            url: https://example.org/
            schedule: every day
        digest: {smtp: {password: hunter2}}
    """)
    assert problems[0] == "sources.yaml:1: timezone: fuseau horaire inconnu « Europe/Nowhere »"
    assert "sources.yaml:2: http.timout: clé inconnue (vouliez-vous dire « timeout » ?)" in problems
    assert "sources.yaml:2: http.delay_per_host: ne doit pas être négatif" in problems
    assert any(p.startswith("sources.yaml:4: sources[0].name: doit être un nom court") for p in problems)
    assert any(p.startswith("sources.yaml:5: sources[0].kind: valeur inconnue « rss »") for p in problems)
    assert any(p.startswith("sources.yaml:7: sources[0].schedule: ni un intervalle") for p in problems)
    assert any(p.startswith("sources.yaml:8: digest.smtp.password: les mots de passe ne sont jamais écrits")
               for p in problems)
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)


def test_typo_in_source_key_suggests_the_right_one(write_config):
    problems = problems_of(write_config, """
        sources:
          - name: a
            kind: feed
            url: https://example.org/rss
            shedule: 6h
    """)
    assert problems == ["sources.yaml:5: sources[0].shedule: clé inconnue (vouliez-vous dire « schedule » ?)"]


def test_duplicate_source_names_and_missing_keys(write_config):
    problems = problems_of(write_config, """
        sources:
          - {name: a, kind: feed, url: "https://example.org/1"}
          - {name: a, kind: feed, url: "https://example.org/2"}
          - {kind: feed}
          - {name: p, kind: page, url: "https://example.org/3"}
    """)
    assert "sources.yaml:3: sources[1].name: nom « a » déjà pris par sources[0]" in problems
    assert "sources.yaml:4: sources[2]: clé « name » manquante" in problems
    assert "sources.yaml:4: sources[2]: clé « url » manquante" in problems
    assert "sources.yaml:5: sources[3]: clé « select » manquante" in problems


def test_invalid_cron_and_wrong_types(write_config):
    problems = problems_of(write_config, """
        http:
          timeout: soon
          allow_private_networks: maybe
        sources:
          - {name: a, kind: feed, url: "https://example.org/", schedule: "61 * * * *"}
        alerts:
          - {name: x, query: y, recipients: [not-an-address]}
    """)
    assert "sources.yaml:2: http.timeout: doit être un nombre, pas « soon »" in problems
    assert "sources.yaml:3: http.allow_private_networks: doit être true ou false, pas « maybe »" in problems
    assert any(p.startswith("sources.yaml:5: sources[0].schedule: expression cron invalide") for p in problems)
    assert "sources.yaml:7: alerts[0].recipients[0]: adresse e-mail invalide : « not-an-address » " \
        "(il manque le @ ou ce qui l'entoure)" in problems


def test_invalid_yaml_reports_its_line(write_config):
    problems = problems_of(write_config, "sources:\n  - name: a\n   kind: feed\n")
    assert len(problems) == 1 and problems[0].startswith("sources.yaml:3: YAML invalide : ")


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(ConfigError, match="fichier de configuration introuvable"):
        load_config(tmp_path / "absent.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    config = load_config(empty)
    assert config.sources == () and config.data_dir == (tmp_path / "index").resolve()


@pytest.mark.parametrize("text,seconds", [("30m", 1800), ("6h", 21600), ("1d", 86400), ("2w", 1209600),
                                          ("0 7 * * mon", None), ("6 h", 21600)])
def test_parse_interval(text, seconds):
    assert parse_interval(text) == seconds


def test_cli_check_reports_errors_and_exit_code(write_config, run_cli):
    bad = write_config("sources:\n  - {name: a, kind: feed, url: 'nope'}\n", name="bad.yaml")
    result = run_cli("--config", str(bad), "check")
    assert result.returncode == 1
    assert result.stderr.strip() == "bad.yaml:2: sources[0].url: adresse http(s) invalide"
    assert "Traceback" not in result.stderr
    good = run_cli("--config", str(ROOT / "sources.yaml"), "check")
    assert good.returncode == 0, good.stderr
    assert "sources.yaml : correct" in good.stdout


def test_legifrance_source_options_and_defaults(write_config):
    config = load_config(write_config("""
        sources:
          - name: jo
            kind: legifrance
            url: https://api.piste.gouv.fr/dila/legifrance/lf-engine-app
            natures: [DECRET, arrêté]
            emitters: [outre-mer]
            keywords: politique de la ville
    """))
    options = config.sources[0].options
    assert options["natures"] == ("DECRET", "arrêté")
    assert options["keywords"] == ("politique de la ville",)
    assert options["token_url"] == "https://oauth.piste.gouv.fr/api/oauth/token"
    assert (options["client_id_env"], options["client_secret_env"]) == (
        "LEGIFRANCE_CLIENT_ID", "LEGIFRANCE_CLIENT_SECRET")
    assert options["max_issues"] == 10


def test_legifrance_source_errors(write_config):
    problems = problems_of(write_config, """
        sources:
          - name: jo
            kind: legifrance
            url: https://api.piste.gouv.fr/dila/legifrance/lf-engine-app
            token_url: oauth.piste.gouv.fr
            client_id_env: "mon id secret"
            natures: [décret, règlement]
            max_issues: 0
            select: {item: article}
    """)
    assert problems == [
        "sources.yaml:5: sources[0].token_url: adresse http(s) invalide",
        "sources.yaml:6: sources[0].client_id_env: doit être le NOM d'une variable d'environnement"
        " (les identifiants de connexion ne sont jamais écrits ici)",
        "sources.yaml:7: sources[0].natures[1]: valeur inconnue « règlement » (valeurs possibles : loi,"
        " ordonnance, decret, arrete, circulaire, decision, deliberation, avis, instruction, rapport,"
        " liste, tableau, annonce)",
        "sources.yaml:8: sources[0].max_issues: doit être au moins 1",
        "sources.yaml:9: sources[0].select: clé inconnue",
    ]


def test_crawler_options_are_checked(write_config):
    problems = problems_of(write_config, """
        sources:
          - name: liste
            kind: page
            url: https://example.org/liste
            select: {item: "li[[", link: a, date: ".date"}
            next: "a..suivant"
            max_pages: 0
          - name: veille-page
            kind: change
            url: https://example.org/page
            selector: "#contenu >"
          - {name: flux, kind: feed, url: "https://example.org/rss", max_entries: -3}
        """)
    assert problems[0].startswith("sources.yaml:5: sources[0].select.item: sélecteur CSS invalide « li[[ »")
    assert problems[1].startswith("sources.yaml:6: sources[0].next: sélecteur CSS invalide « a..suivant »")
    assert problems[2] == "sources.yaml:7: sources[0].max_pages: doit être au moins 1"
    assert problems[3].startswith("sources.yaml:11: sources[1].selector: sélecteur CSS invalide")
    assert problems[4] == "sources.yaml:12: sources[2].max_entries: doit être au moins 1"
    assert len(problems) == 5


def test_search_optimisation_schedule(write_config):
    assert load_config(write_config("search: {optimize: 1d}\n")).search.optimize == "1d"
    assert load_config(write_config("search: {optimize: 'off'}\n")).search.optimize == "off"
    assert load_config(write_config("data_dir: d\n")).search.optimize == "0 3 * * sun"
    problems = problems_of(write_config, "data_dir: d\nsearch:\n  engine: whoosh\n  optimize: weekly\n")
    assert len(problems) == 1 and problems[0].startswith("sources.yaml:4: search.optimize: ni un intervalle")


def test_visibility_of_library_folders_and_sources(write_config):
    config = load_config(write_config("""
        library:
          - {name: Bibliothèque, path: lib/}
          - {name: Fonds public, path: pub/, visibility: public}
        sources:
          - {name: a, kind: feed, url: "https://example.org/rss"}
          - {name: b, kind: feed, url: "https://example.org/rss2", visibility: interne}
    """))
    assert [f.visibility for f in config.library] == ["interne", "public"]
    assert [s.visibility for s in config.sources] == ["public", "interne"]
    problems = problems_of(write_config, "sources:\n  - {name: a, kind: feed, url: 'https://a.fr', visibility: privé}\n")
    assert problems == ["sources.yaml:2: sources[0].visibility: valeur inconnue « privé »"
                        " (valeurs possibles : public, interne)"]


def test_cli_check_refuses_a_line_break_in_the_sender(write_config, run_cli):
    # A line break would let the value add mail headers (Bcc: ...) to every digest.
    bad = write_config('digest:\n  from: "Veille <veille@example.org>\\r\\nBcc: tous@example.org"\n')
    result = run_cli("--config", str(bad), "check")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "sources.yaml:2: digest.from: ne doit pas contenir de retour à la ligne (CR/LF)")
    assert problems_of(write_config, 'digest: {from: "veille@example.org\\nBcc: x@example.org"}\n') == [
        "sources.yaml:1: digest.from: ne doit pas contenir de retour à la ligne (CR/LF)"]
