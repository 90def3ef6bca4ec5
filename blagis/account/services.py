"""Changing one's own profile (``/account/edit``)."""

from flask_babel import gettext as _

from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Commune, User
from blagis.sms import consented_number
from blagis.sms.optout import drop_waiting
from blagis.sms.phone import international


def update_profile(
    user: User,
    *,
    display_name: str,
    commune_code: str | None,
    locale: str,
    phone: str | None,
    sms_ok: bool,
) -> None:
    """Save the profile (flush; the view commits). A number is kept in international form;
    SMS consent needs a mobile number. Withdrawing consent, or changing the number, drops the
    SMS still waiting for the old number."""
    display_name = (display_name or "").strip()
    if not 2 <= len(display_name) <= 80:
        raise DomainError(_("Between 2 and 80 characters."), field="display_name")
    if commune_code and db.session.get(Commune, commune_code) is None:
        raise DomainError(_("Choose your commune."), field="commune")
    phone = (phone or "").strip() or None
    number = international(phone)
    if phone and number is None:
        raise DomainError(_("Enter a phone number, like 06 12 34 56 78."), field="phone")
    if sms_ok and consented_number(number, True) is None:
        raise DomainError(
            _("To receive SMS, give a mobile phone number (06 or 07)."), field="phone"
        )
    old = consented_number(user.phone, user.sms_ok)
    user.display_name = display_name
    user.commune_code = commune_code or None
    user.locale = locale
    user.phone = number
    user.sms_ok = bool(sms_ok)
    db.session.flush()
    if old and old != consented_number(user.phone, user.sms_ok):
        drop_waiting(old)
        db.session.flush()
