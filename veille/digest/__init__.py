"""Alerts (saved searches) and the weekly digest e-mail built from them.

`alerts` merges the YAML alerts with those created in the web UI, `compose` builds and renders
a recipient's digest (pure functions), `mail` turns it into a MIME message, `deliver` speaks
SMTP, and `run` ties them together with per-recipient periods and the archive.
"""
