"""The digest as a MIME message: multipart/alternative (plain text, then HTML), UTF-8.

The SMTP policy encodes non-ASCII headers (the French subject) as RFC 2047 words and the
bodies in UTF-8; `List-Unsubscribe` with `List-Unsubscribe-Post` gives one-click unsubscribe
(RFC 8058) in the mail clients that offer it.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from veille.digest.compose import Digest


def sender_domain(sender: str) -> str:
    address = getaddresses([sender])[0][1] or sender
    return address.rpartition("@")[2] or "localhost"


def message_id(digest_id: str, sender: str) -> str:
    return f"<digest-{digest_id}@{sender_domain(sender)}>"


def build_message(digest: Digest, *, html: str, text: str, sender: str, msg_id: str,
                  date: datetime) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = digest.recipient
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"
    if digest.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{digest.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message
