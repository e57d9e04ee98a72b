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
        raise DeliveryError(f"la variable du mot de passe SMTP {smtp.password_env} n'est pas définie",
                            hint="définissez-la dans l'environnement du processus veille")
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
        raise DeliveryError(f"le serveur SMTP {where} refuse le destinataire ({codes})") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"connexion refusée par le serveur SMTP {where} : {exc.smtp_code} {_text(exc.smtp_error)}",
                            hint="vérifiez digest.smtp.username et la variable du mot de passe") from None
    except smtplib.SMTPNotSupportedError:
        # smtplib says this in English, and only after connecting: say what to do instead
        addresses = [a for a in (*message.get_all("To", []), *message.get_all("From", [])) if not str(a).isascii()]
        raise DeliveryError(
            f"le serveur SMTP {where} n'accepte pas les adresses accentuées (pas de SMTPUTF8) : "
            f"{', '.join(map(str, addresses)) or 'adresse non ASCII'} ne peut pas être servie par lui",
            hint="donnez à ce destinataire une adresse sans accent, ou passez par un serveur qui "
                 "annonce SMTPUTF8") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"le serveur SMTP {where} a répondu {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"envoi impossible par {where} : {exc or type(exc).__name__}") from None
    if refused:
        raise DeliveryError(f"le serveur SMTP {where} a refusé : {', '.join(refused)}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
