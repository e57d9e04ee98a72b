"""URL canonicalisation: one spelling per resource, so the same article is one document."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only track where a click came from.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "mkt_tok", "xtor", "xts", "at_medium", "at_campaign", "at_source", "ref_src",
    "wt_mc", "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "piwik_campaign", "piwik_kwd",
    "_ga", "_gl", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid",
})
TRACKING_PREFIXES = ("utm_", "mtm_", "at_", "pk_")
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    percent-escapes normalised; the order of the remaining parameters is kept (some sites
    depend on it)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        pass
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))
