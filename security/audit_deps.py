"""Audit the installed dependencies for known vulnerabilities (make security; see security/pip-audit.md).

1. pip-audit over the virtualenv that the tests run in (the exact versions requirements*.txt installed),
   with its PyPI service: https://pypi.org/pypi/<name>/<version>/json, the advisories of that version.
2. Every package pip-audit could not audit (that endpoint unreachable or 404) is looked up in PyPI's
   project JSON, https://pypi.org/pypi/<name>/json: its `vulnerabilities` are those of the LATEST release,
   so they say something about our pin only when the pin is the latest release. Then they are used as
   the audit of that package; otherwise the package is listed as not audited, with the newer release.

Exit status: 1 when a known vulnerability affects an installed version (a real finding, whichever step
found it); 0 otherwise, with every package that could not be audited named in the output — an
unreachable vulnerability service does not fail CI by itself. PIP_AUDIT_STRICT=1 makes "could not
audit" fail too (for a machine that reaches the services).
"""

from __future__ import annotations

import json
import os
import re
import subprocess  # nosec B404 # runs pip-audit and pip, fixed argument lists
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
TIMEOUT = 15


def installed(python: str) -> dict[str, str]:
    """Canonical name → version of every distribution in the virtualenv."""
    out = subprocess.run(  # nosec B603 # our own interpreter, fixed arguments
        [python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {canonical(row["name"]): row["version"] for row in json.loads(out)}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run_pip_audit(bin_dir: Path) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report (None when it did not produce one) and its stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "pip-audit.json"
        done = subprocess.run(  # nosec B603 # pip-audit from our virtualenv, fixed arguments
            [
                str(bin_dir / "pip-audit"),
                "--local",
                "--vulnerability-service",
                "pypi",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    return data, (done.stderr or "") + (done.stdout or "")


def project_json(name: str) -> tuple[str, dict[str, Any] | None, str]:
    url = PROJECT_JSON.format(name=name)
    if not url.startswith("https://"):  # pragma: no cover - the constant above
        raise ValueError(url)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310  # nosec B310 # a fixed https URL
            return name, json.load(response), ""
    except (urllib.error.URLError, TimeoutError, ValueError, OSError) as error:
        return name, None, f"{type(error).__name__}: {error}"


def advisories(entries: list[dict[str, Any]] | None) -> list[str]:
    """The ids (with aliases and fixed versions) of the PyPI advisories that are not withdrawn."""
    found = []
    for entry in entries or []:
        if entry.get("withdrawn"):
            continue
        ids = ", ".join([entry.get("id", "?"), *entry.get("aliases", [])])
        fixed = ", ".join(entry.get("fixed_in") or []) or "no fixed release"
        found.append(f"{ids} (fixed in {fixed})")
    return found


def main() -> int:
    bin_dir = Path(sys.executable).parent
    versions = installed(sys.executable)
    strict = os.environ.get("PIP_AUDIT_STRICT") == "1"

    data, log = run_pip_audit(bin_dir)
    vulnerable: dict[str, list[str]] = {}
    audited_by_pip_audit: set[str] = set()
    if data is None:
        print("pip-audit produced no report; its output:\n" + log.strip())
    else:
        for dep in data.get("dependencies", []):
            name = canonical(dep["name"])
            if "skip_reason" in dep:
                continue
            audited_by_pip_audit.add(name)
            found = advisories([{**v, "fixed_in": v.get("fix_versions")} for v in dep.get("vulns", [])])
            if found:
                vulnerable[name] = found

    rest = sorted(set(versions) - audited_by_pip_audit)
    audited_latest: set[str] = set()
    not_audited: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, body, error in pool.map(project_json, rest):
            if body is None:
                not_audited[name] = f"project JSON unreachable ({error})"
                continue
            latest = body.get("info", {}).get("version", "")
            if latest != versions[name]:
                not_audited[name] = f"{versions[name]} is not the latest release ({latest or 'unknown'})"
                continue
            audited_latest.add(name)
            found = advisories(body.get("vulnerabilities"))
            if found:
                vulnerable[name] = found

    total = len(versions)
    print(f"pip-audit: {total} installed distributions")
    print(f"  audited by pip-audit (PyPI per-version advisories): {len(audited_by_pip_audit)}")
    print(f"  audited through the project JSON (the pin is the latest release): {len(audited_latest)}")
    print(f"  COULD NOT BE AUDITED: {len(not_audited)}")
    for name, why in sorted(not_audited.items()):
        print(f"    {name}=={versions[name]}: {why}")
    if vulnerable:
        print(f"KNOWN VULNERABILITIES in {len(vulnerable)} installed distributions:")
        for name, found in sorted(vulnerable.items()):
            for line in found:
                print(f"    {name}=={versions[name]}: {line}")
        return 1
    print(f"No known vulnerability in the {total - len(not_audited)} distributions that could be audited.")
    if not_audited:
        print(
            f"{len(not_audited)} distributions were NOT audited (see security/pip-audit.md); "
            + ("PIP_AUDIT_STRICT=1: failing." if strict else "set PIP_AUDIT_STRICT=1 to fail on this.")
        )
        return 1 if strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
