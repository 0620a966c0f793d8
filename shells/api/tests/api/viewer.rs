//! The viewer served by the API (`api.viewer_dir`), the page `/` shows without one, and
//! CORS (`api.cors_origins`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ode_sdk::api::ErrorBody;
use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::helpers::{Backend, TestApp, spawn, spawn_with};

const INDEX: &str = "<!doctype html><html><head><title>ODE viewer</title></head><body><div id=\"root\"></div></body></html>";
const SECRET: &str = "secret-outside-the-viewer-7f3a";
const WASM: &[u8] = b"\0asm\x01\0\0\0 a stand-in for the engine";
/// The bytes of the `.br` sibling: the server sends them as they are.
const WASM_BR: &[u8] = b"brotli bytes of engine-5678.wasm";

fn app_js() -> String {
    "export function main() { console.log('ODE viewer'); }\n".repeat(200)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("the body is gzip");
    out
}

/// `<tmp>/secret` next to `<tmp>/viewer`, a built viewer with a link leading out of it.
fn viewer_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("secret"), SECRET).unwrap();
    let dir = tmp.path().join("viewer");
    let assets = dir.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("config.json"), "{\"api\": \"\"}").unwrap();
    std::fs::write(assets.join("app-1234.js"), app_js()).unwrap();
    std::fs::write(assets.join("app-1234.js.gz"), gzip(app_js().as_bytes())).unwrap();
    std::fs::write(assets.join("app-1234.css"), "body{margin:0}").unwrap();
    std::fs::write(assets.join("engine-5678.wasm"), WASM).unwrap();
    std::fs::write(assets.join("engine-5678.wasm.br"), WASM_BR).unwrap();
    std::fs::write(assets.join("engine-5678.wasm.gz"), gzip(WASM)).unwrap();
    std::fs::write(assets.join("font-1.ttf"), b"\0\x01\0\0 font").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(tmp.path().join("secret"), assets.join("leak.txt")).unwrap();
    (tmp, dir)
}

async fn with_viewer(dir: &Path) -> TestApp {
    let dir = dir.to_path_buf();
    spawn_with(Backend::Embedded, move |s| s.api.viewer_dir = Some(dir)).await
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    request(app, Method::GET, path, headers).await
}

async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = app.http().request(method, format!("{}{path}", app.address));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} in {h:?}"))
}

/// Sends `path` exactly as written (clients normalise `..` and `%2e%2e` away); the
/// status and the whole answer.
fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let addr = app.address.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_files_are_served_with_their_types_and_cache_headers() {
    let (_tmp, dir) = viewer_dir();
    let app = with_viewer(&dir).await;
    let cases: [(&str, &str, &str); 7] = [
        ("/", "text/html; charset=utf-8", "no-cache"),
        ("/index.html", "text/html; charset=utf-8", "no-cache"),
        ("/config.json", "application/json", "no-cache"),
        (
            "/assets/app-1234.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "/assets/app-1234.css",
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "/assets/engine-5678.wasm",
            "application/wasm",
            "public, max-age=31536000, immutable",
        ),
        (
            "/assets/font-1.ttf",
            "font/ttf",
            "public, max-age=31536000, immutable",
        ),
    ];
    for (path, content_type, cache) in cases {
        let r = get(&app, path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(header(&h, "content-type"), content_type, "{path}");
        assert_eq!(header(&h, "cache-control"), cache, "{path}");
        assert!(header(&h, "vary").contains("Accept-Encoding"), "{path}");
        assert!(h.get("content-encoding").is_none(), "{path}");
        assert!(h.get("content-disposition").is_none(), "{path}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        let body = r.bytes().await.unwrap();
        let expected = match path {
            "/" => INDEX.as_bytes().to_vec(),
            _ => std::fs::read(dir.join(&path[1..])).unwrap(),
        };
        assert_eq!(body.as_ref(), expected.as_slice(), "{path}");
    }
    // Revalidation: the ETag and Last-Modified given come back as a 304.
    let r = get(&app, "/config.json", &[]).await;
    let etag = header(r.headers(), "etag").to_string();
    let modified = header(r.headers(), "last-modified").to_string();
    let r = get(&app, "/config.json", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(r.headers(), "cache-control"), "no-cache");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get(&app, "/config.json", &[("if-modified-since", &modified)]).await;
    assert_eq!(r.status(), 304);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precompressed_siblings_are_sent_when_the_client_takes_them() {
    let (_tmp, dir) = viewer_dir();
    let app = with_viewer(&dir).await;
    // gzip: the body is the sibling, which decompresses to the file.
    let r = get(&app, "/assets/app-1234.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert!(header(&h, "vary").contains("Accept-Encoding"));
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let body = r.bytes().await.unwrap();
    assert!(body.len() < app_js().len() / 4, "{} bytes", body.len());
    assert_eq!(gunzip(&body), app_js().as_bytes());
    // The identity and the gzip answers are told apart by their ETags.
    let plain = get(&app, "/assets/app-1234.js", &[]).await;
    assert_ne!(header(plain.headers(), "etag"), header(&h, "etag"));
    // br before gzip when both are taken.
    let r = get(
        &app,
        "/assets/engine-5678.wasm",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(header(r.headers(), "content-encoding"), "br");
    assert_eq!(header(r.headers(), "content-type"), "application/wasm");
    assert_eq!(r.bytes().await.unwrap().as_ref(), WASM_BR);
    // br refused (q=0): gzip.
    let r = get(
        &app,
        "/assets/engine-5678.wasm",
        &[("accept-encoding", "br;q=0, gzip")],
    )
    .await;
    assert_eq!(header(r.headers(), "content-encoding"), "gzip");
    assert_eq!(gunzip(&r.bytes().await.unwrap()), WASM);
    // Nothing taken: the file itself.
    let r = get(
        &app,
        "/assets/app-1234.js",
        &[("accept-encoding", "identity")],
    )
    .await;
    assert!(r.headers().get("content-encoding").is_none());
    assert!(header(r.headers(), "vary").contains("Accept-Encoding"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), app_js().as_bytes());
    // A file without a sibling is sent as it is.
    let r = get(&app, "/config.json", &[("accept-encoding", "gzip, br")]).await;
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.text().await.unwrap(), "{\"api\": \"\"}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_without_a_file_get_index_html_and_missing_files_404() {
    let (_tmp, dir) = viewer_dir();
    let app = with_viewer(&dir).await;
    for path in [
        "/documents/42",
        "/documents/42/",
        "/settings",
        "/assets-x/y",
    ] {
        let r = get(&app, path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            header(r.headers(), "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(r.headers(), "cache-control"), "no-cache");
        assert_eq!(r.text().await.unwrap(), INDEX, "{path}");
    }
    for path in [
        "/assets/missing.js",
        "/missing.png",
        "/documents/42.json",
        "/assets/missing",
    ] {
        let r = get(&app, path, &[]).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: ErrorBody = r.json().await.unwrap();
        assert_eq!(body.errors[0].code, "not_found", "{path}");
    }
    // HEAD: the headers of a GET, no body.
    let r = request(&app, Method::HEAD, "/assets/app-1234.js", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "content-length"),
        app_js().len().to_string()
    );
    assert_eq!(
        header(r.headers(), "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(r.bytes().await.unwrap().is_empty());
    let r = request(&app, Method::HEAD, "/documents/42", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "content-length"),
        INDEX.len().to_string()
    );
    assert!(r.bytes().await.unwrap().is_empty());
    // Other methods are not the viewer's.
    let r = request(&app, Method::POST, "/documents/42", &[]).await;
    assert_eq!(r.status(), 404);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.errors[0].code, "not_found");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_viewer_directory_is_served() {
    let (_tmp, dir) = viewer_dir();
    // A file next to the viewer directory, for `..` to aim at.
    std::fs::write(dir.parent().unwrap().join("Cargo.toml"), SECRET).unwrap();
    let app = with_viewer(&dir).await;
    for path in [
        "/../Cargo.toml",
        "/../secret",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E/secret",
        "/assets/../../secret",
        "/assets/..%2f..%2fsecret",
        "/assets/%2e%2e%2f%2e%2e%2fsecret",
        "/assets/%2e%2e/%2e%2e/secret",
        "/..%5csecret",
        "/assets/./../../secret",
        "/%2fetc%2fpasswd",
        "/assets/%00",
    ] {
        let (status, answer) = raw_get(&app, path);
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(answer.contains("bad_path"), "{path}: {answer}");
        assert!(!answer.contains(SECRET), "{path}: {answer}");
    }
    // An absolute path after `//` stays under the directory: `/etc/passwd` is no
    // viewer file, and has no extension, so the viewer's page answers.
    let (status, answer) = raw_get(&app, "//etc/passwd");
    assert_eq!(status, 200);
    assert!(answer.ends_with(INDEX), "{answer}");
    let (status, answer) = raw_get(&app, "//etc/hostname.txt");
    assert_eq!(status, 404, "{answer}");
    // A symbolic link out of the directory is as if it were not there.
    #[cfg(unix)]
    {
        let (status, answer) = raw_get(&app, "/assets/leak.txt");
        assert_eq!(status, 404, "{answer}");
        assert!(!answer.contains(SECRET), "{answer}");
    }
    app.stop().await;
}

/// Status, content type, `Allow` and body of an answer.
async fn shape(app: &TestApp, method: Method, path: &str) -> (u16, String, String, String) {
    let r = request(app, method, path, &[]).await;
    let h = r.headers().clone();
    let get = |n: &str| {
        h.get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (ct, allow) = (get("content-type"), get("allow"));
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    (status, ct, allow, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_as_it_does_without_a_viewer() {
    let (_tmp, dir) = viewer_dir();
    // A viewer holding files named like the API's paths must not shadow them.
    std::fs::create_dir_all(dir.join("v1")).unwrap();
    std::fs::write(dir.join("v1/nope"), "shadow").unwrap();
    std::fs::write(dir.join("health"), "shadow").unwrap();
    std::fs::write(dir.join("docs"), "shadow").unwrap();
    let with = with_viewer(&dir).await;
    let without = spawn(Backend::Embedded).await;
    let cases = [
        (Method::GET, "/v1/nope"),
        (Method::GET, "/v1"),
        (Method::GET, "/v1/"),
        (Method::GET, "/v1/render"),
        (Method::HEAD, "/v1/render"),
        (Method::DELETE, "/v1/render"),
        (Method::GET, "/v1/documents/not-a-uuid/assets/x"),
        (Method::GET, "/health"),
        (Method::HEAD, "/health"),
        (Method::POST, "/health"),
        (Method::GET, "/health/x"),
        (Method::GET, "/ready"),
        (Method::GET, "/docs"),
        (Method::GET, "/docs/x.js"),
        (Method::GET, "/v1/openapi.json"),
        (Method::POST, "/"),
        (Method::PUT, "/assets/app-1234.js"),
        (Method::OPTIONS, "/v1/render"),
    ];
    for (method, path) in cases {
        let a = shape(&with, method.clone(), path).await;
        let b = shape(&without, method.clone(), path).await;
        assert_eq!(a, b, "{method} {path}");
        assert!(!a.3.contains("shadow"), "{method} {path}");
    }
    let (status, ct, _, body) = shape(&with, Method::GET, "/v1/nope").await;
    assert_eq!((status, ct.as_str()), (404, "application/json"));
    assert!(body.contains("not_found"), "{body}");
    let (status, _, allow, body) = shape(&with, Method::GET, "/v1/render").await;
    assert_eq!((status, allow.as_str()), (405, "POST"));
    assert!(body.contains("method_not_allowed"), "{body}");
    let r = get(&with, "/metrics", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ode_http_requests_total"));
    with.stop().await;
    without.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_viewer_the_root_tells_how_to_build_one() {
    let app = spawn(Backend::Embedded).await;
    let r = get(&app, "/", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "content-type"),
        "text/html; charset=utf-8"
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("./scripts/build-viewer.sh"), "{page}");
    assert!(page.contains("href=\"/docs\""), "{page}");
    assert!(page.contains("ODE__API__VIEWER_DIR"), "{page}");
    let r = request(&app, Method::HEAD, "/", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    for path in ["/documents/42", "/index.html", "/assets/app.js"] {
        let r = get(&app, path, &[]).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: ErrorBody = r.json().await.unwrap();
        assert_eq!(body.errors[0].code, "not_found");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_dir_that_is_not_a_directory_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (settings, _) = crate::helpers::settings(Backend::Embedded, tmp.path());
    let mut settings = settings;
    settings.api.viewer_dir = Some(tmp.path().join("no-such-dir"));
    let (service, _queue) = ode_sdk::service::connect(settings).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let e = ode_api::start(service, listener).err().expect("refused");
    assert!(e.to_string().contains("api.viewer_dir"), "{e}");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
}

const VIEWER_ORIGIN: &str = "https://viewer.example.com";

fn cors_headers(h: &HeaderMap) -> Vec<String> {
    h.keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    request(
        app,
        Method::OPTIONS,
        "/v1/render",
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            ),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_the_configured_origins_call_the_api() {
    let app = spawn_with(Backend::Embedded, |s| {
        s.api.cors_origins = vec![VIEWER_ORIGIN.into(), "http://localhost:5173".into()];
        s.api.rate_limit_per_sec = 1;
    })
    .await;
    // Preflights need no key and are not rate limited (the limit is 1/s, bursts of 2).
    for _ in 0..10 {
        let r = preflight(&app, VIEWER_ORIGIN).await;
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(header(h, "access-control-allow-origin"), VIEWER_ORIGIN);
        let methods = header(h, "access-control-allow-methods");
        for m in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed = header(h, "access-control-allow-headers").to_lowercase();
        for name in [
            "authorization",
            "content-type",
            "idempotency-key",
            "x-request-id",
        ] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert_eq!(header(h, "access-control-max-age"), "3600");
        assert!(h.get("access-control-allow-credentials").is_none());
    }
    // A real request from the origin: its answer's headers are readable.
    let r = app
        .http()
        .post(format!("{}/v1/render", app.address))
        .bearer_auth(&app.key)
        .header("origin", VIEWER_ORIGIN)
        .json(&serde_json::json!({ "markdown": "# Hello" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(header(h, "access-control-allow-origin"), VIEWER_ORIGIN);
    assert_eq!(header(h, "x-ode-pages"), "1");
    let exposed = header(h, "access-control-expose-headers").to_lowercase();
    for name in [
        "x-ode-pages",
        "x-ode-warnings",
        "x-request-id",
        "retry-after",
        "content-disposition",
        "location",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert!(header(h, "vary").contains("Origin"));
    // Errors are readable too (a page must see why it was refused).
    let r = get(&app, "/v1/fonts", &[("origin", "http://localhost:5173")]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        "http://localhost:5173"
    );
    // Another origin gets no CORS header at all, and its request is served as before
    // (same-origin pages and curl send `Origin` too).
    let r = preflight(&app, "https://evil.example.com").await;
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    let r = app
        .http()
        .get(format!("{}/v1/documents", app.address))
        .bearer_auth(&app.key)
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    // No `Origin`: no CORS header.
    let r = get(&app, "/health", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_with_a_star_allows_any_origin_and_none_configured_sends_nothing() {
    let any = spawn_with(Backend::Embedded, |s| s.api.cors_origins = vec!["*".into()]).await;
    let r = preflight(&any, "https://anywhere.example.org").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "access-control-allow-origin"), "*");
    let r = get(
        &any,
        "/health",
        &[("origin", "https://anywhere.example.org")],
    )
    .await;
    assert_eq!(header(r.headers(), "access-control-allow-origin"), "*");
    any.stop().await;

    let none = spawn(Backend::Embedded).await;
    let r = preflight(&none, VIEWER_ORIGIN).await;
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    assert_eq!(r.status(), 405, "an OPTIONS is answered as before");
    let r = get(&none, "/health", &[("origin", VIEWER_ORIGIN)]).await;
    assert_eq!(r.status(), 200);
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    none.stop().await;
}
