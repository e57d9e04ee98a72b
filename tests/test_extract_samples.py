"""Sample documents with their expectations beside them (feedparser style).

Each `tests/fixtures/extract/samples/NAME` has a hand-written `NAME.expected.yaml`; one
parametrised test runs them all through `extract()`. Keys: status, title, authors,
published (date), language, page_count, doc_type_hint, text (exact), contains, absent,
reason_contains, pages ({page number: [substrings]}).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from indexer.extract import extract

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"
KEYS = {"status", "title", "authors", "published", "language", "page_count", "doc_type_hint",
        "text", "contains", "absent", "reason_contains", "pages"}


def _samples() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if not p.name.endswith(".expected.yaml"))


def test_every_sample_has_an_expectation():
    samples = _samples()
    assert len(samples) >= 10
    for sample in samples:
        expected = sample.with_name(sample.name + ".expected.yaml")
        assert expected.is_file(), f"{sample.name} has no expectation file"
        assert set(yaml.safe_load(expected.read_text(encoding="utf-8"))) <= KEYS


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample(sample: Path):
    expected = yaml.safe_load(sample.with_name(sample.name + ".expected.yaml").read_text(encoding="utf-8"))
    result = extract(sample.read_bytes(), filename=sample.name)

    assert result.status == expected["status"], result.reason
    if result.status != "ok":
        assert result.reason  # a failure always says why
    for key in ("title", "language", "page_count", "doc_type_hint", "text"):
        if key in expected:
            assert getattr(result, key) == expected[key], key
    if "authors" in expected:
        assert list(result.authors) == expected["authors"]
    if "published" in expected:
        assert result.published is not None and result.published.tzinfo is not None
        assert result.published.date().isoformat() == str(expected["published"])
    if "reason_contains" in expected:
        assert expected["reason_contains"] in result.reason
    for fragment in expected.get("contains", ()):
        assert fragment in result.text, fragment
    for fragment in expected.get("absent", ()):
        assert fragment not in result.text, fragment
    for number, fragments in expected.get("pages", {}).items():
        page = result.pages[int(number) - 1]
        for fragment in fragments:
            assert fragment in page, (number, fragment)
        others = [p for i, p in enumerate(result.pages) if i != int(number) - 1]
        assert not any(fragments[-1] in p for p in others), "text landed on the wrong page"
    if result.pages:
        assert result.text == "\f".join(result.pages)
