"""Property-based tests of the configuration loader: any text gives a Config or a ConfigError.

The loader reads a file written by hand on a server, sometimes half-edited. Whatever the
text, `veille check` must answer with either a configuration or a list of problems, each of
the form `file:line: ...`, never with a traceback.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from veille.core.config import Config, ConfigError, load_config, parse_config
from veille.core.config_schema import ROOT, all_keys

PROBLEM_RE = re.compile(r"^sources\.yaml:\d+: \S.*$", re.DOTALL)

# Every key the schema knows, so generated documents reach the deep validators.
KNOWN_KEYS = sorted(all_keys())
TOP_KEYS = ROOT.keys()
INTERESTING_SCALARS = [
    "feed", "page", "change", "legifrance", "https://example.org/rss", "http://", "ftp://x",
    "6h", "30s", "0m", "1d", "0 7 * * mon", "* * * * * *", "99 99 99 99 99", "America/Martinique",
    "Not/AZone", "doc@example.org", "nobody", "whoosh", "tantivy", "", "~", "-1", "1e400", ".nan",
    "2024-02-30", "é\u0000", "\ud7ff", "yes", "no", "null", "0x1F", "!!binary aGk=", "&a", "*a",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.sampled_from(INTERESTING_SCALARS), st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=6)),
    max_leaves=40,
)
# A top-level document shaped like sources.yaml, so that most examples get past the first key.
documents = st.dictionaries(st.sampled_from(TOP_KEYS + ("extra",)), trees, max_size=len(TOP_KEYS))


def assert_config_or_clear_error(text: str) -> None:
    try:
        config = parse_config(text, Path("/nonexistent/sources.yaml"))
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must list at least one problem"
        for problem in exc.problems:
            assert PROBLEM_RE.match(problem), problem
    else:
        assert isinstance(config, Config)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_yaml_document_gives_config_or_clear_error(document):
    assert_config_or_clear_error(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "éà—\u00a0\u2028\ufeff", max_size=300))
@example("a: &x [*x]")
@example("sources: [{name: a, kind: page, url: 'https://a.fr', select: {item: [1]}}]")
@example("sources:\n  - {kind: page}\n")
@example("digest: {smtp: {password: x}}")
@example("? [a, b]\n: c\n")
@example("!!python/object:os.system ls")
@example("%YAML 1.1\n---\na: 1\n---\nb: 2\n")
@example("web: {base_url: 3}")
@example("search: {engine: [x]}")
@example("timezone: ../../etc/passwd")
@example("timezone: ''")
@example("\xa0:")
@example("' x': 1")
@example("data_dir: {a: 1}")
def test_any_text_gives_config_or_clear_error(text):
    assert_config_or_clear_error(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "sources:", "  - name: a", "    kind: feed", "    kind: page", "    url: https://a.fr",
    "    select: {item: x}", "    select:", "      item: x", "      link: [a]", "    schedule: 5m",
    "    schedule: '0 7 * * mon'", "    tags: 3", "alerts:", "  - name: x", "    query: y",
    "    recipients: [a@b.fr, z]", "    filters: {kind: [a], nope: 1}", "digest:", "  from: x",
    "  smtp: {port: x}", "  schedule: 1d", "http:", "  timeout: -1", "  max_bytes: 0",
    "library:", "  - {name: L, path: lib}", "  - path: x", "web: {base_url: ftp://x}", "- a",
    "  -", "key: [unterminated", "\t", "---", "...", "#",
]), max_size=25))
def test_line_soup_gives_config_or_clear_error(lines):
    assert_config_or_clear_error("\n".join(lines))


TAGS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!str", "!!null", "!!set",
        "!!python/object:os.system", "!local", "!!omap"]
SCALAR_KEYS = ["data_dir", "timezone", "http.timeout", "http.retries", "http.max_bytes",
               "http.allow_private_networks", "digest.period_days", "digest.smtp.port",
               "digest.from", "web.base_url", "search.engine", "library.path", "source.schedule",
               "source.url", "source.tags", "alert.recipients"]


def _place(key: str, value: str) -> str:
    """A sources.yaml putting `value` (raw YAML) at the dotted `key`."""
    source = "sources: [{name: a, kind: feed, url: 'https://a.fr', %s: %s}]"
    if key.startswith("source."):
        return source % (key[7:], value)
    if key == "library.path":
        return f"library: [{{name: L, path: {value}}}]"
    if key.startswith("alert."):
        return f"alerts: [{{name: a, query: q, {key[6:]}: {value}}}]"
    head, *rest = key.split(".")
    for part in reversed(rest):
        value = f"{{{part}: {value}}}"
    return f"{head}: {value}"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SCALAR_KEYS), st.sampled_from(TAGS),
       st.sampled_from(["x", "zz", "'%%%'", "1e400", ".nan", "-.inf", "99999999999999999999h",
                        "'\\0'", '"a\\0b"', "0", "-1", "70000", "[1]", "{a: 1}", "''"]))
@example("data_dir", "!!str", '"a\\0b"')
@example("source.schedule", "!!str", "99999999999999999999h")
@example("http.timeout", "!!float", "x")
def test_tagged_and_extreme_values_give_config_or_clear_error(key, tag, value):
    assert_config_or_clear_error(_place(key, f"{tag} {value}"))
    assert_config_or_clear_error(_place(key, value))


@given(st.integers(min_value=50, max_value=5000), st.sampled_from(["[", "{a: ", "- "]))
@settings(max_examples=10, deadline=None)
def test_deep_nesting_gives_clear_error(depth, opener):
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":
        text = "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x"
    else:
        text = "alerts: " + opener * depth + "1" + closer * depth
    assert_config_or_clear_error(text)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_on_disk_give_config_or_clear_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "sources.yaml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        assert all(PROBLEM_RE.match(p) for p in exc.problems), exc.problems


# What the properties above found, pinned with the message each now gets.
@pytest.mark.parametrize("text, expected", [
    ("x: " + "[" * 1500 + "]" * 1500, "sources.yaml:1: YAML invalide : imbrication trop profonde"),
    ('data_dir: "a\\0b"', "sources.yaml:1: data_dir: ne doit pas contenir de caractère NUL"),
    ("library: [{name: L, path: \"x\\0\"}]", "sources.yaml:1: library[0].path: ne doit pas contenir de caractère NUL"),
    ("http: {timeout: !!float x}", "sources.yaml:1: http.timeout: valeur « x » invalide pour l'étiquette tag:yaml.org,2002:float"),
    ("data_dir: !!bool x", "sources.yaml:1: data_dir: valeur « x » invalide pour l'étiquette tag:yaml.org,2002:bool"),
    ("http: {timeout: .nan}", "sources.yaml:1: http.timeout: doit être un nombre fini, pas « .nan »"),
    ("sources: [{name: a, kind: feed, url: 'https://a.fr', schedule: 99999999999999999999h}]",
     "sources.yaml:1: sources[0].schedule: l'intervalle doit être d'au plus 366d"),
    ("digest: {smtp: {port: 70000}}", "sources.yaml:1: digest.smtp.port: doit être entre 1 et 65535"),
    ("digest: {period_days: 400}", "sources.yaml:1: digest.period_days: doit être au plus 366"),
    ("http: {retries: 100}", "sources.yaml:1: http.retries: doit être entre 0 et 10"),
], ids=lambda value: value[:40] if isinstance(value, str) else None)
def test_found_by_properties(text, expected):
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/nonexistent/sources.yaml"))
    assert info.value.problems == [expected]
