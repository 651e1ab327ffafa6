"""备份与恢复: one archive (.tar.gz) holding the database, the uploaded files (MEDIA_ROOT) and a manifest.

Archive layout::

    database.pgdump | database.sqlite3   pg_dump --format=custom, or SQLite's online backup
    media/<path>                          every file under MEDIA_ROOT (ledgers, evidence, report versions, exports)
    manifest.json                         created time, versions, applied migrations, row counts per table and
                                          model, SHA-256 and size of every file, the signed report versions'
                                          stored checksums

The copy is consistent while the portal runs: on PostgreSQL the row counts, migrations and signed
versions are read in the very snapshot pg_dump dumps (an exported REPEATABLE READ snapshot); on
SQLite they are read from the backup copy itself. Files are copied after the database, and files are
never changed in place (new uploads get new names), so every file the database names is in the archive.

Restore checks everything before it touches anything: the archive's own hash (the `.sha256` file next
to it, when present), a tar without links, special files or paths outside the archive, the manifest,
and the hash of the database dump and of every file. It refuses a target database or media folder that
already holds data unless `force` is given, then restores (pg_restore in a single transaction, or
SQLite's backup API into the configured database), puts the files back and checks row counts, file
hashes and every signed report version's Excel/PDF checksum against the restored records.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import io
import json
import logging
import os
import platform
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump / pg_restore (below)
import tarfile
import tempfile
import time
import tomllib
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import django
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from portal import audit_events, backup_schema, backup_signing

FORMAT = 2  # 2: manifest.json and manifest.sig first, signed with the deployment's key
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
VENDOR_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
ARCHIVE_SUFFIX = ".tar.gz"
CHUNK = 1024 * 1024
# A target holding any of these rows is "not empty". A freshly migrated database holds none of them
# (the migrations seed the hazard catalogue, the campaigns and their issuing regions), so a deployment
# that has just run `migrate` (compose's web does on start) takes a restore without --force.
OCCUPIED_MODELS = ("portal.User", "portal.Enterprise", "hazards.Hazard")


logger = logging.getLogger(__name__)


class BackupError(Exception):
    """A refusal or a failure; the message is for the operator, in Chinese."""


@dataclass(frozen=True)
class SignedFiles:
    """Rows whose files carry the SHA-256 stored when they were signed: backup records them in the manifest
    and restore checks the files against them. Registered by the app that owns the model (in its
    AppConfig.ready), so that portal imports no app above it."""

    model: str  # app label and model name, e.g. "reporting.ReportVersion"
    status_field: str  # rows with status_field == signed_value are signed
    signed_value: str
    extra: tuple[str, ...]  # columns copied into the manifest next to "id"
    files: dict[str, tuple[str, str]]  # kind → (file column, SHA-256 column)


_signed_files: SignedFiles | None = None


def register_signed_files(spec: SignedFiles) -> None:
    global _signed_files
    if _signed_files is not None and _signed_files != spec:
        raise BackupError(f"已登记已签字文件 {_signed_files.model}，不能再登记 {spec.model}。")
    _signed_files = spec


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    seconds: float
    tables: int
    rows: int
    files: int
    file_bytes: int
    signed_versions: int
    notes: list[str] = field(default_factory=list)
    unsigned: bool = False  # restored with --allow-unsigned although the signature did not confirm it


# --- small helpers ---------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def find_binary(name: str) -> str:
    """`name` on PATH, or in /usr/lib/postgresql/*/bin (newest version first)."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）。")


def pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for the connection: the password travels here, never on a command line."""
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST") or "",
        "PGPORT": str(settings_dict.get("PORT") or ""),
        "PGUSER": settings_dict.get("USER") or "",
        "PGPASSWORD": settings_dict.get("PASSWORD") or "",
        "PGDATABASE": settings_dict.get("NAME") or "",
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
        ("options", "PGOPTIONS"),
    ):
        if options.get(option):
            values[variable] = str(options[option])
    for key, value in values.items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    return env


def _quote(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def model_tables() -> dict[str, str]:
    """Model label → table, for every concrete model stored in the database (many-to-many tables too)."""
    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def app_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库类型：{vendor}（只支持 PostgreSQL 和 SQLite）。")
    return vendor


# --- reading the state that goes into the manifest --------------------------------------------------


@dataclass
class DatabaseState:
    tables: dict[str, int]
    migrations: list[tuple[str, str]]
    signed: list[dict[str, Any]]


def _read_state(cursor: Any, table_names: list[str]) -> DatabaseState:
    tables: dict[str, int] = {}
    for table in sorted(table_names):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a table name from the catalog  # nosec B608 # a quoted table name from the catalog
        tables[table] = int(cursor.fetchone()[0])
    migrations: list[tuple[str, str]] = []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        migrations = [(str(app), str(name)) for app, name in cursor.fetchall()]
    signed: list[dict[str, Any]] = []
    spec = _signed_files
    version_table = model_tables().get(spec.model) if spec else None
    if spec and version_table and version_table in tables:
        file_columns = [column for pair in spec.files.values() for column in pair]
        columns = ["id", spec.status_field, *spec.extra, *file_columns]
        cursor.execute(
            f"SELECT {', '.join(_quote(c) for c in columns)} FROM {_quote(version_table)} ORDER BY id"  # noqa: S608 - registered column names  # nosec B608 # quoted names of a registered model's columns
        )
        for row in cursor.fetchall():
            values = dict(zip(columns, row, strict=True))
            if values[spec.status_field] != spec.signed_value:
                continue
            entry: dict[str, Any] = {"id": values["id"], **{name: values[name] for name in spec.extra}}
            for kind, (file_column, sha_column) in spec.files.items():
                entry[kind] = {"path": values[file_column], "sha256": values[sha_column]}
            signed.append(entry)
    return DatabaseState(tables, migrations, signed)


def _file_kinds(version: dict[str, Any]) -> list[str]:
    """The file kinds of a signed version in a manifest (e.g. xlsx, pdf)."""
    return [kind for kind, value in version.items() if isinstance(value, dict) and "path" in value]


def _dump_sqlite(using: str, target: Path) -> DatabaseState:
    """SQLite's online backup API: a consistent copy even while the portal writes."""
    connection = connections[using]
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    copy = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        names = [str(row[0]) for row in cursor.fetchall()]
        return _read_state(cursor, names)
    finally:
        copy.close()


def _dump_postgresql(using: str, target: Path) -> DatabaseState:
    """pg_dump of an exported snapshot; the manifest's counts are read in that same snapshot."""
    pg_dump = find_binary("pg_dump")
    wrapper = connections.create_connection(using)
    try:
        wrapper.ensure_connection()
        raw = wrapper.connection
        raw.autocommit = True
        cursor = raw.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        names = [str(row[0]) for row in cursor.fetchall()]
        state = _read_state(cursor, names)
        result = subprocess.run(  # nosec B603 # pg_dump, fixed arguments, no shell
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", "--no-password"],
            env=pg_environment(wrapper.settings_dict),
            capture_output=True,
            text=True,
            check=False,
        )
        cursor.execute("ROLLBACK")
        if result.returncode != 0:
            raise BackupError(f"pg_dump 失败（退出码 {result.returncode}）：{result.stderr.strip()[-2000:]}")
        return state
    finally:
        wrapper.close()


# --- backup ----------------------------------------------------------------------------------------


class _HashingReader:
    """Hashes what tarfile reads, so each file is read once."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    return info


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> tuple[int, str]:
    stat = path.stat()
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(_tarinfo(name, stat.st_size, stat.st_mtime), reader)  # type: ignore[arg-type]
    return stat.st_size, reader.digest.hexdigest()


def _archive_path(output: Path | None, now: dt.datetime) -> Path:
    name = f"portal-backup-{timezone.localtime(now):%Y%m%d-%H%M%S}{ARCHIVE_SUFFIX}"
    if output is None:
        return Path(settings.VAR_DIR) / "backups" / name
    if output.name.endswith(ARCHIVE_SUFFIX) and not output.is_dir():
        return output
    return output / name


def _media_files(media_root: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every plain file under MEDIA_ROOT (links and special files are skipped)."""
    files: dict[str, dict[str, Any]] = {}
    if not media_root.is_dir():
        return files
    for folder, dirs, names in os.walk(media_root):
        dirs.sort()
        for file_name in sorted(names):
            file_path = Path(folder) / file_name
            relative = file_path.relative_to(media_root).as_posix()
            if file_path.is_symlink() or not file_path.is_file():
                warnings.append(f"跳过链接或特殊文件：{relative}")
                continue
            files[relative] = {"size": file_path.stat().st_size, "sha256": sha256_file(file_path)}
    return files


def _signing_key() -> bytes:
    try:
        key = backup_signing.load_key(create=True)
    except backup_signing.SigningKeyError as exc:
        raise BackupError(str(exc)) from exc
    if key is None:
        raise BackupError(f"无法创建备份签名密钥文件 {backup_signing.key_path()}。")
    return key


def create_backup(*, output: Path | None = None, using: str = "default") -> BackupResult:
    """Write one signed archive of the database and MEDIA_ROOT; returns where it is and its manifest.

    The manifest and its signature come first in the archive, so that restore knows every member's
    name and size before it reads (or writes) any of them.
    """
    started = time.perf_counter()
    vendor = _vendor(using)
    key = _signing_key()
    now = timezone.now()
    path = _archive_path(output, now)
    if path.exists():
        raise BackupError(f"文件已存在，不会覆盖：{path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    warnings: list[str] = []

    with tempfile.TemporaryDirectory(prefix="portal-backup-", dir=path.parent) as work:
        database_name = DATABASE_FILES[vendor]
        database_path = Path(work) / database_name
        state = (_dump_postgresql if vendor == "postgresql" else _dump_sqlite)(using, database_path)
        files = _media_files(media_root, warnings)

        for version in state.signed:
            for kind in _file_kinds(version):
                entry = version[kind]
                stored = files.get(entry["path"] or "")
                entry["ok"] = bool(stored and stored["sha256"] == entry["sha256"])
                if not entry["ok"]:
                    warnings.append(
                        f"已签字报表版本 {version['id']} 的 {kind.upper()} 文件"
                        f"{'缺失' if stored is None else '与签字时的校验值不一致'}：{entry['path']}"
                    )

        labels = model_tables()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "app": {"name": "非煤矿山安全监管门户", "version": app_version()},
            "django": django.get_version(),
            "python": platform.python_version(),
            "database": {
                "vendor": vendor,
                "file": database_name,
                "size": database_path.stat().st_size,
                "sha256": sha256_file(database_path),
            },
            "migrations": {
                "applied": [list(item) for item in state.migrations],
                "latest": {app: name for app, name in state.migrations},
            },
            "tables": state.tables,
            "models": {label: state.tables[table] for label, table in sorted(labels.items()) if table in state.tables},
            "media": {"files": files, "count": len(files), "bytes": sum(f["size"] for f in files.values())},
            "signed_report_versions": state.signed,
            "signing_key_id": backup_signing.key_id(key),
            "warnings": warnings,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        signature = backup_signing.sign(body, key)

        partial = path.with_name(path.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
                tar.addfile(_tarinfo(MANIFEST, len(body), time.time()), io.BytesIO(body))
                tar.addfile(_tarinfo(backup_signing.SIGNATURE, len(signature), time.time()), io.BytesIO(signature))
                _add_listed(tar, database_path, database_name, manifest["database"])
                for relative, entry in files.items():
                    _add_listed(tar, media_root / relative, f"{MEDIA}/{relative}", entry)
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    Path(f"{path}.sha256").write_text(f"{sha256_file(path)}  {path.name}\n", encoding="utf-8")
    return BackupResult(
        path=path,
        size=path.stat().st_size,
        seconds=time.perf_counter() - started,
        manifest=manifest,
        warnings=warnings,
    )


def _add_listed(tar: tarfile.TarFile, path: Path, name: str, entry: dict[str, Any]) -> None:
    """Add a file the manifest already lists; it must still be what was listed (files never change in place)."""
    size, digest = _add_file(tar, path, name)
    if size != entry["size"] or digest != entry["sha256"]:
        raise BackupError(f"备份过程中文件 {name} 被改动，请重新备份。")


# --- restore: check the archive first --------------------------------------------------------------


def _refuse(detail: str) -> BackupError:
    return BackupError(f"备份文件校验失败，未做任何更改：{detail}")


ACCEPTED_FORMATS = {1, FORMAT}  # format 1 (manifest last, unsigned) restores only with allow_unsigned
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_SIGNATURE_BYTES = 4096


def _check_member_path(member: tarfile.TarInfo) -> None:
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or ".." in parts or "\\" in name or ":" in (parts[0] if parts else ""):
        raise _refuse(f"包含指向备份目录之外的路径“{name}”。")
    if not (member.isfile() or member.isdir()):
        raise _refuse(f"包含链接或特殊文件“{name}”，正常的备份只含普通文件。")
    top = parts[0] if parts else ""
    if top not in {MANIFEST, backup_signing.SIGNATURE, MEDIA, *DATABASE_FILES.values()}:
        raise _refuse(f"包含不属于备份的内容“{name}”。")


def _parse_manifest(body: bytes) -> dict[str, Any]:
    """The manifest's structure (not yet the files it lists)."""
    try:
        manifest = json.loads(body.decode("utf-8"))
        database = manifest["database"]
        files = manifest["media"]["files"]
        tables = manifest["tables"]
        applied = manifest["migrations"]["applied"]
        signed = manifest["signed_report_versions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _refuse(f"manifest.json 无法读取（{exc}）。") from exc
    if manifest.get("format") not in ACCEPTED_FORMATS:
        raise _refuse(f"不认识的备份格式版本 {manifest.get('format')}（本程序为 {FORMAT}）。")
    if (
        not isinstance(database, dict)
        or database.get("vendor") not in DATABASE_FILES
        or database.get("file") != DATABASE_FILES[database["vendor"]]
        or not isinstance(database.get("size"), int)
    ):
        raise _refuse("manifest.json 中的数据库信息无效。")
    if not all(isinstance(item, dict) for item in (tables, files)) or not all(
        isinstance(item, list) for item in (applied, signed)
    ):
        raise _refuse("manifest.json 结构不完整。")
    if not all(isinstance(entry, dict) and isinstance(entry.get("size"), int) for entry in files.values()):
        raise _refuse("manifest.json 中的文件清单无效。")
    return dict(manifest)


def _listed_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """Member name → the size the manifest lists, for every member the archive may hold besides the manifest."""
    database = manifest["database"]
    sizes = {str(database["file"]): int(database["size"])}
    for relative, entry in manifest["media"]["files"].items():
        sizes[f"{MEDIA}/{relative}"] = int(entry["size"])
    return sizes


def _check_listed(member: tarfile.TarInfo, listed: dict[str, int]) -> None:
    """Refuse a member the manifest does not list, or whose header declares another size than listed."""
    if member.isdir():
        return
    if member.name not in listed:
        raise _refuse(f"包含清单未列出的文件：{member.name}（声明大小 {human_size(member.size)}）。")
    expected = listed[member.name]
    if member.size != expected:
        raise _refuse(
            f"条目 {member.name} 声明的大小 {human_size(member.size)} 与清单中的 {human_size(expected)} 不一致。"
        )


@dataclass
class _Header:
    manifest: dict[str, Any]
    manifest_body: bytes
    signature: bytes | None


def _scan(archive: Path) -> _Header:
    """Read the archive's headers (writing nothing): every member's path, and its name and declared size
    against the manifest before its data is read. Format 2 archives list the manifest first, so a member
    the manifest does not list (or a larger one) is refused at its header."""
    body: bytes | None = None
    manifest: dict[str, Any] | None = None
    problem: BackupError | None = None
    signature: bytes | None = None
    pending: list[tarfile.TarInfo] = []
    seen: set[str] = set()
    with tarfile.open(archive, "r:gz") as tar:
        while (member := tar.next()) is not None:
            _check_member_path(member)
            if member.isfile() and member.name in seen:
                raise _refuse(f"条目 {member.name} 出现了不止一次。")
            seen.add(member.name)
            if member.name in (MANIFEST, backup_signing.SIGNATURE):
                limit = MAX_MANIFEST_BYTES if member.name == MANIFEST else MAX_SIGNATURE_BYTES
                if not member.isfile() or member.size > limit:
                    raise _refuse(f"{member.name} 异常（{human_size(member.size)}）。")
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                if member.name == backup_signing.SIGNATURE:
                    signature = data
                    continue
                body = data
                try:
                    manifest = _parse_manifest(body)
                except BackupError as exc:
                    problem = exc  # reported after the paths of every member are checked
                    continue
                listed = _listed_sizes(manifest)
                for earlier in pending:
                    _check_listed(earlier, listed)
                pending = []
            elif manifest is not None:
                _check_listed(member, _listed_sizes(manifest))
            else:
                pending.append(member)
    if problem is not None:
        raise problem
    if manifest is None or body is None:
        raise _refuse("缺少 manifest.json。")
    return _Header(manifest, body, signature)


def _check_signature(header: _Header, allow_unsigned: bool) -> list[str]:
    try:
        key = backup_signing.load_key(create=False)
    except backup_signing.SigningKeyError as exc:
        raise BackupError(str(exc)) from exc
    problem = backup_signing.signature_problem(header.manifest_body, header.signature, key)
    if problem is None:
        return []
    if not allow_unsigned:
        raise _refuse(
            f"{problem}。只恢复本部署签名的备份；确认此备份可信（例如来自另一台服务器）时可加 --allow-unsigned。"
        )
    return [f"按 --allow-unsigned 恢复：{problem}。"]


@contextmanager
def opened_archive(archive: Path, *, allow_unsigned: bool = False) -> Iterator[tuple[Path, dict[str, Any], list[str]]]:
    """Check `archive`, extract it into a temporary folder and check the files; yields (folder, manifest, notes)."""
    if not archive.is_file():
        raise BackupError(f"找不到备份文件：{archive}")
    sidecar = Path(f"{archive}.sha256")
    if sidecar.is_file():
        expected = sidecar.read_text(encoding="utf-8").split()[:1]
        if not expected or expected[0].lower() != sha256_file(archive):
            raise _refuse(f"备份文件的 SHA-256 与 {sidecar.name} 不一致（文件已损坏或被改动）。")
    try:
        header = _scan(archive)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _refuse(f"不是有效的备份文件或已损坏（{exc}）。") from exc
    notes = _check_signature(header, allow_unsigned)
    manifest = header.manifest
    listed = _listed_sizes(manifest)
    with tempfile.TemporaryDirectory(prefix="portal-restore-") as work:
        folder = Path(work)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = []
                for member in tar:
                    _check_member_path(member)
                    if member.name not in (MANIFEST, backup_signing.SIGNATURE):
                        _check_listed(member, listed)
                        members.append(member)
                tar.extractall(folder, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise _refuse(f"包含不安全的条目（{exc}）。") from exc
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise _refuse(f"不是有效的备份文件或已损坏（{exc}）。") from exc
        _check_files(folder, manifest)
        yield folder, manifest, notes


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    database = manifest["database"]
    files: dict[str, dict[str, Any]] = manifest["media"]["files"]
    database_path = folder / database["file"]
    if not database_path.is_file():
        raise _refuse(f"缺少数据库文件 {database['file']}。")
    if sha256_file(database_path) != database.get("sha256"):
        raise _refuse(f"数据库文件 {database['file']} 的 SHA-256 与清单不一致。")
    for other in DATABASE_FILES.values():
        if other != database["file"] and (folder / other).exists():
            raise _refuse(f"包含清单之外的数据库文件 {other}。")
    media = folder / MEDIA
    for relative, entry in files.items():
        path = media / relative
        parts = PurePosixPath(relative).parts
        if relative.startswith("/") or ".." in parts or not path.is_file():
            raise _refuse(f"缺少文件 media/{relative}。")
        if path.stat().st_size != entry.get("size") or sha256_file(path) != entry.get("sha256"):
            raise _refuse(f"文件 media/{relative} 的 SHA-256 与清单不一致。")
    if media.is_dir():
        extra = sorted(
            path.relative_to(media).as_posix()
            for path in media.rglob("*")
            if path.is_file() and path.relative_to(media).as_posix() not in files
        )
        if extra:
            raise _refuse(f"包含清单未列出的文件：{'、'.join(extra[:5])}。")
    for version in manifest["signed_report_versions"]:
        if not isinstance(version, dict) or "id" not in version:
            raise _refuse("manifest.json 中的已签字报表清单无效。")
        for kind in _file_kinds(version):
            entry = version[kind]
            stored = files.get(entry.get("path") or "")
            if entry.get("ok") and (stored is None or stored["sha256"] != entry.get("sha256")):
                raise _refuse(f"已签字报表版本 {version['id']} 的 {kind.upper()} 文件与签字时的校验值不一致。")


def _check_compatible(manifest: dict[str, Any], using: str) -> list[str]:
    """Same database kind; no migration this code does not know. Returns notes (migrations to apply)."""
    vendor = _vendor(using)
    archived = manifest["database"]["vendor"]
    if archived != vendor:
        raise BackupError(
            f"备份来自 {VENDOR_LABELS[archived]} 数据库，当前配置的是 {VENDOR_LABELS[vendor]}，"
            "不能直接恢复。未做任何更改。"
        )
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    applied = {(str(app), str(name)) for app, name in manifest["migrations"]["applied"]}
    unknown = sorted(f"{app}.{name}" for app, name in applied - known if app in loader.migrated_apps)
    if unknown:
        raise BackupError(
            f"备份来自较新版本的门户（本程序不认识的迁移：{'、'.join(unknown[:5])}），请先升级门户程序再恢复。未做任何更改。"
        )
    missing = sorted(f"{app}.{name}" for app, name in known - applied)
    if missing:
        return [f"备份之后门户新增了 {len(missing)} 个数据库迁移：恢复后请运行 python manage.py migrate。"]
    return []


def _occupied(using: str, media_root: Path) -> list[str]:
    """What the target already holds (empty list: a fresh database and an empty media folder)."""
    found: list[str] = []
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    tables = model_tables()
    with connection.cursor() as cursor:
        for label in OCCUPIED_MODELS:
            table = tables[label]
            if table in existing:
                cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a model's table  # nosec B608 # a quoted model table name
                count = int(cursor.fetchone()[0])
                if count:
                    found.append(f"{apps.get_model(label)._meta.verbose_name} {count} 条")
    if media_root.is_dir():
        count = sum(1 for path in media_root.rglob("*") if not path.is_dir())
        if count:
            found.append(f"上传文件目录 {media_root} 中有 {count} 个文件")
    return found


# --- restore: write ---------------------------------------------------------------------------------


def _restore_sqlite(using: str, dump: Path) -> None:
    connection = connections[using]
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(f"{dump.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    except sqlite3.Error as exc:
        raise BackupError(f"数据库恢复失败：{exc}") from exc
    finally:
        source.close()
    connection.close()


def _restore_postgresql(using: str, dump: Path) -> None:
    pg_restore = find_binary("pg_restore")
    connection = connections[using]
    settings_dict = connection.settings_dict
    connection.close()
    result = subprocess.run(  # nosec B603 # pg_restore, fixed arguments, no shell
        [
            pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", "--no-password", f"--dbname={settings_dict['NAME']}", str(dump),
        ],
        env=pg_environment(settings_dict),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(
            f"数据库恢复失败（pg_restore 退出码 {result.returncode}），数据库已回滚到恢复前的状态："
            f"{result.stderr.strip()[-2000:]}"
        )


def _clear_folder(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _restore_media(extracted: Path, media_root: Path, files: dict[str, Any]) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    _clear_folder(media_root)
    for relative in files:
        target = media_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(extracted / relative, target)


def _verify(manifest: dict[str, Any], using: str, media_root: Path) -> tuple[int, int, list[str]]:
    """Rows per table, file hashes and signed report checksums after the restore; returns (tables, rows, problems)."""
    problems: list[str] = []
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    rows = 0
    with connection.cursor() as cursor:
        for table, expected in manifest["tables"].items():
            if table not in existing:
                problems.append(f"缺少数据表 {table}")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a table name from the manifest  # nosec B608 # a quoted name of an existing table (checked above)
            count = int(cursor.fetchone()[0])
            rows += count
            if count != expected:
                problems.append(f"数据表 {table} 有 {count} 行，备份时为 {expected} 行")
    for relative, entry in manifest["media"]["files"].items():
        path = media_root / relative
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            problems.append(f"文件 {relative} 缺失或内容不一致")

    spec = _signed_files
    if spec is None:
        return len(manifest["tables"]), rows, problems
    fields = [field for pair in spec.files.values() for field in pair]
    signed = list(
        apps.get_model(spec.model)
        ._base_manager.using(using)
        .filter(**{spec.status_field: spec.signed_value})
        .values("pk", *fields)
    )
    if len(signed) != len(manifest["signed_report_versions"]):
        problems.append(f"已签字报表版本有 {len(signed)} 个，备份时为 {len(manifest['signed_report_versions'])} 个")
    broken_at_backup = {
        (version["id"], kind)
        for version in manifest["signed_report_versions"]
        for kind in _file_kinds(version)
        if not version[kind].get("ok", True)
    }
    for values in signed:
        pk = values["pk"]
        for kind, (file_field, sha_field) in spec.files.items():
            if (pk, kind) in broken_at_backup:
                continue
            name, expected = values[file_field], values[sha_field]
            path = media_root / (name or "")
            if not name or not path.is_file() or sha256_file(path) != expected:
                problems.append(f"已签字报表版本 {pk} 的 {kind.upper()} 文件与签字时的校验值不一致")
    return len(manifest["tables"]), rows, problems


def _privileged(using: str) -> dict[str, str]:
    """User name → 超级管理员 / 职员, for accounts with superuser or staff status (empty without a user table)."""
    table = model_tables()["portal.User"]
    connection = connections[using]
    if table not in connection.introspection.table_names():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT username, is_superuser FROM {_quote(table)} WHERE is_superuser OR is_staff ORDER BY username"  # noqa: S608 - the user model's table  # nosec B608 # a quoted model table name
        )
        return {str(name): "超级管理员" if superuser else "职员" for name, superuser in cursor.fetchall()}


def _check_schema(manifest: dict[str, Any], dump: Path) -> None:
    applied = [(str(app), str(name)) for app, name in manifest["migrations"]["applied"]]
    vendor = manifest["database"]["vendor"]
    try:
        problems = backup_schema.schema_problems(
            vendor, dump, applied, pg_restore=find_binary("pg_restore") if vendor == "postgresql" else ""
        )
    except backup_schema.SchemaProblem as exc:
        raise _refuse(str(exc)) from exc
    if problems:
        raise _refuse(f"数据库中有迁移不会创建的对象：{'；'.join(problems[:10])}。")


def restore_backup(
    *,
    archive: Path,
    force: bool = False,
    allow_unsigned: bool = False,
    using: str = "default",
    log: Callable[[str], None] | None = None,
) -> RestoreResult:
    """Restore `archive` into the configured database and MEDIA_ROOT (see the module docstring), then record
    the restore in the restored database's audit log (kind backup.restored).

    A refusal writes nothing to the database (it may be the very database being replaced, or hold data the
    operator did not mean to keep): it leaves its trace in the log (logger "portal.backup") instead.
    """
    try:
        result = _restore(archive=archive, force=force, allow_unsigned=allow_unsigned, using=using, log=log)
    except BackupError as exc:
        logger.warning("restore of %s refused or failed: %s", archive, exc)
        raise
    note = _audit_restore(archive=archive, result=result, force=force, using=using)
    if note:
        result.notes.append(note)
    logger.info("restored %s (backup of %s, %d rows)", archive, result.manifest["created_at"], result.rows)
    return result


def _audit_restore(*, archive: Path, result: RestoreResult, force: bool, using: str) -> str:
    """Writes the backup.restored row after every check passed; answers a note when it could not be written."""
    manifest = result.manifest
    try:
        # `using` is "default" for every caller, and the audit writer writes there too.
        with transaction.atomic(using=using):
            audit_events.backup_restored(
                archive=archive.name, manifest=manifest, archive_sha256=sha256_file(archive), forced=force,
                unsigned=result.unsigned,
            )  # fmt: skip
    except DatabaseError as exc:
        # A backup older than the code may lack the audit table's newer columns until `migrate` has run.
        logger.warning("restore of %s: audit row not written: %s", archive, exc)
        return (
            f"未能在操作日志中记录本次恢复（{exc}）；恢复的数据不受影响，"
            "备份早于本程序时请运行 python manage.py migrate。"
        )
    return ""


def _restore(
    *, archive: Path, force: bool, allow_unsigned: bool, using: str, log: Callable[[str], None] | None
) -> RestoreResult:
    started = time.perf_counter()
    say = log or (lambda message: None)
    media_root = Path(settings.MEDIA_ROOT)
    with opened_archive(archive, allow_unsigned=allow_unsigned) as (folder, manifest, notes):
        unsigned = bool(notes)  # opened_archive notes only a signature it accepted by --allow-unsigned
        for note in notes:
            say(f"警告：{note}")
        say(
            f"备份文件校验通过：{manifest['created_at']} 创建，{VENDOR_LABELS[manifest['database']['vendor']]}，"
            f"{sum(manifest['tables'].values())} 行，{manifest['media']['count']} 个文件。"
        )
        notes = notes + _check_compatible(manifest, using)
        dump = folder / manifest["database"]["file"]
        _check_schema(manifest, dump)
        occupied = _occupied(using, media_root)
        if occupied and not force:
            raise BackupError(
                f"恢复目标不是空的（{'；'.join(occupied)}），未做任何更改。"
                "恢复会用备份替换这些数据；确认要替换请加 --force（建议先备份当前数据）。"
            )
        if occupied:
            say(f"按 --force 替换现有数据：{'；'.join(occupied)}。")
        privileged_before = _privileged(using)
        if manifest["database"]["vendor"] == "postgresql":
            _restore_postgresql(using, dump)
        else:
            _restore_sqlite(using, dump)
        say("数据库已恢复。")
        _restore_media(folder / MEDIA, media_root, manifest["media"]["files"])
        say(f"上传文件已放回 {media_root}。")
    stronger = {"职员": ("职员", "超级管理员"), "超级管理员": ("超级管理员",)}
    added = {
        name: label for name, label in _privileged(using).items() if privileged_before.get(name) not in stronger[label]
    }
    if added:
        say(
            "警告：备份带来了拥有管理权限的账户（恢复前目标库中没有或权限更低），请逐一核对："
            + "、".join(f"{name}（{label}）" for name, label in added.items())
        )
    tables, rows, problems = _verify(manifest, using, media_root)
    if problems:
        raise BackupError("恢复后校验失败：" + "；".join(problems[:20]))
    return RestoreResult(
        manifest=manifest,
        seconds=time.perf_counter() - started,
        tables=tables,
        rows=rows,
        files=int(manifest["media"]["count"]),
        file_bytes=int(manifest["media"]["bytes"]),
        signed_versions=len(manifest["signed_report_versions"]),
        notes=notes,
        unsigned=unsigned,
    )
