"""Development only: the outbox's messages, readable in the browser at ``/dev/mail``.

On the embedded default (``make run``) there is no mail server: the ``send-mail --loop`` worker
that ``make run`` starts beside the server prints each message to the console and marks it
sent. This page shows the same messages with working links, so that someone trying the site
can follow the link that confirms the account they just created. It is registered only when
``BLAGIS_ENV=development``: anywhere else ``/dev/mail`` is a 404 (it shows every recipient).
"""

from flask import Blueprint, render_template
from sqlalchemy import select

from blagis.extensions import db
from blagis.mail.queue import text_to_html
from blagis.models import OutboxMessage

bp = Blueprint("dev_mail", __name__)
SHOWN = 30


@bp.get("/mail")
def index():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    ).all()
    return render_template(
        "dev/mail.html", messages=messages, shown=SHOWN, text_to_html=text_to_html
    )


def init_app(app) -> None:
    if app.config["BLAGIS_ENV"] == "development":
        app.register_blueprint(bp, url_prefix="/dev")
