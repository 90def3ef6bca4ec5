"""Errors raised by business rules; views put them on the named form field."""


class DomainError(Exception):
    """A rule was broken. ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    """What the action is about does not exist (any more): views answer 404, the CLI says so."""


def apply_to_form(form, error: DomainError) -> None:
    """Show a domain error next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def commit_or_form_error(form, action) -> bool:
    """Run a business rule and commit the request's one transaction.

    On a broken rule the change is rolled back and the message lands on its form field, so
    every form view answers the same way: True to go on (redirect), False to show the form.
    """
    from blagis.extensions import db

    try:
        action()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        apply_to_form(form, error)
        return False
    return True
