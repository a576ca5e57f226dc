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


class FormErrors(InputError):
    """Several fields of one form refused at once: a person fixes them all in one go
    instead of discovering them one submit at a time (RGAA 11.10)."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1], field=errors[0][0])
        #: (field id, French message), in the form's order.
        self.errors = errors


def check_fields(checks):
    """Run every (field id, check) pair and return {field id: value}; raise FormErrors
    listing every InputError, so nothing is saved unless all fields are right."""
    values, errors = {}, []
    for field, check in checks:
        try:
            values[field] = check()
        except InputError as exc:
            errors.append((field, exc.message))
    if errors:
        raise FormErrors(errors)
    return values
