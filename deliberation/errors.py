"""Errors that carry a French message meant for the person who caused them."""


class InputError(ValueError):
    """Bad input from a form, upload, socket event or command line; nothing was changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PhaseError(InputError):
    """The congress phase does not allow this action now."""


class PermissionDenied(InputError):
    """The sender's role does not allow this action."""
