"""E-mail addresses, checked once the same way everywhere (configuration recipients and
`digest.from`, `veille user add`, the login form, the alert forms), with the well-kept
`email-validator` library rather than a home-made pattern: `x@y.z>` or an address with a
line break is refused, with a French reason.

An address with non-ASCII letters (`élodie@exemple.fr`) is valid, but only a server
offering SMTPUTF8 can deliver it: `needs_smtputf8` says so, and the digest says it clearly
when the server lacks it.
"""

from __future__ import annotations

from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

LOCAL_DOMAINS = ("localhost",)      # the default sender, delivered by the local server


def _validated(address: str):
    local, _, domain = address.rpartition("@")
    if domain.lower() in LOCAL_DOMAINS and local:
        validate_email(f"{local}@example.org", check_deliverability=False)
        return None
    return validate_email(address, check_deliverability=False)


def email_problem(address: str) -> str | None:
    """Why `address` (a bare address) is not a usable e-mail address, in French, or None."""
    if not address or any(ch in address for ch in "\r\n"):
        return f"adresse e-mail invalide : « {address.strip()} »" if address else "adresse e-mail vide"
    try:
        _validated(address)
    except EmailNotValidError as exc:
        return f"adresse e-mail invalide : « {address} » ({_reason(str(exc))})"
    return None


def sender_problem(value: str) -> str | None:
    """Why `value` (`addr` or `Nom <addr>`) cannot be a sender, in French, or None."""
    if any(ch in value for ch in "\r\n"):
        return "saut de ligne interdit dans l'adresse d'expédition"
    name, address = parseaddr(value)
    if not address or ("<" in value and not value.rstrip().endswith(">")):
        return f"adresse d'expédition invalide : « {value} »"
    return email_problem(address)


def needs_smtputf8(address: str) -> bool:
    """Whether delivering to `address` needs a server offering SMTPUTF8 (non-ASCII letters)."""
    return not address.isascii()


def _reason(message: str) -> str:
    """email-validator's English reason, said in French for the common cases."""
    lowered = message.lower()
    if "@-sign" in lowered and ("must have" in lowered or "missing" in lowered or "does not" in lowered):
        return "il manque le @ ou ce qui l'entoure"
    if "after the @-sign" in lowered and "period" in lowered:
        return "le domaine après @ doit contenir un point"
    if "special-use" in lowered or "reserved" in lowered:
        return "domaine réservé"
    if "two periods" in lowered or "period" in lowered:
        return "point mal placé"
    if "invalid character" in lowered or "not permitted" in lowered or "not allowed" in lowered:
        return "caractère interdit"
    if "too long" in lowered:
        return "trop longue"
    return "forme non reconnue"


__all__ = ["email_problem", "needs_smtputf8", "sender_problem"]
