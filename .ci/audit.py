#!/usr/bin/env python3
"""Audit the installed dependencies for known vulnerabilities, with pip-audit as the engine.

pip-audit's PyPI service asks PyPI for each installed release
(``https://pypi.org/pypi/<name>/<version>/json``). Some networks, this project's CI machines
among them, do not serve that endpoint (404) nor OSV (no DNS), while the project endpoint
``https://pypi.org/pypi/<name>/json`` answers; pip-audit then audits nothing. This script keeps
pip-audit's dependency source (``pip list``), auditor, PyPI service and output formats, and only
when that service cannot answer for a package asks the project endpoint instead. That document
lists the vulnerabilities of the **latest release** only (Warehouse's JSON API documentation),
so it audits a package only when the installed version is the latest one; any other package is
reported by name as not audited, with the reason.

Exit status 1 when a vulnerability is found, or when a package could not be audited only because
it is out of date while nothing installed holds it back (upgrading it makes it auditable). Other
packages that could not be audited (held back by a dependency's cap or by our Python version,
absent from PyPI, PyPI unreachable) are a loud warning, and a failure with ``--strict`` or
``AUDIT_STRICT=1``. Editable installs (Blagis itself) are skipped: bandit checks our code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path

import requests
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_audit import __version__ as PIP_AUDIT_VERSION
from pip_audit._audit import Auditor
from pip_audit._dependency_source import DependencySource, PipSource
from pip_audit._format import ColumnsFormat, JsonFormat, MarkdownFormat
from pip_audit._service import (
    ConnectionError,
    Dependency,
    PyPIService,
    ResolvedDependency,
    ServiceError,
    SkippedDependency,
    VulnerabilityResult,
    VulnerabilityService,
)

PYPI_JSON = "https://pypi.org/pypi"
TIMEOUT = 30


@dataclass
class NotAudited:
    """Why a package has no audit: `kind` decides whether that fails by default."""

    kind: str  # "outdated" (upgradable: fails), "held back", "not on PyPI", "unreachable"
    detail: str


@dataclass
class Requirements:
    """Who requires each package, and with which specifier, to tell "held back" from stale."""

    by_name: dict[str, list[tuple[str, Requirement]]] = field(default_factory=dict)

    def add(self, who: str, requirement: str) -> None:
        try:
            req = Requirement(requirement)
        except InvalidRequirement:
            return
        self.by_name.setdefault(canonicalize_name(req.name), []).append((who, req))

    @classmethod
    def installed(cls) -> Requirements:
        """The requirements of every distribution installed next to this interpreter."""
        reqs = cls()
        for dist in distributions():
            who = f"{dist.metadata['Name']} {dist.version}"
            for requirement in dist.requires or []:
                reqs.add(who, requirement)
        return reqs

    def caps(self, name: str, version: Version) -> list[str]:
        """The installed requirements on `name` that exclude `version`.

        A marker naming an extra is taken as applying (which extras were asked for at install
        time is not recorded), so this can call a package held back when only an unused extra
        holds it; the package is still listed as not audited.
        """
        found = []
        for who, req in self.by_name.get(canonicalize_name(name), []):
            if req.marker is not None:
                extras = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", str(req.marker)) or [""]
                if not any(req.marker.evaluate({"extra": extra}) for extra in extras):
                    continue
            if not req.specifier.contains(version, prereleases=True):
                found.append(f"{who} requires {req}")
        return found


class _Canned:
    """A stand-in for PyPIService's HTTP session that answers with a response already fetched."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response

    def get(self, url: str, timeout: int | None = None) -> requests.Response:
        return self.response


class _Rebased(requests.Session):
    """A session that sends requests for https://pypi.org/pypi/... to another base (tests)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if url.startswith(PYPI_JSON):
            url = self.base + url[len(PYPI_JSON) :]
        return super().request(method, url, *args, **kwargs)


class LatestReleaseService(VulnerabilityService):
    """Vulnerabilities from PyPI's project document, valid for its latest release only.

    When the installed version is that latest release, pip-audit's own PyPIService parses the
    document (same fields as the per-release one: `vulnerabilities` with ids, aliases, fixed_in,
    withdrawn). Otherwise the package is returned skipped and `self.not_audited` says why.
    """

    def __init__(self, requirements: Requirements, base: str = PYPI_JSON) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.requirements = requirements
        self.reader = PyPIService(timeout=TIMEOUT)
        self.not_audited: dict[str, NotAudited] = {}

    def _skip(self, spec: Dependency, kind: str, detail: str) -> tuple[Dependency, list]:
        self.not_audited[spec.canonical_name] = NotAudited(kind, detail)
        return SkippedDependency(name=spec.name, skip_reason=f"not audited: {detail}"), []

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        if spec.is_skipped():
            return spec, []
        assert isinstance(spec, ResolvedDependency)
        url = f"{self.base}/{spec.canonical_name}/json"
        try:
            response = self.session.get(url, timeout=TIMEOUT)
        except requests.RequestException as e:
            raise ConnectionError(f"{url}: {e}") from e
        if response.status_code == 404:
            return self._skip(spec, "not on PyPI", f"{spec.name} is not on PyPI ({url}: 404)")
        if response.status_code != 200:
            raise ServiceError(f"{url}: HTTP {response.status_code}")
        try:
            info = response.json()["info"]
            latest = Version(info["version"])
        except (ValueError, KeyError, TypeError, InvalidVersion) as e:
            raise ServiceError(f"{url}: unexpected document ({e})") from e

        if latest == spec.version:
            self.reader.session = _Canned(response)
            return self.reader.query(spec)

        detail = f"installed {spec.version}, latest {latest}"
        reasons = []
        if latest < spec.version:
            reasons.append("the installed version is newer than PyPI's latest release")
        try:
            requires_python = SpecifierSet(info.get("requires_python") or "")
        except InvalidSpecifier:
            requires_python = SpecifierSet()
        if not requires_python.contains(platform.python_version(), prereleases=True):
            name = info.get("name", spec.name)
            reasons.append(f"{name} {latest} requires Python {requires_python}")
        reasons += self.requirements.caps(spec.name, latest)
        if reasons:
            return self._skip(spec, "held back", f"{detail}; held back: {'; '.join(reasons)}")
        return self._skip(
            spec,
            "outdated",
            f"{detail}; nothing installed holds it back: upgrade it "
            f"(pip install --upgrade {spec.canonical_name}) and it can be audited",
        )


class FallbackService(VulnerabilityService):
    """pip-audit's PyPIService first; for a package it cannot answer, the project document.

    On a network that serves the per-release API this is exactly pip-audit's default audit.
    After a connection failure a service is not asked again (no 80 timeouts in a row).
    """

    def __init__(self, primary: VulnerabilityService, fallback: LatestReleaseService) -> None:
        self.primary = primary
        self.fallback = fallback
        self.primary_down: str | None = None
        self.fallback_down: str | None = None
        self.answered_by: dict[str, str] = {}

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        if spec.is_skipped():
            return spec, []
        if self.primary_down is None:
            try:
                dep, vulns = self.primary.query(spec)
                if not dep.is_skipped():
                    self.answered_by[spec.canonical_name] = "release"
                    return dep, vulns
            except (ConnectionError, requests.ConnectionError, requests.Timeout) as e:
                self.primary_down = str(e)
            except (ServiceError, requests.RequestException):
                pass  # e.g. a 5xx for this package: the project document may still answer
        if self.fallback_down is None:
            try:
                dep, vulns = self.fallback.query(spec)
                if not dep.is_skipped():
                    self.answered_by[spec.canonical_name] = "project"
                return dep, vulns
            except ConnectionError as e:
                self.fallback_down = str(e)
            except ServiceError as e:
                return self.fallback._skip(spec, "unreachable", f"PyPI answered badly: {e}")
        return self.fallback._skip(
            spec, "unreachable", f"PyPI could not be queried ({self.fallback_down})"
        )


class ListedSource(DependencySource):
    """Packages listed in a JSON file instead of this environment (tests, other machines).

    The file is a list of {"name", "version", optionally "requires": [requirement strings]},
    i.e. `pip list --format json` plus what each package requires.
    """

    def __init__(self, entries: list[dict]) -> None:
        self.entries = entries

    def collect(self) -> Iterator[Dependency]:
        for entry in self.entries:
            yield ResolvedDependency(name=entry["name"], version=Version(entry["version"]))

    def fix(self, fix_version) -> None:  # pragma: no cover - never asked to fix
        raise NotImplementedError

    def requirements(self) -> Requirements:
        reqs = Requirements()
        for entry in self.entries:
            for requirement in entry.get("requires", []):
                reqs.add(f"{entry['name']} {entry['version']}", requirement)
        return reqs


FORMATS = {
    "columns": lambda: ColumnsFormat(output_desc=False, output_aliases=True),
    "markdown": lambda: MarkdownFormat(output_desc=False, output_aliases=True),
    "json": lambda: JsonFormat(output_desc=True, output_aliases=True),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="fail on any package not audited")
    parser.add_argument("--format", choices=sorted(FORMATS), default="columns")
    parser.add_argument("--pypi-url", default=PYPI_JSON, help="base of PyPI's JSON API (tests)")
    parser.add_argument("--installed", type=Path, help="audit the packages listed in this file")
    args = parser.parse_args(argv)
    strict = args.strict or os.environ.get("AUDIT_STRICT", "") not in ("", "0")

    source: DependencySource
    if args.installed:
        source = ListedSource(json.loads(args.installed.read_text()))
        requirements = source.requirements()
    else:
        source = PipSource(local=True, skip_editable=True)
        requirements = Requirements.installed()
    primary = PyPIService(timeout=TIMEOUT)
    if args.pypi_url.rstrip("/") != PYPI_JSON:
        primary.session = _Rebased(args.pypi_url)
    service = FallbackService(primary, LatestReleaseService(requirements, args.pypi_url))

    result: dict[Dependency, list[VulnerabilityResult]] = {}
    editable: list[str] = []
    for dep, vulns in Auditor(service).audit(source):
        result[dep] = vulns
        if isinstance(dep, SkippedDependency) and dep.canonical_name not in (
            service.fallback.not_audited
        ):
            editable.append(f"{dep.name} ({dep.skip_reason})")

    not_audited = service.fallback.not_audited
    audited = [d for d in result if not d.is_skipped()]
    vulnerable = {d: v for d, v in result.items() if v}
    vuln_count = sum(len(v) for v in vulnerable.values())
    by_release = sum(1 for how in service.answered_by.values() if how == "release")
    by_project = len(audited) - by_release

    out = sys.stdout if args.format != "json" else sys.stderr
    if args.format == "json":
        print(FORMATS["json"]().format(result, []))
    elif vulnerable:
        print(FORMATS[args.format]().format(vulnerable, []))

    print(f"Dependency audit (pip-audit {PIP_AUDIT_VERSION} as the engine)", file=out)
    print(
        f"  {by_release} answered by PyPI's per-release API (pip-audit's own service), "
        f"{by_project} by the project API (installed version = latest release)",
        file=out,
    )
    if service.primary_down:
        print(f"  per-release API unreachable: {service.primary_down}", file=out)
    for name in editable:
        print(f"  skipped: {name}, our own code (bandit checks it)", file=out)
    for name, why in sorted(not_audited.items()):
        print(f"  NOT AUDITED: {name}: {why.detail}", file=out)
    names = ", ".join(sorted(not_audited)) or "none"
    print(
        f"Summary: {len(audited)} packages audited, {vuln_count} "
        f"{'vulnerability' if vuln_count == 1 else 'vulnerabilities'}"
        + (f" (in {', '.join(sorted(d.canonical_name for d in vulnerable))})" if vulnerable else "")
        + f", {len(not_audited)} not audited ({names})",
        file=out,
    )

    failures = []
    if vuln_count:
        failures.append(f"{vuln_count} known vulnerabilities: upgrade to a fix version above")
    outdated = sorted(n for n, why in not_audited.items() if why.kind == "outdated")
    if outdated:
        failures.append(
            f"out of date, hence not audited: {', '.join(outdated)}; upgrade them: "
            f"{sys.executable} -m pip install --upgrade {' '.join(outdated)}"
        )
    others = sorted(n for n, why in not_audited.items() if why.kind != "outdated")
    if others and strict:
        failures.append(f"not audited (AUDIT_STRICT): {', '.join(others)}")
    elif others:
        print(
            f"WARNING: {len(others)} packages NOT audited: {', '.join(others)} "
            "(AUDIT_STRICT=1 makes this a failure).",
            file=out,
        )
    for failure in failures:
        print(f"FAILED: {failure}", file=out)
    if not failures:
        print(f"OK: no known vulnerability in the {len(audited)} audited packages.", file=out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
