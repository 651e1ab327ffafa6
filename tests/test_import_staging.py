"""Staged import files (portal.import_flow): the confirmation's claim is atomic on the database itself (not on
the cache, which is atomic only on Redis), and the files nobody confirmed are swept; the imports' original
files are kept."""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from portal import audit_events
from portal.choices import StagedImportState
from portal.import_flow import (
    COMMITTED_MESSAGE,
    StagedUploadGone,
    StagedUploads,
    staged_imports_sweep,
    staged_max_age,
)
from portal.models import Enterprise, StagedImport
from portal.tasks import sweep_staged_imports
from portal.uploads import PREVIEW_MAX_AGE, PreviewStore
from tests.conftest import Cast, World
from tests.test_enterprise_import import good_rows, simple_file

STAGING = StagedUploads(PreviewStore(folder="imports/test-staging", salt="tests.import_staging"))
ENTERPRISES = "/enterprises/import/"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def state(path: str) -> str | None:
    return StagedImport.objects.filter(path=path).values_list("state", flat=True).first()


# --- the claim ------------------------------------------------------------------------------------


def test_the_claim_holds_without_a_shared_cache(world: World, cast: Cast, settings: Any) -> None:
    """Two web processes do not share a local-memory or file cache: the claim must not rest on it. With a
    cache that shares nothing (DummyCache: every add succeeds) the second claim still loses."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    token = STAGING.stage(user=cast.admin, data=b"contents", file_name="a.xlsx")
    staged = STAGING.load(token, user=cast.admin)
    assert state(staged.path) == StagedImportState.PENDING
    with STAGING.claim(staged) as done:
        assert state(staged.path) == StagedImportState.CLAIMED
        with pytest.raises(StagedUploadGone) as lost, STAGING.claim(staged):
            pytest.fail("two claims of one staged upload")
        assert str(lost.value) == COMMITTED_MESSAGE
        done(True)
    assert state(staged.path) == StagedImportState.COMMITTED
    with pytest.raises(StagedUploadGone):
        STAGING.load(token, user=cast.admin)


def test_a_claim_that_wrote_nothing_or_failed_is_given_back(world: World, cast: Cast) -> None:
    token = STAGING.stage(user=cast.admin, data=b"contents", file_name="a.xlsx")
    staged = STAGING.load(token, user=cast.admin)
    with STAGING.claim(staged) as done:
        done(False)
    assert state(staged.path) == StagedImportState.PENDING
    with pytest.raises(RuntimeError), STAGING.claim(staged):
        raise RuntimeError("the commit failed")
    assert state(staged.path) == StagedImportState.PENDING
    assert STAGING.load(token, user=cast.admin).data == b"contents"


def test_another_users_token_claims_nothing(world: World, cast: Cast) -> None:
    token = STAGING.stage(user=cast.admin, data=b"contents", file_name="a.xlsx")
    with pytest.raises(StagedUploadGone):
        STAGING.load(token, user=cast.county_staff)
    assert StagedImport.objects.get().uploaded_by == cast.admin


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_exactly_one_wins(world: World, cast: Cast) -> None:
    """Two threads, each on its own database connection, claim the same staged upload at the same moment."""
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, one connection shared by every thread")
    rounds = 10
    for number in range(rounds):
        token = STAGING.stage(user=cast.admin, data=b"contents", file_name=f"{number}.xlsx")
        staged = STAGING.load(token, user=cast.admin)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def confirm(staged: Any = staged, barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes) -> None:
            try:
                barrier.wait(timeout=10)
                with STAGING.claim(staged) as done:
                    barrier.wait(timeout=10)  # both claims are in before either finishes
                    done(True)
                outcomes.append("won")
            except StagedUploadGone:
                outcomes.append("lost")
                barrier.wait(timeout=10)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=confirm) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["lost", "won"], number
        assert state(staged.path) == StagedImportState.COMMITTED


def test_the_page_confirmed_twice_imports_once_without_a_shared_cache(world: World, cast: Cast, settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    client = Client()
    client.force_login(cast.admin)
    preview = client.post(
        ENTERPRISES, {"action": "preview", "file": SimpleUploadedFile("名录.xlsx", simple_file(good_rows(2)))}
    )
    token = preview.context["token"]
    before = Enterprise.objects.count()
    assert client.post(ENTERPRISES, {"action": "commit", "token": token}).status_code == 302
    again = client.post(ENTERPRISES, {"action": "commit", "token": token})
    assert again.status_code == 400 and COMMITTED_MESSAGE in again.content.decode()
    assert Enterprise.objects.count() == before + 2


# --- the sweep ------------------------------------------------------------------------------------


def stage(user: Any, data: bytes = b"contents") -> str:
    token = STAGING.stage(user=user, data=data, file_name="a.xlsx")
    return STAGING.load(token, user=user).path


def commit(path: str) -> None:
    StagedImport.objects.filter(path=path).update(state=StagedImportState.COMMITTED)


def test_the_sweep_deletes_unconfirmed_files_after_the_bound_and_keeps_committed_and_claimed(
    world: World, cast: Cast, clock: time_machine.Coordinates
) -> None:
    abandoned, committed, claimed = stage(cast.admin), stage(cast.admin), stage(cast.county_staff)
    commit(committed)
    StagedImport.objects.filter(path=claimed).update(state=StagedImportState.CLAIMED)
    clock.shift(23 * HOUR)
    fresh = stage(cast.admin)
    assert staged_imports_sweep().files == 0
    assert all(default_storage.exists(path) for path in (abandoned, committed, claimed, fresh))

    clock.shift(2 * HOUR)  # 25 h after the first three, 2 h after `fresh`
    result = staged_imports_sweep()
    assert (result.files, result.orphans, result.stuck) == (1, 0, 1)
    assert not default_storage.exists(abandoned) and state(abandoned) is None
    assert default_storage.exists(committed) and state(committed) == StagedImportState.COMMITTED
    assert default_storage.exists(claimed) and state(claimed) == StagedImportState.CLAIMED
    assert default_storage.exists(fresh) and state(fresh) == StagedImportState.PENDING
    # Idempotent: a second run finds nothing more.
    assert staged_imports_sweep().files == 0
    clock.shift(23 * HOUR)
    assert staged_imports_sweep().files == 1 and not default_storage.exists(fresh)


def test_the_bound_is_a_setting_never_shorter_than_a_preview_may_wait(
    world: World, cast: Cast, clock: time_machine.Coordinates, settings: Any
) -> None:
    assert django_settings.IMPORT_STAGED_MAX_AGE_HOURS == 24
    settings.IMPORT_STAGED_MAX_AGE_HOURS = 6
    assert staged_max_age() == 6 * HOUR
    path = stage(cast.admin)
    clock.shift(5 * HOUR)
    assert staged_imports_sweep().files == 0
    clock.shift(2 * HOUR)
    assert staged_imports_sweep().files == 1 and not default_storage.exists(path)
    # A bound shorter than a preview's life would take files a good token still names.
    settings.IMPORT_STAGED_MAX_AGE_HOURS = 0.1
    assert staged_max_age() == datetime.timedelta(seconds=PREVIEW_MAX_AGE)
    token = STAGING.stage(user=cast.admin, data=b"x", file_name="b.xlsx")
    clock.shift(datetime.timedelta(seconds=PREVIEW_MAX_AGE - 60))
    assert staged_imports_sweep().files == 0
    assert STAGING.load(token, user=cast.admin).data == b"x"


def test_files_staged_before_rows_are_swept_unless_an_audit_row_names_them(
    world: World, cast: Cast, clock: time_machine.Coordinates
) -> None:
    """Files a preview left before staging had rows: the abandoned go; an import's original file (named in
    its audit row) stays and gets a committed row, so it is looked up once."""
    left = default_storage.save("imports/enterprises/2026/01/left.xlsx", ContentFile(b"left"))
    original = default_storage.save("imports/enforcement/2026/01/original.xlsx", ContentFile(b"original"))
    audit_events.enterprises_imported(
        actor=cast.admin, actor_name="", summary="新增 1", detail="导入企业名录", region_path=world.county.path,
        stored_path=original,
    )  # fmt: skip
    unrelated = default_storage.save("hazards/evidence/keep.png", ContentFile(b"png"))
    assert staged_imports_sweep().orphans == 0  # not old yet
    clock.shift(25 * HOUR)
    result = staged_imports_sweep()
    assert result.orphans == 1
    assert not default_storage.exists(left)
    assert default_storage.exists(original) and state(original) == StagedImportState.COMMITTED
    assert default_storage.exists(unrelated)
    assert staged_imports_sweep().orphans == 0


def test_beat_runs_the_sweep_nightly_and_the_command_runs_it_by_hand(
    world: World, cast: Cast, clock: time_machine.Coordinates
) -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["sweep-staged-imports"]
    assert entry["task"] == sweep_staged_imports.name == "portal.tasks.sweep_staged_imports"
    first, second = stage(cast.admin), stage(cast.admin)
    clock.shift(25 * HOUR)
    assert sweep_staged_imports() == {"files": 2, "orphans": 0, "stuck": 0}
    assert not default_storage.exists(first) and not default_storage.exists(second)
    third = stage(cast.admin)
    clock.shift(25 * HOUR)
    out = io.StringIO()
    call_command("sweep_staged_imports", stdout=out)
    assert "已删除超过 24 小时未确认的导入文件 1 个" in out.getvalue()
    assert not default_storage.exists(third)
