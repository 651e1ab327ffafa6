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
import gzip
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.utils import load_backend

from hazards import services as hazard_services
from hazards.choices import EvidenceKind, HazardLevel, HazardStatus
from hazards.models import HazardEvidence, LedgerUpload
from inspections.models import EnforcementRecord
from portal import backup_signing
from portal.backup import _check_schema, find_binary, model_tables, opened_archive, pg_environment, sha256_file
from portal.choices import AuditKind
from portal.models import AuditEvent, User
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
        BACKUP_SIGNING_KEY_FILE=str(settings.BACKUP_SIGNING_KEY_FILE),
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
    take_restore_audit_row(fresh, archive, manifest, forced=False)

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
    # The replaced database's own restore row went with it: exactly the new one is there.
    take_restore_audit_row(fresh, archive, manifest, forced=True)
    assert table_rows(fresh.alias) == source_rows


def take_restore_audit_row(target: Target, archive: Path, manifest: dict[str, Any], *, forced: bool) -> None:
    """The one backup.restored row the restore wrote into the restored database, with the archive's manifest
    facts; deleted afterwards so that the rest of the database compares equal to the source."""
    rows = AuditEvent.objects.using(target.alias).filter(kind=AuditKind.BACKUP_RESTORED)
    event = rows.get()
    assert (event.action, event.actor_id, event.actor_name, event.region_path) == ("import", None, "manage.py", "")
    assert event.extra["file"] == archive.name and event.extra["sha256"] == sha256_file(archive)
    assert event.extra["created_at"] == manifest["created_at"]
    assert event.extra["tables"] == manifest["tables"] and event.extra["models"] == manifest["models"]
    assert event.extra["rows"] == sum(manifest["tables"].values())
    assert event.extra["files"] == manifest["media"]["count"]
    assert (event.extra["forced"], event.extra["unsigned"]) == (forced, False)
    assert archive.name in event.detail
    rows.delete()


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


def test_a_refused_restore_writes_no_audit_row_but_logs_a_warning(
    small_world: World, media: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = backup(tmp_path)
    tampered = rewrite(archive, tmp_path / "tampered.tar.gz", lambda name, data: data, extra={"media/x.php": b"<?"})
    audit_rows = AuditEvent.objects.count()
    with caplog.at_level("WARNING", logger="portal.backup"):
        assert_refused(tampered, media, "清单未列出的文件", "--force")
    assert AuditEvent.objects.count() == audit_rows
    assert not AuditEvent.objects.filter(kind=AuditKind.BACKUP_RESTORED).exists()
    [record] = [r for r in caplog.records if r.name == "portal.backup"]
    assert record.levelname == "WARNING" and "tampered.tar.gz" in record.getMessage()
    assert "清单未列出的文件" in record.getMessage()


def test_only_a_superuser_reads_the_restore_in_the_audit_log(cast: Cast, tmp_path: Path) -> None:
    """Filed under no region: a restore replaced every county's data, so no county's admin reads it."""
    from django.test import Client

    from portal import audit_events
    from tests.factories import UserFactory

    manifest = {"created_at": "2026-12-01T10:00:00+08:00", "tables": {"portal_user": 3}, "models": {},
                "database": {"sha256": "ab"}, "media": {"count": 2}}  # fmt: skip
    audit_events.backup_restored(
        archive="portal-backup-20261201-100000.tar.gz", manifest=manifest, archive_sha256="cd", forced=True,
        unsigned=False,
    )  # fmt: skip
    root = UserFactory(username="root", role="", is_superuser=True, is_staff=True)
    seen = {}
    for user in (root, cast.admin, cast.county_staff):
        client = Client()
        client.force_login(user)
        response = client.get("/audit/", {"kind": "backup."})
        seen[user.username] = (
            response.status_code,
            "portal-backup-20261201-100000.tar.gz" in response.content.decode(),
        )
    assert seen == {"root": (200, True), "admin": (200, False), "county": (403, False)}


def test_a_target_holding_data_is_refused_without_force(small_world: World, media: Path, tmp_path: Path) -> None:
    archive = backup(tmp_path)
    call_command("createsuperuser", "--noinput", "--username", "added_after_backup", "--email", "a@example.cn")
    before = state(media)
    refusal = (  # the files: two evidence photos and the thumbnails made of them on upload
        r"恢复目标不是空的（用户 11 条；非煤矿山企业 4 条；事故隐患 1 条；上传文件目录 .* 中有 4 个文件）.*--force"
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
    # Two evidence photos and their thumbnails.
    assert manifest["media"]["count"] == 4 and manifest["signed_report_versions"] == []


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


# --- only what this deployment's backup made --------------------------------------------------------------


def read_members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def write_members(target: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def alter_database(dump: bytes, statements: list[str], work: Path) -> bytes:
    """The dump with `statements` applied: what someone with the archive but not the key could do."""
    if connection.vendor == "sqlite":
        path = work / "altered.sqlite3"
        path.write_bytes(dump)
        db = sqlite3.connect(path)
        try:
            for statement in statements:
                db.execute(statement)
            db.commit()
        finally:
            db.close()
        return path.read_bytes()
    name = f"craft_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    settings_dict = {**connection.settings_dict, "NAME": name}
    env = pg_environment(settings_dict)
    try:
        source, target = work / "in.pgdump", work / "out.pgdump"
        source.write_bytes(dump)
        subprocess.run([find_binary("pg_restore"), "--no-owner", f"--dbname={name}", str(source)], env=env, check=True)
        wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "craft")
        try:
            with wrapper.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            wrapper.close()
        subprocess.run([find_binary("pg_dump"), "--format=custom", f"--file={target}"], env=env, check=True)
        return target.read_bytes()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def repacked(
    archive: Path, target: Path, statements: list[str], sign_with: bytes | None, grown: dict[str, int] | None = None
) -> Path:
    """`archive` with its database altered and the manifest re-hashed; signed with `sign_with` (None: the stale
    signature stays, as for anyone without the key)."""
    members = read_members(archive)
    manifest = json.loads(members["manifest.json"])
    database = manifest["database"]["file"]
    members[database] = alter_database(members[database], statements, target.parent)
    for table, count in (grown or {}).items():
        manifest["tables"][table] += count
    manifest["database"].update(size=len(members[database]), sha256=hashlib.sha256(members[database]).hexdigest())
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    if sign_with is not None:
        members["manifest.sig"] = backup_signing.sign(members["manifest.json"], sign_with)
    return write_members(target, members)


def own_key() -> bytes:
    key = backup_signing.load_key(create=False)
    assert key is not None
    return key


def intruder_sql() -> str:
    columns = [f.column for f in User._meta.local_concrete_fields if f.column != "id"]
    values = [
        "'intruder'" if c == "username" else "TRUE" if c in ("is_superuser", "is_staff") else f'"{c}"' for c in columns
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    return f"INSERT INTO portal_user ({names}) SELECT {', '.join(values)} FROM portal_user WHERE username = 'county'"  # noqa: S608


def test_an_altered_and_rehashed_archive_is_refused_unless_allowed_and_then_its_superuser_is_reported(
    small_world: World, cast: Cast, media: Path, tmp_path: Path, fresh: Target
) -> None:
    archive = backup(tmp_path)
    crafted = tmp_path / "altered.tar.gz"
    altered = repacked(archive, crafted, [intruder_sql()], sign_with=None, grown={"portal_user": 1})
    assert_refused(altered, media, "备份签名与清单不符（备份生成后被改动过）.*--allow-unsigned", "--force")
    # Also through `manage.py restore` into a fresh target (nothing to --force): refused, nothing written.
    refused = manage_restore(fresh, altered)
    assert refused.returncode == 1 and "备份签名与清单不符" in refused.stderr
    assert not fresh.media.exists() or not any(fresh.media.iterdir())

    allowed = manage_restore(fresh, altered, "--allow-unsigned")
    assert allowed.returncode == 0, allowed.stderr + allowed.stdout
    assert "按 --allow-unsigned 恢复：备份签名与清单不符" in allowed.stdout
    report = next(line for line in allowed.stdout.splitlines() if "拥有管理权限的账户" in line)
    assert "intruder（超级管理员）" in report and "admin（职员）" in report
    assert User.objects.using(fresh.alias).get(username="intruder").is_superuser
    restored = AuditEvent.objects.using(fresh.alias).get(kind=AuditKind.BACKUP_RESTORED)
    assert restored.extra["unsigned"] is True and "未验证签名" in restored.detail


def test_privileged_accounts_the_target_already_had_are_not_reported(
    small_world: World, cast: Cast, media: Path, tmp_path: Path, fresh: Target
) -> None:
    archive = backup(tmp_path)
    assert manage_restore(fresh, archive).returncode == 0
    again = manage_restore(fresh, archive, "--force")
    assert again.returncode == 0, again.stderr
    assert "拥有管理权限的账户" not in again.stdout


def test_an_unsigned_or_foreign_archive_is_refused_without_its_own_flag(
    small_world: World, media: Path, tmp_path: Path, settings: Any
) -> None:
    archive = backup(tmp_path)
    members = read_members(archive)
    assert list(members)[:2] == ["manifest.json", "manifest.sig"]
    unsigned = write_members(tmp_path / "unsigned.tar.gz", {k: v for k, v in members.items() if k != "manifest.sig"})
    assert_refused(unsigned, media, "备份没有签名", "--force")
    foreign_key = bytes(range(32))
    foreign = write_members(
        tmp_path / "foreign.tar.gz",
        {**members, "manifest.sig": backup_signing.sign(members["manifest.json"], foreign_key)},
    )
    assert_refused(foreign, media, f"备份由另一个密钥（{backup_signing.key_id(foreign_key)}）签名", "--force")
    # --force (a non-empty target) is not the flag that accepts them, nor is it needed to see the refusal.
    assert_refused(foreign, media, "另一个密钥")
    # No key on this deployment: nothing can be confirmed.
    settings.BACKUP_SIGNING_KEY_FILE = tmp_path / "no-such.key"
    assert_refused(archive, media, "本部署没有备份签名密钥", "--force")


def test_the_signing_key_is_created_0600_outside_media_and_printed(
    small_world: World, media: Path, tmp_path: Path, settings: Any
) -> None:
    settings.BACKUP_SIGNING_KEY_FILE = tmp_path / "keys" / "backup.key"
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "b"), stdout=out)
    assert (settings.BACKUP_SIGNING_KEY_FILE.stat().st_mode & 0o777) == 0o600
    assert f"签名密钥：{settings.BACKUP_SIGNING_KEY_FILE}" in out.getvalue()
    settings.BACKUP_SIGNING_KEY_FILE = media / "backup.key"
    with pytest.raises(CommandError, match="位于上传文件目录 MEDIA_ROOT 之内"):
        call_command("backup", "--output", str(tmp_path / "c"), stdout=io.StringIO())
    settings.BACKUP_SIGNING_KEY_FILE = tmp_path / "keys" / "backup.key"
    settings.BACKUP_SIGNING_KEY_FILE.chmod(0o644)
    with pytest.raises(CommandError, match="权限过宽"):
        call_command("backup", "--output", str(tmp_path / "d"), stdout=io.StringIO())


def objects_not_from_migrations() -> dict[str, tuple[list[str], str]]:
    if connection.vendor == "sqlite":
        trigger = [
            "CREATE TRIGGER hide_audit AFTER INSERT ON portal_auditevent "
            "BEGIN DELETE FROM portal_auditevent WHERE id = NEW.id; END"
        ]
        grant = [
            "CREATE TRIGGER grant_at_login AFTER UPDATE OF last_login ON portal_user "
            "BEGIN UPDATE portal_user SET is_superuser = 1 WHERE id = NEW.id; END"
        ]
    else:
        trigger = [
            "CREATE FUNCTION hide_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
            "CREATE TRIGGER hide_audit BEFORE INSERT ON portal_auditevent FOR EACH ROW EXECUTE FUNCTION hide_row()",
        ]
        grant = [
            "CREATE FUNCTION promote() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.is_superuser := TRUE; RETURN NEW; END $$",
            "CREATE TRIGGER grant_at_login BEFORE UPDATE OF last_login ON portal_user "
            "FOR EACH ROW EXECUTE FUNCTION promote()",
        ]
    cases = {
        "trigger": (trigger, "触发器 .*hide_audit"),
        "grant-trigger": (grant, "触发器 .*grant_at_login"),
        "view": (["CREATE VIEW every_user AS SELECT * FROM portal_user"], "视图 every_user"),
        "table": (["CREATE TABLE backdoor (id integer)"], "数据表 backdoor"),
        "column": (["ALTER TABLE portal_user ADD COLUMN backdoor integer"], "字段 portal_user.backdoor"),
    }
    if connection.vendor == "postgresql":
        cases["function"] = (trigger[:1], "函数 hide_row")
        cases["rule"] = (
            ["CREATE RULE keep_audit AS ON DELETE TO portal_auditevent DO INSTEAD NOTHING"],
            "规则 .*keep_audit",
        )
        cases["schema"] = (["CREATE SCHEMA shadow", "CREATE TABLE shadow.portal_user (id integer)"], "模式 shadow")
    return cases


def test_database_objects_the_migrations_do_not_create_are_refused_even_when_signed(
    small_world: World, media: Path, tmp_path: Path
) -> None:
    archive = backup(tmp_path)
    for label, (statements, message) in objects_not_from_migrations().items():
        work = tmp_path / label
        work.mkdir()
        crafted = repacked(archive, work / "crafted.tar.gz", statements, sign_with=own_key())
        for flags in (["--force"], ["--force", "--allow-unsigned"]):
            assert_refused(crafted, media, f"数据库中有迁移不会创建的对象：.*{message}", *flags)
    # The untouched archive passes the same check: what the migrations create is not refused.
    with opened_archive(archive) as (folder, manifest, notes):
        _check_schema(manifest, folder / manifest["database"]["file"])
        assert notes == []


def big_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


@pytest.mark.parametrize("member", ["media/hazards/unlisted.bin", "listed"])
def test_a_member_larger_than_the_manifest_is_refused_before_anything_is_unpacked(
    small_world: World, media: Path, tmp_path: Path, member: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = backup(tmp_path)
    members = read_members(archive)
    manifest = json.loads(members["manifest.json"])
    name = f"media/{next(iter(manifest['media']['files']))}" if member == "listed" else member
    # A 600 MB member declared in a header, without its data: the archive stays a few KB.
    raw = bytearray()
    for item in ("manifest.json", "manifest.sig"):
        info = tarfile.TarInfo(item)
        info.size = len(members[item])
        raw += info.tobuf(format=tarfile.GNU_FORMAT) + members[item] + b"\0" * (-len(members[item]) % 512)
    raw += big_header(name, 600 * 1024 * 1024) + b"\0" * 4096
    crafted = tmp_path / "oversized.tar.gz"
    crafted.write_bytes(gzip.compress(bytes(raw)))
    assert crafted.stat().st_size < 10_000
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    expected = "清单未列出的文件" if member != "listed" else "声明的大小 600.0 MB 与清单中的"
    assert_refused(crafted, media, f"{expected}", "--force")
    assert sum(path.stat().st_size for path in scratch.rglob("*") if path.is_file()) == 0


def test_portal_imports_no_app_above_it() -> None:
    """Dependencies point one way (reporting -> inspections -> hazards -> portal): backup learns what signed
    files to verify from the apps that register them (reporting's AppConfig.ready), not by importing them."""
    import ast

    above = {"hazards", "inspections", "reporting"}
    found = []
    for path in sorted((REPO / "portal").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.relative_to(REPO)}: {name}" for name in names if name.split(".")[0] in above]
    assert found == []
    from portal import backup

    assert backup._signed_files is not None and backup._signed_files.model == "reporting.ReportVersion"


def test_the_pg_restore_table_of_contents_is_read_by_kind_schema_and_name() -> None:
    from portal.backup_schema import PG_ALLOWED, PG_HARMLESS, _toc_entry

    assert _toc_entry("; Archive created at 2026-12-02") is None
    assert _toc_entry("215; 1259 16390 TABLE public portal_user portal") == ("TABLE", "public", "portal_user")
    trigger = _toc_entry("300; 2620 16999 TRIGGER public portal_auditevent hide_audit portal")
    assert trigger == ("TRIGGER", "public", "portal_auditevent hide_audit") and trigger[0] not in PG_ALLOWED
    view = _toc_entry("301; 1259 17000 MATERIALIZED VIEW public every_user portal")
    assert view == ("MATERIALIZED VIEW", "public", "every_user")
    assert _toc_entry("5; 2615 2200 SCHEMA - public pg_database_owner")[::2] in PG_HARMLESS  # type: ignore[index]
    assert ("SCHEMA", "shadow") not in PG_HARMLESS
