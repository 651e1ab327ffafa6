"""The deployment files: docker-compose.yml, the Dockerfile and the production-like run agree,
production settings pass `check --deploy`, and the migrations match the models.

No Docker engine runs here, so the compose file is checked as data; the native production-like
run (scripts/prod_run.sh), which starts the same commands, is started for real.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
import yaml

from tests import services
from tests.services import (
    POSTGRES_PACKAGE,
    REDIS_PACKAGE,
    ServiceUnavailable,
    alive,
    descendants,
    find_binary,
    free_port,
    process_table,
    unavailable,
    wait_until,
)

# Nothing here depends on the test database: run once, in the SQLite session (see the Makefile).
pytestmark = pytest.mark.processes

REPO = Path(__file__).resolve().parent.parent
PORTAL_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def prod_command(name: str) -> str:
    """What scripts/prod_cmd.sh runs for `name` (it prints instead of running with --print)."""
    result = subprocess.run(
        ["sh", "scripts/prod_cmd.sh", "--print", name], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


# Variables of the test process that must not leak into a production-like subprocess
# (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for the live server, for instance).
NOT_INHERITED = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def inherited_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = inherited_env()
    clean.update({"DJANGO_SETTINGS_MODULE": "portal.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_has_the_six_services_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "proxy", "worker", "beat"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
    assert "healthcheck" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["db"]["healthcheck"]["test"][-1].startswith("pg_isready")


def test_compose_keeps_database_and_uploads_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    named = set(compose["volumes"])
    db_mounts = dict(volume.split(":", 1) for volume in services["db"]["volumes"])
    assert db_mounts["pgdata"] == "/var/lib/postgresql/data" and "pgdata" in named
    for name in ("web", "worker"):  # both write uploads (MEDIA_ROOT)
        mounts = dict(volume.split(":", 1) for volume in services[name]["volumes"])
        media_root = services[name]["environment"]["MEDIA_ROOT"]
        assert mounts.get("media") == media_root, f"{name} does not keep {media_root} in the named volume"
    assert "media" in named


def test_compose_runs_the_portal_with_production_settings(compose: dict[str, Any]) -> None:
    for name in PORTAL_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DEBUG"] == "0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required, never defaulted"
        assert env["ALLOWED_HOSTS"]
        database = dj_database_url.parse(env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-portal}", "pw"))
        assert database["ENGINE"] == "django.db.backends.postgresql" and database["HOST"] == "db"
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    depends = compose["services"]["web"]["depends_on"]
    assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_compose_and_the_native_production_run_start_the_same_commands(compose: dict[str, Any]) -> None:
    prod_run = (REPO / "scripts" / "prod_run.sh").read_text()
    for name in PORTAL_SERVICES:
        assert compose["services"][name]["command"] == ["scripts/prod_cmd.sh", name]
        assert re.search(rf"^supervise_start {name} scripts/prod_cmd.sh {name}$", prod_run, re.MULTILINE), name
    # The native run's nginx renders the template the compose proxy service uses.
    assert re.search(r"^supervise_start proxy scripts/prod_cmd.sh proxy$", prod_run, re.MULTILINE)
    assert re.search(r"nginx -e stderr -c \S+/nginx/nginx.conf$", prod_command("proxy"))
    assert prod_command("web").startswith("gunicorn portal.wsgi:application ")
    assert prod_command("worker").startswith("celery -A portal worker ")
    assert prod_command("beat").startswith("celery -A portal beat ")
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["scripts/prod_cmd.sh", "web"]' in dockerfile
    assert "scripts/prod_cmd.sh collectstatic" in dockerfile


# --- the reverse proxy (deploy/nginx.conf.template) ----------------------------------------------


def test_only_the_proxy_publishes_a_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["${PORTAL_PORT:-8000}:80"]
    assert services["proxy"]["environment"]["NGINX_LISTEN"] == "80"
    assert services["web"]["expose"] == ["8000"]
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"


def _compose_default(value: str) -> str:
    """`${NAME:-default}` -> default."""
    found = re.fullmatch(r"\$\{[A-Z_]+:-(.*)\}", value)
    return found.group(1) if found else value


def test_compose_proxy_renders_the_one_template_with_what_web_and_the_image_provide(
    compose: dict[str, Any],
) -> None:
    from deploy import render_nginx
    from portal import limits

    services = compose["services"]
    env = {name: _compose_default(str(value)) for name, value in services["proxy"]["environment"].items()}
    assert render_nginx.template_names() <= set(env), "the proxy service leaves a template placeholder empty"
    rendered = render_nginx.render(env)
    # gunicorn's address in compose (prod_cmd.sh's default BIND, port exposed by web).
    bind = re.search(r"--bind (\S+)", prod_command("web"))
    assert bind and env["PORTAL_UPSTREAM"] == "web:" + bind.group(1).rsplit(":", 1)[1]
    # client_max_body_size follows the upload limit the portal's processes get.
    upload = int(_compose_default(services["web"]["environment"]["UPLOAD_MAX_BYTES"]))
    assert upload == limits.DEFAULT_UPLOAD_MAX_BYTES
    assert f"client_max_body_size {limits.request_body_max_bytes(upload)};" in rendered
    # The image puts the static files, the error pages and the template where the environment says.
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM nginx:\S+ AS proxy$", dockerfile, re.MULTILINE)
    assert f"COPY --from=app /app/staticfiles {env['STATIC_ROOT']}" in dockerfile
    assert f"COPY deploy/errors {env['ERROR_PAGES_ROOT']}" in dockerfile
    assert "COPY deploy/nginx.conf.template /etc/nginx/templates/" in dockerfile
    assert services["proxy"]["build"]["target"] == "proxy"
    assert all(services[name]["build"]["target"] == "app" for name in PORTAL_SERVICES)
    assert "/_proxy/alive" in " ".join(services["proxy"]["healthcheck"]["test"])


def test_the_proxy_never_serves_uploads_and_replaces_forwarded_headers() -> None:
    template = (REPO / "deploy" / "nginx.conf.template").read_text()
    locations = re.findall(r"^\s*location\s+([^{]+)\{", template, re.MULTILINE)
    assert not any("media" in location for location in locations), locations
    assert "alias ${STATIC_ROOT}/;" in template
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in template  # replaced, not appended
    assert "$proxy_add_x_forwarded_for" not in template
    assert "proxy_set_header X-Real-IP $remote_addr;" in template
    assert "error_page 502 503 504 " in template and "error_page 413 " in template
    for page in ("50x.html", "413.html"):
        html = (REPO / "deploy" / "errors" / page).read_text()
        assert '<html lang="zh-CN">' in html and re.search(r"[\u4e00-\u9fff]{6,}", html)


def _nginx_binary() -> str:
    import shutil

    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        unavailable("`nginx` not found: install it with `apt-get install nginx`")
    return str(found)


def test_the_native_proxy_configuration_is_valid_nginx(tmp_path: Path) -> None:
    from deploy import render_nginx

    env = {
        "PROXY_BIND": "127.0.0.1:18080", "BIND": "0.0.0.0:18081", "STATIC_ROOT": str(tmp_path / "static"),
        "UPLOAD_MAX_BYTES": "2097152",
    }  # fmt: skip
    main = render_nginx.write_native(tmp_path / "nginx", env)
    portal = (tmp_path / "nginx" / "portal.conf").read_text()
    assert "listen 127.0.0.1:18080;" in portal and "server 127.0.0.1:18081 " in portal
    assert f"client_max_body_size {2097152 + 1024 * 1024};" in portal
    assert "${" not in portal
    result = subprocess.run(
        [_nginx_binary(), "-t", "-e", "stderr", "-c", str(main)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
    with pytest.raises(render_nginx.RenderError, match="TRUSTED_PROXY"):
        render_nginx.render({k: v for k, v in render_nginx.native_values(env).items() if k != "TRUSTED_PROXY"})


def test_ci_and_readme_install_nginx() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    packages = re.search(r"PACKAGES=\(([^)]*)\)", ci)
    assert packages and "nginx" in packages.group(1).split()
    assert "`nginx`" in (REPO / "README.md").read_text()


def test_prod_cmd_refuses_an_unknown_command() -> None:
    result = subprocess.run(["sh", "scripts/prod_cmd.sh", "nonsense"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "usage" in result.stderr


def test_dockerfile_has_what_weasyprint_and_chinese_pdfs_need() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and re.search(r"^FROM python:3\.11-slim AS app$", dockerfile, re.MULTILINE)
    for package in ("fonts-noto-cjk", "libharfbuzz-subset0", "libpango-1.0-0", "libpangoft2-1.0-0"):
        assert package in dockerfile, package
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "var", "db.sqlite3*"} <= set(ignored)


# --- the service fixtures (tests/services.py) ---------------------------------------------------


def test_a_missing_server_binary_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setattr(services.glob, "glob", lambda pattern: [])
    with pytest.raises(ServiceUnavailable, match=r"apt-get install redis-server"):
        find_binary("redis-server", REDIS_PACKAGE)
    with pytest.raises(ServiceUnavailable, match=r"apt-get install postgresql"):
        find_binary("initdb", POSTGRES_PACKAGE)


def test_postgres_binaries_are_found_outside_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, not on PATH.
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setattr(
        services.glob, "glob", lambda pattern: [pattern.replace("*", "9.6"), pattern.replace("*", "15")]
    )
    monkeypatch.setattr(services.os, "access", lambda path, mode: True)
    assert find_binary("initdb", POSTGRES_PACKAGE) == "/usr/lib/postgresql/15/bin/initdb"


def test_a_missing_server_is_skipped_locally_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install redis-server"):
        unavailable("`redis-server` not found: install it with `apt-get install redis-server`")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("`redis-server` not found: install it with `apt-get install redis-server`")


# --- settings and migrations --------------------------------------------------------------------


def _production_env(tmp: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "PORTAL_VAR_DIR": tmp,
        "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **_production_env(str(tmp_path)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output


def test_check_deploy_does_warn_about_debug(tmp_path: Path) -> None:
    # The same check notices a development setting, so the clean result above means something.
    result = manage("check", "--deploy", **{**_production_env(str(tmp_path)), "DEBUG": "1"})
    assert "security.W018" in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = _production_env(str(tmp_path))
    del env["SECRET_KEY"]
    result = manage("check", **env)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_migrations_match_the_models(tmp_path: Path) -> None:
    result = manage(
        "makemigrations", "--check", "--dry-run", PORTAL_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


# --- the native production-like run, for real --------------------------------------------------


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_prod_run_starts_postgres_redis_gunicorn_worker_beat_and_stops_them(tmp_path: Path) -> None:
    try:
        for name, package in (
            ("initdb", POSTGRES_PACKAGE),
            ("pg_ctl", POSTGRES_PACKAGE),
            ("redis-server", REDIS_PACKAGE),
        ):
            find_binary(name, package)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    port = free_port()
    env = inherited_env()
    env.update(
        PROD_RUN_PORT=str(port),
        PROD_RUN_SEED="0",
        PROD_RUN_COLLECTSTATIC="0",  # WhiteNoise's compression takes minutes; /healthz needs no static files
        PROD_RUN_STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
        WORKER_CONCURRENCY="1",
    )
    log_path = tmp_path / "prod_run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            ["bash", "scripts/prod_run.sh"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def output() -> str:
        return log_path.read_text(errors="replace")

    try:
        _, body = wait_until(
            lambda: (answer := _get(f"http://127.0.0.1:{port}/healthz"))[0] == 200 and answer,
            180,
            f"prod_run.sh never answered /healthz with 200\n{output()[-5000:]}",
            interval=1,
        )
        assert b'"transport": "redis"' in body and b'"debug": false' in body
        data_dir = re.search(r"data in (\S+)/pg\)", output())
        assert data_dir, output()
        root = data_dir.group(1)

        # The processes are the ones compose starts: the very command lines of prod_cmd.sh; gunicorn on
        # a loopback port of its own behind nginx, which listens on PROD_RUN_PORT.
        running = " | ".join(descendants(run.pid).values())
        gunicorn_port = re.search(r"gunicorn portal\.wsgi:application --bind 127\.0\.0\.1:(\d+) ", running)
        assert gunicorn_port and gunicorn_port.group(1) != str(port), running
        for name in PORTAL_SERVICES:
            expected = prod_command(name).replace("--concurrency 2", "--concurrency 1")
            expected = re.sub(r"--workers \d+", "--workers 1", expected)
            expected = expected.replace("0.0.0.0:8000", f"127.0.0.1:{gunicorn_port.group(1)}")
            assert expected in running, f"{expected!r} not among {running}"
        assert re.search(r"nginx: master process \S*nginx -e stderr -c \S+/nginx/nginx\.conf", running), running
        assert _get(f"http://127.0.0.1:{port}/_proxy/alive")[0] == 200
        servers = [pid for pid, (_, cmd) in process_table().items() if root in cmd]
        assert servers, "no PostgreSQL or Redis process runs in the data folder"
        tree = descendants(run.pid)
        wait_until(lambda: "Press Ctrl-C" in output(), 30, "prod_run.sh printed no banner")

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=90) == 0, output()[-5000:]
        time.sleep(0.5)
        assert not alive(tree), f"left behind: {[tree[p] for p in alive(tree)]}"
        assert not alive(servers), "PostgreSQL or Redis still runs"
        assert not Path(root).exists(), "the throwaway data folder was not removed"
        assert "[supervise] all stopped" in output() and "did not stop" not in output()
    finally:
        if run.poll() is None:  # a failed assertion: let the script stop what it started
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()


def test_static_files_collect_with_the_production_storage(tmp_path: Path, settings: Any) -> None:
    # With DEBUG=0 the static files are hashed into a manifest (WhiteNoise's storage is Django's
    # manifest storage plus compression, which is slow and left out here): every file a CSS or JS
    # file references, source maps included, must exist, or collectstatic — and so the Docker
    # build and `make prod-run` — fails.
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
