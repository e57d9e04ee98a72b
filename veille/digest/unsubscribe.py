"""Signed unsubscribe tokens: who (recipient) leaves what (one alert key, or '*' for all).

The tokens never expire, since an unsubscribe link in an old e-mail must keep working; they
are signed with a key kept in the catalog, so nobody can forge one for another address.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from veille.digest.alerts import ALL_ALERTS

SALT = "veille-unsubscribe"
SECRET_NAME = "unsubscribe"


@dataclass(frozen=True)
class Unsubscription:
    recipient: str
    alert: str = ALL_ALERTS


def make_token(secret: str, recipient: str, alert: str = ALL_ALERTS) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps({"r": recipient, "a": alert})


def read_token(secret: str, token: str) -> Unsubscription | None:
    """The unsubscription a token asks for, or None when it is forged, altered or garbled."""
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("a"), str):
        return None
    return Unsubscription(recipient=data["r"], alert=data["a"])


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/desabonnement/{token}"
