"""The one exception family users see: a message that fits on a line and says what to do."""


class VeilleError(Exception):
    """An error reported to the user as one clear line (CLI, logs, status pages)."""

    code = "error"

    def __init__(self, message: str, *, hint: str = ""):
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.hint})" if self.hint else text
