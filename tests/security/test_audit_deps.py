"""security/audit_deps.py: a real advisory fails, "could not audit" is reported but fails only when strict."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "security" / "audit_deps.py"


@pytest.fixture
def audit() -> Any:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["audit_deps"]


def fake(audit: Any, monkeypatch: pytest.MonkeyPatch, *, report: Any, projects: dict[str, Any]) -> None:
    monkeypatch.setattr(audit, "installed", lambda python: {"django": "5.2.19", "six": "1.17.0", "redis": "6.4.0"})
    monkeypatch.setattr(audit, "run_pip_audit", lambda bin_dir: (report, "log"))
    monkeypatch.setattr(
        audit, "project_json", lambda name: (name, projects.get(name), "" if name in projects else "down")
    )


def skipped(*names: str) -> dict[str, Any]:
    return {"dependencies": [{"name": n, "skip_reason": "Dependency not found on PyPI"} for n in names]}


def test_a_vulnerability_from_pip_audit_fails(audit, monkeypatch, capsys):
    report = {
        "dependencies": [
            {
                "name": "Django",
                "version": "5.2.19",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["5.2.20"]}],
            },
            *skipped("six", "redis")["dependencies"],
        ]
    }
    fake(audit, monkeypatch, report=report, projects={"six": {"info": {"version": "1.17.0"}, "vulnerabilities": []}})
    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "django==5.2.19: PYSEC-1, CVE-1 (fixed in 5.2.20)" in out
    assert "audited by pip-audit (PyPI per-version advisories): 1" in out


def test_an_advisory_on_the_latest_release_fails(audit, monkeypatch, capsys):
    vuln = {"id": "GHSA-x", "aliases": [], "fixed_in": []}
    projects = {
        "six": {"info": {"version": "1.17.0"}, "vulnerabilities": [vuln]},
        "django": {"info": {"version": "5.2.19"}, "vulnerabilities": [{**vuln, "withdrawn": "2026-01-01"}]},
    }
    fake(audit, monkeypatch, report=skipped("django", "six", "redis"), projects=projects)
    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "six==1.17.0: GHSA-x (fixed in no fixed release)" in out
    assert "django==5.2.19: GHSA" not in out  # withdrawn


def test_could_not_audit_is_named_and_fails_only_when_strict(audit, monkeypatch, capsys):
    projects = {
        "django": {"info": {"version": "6.1.3"}, "vulnerabilities": []},
        "six": {"info": {"version": "1.17.0"}, "vulnerabilities": []},
    }
    fake(audit, monkeypatch, report=None, projects=projects)
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "COULD NOT BE AUDITED: 2" in out
    assert "django==5.2.19: 5.2.19 is not the latest release (6.1.3)" in out
    assert "redis==6.4.0: project JSON unreachable (down)" in out
    assert "No known vulnerability in the 1 distributions that could be audited." in out
    monkeypatch.setenv("PIP_AUDIT_STRICT", "1")
    assert audit.main() == 1
