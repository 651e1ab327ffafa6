"""scripts/split_modules.py, the reproducible split of monolithic modules into packages (issue 12 §4): run
on a small module of its own, it moves each definition with its comments, imports siblings' names,
re-exports what other code reads, and fails loudly — touching nothing — on an unplaced name, an import
cycle between submodules or a module already split."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent

SOURCE = '''\
"""Writes of the demo app."""

from __future__ import annotations

import datetime as dt

LIMIT = 3


def _helper(value: int) -> int:
    return min(value, LIMIT)


# Why this exists: the comment travels with the function.
def public(value: int) -> dt.date:
    return dt.date(2024, 1, _helper(value))


def other() -> int:
    return LIMIT
'''
READER = """\
from splitdemo import services
from splitdemo.services import public

CHECKED = ("splitdemo.services", "other")


def read() -> int:
    return services._helper(5) + public(1).day
"""
MAPPING = {"splitdemo.services": {"base": ["LIMIT", "_helper"], "api": ["public"], "extra": ["other"]}}
DOCS = {f"splitdemo.services.{name}": f"The {name} room." for name in ("base", "api", "extra")}


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("split_modules", REPO / "scripts" / "split_modules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "split_modules", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    app = tmp_path / "splitdemo"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "services.py").write_text(SOURCE)
    (app / "views.py").write_text(READER)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "SPLITS", MAPPING)
    monkeypatch.setattr(module, "DOCSTRINGS", DOCS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield module
    for name in [n for n in sys.modules if n.startswith("splitdemo")]:
        del sys.modules[name]


def test_the_split_moves_definitions_and_keeps_every_import_working(script: ModuleType, tmp_path: Path) -> None:
    assert script.main([]) == 0
    package = tmp_path / "splitdemo" / "services"
    assert not (tmp_path / "splitdemo" / "services.py").exists()
    assert sorted(p.name for p in package.iterdir() if p.suffix == ".py") == [
        "__init__.py", "api.py", "base.py", "extra.py",
    ]  # fmt: skip
    api = (package / "api.py").read_text()
    assert api.startswith('"""The api room."""')
    assert "from splitdemo.services.base import _helper" in api and "import datetime as dt" in api
    assert "# Why this exists: the comment travels with the function.\ndef public" in api
    assert "import datetime" not in (package / "extra.py").read_text()  # unused imports are dropped
    init = (package / "__init__.py").read_text()
    assert "_helper as _helper" in init  # read by views.py as services._helper
    assert '"LIMIT"' in init and '"public"' in init and '"other"' in init and '"_helper"' not in init
    views = importlib.import_module("splitdemo.views")
    assert views.read() == 3 + 1
    assert importlib.import_module("splitdemo.services").other() == 3
    # Run again: the module is a package now, and nothing is split twice.
    assert script.main([]) == 1


def test_a_name_the_mapping_does_not_place_fails_and_touches_nothing(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "splitdemo" / "services.py"
    source.write_text(
        SOURCE
        + textwrap.dedent('''

        def added_since() -> None:
            """A function someone added on another branch."""
        ''')
    )
    assert script.main([]) == 1
    assert "names the mapping does not place: added_since" in capsys.readouterr().err
    assert source.exists() and not (tmp_path / "splitdemo" / "services").exists()


def test_submodules_importing_each_other_are_refused(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        script, "SPLITS", {"splitdemo.services": {"base": ["LIMIT", "public"], "api": ["_helper"], "extra": ["other"]}}
    )
    assert script.main([]) == 1
    assert "submodules import each other" in capsys.readouterr().err
    assert (tmp_path / "splitdemo" / "services.py").exists()
