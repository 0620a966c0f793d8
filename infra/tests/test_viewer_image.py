"""The viewer's image (infra/docker/viewer.Dockerfile): its build stages, the start-up script
that writes /config.json, and its nginx configuration served by a real nginx (Debian's;
scripts/infra-check.sh installs it) on a stand-in build."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import DOCKER, REPO

SCRIPT = DOCKER / "viewer-config.sh"
CONF = DOCKER / "viewer-nginx.conf"
IMAGE_HTML = "/usr/share/nginx/html"
IMAGE_CONFIG_DIR = "/tmp/ode-viewer"


def _stages() -> dict[str, str]:
    text = (DOCKER / "viewer.Dockerfile").read_text()
    stages = {}
    for chunk in re.split(r"(?m)^FROM ", text)[1:]:
        name = re.match(r"\S+(?: AS (\w+))?", chunk).group(1)
        stages[name] = chunk
    return stages


# ------------------------------------------------------------------ the Dockerfile
def test_the_wasm_stage_builds_the_npm_package_with_the_pinned_wasm_bindgen():
    wasm = _stages()["wasm"]
    chef = _stages()["chef"]
    assert chef.startswith("rust:") and "rustup target add wasm32-unknown-unknown" in chef
    # The CLI's version is read from wasm/Cargo.toml, the same way wasm/build.sh reads it.
    assert "COPY wasm/Cargo.toml" in wasm and "cargo install wasm-bindgen-cli --version \"$version\"" in wasm
    pin = re.search(r'(?m)^wasm-bindgen = "=([0-9.]+)"$', (REPO / "wasm" / "Cargo.toml").read_text())
    assert pin, "wasm/Cargo.toml must pin wasm-bindgen exactly"
    sed = re.search(r"sed -n '(s/.*?/\\1/p)'", wasm).group(1)
    out = subprocess.run(["sed", "-n", sed, str(REPO / "wasm" / "Cargo.toml")], capture_output=True, text=True)
    assert out.stdout.strip() == pin.group(1)
    # Dependencies from cargo-chef's recipe before the sources, then wasm/build.sh.
    cook = wasm.index("cargo chef cook --profile wasm --target wasm32-unknown-unknown")
    assert wasm.index("cargo install wasm-bindgen-cli") < cook < wasm.index("COPY . .") < wasm.index("./wasm/build.sh")
    assert "-p ode-wasm" in wasm and "CARGO_TARGET_DIR" in wasm


def test_the_viewer_stage_installs_from_the_lock_file_before_copying_sources():
    viewer = _stages()["viewer"]
    assert viewer.startswith("node:")
    lock = viewer.index("COPY shells/viewer/package.json shells/viewer/package-lock.json ./")
    engine_manifest = viewer.index("COPY wasm/npm/package.json /src/wasm/npm/package.json")
    ci = viewer.index("RUN npm ci")
    assert lock < ci and engine_manifest < ci
    # The built package (wasm/npm with dist/) replaces the bare manifest after npm ci, where
    # shells/viewer's file:../../wasm/npm points: WORKDIR /src/shells/viewer.
    assert ci < viewer.index("COPY --from=wasm /src/wasm/npm /src/wasm/npm") < viewer.index("npm run build")
    assert ci < viewer.index("COPY shells/viewer/ ./")
    assert "WORKDIR /src/shells/viewer" in viewer
    assert "gzip -9 -k" in viewer and "'*.wasm'" in viewer


def test_the_runtime_stage_runs_the_config_script_and_serves_the_build():
    runtime = _stages()["runtime"]
    assert runtime.startswith("nginxinc/nginx-unprivileged:")
    assert "COPY infra/docker/viewer-nginx.conf /etc/nginx/conf.d/default.conf" in runtime
    m = re.search(r"COPY --chmod=0755 infra/docker/viewer-config.sh (/docker-entrypoint\.d/\S+\.sh)", runtime)
    assert m, "the entrypoint runs only executable *.sh files of /docker-entrypoint.d"
    assert f"COPY --from=viewer /src/shells/viewer/dist {IMAGE_HTML}" in runtime
    assert "ODE_VIEWER_API_URL" in runtime
    conf = CONF.read_text()
    assert f"root {IMAGE_HTML};" in conf
    # The script writes where nginx serves /config.json from.
    assert re.search(r"location = /config\.json \{\s*root " + re.escape(IMAGE_CONFIG_DIR) + ";", conf)
    assert f'ODE_VIEWER_CONFIG_DIR:-{IMAGE_CONFIG_DIR}' in SCRIPT.read_text()
    assert f'ODE_VIEWER_HTML_DIR:-{IMAGE_HTML}' in SCRIPT.read_text()


def test_the_build_context_keeps_what_the_viewer_build_reads():
    ignored = [l.strip() for l in (DOCKER / "viewer.Dockerfile.dockerignore").read_text().splitlines()
               if l.strip() and not l.startswith("#")]
    for needed in ("wasm", "wasm/npm", "shells/viewer", "ode-core", "infra/docker", "Cargo.lock"):
        assert not any(needed == p or needed.startswith(p.rstrip("/") + "/") for p in ignored), needed
    assert "**/node_modules" in ignored and "wasm/npm/dist" in ignored


# ------------------------------------------------------------------ the start-up script
def _run_script(tmp: Path, api_url: str | None, html_config: str | None = None):
    html = tmp / "html"
    html.mkdir(exist_ok=True)
    if html_config is not None:
        (html / "config.json").write_text(html_config)
    env = {"PATH": os.environ["PATH"], "ODE_VIEWER_CONFIG_DIR": str(tmp / "config"),
           "ODE_VIEWER_HTML_DIR": str(html)}
    if api_url is not None:
        env["ODE_VIEWER_API_URL"] = api_url
    # POSIX sh, as the image's busybox runs it.
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("value,api_url", [
    ("https://api.ode.example.com", "https://api.ode.example.com"),
    ("https://api.ode.example.com/", "https://api.ode.example.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://example.com/ode/api//", "https://example.com/ode/api"),
])
def test_the_script_writes_the_api_url(tmp_path, value, api_url):
    out = _run_script(tmp_path, value)
    assert out.returncode == 0, out.stderr
    written = tmp_path / "config" / "config.json"
    assert json.loads(written.read_text()) == {"apiUrl": api_url}
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert [p.name for p in (tmp_path / "config").iterdir()] == ["config.json"]


def test_without_an_api_url_the_viewer_uses_its_own_origin_or_the_builds_config(tmp_path):
    out = _run_script(tmp_path, None)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "config" / "config.json").read_text()) == {}
    out = _run_script(tmp_path, "")
    assert out.returncode == 0 and json.loads((tmp_path / "config" / "config.json").read_text()) == {}
    out = _run_script(tmp_path, "", html_config='{"apiUrl": "https://built.example.com"}\n')
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "config" / "config.json").read_text()) == {"apiUrl": "https://built.example.com"}


@pytest.mark.parametrize("value", [
    "api.ode.example.com", "ftp://api.ode.example.com", "javascript:alert(1)", "https://",
    'https://api.ode.example.com/"}', "https://api.ode.example.com\n\"x", "https://api.ode.example.com?x=1",
    "https://api ode.example.com", "https://api.ode.example.com\\x",
])
def test_the_script_refuses_a_value_that_is_not_an_http_url(tmp_path, value):
    out = _run_script(tmp_path, value)
    assert out.returncode != 0
    assert "ODE_VIEWER_API_URL" in out.stderr
    assert not (tmp_path / "config" / "config.json").exists()


# ------------------------------------------------------------------ nginx
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def viewer():
    """Debian's nginx with viewer-nginx.conf on a stand-in build; yields (port, files)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert nginx, "nginx is needed (scripts/infra-check.sh installs it)"
    # Under /tmp and world-readable: nginx's workers may run as another user than the tests.
    work = Path(tempfile.mkdtemp(prefix="ode-viewer-nginx-"))
    work.chmod(0o755)
    html, config = work / "html", work / "config"
    (html / "assets").mkdir(parents=True)
    files = {
        "index.html": b"<!doctype html><title>ODE</title><div id=root></div>\n",
        "assets/index-Ab12Cd34.js": b"console.log('viewer');\n" * 200,
        "assets/ode_wasm_bg-Ef56Gh78.wasm": b"\0asm\1\0\0\0" + bytes(range(256)) * 64,
        "favicon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    }
    for rel, data in files.items():
        (html / rel).write_bytes(data)
    # Precompressed siblings, as the image build writes them: marked so that a response can
    # only have come from the .gz file, not from on-the-fly compression.
    for rel in ("assets/index-Ab12Cd34.js", "assets/ode_wasm_bg-Ef56Gh78.wasm"):
        (html / f"{rel}.gz").write_bytes(gzip.compress(files[rel] + b"/*precompressed*/", mtime=0))
    for p in work.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    env = {"PATH": os.environ["PATH"], "ODE_VIEWER_API_URL": "https://api.ode.example.com/",
           "ODE_VIEWER_CONFIG_DIR": str(config), "ODE_VIEWER_HTML_DIR": str(html)}
    out = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    config.chmod(0o755)

    port = _free_port()
    conf = CONF.read_text()
    assert conf.count(IMAGE_HTML) == 1 and conf.count(IMAGE_CONFIG_DIR) == 1 and conf.count("listen 8080;") == 1
    # One pass, so that a replacement is never replaced again.
    places = {IMAGE_HTML: str(html), IMAGE_CONFIG_DIR: str(config), "listen 8080;": f"listen 127.0.0.1:{port};"}
    conf = re.sub("|".join(map(re.escape, places)), lambda m: places[m.group(0)], conf)
    (work / "default.conf").write_text(conf)
    # What the image's nginx.conf puts around conf.d/*.conf.
    (work / "nginx.conf").write_text(f"""
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/default.conf;
}}
""")
    test = subprocess.run([nginx, "-t", "-q", "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")],
                          capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    subprocess.run([nginx, "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")], check=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield port, files
    finally:
        pid = work / "nginx.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), 15)
            deadline = time.monotonic() + 10
            while pid.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(work, ignore_errors=True)


def _get(port: int, path: str, gzip_ok: bool = False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip_ok else {"Accept-Encoding": "identity"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def _security_headers(headers):
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_nginx_serves_the_module_as_application_wasm_precompressed_and_cached_for_a_year(viewer):
    port, files = viewer
    path = "/assets/ode_wasm_bg-Ef56Gh78.wasm"
    status, headers, body = _get(port, path, gzip_ok=True)
    assert status == 200
    assert headers["content-type"] == "application/wasm"
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == files[path[1:]] + b"/*precompressed*/", "not the .gz sibling"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in headers["vary"]
    _security_headers(headers)
    # A client without gzip gets the module itself.
    status, headers, body = _get(port, path)
    assert status == 200 and headers["content-type"] == "application/wasm"
    assert "content-encoding" not in headers and body == files[path[1:]]


def test_nginx_serves_hashed_scripts_precompressed_and_a_missing_bundle_as_404(viewer):
    port, files = viewer
    status, headers, body = _get(port, "/assets/index-Ab12Cd34.js", gzip_ok=True)
    assert status == 200 and headers["content-type"] == "application/javascript"
    assert gzip.decompress(body).endswith(b"/*precompressed*/")
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    _security_headers(headers)
    status, headers, body = _get(port, "/assets/index-00000000.js")
    assert status == 404 and b"<title>ODE</title>" not in body
    assert "cache-control" not in headers, "an error must not be cached for a year"


def test_index_html_and_client_routes_are_revalidated_on_every_load(viewer):
    port, files = viewer
    for path in ("/", "/index.html", "/documents/42", "/templates/invoice/edit"):
        status, headers, body = _get(port, path)
        assert status == 200, path
        assert body == files["index.html"], path
        assert headers["content-type"].startswith("text/html"), path
        assert headers["cache-control"] == "no-cache", path
        assert "etag" in headers or "last-modified" in headers, path
        _security_headers(headers)
    status, headers, _ = _get(port, "/favicon.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml" and headers["cache-control"] == "no-cache"


def test_config_json_comes_from_the_start_up_script_uncached(viewer):
    port, _ = viewer
    status, headers, body = _get(port, "/config.json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-cache"
    assert json.loads(body) == {"apiUrl": "https://api.ode.example.com"}
    _security_headers(headers)


def test_health_and_ready_answer_for_the_probes(viewer):
    port, _ = viewer
    for path in ("/health", "/ready"):
        status, headers, body = _get(port, path)
        assert (status, body) == (200, b"ok\n"), path
        assert headers["content-type"] == "text/plain"
