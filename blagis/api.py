"""Open data responses: JSON with an ETag so that re-users can ask « has it changed? ».

The ETag is a hash of the body: a client sending ``If-None-Match`` with it gets a 304 and no
body. ``Vary: Accept-Language, Cookie`` because the titles follow the language chosen.
"""

import hashlib

from flask import current_app, request

MAX_AGE = 60  # seconds: lists change when staff publish, a minute of staleness is fine


def cached_json(payload: dict, max_age: int = MAX_AGE):
    """A JSON response with a strong ETag (SHA-256 of the body), answering 304 when it matches."""
    body = current_app.json.dumps(payload).encode("utf-8")
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.vary.update(("Accept-Language", "Cookie"))
    return response.make_conditional(request)
