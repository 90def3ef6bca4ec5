"""A minimal cookie-keeping HTTP client for the tests that talk to a real server process.

No redirects followed; ``source`` picks the loopback address it connects from (each simulated
person gets its own rate-limit bucket, as real visitors do).
"""

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tests.conftest import PASSWORD


class Browser:
    def __init__(self, port: int | None = None, source: str = "127.0.0.1"):
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, *, port=None):
        conn = http.client.HTTPConnection(
            "127.0.0.1", port or self.port, timeout=120, source_address=(self.source, 0)
        )
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
            return response.status, text
        finally:
            conn.close()

    def token(self, path: str, *, port=None) -> str:
        status, html = self.request("GET", path, port=port)
        assert status == 200, (path, status)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD, *, port=None) -> int:
        token = self.token("/auth/login", port=port)
        data = {"csrf_token": token, "email": email, "password": password}
        status, _ = self.request("POST", "/auth/login", data, port=port)
        return status
