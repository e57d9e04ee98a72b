"""E-mails as MIME messages: multipart/alternative (plain text, then HTML), UTF-8.

`MAIL_POLICY` is the SMTP policy (CRLF, non-ASCII headers such as the French subject as
RFC 2047 words) except for the list headers: `List-Unsubscribe: <https://...>` must reach
mail clients exactly as RFC 2369 writes it, for one-click unsubscribe (RFC 8058, with
`List-Unsubscribe-Post`). The stock folder, finding no place to fold a long URL within 78
characters, would turn it into encoded words no client reads; these headers are written on
one line instead (RFC 5322 allows 998 characters).
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from veille.digest.compose import Digest

MAX_LINE = 998        # RFC 5322 2.1.1, CRLF excluded


class OneLineHeader(UnstructuredHeader):
    """An ASCII header written as given, never folded nor encoded (URLs in angle brackets)."""

    def fold(self, *, policy):
        value = str(self)
        if not value.isascii() or len(self.name) + 2 + len(value) > MAX_LINE:
            return super().fold(policy=policy)
        return f"{self.name}: {value}{policy.linesep}"


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("list-unsubscribe", "list-unsubscribe-post", "list-id", "list-archive"):
        registry.map_to_type(name, OneLineHeader)
    return registry


MAIL_POLICY = policy.SMTP.clone(header_factory=_registry())


def sender_domain(sender: str) -> str:
    address = getaddresses([sender])[0][1] or sender
    return address.rpartition("@")[2] or "localhost"


def envelope_sender(sender: str) -> str:
    """The bare address of a `From` value such as `Veille <veille@example.org>`."""
    return getaddresses([sender])[0][1] or sender


def message_id(digest_id: str, sender: str, kind: str = "digest") -> str:
    return f"<{kind}-{digest_id}@{sender_domain(sender)}>"


def new_message(*, subject: str, sender: str, recipient: str, msg_id: str, date: datetime,
                text: str, html: str, unsubscribe_url: str = "",
                headers: dict[str, str] | None = None) -> EmailMessage:
    """A multipart/alternative message under MAIL_POLICY; `unsubscribe_url` adds the one-click
    headers (the URL must accept a POST without a form, see web.alerts.unsubscribe)."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msg_id
    for name, value in (headers or {}).items():
        message[name] = value
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def build_message(digest: Digest, *, html: str, text: str, sender: str, msg_id: str,
                  date: datetime) -> EmailMessage:
    return new_message(subject=digest.subject, sender=sender, recipient=digest.recipient, msg_id=msg_id,
                       date=date, text=text, html=html, unsubscribe_url=digest.unsubscribe_url,
                       headers={"Auto-Submitted": "auto-generated"})
