"""Coded business errors. `code` is stable: the API, the UI and the tests rely on it."""


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, params=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        # The values the message names (a limit, a date), for a face that says it in the user's language.
        self.params = params or {}

    def as_dict(self) -> dict:
        data = {"code": self.code, "message": self.message}
        if self.field:
            data["field"] = self.field
        return data


class ValidationFailed(LedgerError):
    code = "validation_failed"


class NotFound(LedgerError):
    code = "not_found"


class InvalidTransition(LedgerError):
    code = "invalid_transition"


class FileRejected(ValidationFailed):
    """A file is refused whole; `line` says where, when known."""

    code = "file_rejected"

    def __init__(self, message: str, *, code: str, line: int | None = None):
        super().__init__(message, code=code)
        self.line = line

    def as_dict(self) -> dict:
        data = super().as_dict()
        if self.line is not None:
            data["line"] = self.line
        return data
