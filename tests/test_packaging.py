"""The package as a deployer gets it: metadata, compiled catalogues in every install."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from babel.support import Translations

from blagis import create_app
from tests import conftest

ROOT = Path(__file__).resolve().parent.parent
MO = "blagis/translations/fr/LC_MESSAGES/messages.mo"


def fresh_checkout(tmp_path: Path) -> Path:
    """A copy of the repository as a fresh clone has it: no venv, no build output, no .mo."""
    target = tmp_path / "checkout"
    shutil.copytree(
        ROOT,
        target,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "venv",
            "node_modules",
            "instance",
            "build",
            "dist",
            "*.egg-info",
            "*.mo",
            "__pycache__",
            "test-artifacts",
            ".hypothesis",
            ".ruff_cache",
            ".pytest_cache",
        ),
    )
    assert not (target / MO).exists()
    return target


def test_license_is_an_spdx_string_and_the_build_backend_supports_it():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        pyproject = tomllib.load(fh)
    assert pyproject["project"]["license"] == "AGPL-3.0-or-later"
    requires = pyproject["build-system"]["requires"]
    assert "setuptools>=77" in requires  # the first release reading an SPDX expression
    assert any(r.lower().startswith("babel") for r in requires)  # setup.py compiles with it


@pytest.mark.slow
def test_wheel_carries_the_compiled_french_catalogue(tmp_path):
    checkout = fresh_checkout(tmp_path)
    # No build isolation: the test venv has setuptools and Babel, and may be offline.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(tmp_path / "dist"), str(checkout)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "project.license` as a TOML table is deprecated" not in output
    [wheel] = (tmp_path / "dist").glob("blagis-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert MO in archive.namelist()
        (tmp_path / "fr.mo").write_bytes(archive.read(MO))
    with open(tmp_path / "fr.mo", "rb") as fh:
        assert Translations(fh).gettext("Log in") == "Se connecter"
    assert not (checkout / MO).exists(), "a wheel build writes into its build directory only"


@pytest.mark.slow
def test_editable_install_compiles_the_catalogue_beside_the_sources(tmp_path):
    """``pip install -e .`` serves the package from the checkout: the .mo must be made there."""
    checkout = fresh_checkout(tmp_path)
    # What pip runs for `pip install -e .` (PEP 660), without installing into the test venv.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_editable(sys.argv[1])",
            str(tmp_path / "editable"),
        ],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with open(checkout / MO, "rb") as fh:
        assert Translations(fh).gettext("Log in") == "Se connecter"


def test_app_refuses_to_start_without_a_compiled_catalogue(tmp_path):
    translations = tmp_path / "translations"
    shutil.copytree(ROOT / "blagis" / "translations", translations)
    config = conftest.test_config(
        "sqlite:///" + str(tmp_path / "db.sqlite3"),
        BABEL_TRANSLATION_DIRECTORIES=str(translations),
    )
    create_app(config)  # the copy has the compiled catalogue: starts

    (translations / "fr" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(RuntimeError, match=r"'fr'.*pybabel compile -d blagis/translations"):
        create_app(config)
    # English is the language of the source strings: it needs no catalogue.
    create_app({**config, "BLAGIS_LOCALES": ("en",)})
