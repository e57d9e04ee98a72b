"""SMTP delivery of one message, as `digest.smtp` says (plain, STARTTLS or SSL, optional login).

The password comes from the environment variable named by `password_env`, never from the
file. Every failure becomes a `DeliveryError` with one line saying what went wrong.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from typing import Mapping

from veille.core.config import SmtpConfig
from veille.core.errors import VeilleError


class DeliveryError(VeilleError):
    code = "smtp"


def smtp_password(smtp: SmtpConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    if not smtp.password_env:
        return None
    password = environ.get(smtp.password_env)
    if not password:
        raise DeliveryError(f"SMTP password variable {smtp.password_env} is not set",
                            hint="export it in the environment of the veille process")
    return password


def deliver(message: EmailMessage, smtp: SmtpConfig, *, timeout: float = 60,
            environ: Mapping[str, str] = os.environ) -> None:
    """Hand `message` to the SMTP server; raise DeliveryError unless every recipient was accepted."""
    password = smtp_password(smtp, environ)
    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.ssl:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.starttls and not smtp.ssl:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, password or "")
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
        raise DeliveryError(f"SMTP server {where} refused the recipient ({codes})") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login to {where} failed: {exc.smtp_code} {_text(exc.smtp_error)}",
                            hint="check digest.smtp.username and the password variable") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot deliver through {where}: {exc or type(exc).__name__}") from None
    if refused:
        raise DeliveryError(f"SMTP server {where} refused: {', '.join(refused)}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
