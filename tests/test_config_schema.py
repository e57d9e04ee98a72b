"""The schema declaration and the records it fills: one field per key, the same defaults."""

from __future__ import annotations

import dataclasses

import pytest

from veille.core import config_schema as schema
from veille.core.config import (Alert, Config, DigestConfig, ExtractionConfig, HttpConfig, LettreConfig,
                                LettreProfile, LibraryFolder, SearchConfig, SmtpConfig, Source, WebConfig)

RECORDS = [(HttpConfig, schema.HTTP), (LibraryFolder, schema.LIBRARY), (Source, schema.SOURCE),
           (Alert, schema.ALERT), (SmtpConfig, schema.SMTP), (DigestConfig, schema.DIGEST),
           (LettreProfile, schema.LETTRE_PROFILE), (LettreConfig, schema.LETTRE), (WebConfig, schema.WEB), (SearchConfig, schema.SEARCH), (ExtractionConfig, schema.EXTRACTION),
           (Config, schema.ROOT)]
RECORD_OF = {id(section): record for record, section in RECORDS}
# Record fields the file does not set directly.
DERIVED = {Config: {"path"}, Source: {"options"}}


@pytest.mark.parametrize("record, section", RECORDS, ids=lambda value: getattr(value, "__name__", ""))
def test_each_record_has_one_field_per_key_with_its_default(record, section):
    fields = {field.name: field for field in dataclasses.fields(record)}
    assert set(fields) - DERIVED.get(record, set()) == {setting.name for setting in section.settings}
    for setting in section.settings:
        field = fields[setting.name]
        if setting.required:
            assert field.default is dataclasses.MISSING, setting.key
        elif isinstance(setting.type, schema.Section) and id(setting.type) in RECORD_OF:
            assert field.default == RECORD_OF[id(setting.type)](), setting.key   # of its own defaults
        elif isinstance(setting.type, schema.ListOf):
            assert field.default == (), setting.key
        elif field.default is not dataclasses.MISSING:
            assert field.default == setting.default, setting.key


def test_nested_records_default_to_the_schema_defaults():
    assert SmtpConfig() == DigestConfig().smtp
    assert HttpConfig().timeout == schema.HTTP["timeout"].default
    assert Source("a", "a", "feed", "https://a.fr").visibility == "public"
    assert LibraryFolder("L", None).visibility == "interne"


def test_kinds_do_not_redeclare_common_keys():
    common = set(schema.SOURCE.keys())
    for kind, options in schema.SOURCE_KINDS.items():
        assert not common & set(options.keys()), kind


def test_every_documented_path_is_unique():
    paths = [(path, kind) for path, kind, _ in schema.documented_settings()]
    assert len(paths) == len(set(paths))
