"""Renders deploy/nginx.conf.template, the reverse proxy's one configuration, for the native
production-like run (`scripts/prod_cmd.sh proxy`); docker-compose.yml's proxy service renders the same
template with the nginx image's own envsubst step.

    python deploy/render_nginx.py OUT_DIR      # writes OUT_DIR/nginx.conf (main) and OUT_DIR/portal.conf

From the environment: PROXY_BIND (the public address, 127.0.0.1:8000), BIND (gunicorn's address),
STATIC_ROOT, UPLOAD_MAX_BYTES, TRUSTED_PROXY (192.0.2.1/32: none), NGINX_MIME_TYPES
(/etc/nginx/mime.types), NGINX_WORKER_PROCESSES (2).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: portal.limits without Django
    sys.path.insert(0, str(REPO))

from portal import limits  # noqa: E402

TEMPLATE = REPO / "deploy" / "nginx.conf.template"
ERROR_PAGES = REPO / "deploy" / "errors"
NO_TRUSTED_PROXY = "192.0.2.1/32"  # TEST-NET-1: no TLS terminator in front, nobody's forwarded headers count
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class RenderError(ValueError):
    pass


def template_names(text: str | None = None) -> set[str]:
    """The ${NAMES} the template expects."""
    return set(PLACEHOLDER.findall(TEMPLATE.read_text() if text is None else text))


def render(values: Mapping[str, str], text: str | None = None) -> str:
    """The template with every ${NAME} filled in (envsubst's rule); a missing value is an error."""
    text = TEMPLATE.read_text() if text is None else text
    missing = template_names(text) - set(values)
    if missing:
        raise RenderError(f"no value for {', '.join(sorted(missing))}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def client_max_body_size(environ: Mapping[str, str]) -> str:
    return str(limits.request_body_max_bytes(limits.upload_max_bytes(environ)))


def native_values(environ: Mapping[str, str]) -> dict[str, str]:
    static_root = Path(environ.get("STATIC_ROOT", REPO / "staticfiles")).resolve()
    return {
        "NGINX_LISTEN": environ.get("PROXY_BIND", "127.0.0.1:8000"),
        "PORTAL_UPSTREAM": environ.get("BIND", "127.0.0.1:8001").replace("0.0.0.0:", "127.0.0.1:"),
        "STATIC_ROOT": str(static_root),
        "ERROR_PAGES_ROOT": str(ERROR_PAGES),
        "CLIENT_MAX_BODY_SIZE": client_max_body_size(environ),
        "TRUSTED_PROXY": environ.get("TRUSTED_PROXY", NO_TRUSTED_PROXY),
    }


def main_config(out_dir: Path, environ: Mapping[str, str], as_root: bool) -> str:
    """nginx's main context around the rendered server (the nginx image has its own)."""
    temp = out_dir / "tmp"
    lines = [
        "# Rendered by deploy/render_nginx.py for the native production-like run: edit the template instead.",
        # Started as root (this machine's test runs), the workers must read the repository's error pages
        # and the collected static files wherever they are; as any other user the directive is ignored.
        "user root;" if as_root else "",
        f"worker_processes {environ.get('NGINX_WORKER_PROCESSES', '2')};",
        f"pid {out_dir / 'nginx.pid'};",
        "error_log stderr warn;",
        "daemon off;",
        "events { worker_connections 1024; }",
        "http {",
        f"    include {environ.get('NGINX_MIME_TYPES', '/etc/nginx/mime.types')};",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    access_log /dev/stdout;",
        *(f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    include {out_dir / 'portal.conf'};",
        "}",
        "",
    ]
    return "\n".join(line for line in lines if line != "")


def write_native(out_dir: Path, environ: Mapping[str, str] = os.environ) -> Path:
    out_dir = out_dir.resolve()
    (out_dir / "tmp").mkdir(parents=True, exist_ok=True)
    (out_dir / "portal.conf").write_text(render(native_values(environ)))
    main = out_dir / "nginx.conf"
    main.write_text(main_config(out_dir, environ, as_root=os.geteuid() == 0))
    return main


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    print(write_native(Path(sys.argv[1])))
