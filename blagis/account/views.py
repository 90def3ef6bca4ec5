from flask import Blueprint, render_template
from flask_login import current_user

from blagis import sections
from blagis.permissions import login_required

bp = Blueprint("account", __name__)


@bp.route("")
@login_required
def index():
    user = current_user._get_current_object()
    blocks = sections.render_data(sections.ACCOUNT, user)
    return render_template("account/index.html", user=user, blocks=blocks)
