"""Validation of the digest settings in sources.yaml: each error names file, line and key."""

from __future__ import annotations

import pytest

from veille.core.config import ConfigError, load_config


def problems(write_config, text):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    return info.value.problems


def test_digest_settings_are_read(write_config):
    config = load_config(write_config("""
        digest:
          schedule: "30 6 * * fri"
          from: Veille <veille@example.org>
          period_days: 14
          send_empty: true
          smtp: {host: smtp.example.org, port: 587, starttls: true, username: veille, password_env: VEILLE_SMTP}
        alerts:
          - name: Eau
            query: eau potable
            recipients: [doc@example.org]
            filters: {kind: [juridique], theme: Eau, territory: [Martinique]}
        """))
    assert config.digest.schedule == "30 6 * * fri" and config.digest.period_days == 14
    assert config.digest.send_empty and config.digest.smtp.starttls
    assert config.digest.smtp.password_env == "VEILLE_SMTP"
    assert dict(config.alerts[0].filters) == {"kind": ("juridique",), "theme": ("Eau",),
                                              "territory": ("Martinique",)}


def test_digest_errors_name_line_and_key(write_config):
    found = problems(write_config, """
        digest:
          period_days: 0
          smtp:
            host: smtp.example.org
            port: 70000
            ssl: true
            starttls: true
            password_env: VEILLE_SMTP
            password: hunter2
        """)
    assert found == [
        "sources.yaml:2: digest.period_days: doit être au moins 1",
        "sources.yaml:5: digest.smtp.port: doit être entre 1 et 65535",
        "sources.yaml:7: digest.smtp.starttls: choisissez ssl (TLS implicite, port 465) ou starttls (port 587),"
        " pas les deux",
        "sources.yaml:8: digest.smtp.password_env: un mot de passe demande un nom d'utilisateur"
        " (digest.smtp.username)",
        "sources.yaml:9: digest.smtp.password: les mots de passe ne sont jamais écrits dans ce fichier : "
        "nommez une variable d'environnement avec password_env",
    ]


def test_alert_filter_and_schedule_errors(write_config):
    found = problems(write_config, """
        alerts:
          - name: Eau
            query: eau
            recipients: [pas-une-adresse]
            filters: {themes: [Eau]}
        digest: {schedule: "every monday"}
        """)
    assert found == [
        "sources.yaml:4: alerts[0].recipients[0]: adresse e-mail invalide : « pas-une-adresse » "
        "(il manque le @ ou ce qui l'entoure)",
        "sources.yaml:5: alerts[0].filters.themes: clé inconnue (vouliez-vous dire « theme » ?)",
        "sources.yaml:6: digest.schedule: ni un intervalle (30m, 6h, 1d) ni une expression cron à 5 champs",
    ]


def test_alert_filter_values_and_duplicate_names(write_config):
    found = problems(write_config, """
        library:
          - {name: Bibliothèque, path: lib/}
        sources:
          - {name: vie-publique, kind: feed, url: "https://www.vie-publique.fr/rss"}
        alerts:
          - name: Eau
            query: eau
            filters: {kind: [juridique, loi], source: [vie-publiqe, Bibliothèque]}
          - {name: eau, query: assainissement}
        """)
    assert found == [
        "sources.yaml:8: alerts[0].filters.kind[1]: valeur inconnue « loi » (valeurs possibles : juridique,"
        " actualité, publication, bibliothèque, page modifiée)",
        "sources.yaml:8: alerts[0].filters.source: aucune source ni bibliothèque nommée « vie-publiqe »"
        " (vouliez-vous dire « vie-publique » ?)",
        "sources.yaml:9: alerts[1].name: nom « eau » déjà pris par alerts[0]",
    ]
