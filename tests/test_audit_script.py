"""The dependency audit (.ci/audit.py) against a fake PyPI on loopback: no internet needed.

The project documents are real PyPI answers saved on a CI machine (trimmed to the fields the
audit reads). No latest release of our dependencies carried a vulnerability that day, so the
vulnerability entries are written in the shape PyPI serves them (OSV fields: id, aliases,
details, fixed_in, withdrawn), the first one being setuptools' real PYSEC-2022-43012.
"""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "audit.py"


def project(name, version, requires_python, vulnerabilities=()):
    """A PyPI project document (https://pypi.org/pypi/<name>/json), trimmed."""
    return {
        "info": {"name": name, "version": version, "requires_python": requires_python},
        "vulnerabilities": list(vulnerabilities),
    }


# Saved from https://pypi.org/pypi/<name>/json on the CI machine.
FLASK = project("Flask", "3.1.3", ">=3.9")
REDIS = project("redis", "8.1.0", ">=3.10")
DEPRECATED = project("Deprecated", "3.0.1", ">=3.12")
SETUPTOOLS = project("setuptools", "84.2.1", ">=3.10")

SETUPTOOLS_REDOS = {
    "id": "PYSEC-2022-43012",
    "aliases": ["CVE-2022-40897"],
    "summary": None,
    "details": "Python Packaging Authority (PyPA) setuptools before 65.5.1 allows remote "
    "attackers to cause a denial of service via HTML in a crafted package or custom "
    "PackageIndex page.",
    "fixed_in": ["65.5.1"],
    "link": "https://osv.dev/vulnerability/PYSEC-2022-43012",
    "source": "osv",
    "withdrawn": None,
}
UNFIXED = {
    "id": "GHSA-xxxx-yyyy-zzzz",
    "aliases": ["CVE-2099-0001"],
    "summary": "Example flaw in the latest release",
    "details": "Not fixed yet.",
    "fixed_in": [],
    "link": "https://osv.dev/vulnerability/GHSA-xxxx-yyyy-zzzz",
    "source": "osv",
    "withdrawn": None,
}
WITHDRAWN = dict(UNFIXED, id="PYSEC-2099-1", aliases=[], withdrawn="2099-01-02T00:00:00Z")


class FakePyPI:
    """Serves {path: document}; anything else is a 404, as PyPI's per-release API is here."""

    def __init__(self):
        self.routes: dict[str, dict] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                doc = fake.routes.get(self.path)
                body = json.dumps(doc if doc is not None else {"message": "Not Found"}).encode()
                self.send_response(200 if doc is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pypi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def project(self, doc):
        self.routes[f"/pypi/{canonicalize_name(doc['info']['name'])}/json"] = doc

    def release(self, name, version, vulnerabilities):
        self.routes[f"/pypi/{name}/{version}/json"] = {
            "info": {"name": name, "version": version},
            "vulnerabilities": vulnerabilities,
        }


@pytest.fixture
def pypi():
    fake = FakePyPI()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def run_audit(url, installed=None, tmp_path=None, strict=False):
    args = [sys.executable, str(SCRIPT), "--pypi-url", url]
    if installed is not None:
        listing = tmp_path / "installed.json"
        listing.write_text(json.dumps(installed))
        args += ["--installed", str(listing)]
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_STRICT"}
    if strict:
        env["AUDIT_STRICT"] = "1"
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    return done.returncode, done.stdout + done.stderr


def test_per_release_api_is_used_when_served(pypi, tmp_path):
    """On a normal network pip-audit's own PyPI service answers, and its finding fails."""
    pypi.release("setuptools", "65.5.0", [SETUPTOOLS_REDOS])
    pypi.project(SETUPTOOLS)
    rc, out = run_audit(pypi.url, [{"name": "setuptools", "version": "65.5.0"}], tmp_path)
    assert rc == 1, out
    assert "PYSEC-2022-43012" in out and "CVE-2022-40897" in out and "65.5.1" in out
    assert "1 answered by PyPI's per-release API" in out
    assert "Summary: 1 packages audited, 1 vulnerability (in setuptools), 0 not audited" in out
    assert pypi.requests == ["/pypi/setuptools/65.5.0/json"]


def test_latest_release_is_audited_from_the_project_api(pypi, tmp_path):
    pypi.project(FLASK)
    rc, out = run_audit(pypi.url, [{"name": "Flask", "version": "3.1.3"}], tmp_path, strict=True)
    assert rc == 0, out
    assert "0 answered by PyPI's per-release API" in out
    assert "1 by the project API" in out
    assert "Summary: 1 packages audited, 0 vulnerabilities, 0 not audited (none)" in out
    assert pypi.requests == ["/pypi/flask/3.1.3/json", "/pypi/flask/json"]


def test_vulnerability_of_the_latest_release_fails(pypi, tmp_path):
    pypi.project(project("Flask", "3.1.3", ">=3.9", [UNFIXED, WITHDRAWN]))
    rc, out = run_audit(pypi.url, [{"name": "Flask", "version": "3.1.3"}], tmp_path)
    assert rc == 1, out
    assert "GHSA-xxxx-yyyy-zzzz" in out and "CVE-2099-0001" in out
    assert "PYSEC-2099-1" not in out  # withdrawn
    assert "1 vulnerability (in flask)" in out
    assert "FAILED: 1 known vulnerabilities" in out


def test_outdated_package_nothing_holds_back_fails(pypi, tmp_path):
    """Not the latest release, and upgradable: upgrading makes it auditable, so it fails."""
    pypi.project(SETUPTOOLS)
    rc, out = run_audit(pypi.url, [{"name": "setuptools", "version": "65.5.0"}], tmp_path)
    assert rc == 1, out
    assert "NOT AUDITED: setuptools: installed 65.5.0, latest 84.2.1" in out
    assert "pip install --upgrade setuptools" in out
    assert "0 packages audited, 0 vulnerabilities, 1 not audited (setuptools)" in out
    assert "FAILED: out of date, hence not audited: setuptools" in out


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Deprecated 3.0.1 needs Python 3.12")
def test_held_back_packages_are_named_and_fail_only_when_strict(pypi, tmp_path):
    pypi.project(REDIS)
    pypi.project(DEPRECATED)
    pypi.project(FLASK)
    installed = [
        {"name": "redis", "version": "7.4.1"},
        {"name": "Deprecated", "version": "1.3.1"},
        {"name": "Flask", "version": "3.1.3"},
        {
            "name": "limits",
            "version": "5.8.0",
            "requires": ['redis!=4.5.2,!=4.5.3,<8.0.0,>3; extra == "redis"', "deprecated>=1.2"],
        },
    ]
    pypi.project(project("limits", "5.8.0", ">=3.10"))
    rc, out = run_audit(pypi.url, installed, tmp_path)
    assert rc == 0, out
    assert (
        "NOT AUDITED: redis: installed 7.4.1, latest 8.1.0; held back: limits 5.8.0 requires "
        'redis!=4.5.2,!=4.5.3,<8.0.0,>3; extra == "redis"' in out
    )
    assert (
        "NOT AUDITED: deprecated: installed 1.3.1, latest 3.0.1; "
        "held back: Deprecated 3.0.1 requires Python >=3.12" in out
    )
    assert "2 packages audited, 0 vulnerabilities, 2 not audited (deprecated, redis)" in out
    assert "WARNING: 2 packages NOT audited: deprecated, redis" in out

    rc, out = run_audit(pypi.url, installed, tmp_path, strict=True)
    assert rc == 1, out
    assert "FAILED: not audited (AUDIT_STRICT): deprecated, redis" in out


def test_package_absent_from_pypi(pypi, tmp_path):
    installed = [{"name": "Flask", "version": "3.1.3"}, {"name": "in-house", "version": "1.0"}]
    pypi.project(FLASK)
    rc, out = run_audit(pypi.url, installed, tmp_path)
    assert rc == 0, out
    assert "NOT AUDITED: in-house: in-house is not on PyPI" in out
    rc, out = run_audit(pypi.url, installed, tmp_path, strict=True)
    assert rc == 1, out


def test_pypi_unreachable_is_not_a_pass(tmp_path):
    """Nothing listens there: every package is named as not audited, and strict fails."""
    fake = FakePyPI()  # bound, never served, then closed: connection refused
    url = fake.url
    fake.server.server_close()
    installed = [{"name": "Flask", "version": "3.1.3"}, {"name": "redis", "version": "7.4.1"}]
    rc, out = run_audit(url, installed, tmp_path)
    assert rc == 0, out
    assert "0 packages audited, 0 vulnerabilities, 2 not audited (flask, redis)" in out
    assert "per-release API unreachable" in out
    assert "NOT AUDITED: redis: PyPI could not be queried" in out
    rc, out = run_audit(url, installed, tmp_path, strict=True)
    assert rc == 1, out


def test_this_environment_through_pip_list(pypi):
    """The real dependency source (pip list) on this venv, every package at its latest."""
    names = set()
    for dist in distributions():
        name, version = dist.metadata["Name"], dist.version
        names.add(canonicalize_name(name))
        pypi.project(project(name, version, None))
    rc, out = run_audit(pypi.url)
    assert rc == 0, out
    assert "0 vulnerabilities, 0 not audited (none)" in out
    audited = int(out.split("Summary: ")[1].split(" packages audited")[0])
    assert 20 < audited <= len(names)
    assert "skipped: blagis (distribution marked as editable)" in out
