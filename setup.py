"""Build step of the package: compile the translation catalogues (``.po`` -> ``.mo``).

Everything else about the package is declared in ``pyproject.toml``. The compiled catalogues
are build output (never committed), so every way of installing Blagis must make them:

- ``pip install .`` / ``pip wheel .``: written into the build directory, hence into the wheel;
- ``pip install -e .``: setuptools runs the build sub-commands in *editable mode*, where output
  is expected next to the sources; the ``.mo`` is then written beside its ``.po``.

Babel is a build requirement (``[build-system] requires``) for this reason.
"""

from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build

HERE = Path(__file__).resolve().parent
PACKAGE = "blagis"
TRANSLATIONS = Path(PACKAGE, "translations")


class BuildCatalogues(Command):
    """Compile ``blagis/translations/<lang>/LC_MESSAGES/messages.po`` with Babel."""

    description = "compile the translation catalogues (.po -> .mo)"
    user_options: list = []

    def initialize_options(self):
        self.build_lib = None
        self.editable_mode = False

    def finalize_options(self):
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def _pairs(self) -> list[tuple[Path, Path, str]]:
        """(source .po, target .mo, language) for every catalogue."""
        root = HERE if self.editable_mode else Path(self.build_lib)
        pairs = []
        for po in sorted((HERE / TRANSLATIONS).glob("*/LC_MESSAGES/*.po")):
            relative = po.relative_to(HERE).with_suffix(".mo")
            pairs.append((po, root / relative, po.parent.parent.name))
        return pairs

    def run(self):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po, mo, lang in self._pairs():
            with po.open("rb") as source:
                catalog = read_po(source, locale=lang)
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as target:
                write_mo(target, catalog)
            self.announce(f"compiled {po.relative_to(HERE)} -> {mo}", level=2)

    # What setuptools asks a build sub-command (editable installs and the wheel's file list).
    def get_source_files(self):
        return [str(po.relative_to(HERE)) for po, _, _ in self._pairs()]

    def get_outputs(self):
        return [str(mo) for _, mo, _ in self._pairs()]

    def get_output_mapping(self):
        return {str(mo): str(po) for po, mo, _ in self._pairs()}


class BuildWithCatalogues(build):
    # Last: build_py has copied the package (and any stale .mo); the fresh one overwrites it.
    sub_commands = [*build.sub_commands, ("build_catalogues", None)]


setup(cmdclass={"build": BuildWithCatalogues, "build_catalogues": BuildCatalogues})
