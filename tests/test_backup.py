"""Backup and restore (manage.py backup / restore, portal/backup.py), on the session's database.

The main test fills the session database (the cast, hazards with evidence files, a ledger upload, a
signed monthly table), backs it up in-process, restores it with `manage.py restore` in a subprocess
into a FRESH database (a new SQLite file, or a new database on the session's PostgreSQL server) and an
empty media folder, and compares every row of every table, every file and the signed versions'
checksums. Runs in both sessions (SQLite and --db=postgresql): pg_dump needs committed rows, hence
transactional tests. The refusals (tampered archive, non-empty target, unsafe tar members) run
in-process against the session database and check that nothing changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.utils import load_backend

from hazards import services as hazard_services
from hazards.choices import EvidenceKind, HazardLevel, HazardStatus
from hazards.models import HazardEvidence, LedgerUpload
from inspections.models import EnforcementRecord
from portal.backup import model_tables, sha256_file
from reporting import services as report_services
from reporting.choices import ReportKind, VersionStatus
from reporting.models import ReportVersion
from tests.conftest import Cast, World
from tests.hazards.conftest import PNG_BYTES, catalogue, make_hazard  # noqa: F401 - catalogue is a fixture
from tests.hazards.ledger_xlsx import row, simple
from tests.reporting.conftest import accountability_campaign

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent
CREDIT_CODE = "91140525MA0K7XQ215"  # world.enterprise_a
NOT_INHERITED = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL", "DEBUG", "MEDIA_ROOT", "PORTAL_VAR_DIR"}


# --- the world that is backed up ------------------------------------------------------------------


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def add_evidence(cast: Cast, hazard: Any, label: str) -> HazardEvidence:
    data = PNG_BYTES + label.encode()
    return hazard_services.hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=io.BytesIO(data), original_name=f"{label}.png",
        kind=EvidenceKind.RECTIFICATION, description=f"整改照片 {label}",
    )  # fmt: skip


@pytest.fixture
def small_world(world: World, cast: Cast, catalogue: None, media: Path) -> World:  # noqa: F811
    """The cast and a hazard with two evidence files (cheap: no PDF)."""
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFYING)
    add_evidence(cast, hazard, "before")
    add_evidence(cast, hazard, "after")
    return world


@pytest.fixture
def full_world(small_world: World, cast: Cast, tmp_path: Path) -> World:
    """Also a ledger upload and a signed 追责问责情况统计表 (Excel and PDF with their checksums)."""
    world = small_world
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(simple([row("B-1"), row("B-2", "炸药库门锁损坏"), row("B-3", "排土场挡墙开裂")]))
    call_command("import_ledger", str(ledger), "--enterprise", CREDIT_CODE, stdout=io.StringIO())
    assert LedgerUpload.objects.count() == 1

    campaign = accountability_campaign(world.county)
    EnforcementRecord.objects.create(
        kind="talk_enterprise", issuing_unit=world.town_a, date=dt.date(2024, 5, 10),
        enterprise=world.enterprise_a, person_name="王建国",
    )  # fmt: skip
    report = report_services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=world.town_a, campaign=campaign, month=dt.date(2024, 5, 1), due_day=23
    )
    version = report_services.report_refresh(actor=None, report=report)
    version = report_services.report_submit(actor=cast.town_a_staff, version=version)
    signed = report_services.report_sign(
        actor=cast.county_leader, version=version, fingerprint=report_services.shown_fingerprint(version)
    )
    assert signed.status == VersionStatus.SIGNED and signed.pdf_sha256 and signed.xlsx_sha256
    return world


# --- what is compared -------------------------------------------------------------------------------


def table_rows(alias: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model table (and django_migrations), ordered by primary key."""
    from django.apps import apps

    tables: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables[model._meta.db_table] = model._meta.pk.column
    tables["django_migrations"] = "id"
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connections[alias].cursor() as cursor:
        for table, pk in sorted(tables.items()):
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"')  # noqa: S608 - model tables
            found[table] = [tuple(item) for item in cursor.fetchall()]
    return found


def media_hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def state(media: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts per table and the media files: what 'nothing changed' compares."""
    rows = table_rows("default")
    return {table: len(items) for table, items in rows.items()}, media_hashes(media)


def backup(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups"), stdout=out)
    archives = sorted((tmp_path / "backups").glob("*.tar.gz"))
    assert len(archives) == 1, out.getvalue()
    assert "备份完成" in out.getvalue()
    return archives[0]


# --- a fresh database to restore into -----------------------------------------------------------------


@dataclass
class Target:
    url: str
    alias: str
    media: Path
    var: Path


@pytest.fixture
def fresh(world: World, tmp_path: Path) -> Iterator[Target]:
    """A new, empty database of the session's kind (registered as the connection alias "restored")."""
    source = connection.settings_dict
    name = f"restored_{uuid.uuid4().hex[:8]}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        credentials = source["USER"] + (f":{source['PASSWORD']}" if source.get("PASSWORD") else "")
        url = f"postgres://{credentials}@{source['HOST']}:{source['PORT']}/{name}"
        restored = {**source, "NAME": name}
    else:
        path = tmp_path / f"{name}.sqlite3"
        url = f"sqlite:///{path}"
        restored = {**source, "NAME": str(path)}
    # Not in connections.settings: Django's test case allows connections it did not configure.
    wrapper = load_backend(restored["ENGINE"]).DatabaseWrapper(restored, "restored")
    connections["restored"] = wrapper
    try:
        yield Target(url=url, alias="restored", media=tmp_path / "restored-media", var=tmp_path / "restored-var")
    finally:
        wrapper.close()
        del connections["restored"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage_restore(target: Target, archive: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py restore` in its own process, configured like a deployment pointed at the fresh target."""
    connections[target.alias].close()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=target.url,
        MEDIA_ROOT=str(target.media),
        PORTAL_VAR_DIR=str(target.var),
    )
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


# --- the round trip -------------------------------------------------------------------------------------


def test_backup_restores_every_record_file_and_signed_checksum_into_a_fresh_database(
    full_world: World, media: Path, tmp_path: Path, fresh: Target
) -> None:
    archive = backup(tmp_path)
    assert Path(f"{archive}.sha256").read_text().split()[0] == sha256_file(archive)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = set(tar.getnames())
    source_rows = table_rows("default")
    source_files = media_hashes(media)

    # The manifest: counts per model, the latest migration per app, every file's hash, the signed checksums.
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["models"]["hazards.HazardEvidence"] == 2
    assert manifest["models"]["hazards.LedgerUpload"] == 1
    assert manifest["models"]["portal.User"] == len(source_rows["portal_user"]) > 0
    assert manifest["migrations"]["latest"]["reporting"].startswith("0")
    assert {f"media/{name}" for name in source_files} <= names
    assert {name: entry["sha256"] for name, entry in manifest["media"]["files"].items()} == source_files
    signed = ReportVersion.objects.get(status=VersionStatus.SIGNED)
    assert manifest["signed_report_versions"] == [
        {
            "id": signed.pk, "report_id": signed.report_id, "number": signed.number,
            "xlsx": {"path": signed.xlsx_file.name, "sha256": signed.xlsx_sha256, "ok": True},
            "pdf": {"path": signed.pdf_file.name, "sha256": signed.pdf_sha256, "ok": True},
        }
    ]  # fmt: skip
    kinds = {path.split("/")[0] for path in source_files}
    assert kinds == {"hazards", "reports"}  # evidence + ledger, the signed table's Excel and PDF

    result = manage_restore(fresh, archive)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "恢复完成" in result.stdout and "已签字报表版本：1 个" in result.stdout

    # Every row of every table is back, field for field; every file, byte for byte.
    restored_rows = table_rows(fresh.alias)
    assert restored_rows.keys() == source_rows.keys()
    for table, items in source_rows.items():
        assert restored_rows[table] == items, table
    assert sum(len(items) for items in source_rows.values()) > 100
    assert media_hashes(fresh.media) == source_files
    # The signed table's files still hash to the checksums stored at signing.
    restored_version = ReportVersion.objects.using(fresh.alias).get(status=VersionStatus.SIGNED)
    assert restored_version.pdf_sha256 == signed.pdf_sha256
    assert sha256_file(fresh.media / restored_version.pdf_file.name) == signed.pdf_sha256
    assert sha256_file(fresh.media / restored_version.xlsx_file.name) == signed.xlsx_sha256
    evidence = HazardEvidence.objects.using(fresh.alias).order_by("pk")
    assert [sha256_file(fresh.media / item.file.name) for item in evidence] == [item.sha256 for item in evidence]

    # The target now holds data: a second restore is refused without --force, and changes nothing.
    (fresh.media / "hazards" / "added-later.txt").write_bytes(b"x")
    again = manage_restore(fresh, archive)
    assert again.returncode == 1
    assert "恢复目标不是空的" in again.stderr and "--force" in again.stderr
    assert (fresh.media / "hazards" / "added-later.txt").exists()
    # With --force it replaces both (the extra file is gone).
    forced = manage_restore(fresh, archive, "--force")
    assert forced.returncode == 0, forced.stderr + forced.stdout
    assert media_hashes(fresh.media) == source_files
    assert table_rows(fresh.alias) == source_rows


# --- refusals: nothing changes ---------------------------------------------------------------------------


def rewrite(
    archive: Path, target: Path, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None
) -> Path:
    """A copy of `archive` with members changed (None drops a member) or added; no .sha256 beside it."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            changed = change(member.name, data)
            if changed is None:
                continue
            member.size = len(changed)
            copy.addfile(member, io.BytesIO(changed))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    return target


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def assert_refused(archive: Path, media: Path, message: str, *args: str) -> None:
    before = state(media)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(archive), *args, stdout=io.StringIO())
    assert state(media) == before


def test_a_tampered_or_damaged_archive_is_refused_and_nothing_changes(
    small_world: World, media: Path, tmp_path: Path
) -> None:
    archive = backup(tmp_path)
    evidence = HazardEvidence.objects.order_by("pk").first()
    assert evidence is not None
    evidence_member = f"media/{evidence.file.name}"
    database_member = "database.pgdump" if connection.vendor == "postgresql" else "database.sqlite3"
    cases: dict[str, tuple[Callable[[str, bytes], bytes | None], str]] = {
        "evidence": (
            lambda name, data: flip_last_byte(data) if name == evidence_member else data,
            "SHA-256 与清单不一致",
        ),
        "database": (lambda name, data: flip_last_byte(data) if name == database_member else data, "数据库文件"),
        "missing": (lambda name, data: None if name == evidence_member else data, "缺少文件"),
        "manifest": (lambda name, data: None if name == "manifest.json" else data, "缺少 manifest.json"),
    }
    # --force: the refusal comes from the checks, not from the target holding data.
    for label, (change, message) in cases.items():
        tampered = rewrite(archive, tmp_path / f"{label}.tar.gz", change)
        assert_refused(tampered, media, f"备份文件校验失败，未做任何更改：.*{message}", "--force")

    # A file the manifest does not list (also with --force).
    planted = rewrite(
        archive, tmp_path / "planted.tar.gz", lambda name, data: data, extra={"media/hazards/x.php": b"<?=1"}
    )
    assert_refused(planted, media, "清单未列出的文件", "--force")

    # The archive no longer matches the .sha256 written beside it; a truncated archive is not a backup.
    copied = tmp_path / "copied" / archive.name
    copied.parent.mkdir()
    copied.write_bytes(flip_last_byte(archive.read_bytes()))
    Path(f"{copied}.sha256").write_text(Path(f"{archive}.sha256").read_text())
    assert_refused(copied, media, r"与 .*\.sha256 不一致", "--force")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert_refused(truncated, media, "不是有效的备份文件或已损坏", "--force")


def test_a_target_holding_data_is_refused_without_force(small_world: World, media: Path, tmp_path: Path) -> None:
    archive = backup(tmp_path)
    call_command("createsuperuser", "--noinput", "--username", "added_after_backup", "--email", "a@example.cn")
    before = state(media)
    refusal = (
        r"恢复目标不是空的（用户 11 条；非煤矿山企业 4 条；事故隐患 1 条；上传文件目录 .* 中有 2 个文件）.*--force"
    )
    with pytest.raises(CommandError, match=refusal):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert state(media) == before


def unsafe_archive(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    manifest = json.dumps({"format": 1}).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("../escaped.txt"), "备份目录之外"),
        (tarfile.TarInfo("media/../../escaped.txt"), "备份目录之外"),
        (tarfile.TarInfo("/tmp/escaped-absolute.txt"), "备份目录之外"),
        (link("media/passwd", "/etc/passwd", tarfile.SYMTYPE), "链接或特殊文件"),
        (link("media/hazards/x.png", "../../../escaped.txt", tarfile.SYMTYPE), "链接或特殊文件"),
        (link("media/hard", "/etc/passwd", tarfile.LNKTYPE), "链接或特殊文件"),
        (tarfile.TarInfo("notes.txt"), "不属于备份的内容"),
    ],
    ids=["dotdot", "media-dotdot", "absolute", "symlink", "symlink-out", "hardlink", "unknown"],
)
def test_path_traversal_and_links_in_the_archive_are_refused(
    small_world: World, media: Path, tmp_path: Path, member: tarfile.TarInfo, message: str
) -> None:
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    archive = unsafe_archive(work / "evil.tar.gz", member, b"owned")
    assert_refused(archive, media, f"备份文件校验失败，未做任何更改：.*{message}", "--force")
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert not Path("/tmp/escaped-absolute.txt").exists()


def test_manifest_counts_cover_every_model(small_world: World, media: Path, tmp_path: Path) -> None:
    archive = backup(tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert set(manifest["models"]) == set(model_tables())
    counts = {table: len(items) for table, items in table_rows("default").items()}
    for label, table in model_tables().items():
        assert manifest["models"][label] == counts[table], label
    assert manifest["media"]["count"] == 2 and manifest["signed_report_versions"] == []


def test_a_freshly_migrated_database_counts_as_empty(db: None, catalogue: None, media: Path) -> None:  # noqa: F811
    """What `migrate` seeds (the catalogue, campaigns and their regions) does not need --force; users or files do."""
    from portal.backup import _occupied
    from tests.factories import RegionFactory, UserFactory

    county = RegionFactory(code="140525", name="泽州县")
    accountability_campaign(county)
    assert _occupied("default", media) == []
    (media / "hazards").mkdir(parents=True)
    (media / "hazards" / "left.png").write_bytes(PNG_BYTES)
    assert _occupied("default", media) == [f"上传文件目录 {media} 中有 1 个文件"]
    UserFactory(username="someone")
    assert _occupied("default", media)[0] == "用户 1 条"
