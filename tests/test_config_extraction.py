"""The `extraction:` section of sources.yaml: limits on reading one document."""

from __future__ import annotations

import pytest

from indexer.extract import Limits
from veille.core.config import ConfigError, ExtractionConfig, load_config


def test_defaults_and_values(write_config):
    assert load_config(write_config("data_dir: d\n")).extraction == ExtractionConfig()
    config = load_config(write_config("""
        extraction: {max_file_mb: 20, timeout: 30, max_pages: 500}
    """))
    limits = Limits.from_config(config.extraction)
    assert (limits.max_bytes, limits.timeout, limits.max_pages) == (20 * 1024 * 1024, 30.0, 500)


@pytest.mark.parametrize("text, problem", [
    ("extraction:\n  timeout: 0\n", "sources.yaml:2: extraction.timeout: doit être supérieur à 0"),
    ("extraction:\n  max_pages: -3\n", "sources.yaml:2: extraction.max_pages: doit être supérieur à 0"),
    ("extraction:\n  max_pages: lots\n", "sources.yaml:2: extraction.max_pages: doit être un nombre entier, pas « lots »"),
    ("extraction:\n  max_size: 10\n", "sources.yaml:2: extraction.max_size: clé inconnue (vouliez-vous dire « max_file_mb » ?)"),
])
def test_errors_name_the_line_and_key(write_config, text, problem):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(text))
    assert problem in error.value.problems
