"""SMTP delivery of one message, as `digest.smtp` says (plain, STARTTLS or SSL, optional login).

The password comes from the environment variable named by `password_env`, never from the
file. Every failure becomes a `DeliveryError` with one line, in French, saying what went
wrong (it is shown to staff in the delivery archives). A message is handed over as the
exact bytes archived before sending, so a resend after a crash is the same message.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Iterable, Mapping

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
                            hint="exportez-la dans l'environnement du processus veille")
    return password


def deliver(message: EmailMessage, smtp: SmtpConfig, *, timeout: float = 60,
            environ: Mapping[str, str] = os.environ) -> None:
    """Hand `message` to the SMTP server; raise DeliveryError unless every recipient was accepted."""
    from veille.digest.mail import envelope_sender

    deliver_bytes(message.as_bytes(), sender=envelope_sender(str(message["From"])),
                  recipients=[envelope_sender(str(message["To"]))], smtp=smtp, timeout=timeout,
                  environ=environ)


def deliver_bytes(raw: bytes, *, sender: str, recipients: Iterable[str], smtp: SmtpConfig,
                  timeout: float = 60, environ: Mapping[str, str] = os.environ) -> None:
    """Hand the exact message `raw` (CRLF line ends) to the SMTP server for `recipients`."""
    recipients = list(recipients)
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
            addresses = [sender, *recipients]
            options = []
            if not all(address.isascii() for address in addresses):
                client.ehlo_or_helo_if_needed()
                if not client.has_extn("smtputf8"):
                    raise smtplib.SMTPNotSupportedError()
                options = ["SMTPUTF8"]
            refused = client.sendmail(sender, addresses[1:], raw, mail_options=options)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = "; ".join(f"{addr} : {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
        raise DeliveryError(f"le serveur SMTP {where} a refusé le destinataire ({codes})") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"connexion au serveur SMTP {where} refusée : {exc.smtp_code} {_text(exc.smtp_error)}",
                            hint="vérifiez digest.smtp.username et la variable du mot de passe") from None
    except smtplib.SMTPNotSupportedError:
        # smtplib says this in English, and only after connecting: say what to do instead
        accented = [address for address in (*recipients, sender) if not address.isascii()]
        raise DeliveryError(
            f"le serveur SMTP {where} n'accepte pas les adresses accentuées (pas de SMTPUTF8) : "
            f"{', '.join(accented) or 'adresse non ASCII'} ne peut pas être servie par lui",
            hint="donnez à ce destinataire une adresse sans accent, ou passez par un serveur qui "
                 "annonce SMTPUTF8") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"le serveur SMTP {where} a répondu {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"envoi impossible par {where} : {connection_problem(exc)}") from None
    if refused:
        raise DeliveryError(f"le serveur SMTP {where} a refusé : {', '.join(refused)}")


def connection_problem(exc: BaseException) -> str:
    """What went wrong reaching the server, in French for the usual cases (the system's own
    words otherwise)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée (aucun serveur SMTP n'écoute à cette adresse)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "le serveur n'a pas répondu à temps"
    if isinstance(exc, socket.gaierror):
        return "nom de serveur inconnu"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "le serveur a coupé la connexion"
    if isinstance(exc, ssl.SSLError):
        return f"échec de la négociation TLS ({exc.reason or exc})"
    return f"{type(exc).__name__} : {exc}" if str(exc) else type(exc).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
