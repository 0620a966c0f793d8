//! The viewer: a built static site (`api.viewer_dir`) served at `/` and at every path
//! that is not the API's.
//!
//! - A path naming a file under the directory answers that file; a path without a file
//!   extension that names none answers `index.html` (the viewer routes in the browser);
//!   a missing file with an extension, or anything missing under `/assets/`, is a 404.
//! - `..`, encoded separators and symbolic links leading out of the directory are
//!   refused.
//! - A precompressed sibling (`x.wasm.br`, then `x.wasm.gz`) is sent with
//!   `Content-Encoding` when the request's `Accept-Encoding` takes it; every answer
//!   carries `Vary: Accept-Encoding`.
//! - `/assets/` (content-hashed names) is cached for a year as immutable; everything
//!   else (`index.html`, `config.json`) is revalidated (`no-cache`) through `ETag` and
//!   `Last-Modified`.
//!
//! Without a viewer, `/` answers a short page telling how to build one.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, mime};

use crate::error::ApiError;

/// The first path segments that belong to the API: the viewer never answers under them.
const API_ROOTS: [&str; 5] = ["v1", "health", "ready", "metrics", "docs"];

/// Whether `path` (as requested) is one of the API's: `/v1…`, `/health`, `/ready`,
/// `/metrics`, `/docs` and anything under them.
pub fn is_api_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    API_ROOTS.contains(&first)
}

/// A viewer directory, resolved once.
#[derive(Debug, Clone)]
pub struct Viewer {
    root: PathBuf,
}

impl Viewer {
    /// The viewer in `dir`, which must be a directory.
    ///
    /// # Errors
    /// When `dir` does not exist or is not a directory.
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        let root = std::fs::canonicalize(dir).map_err(|e| {
            std::io::Error::new(e.kind(), format!("api.viewer_dir {}: {e}", dir.display()))
        })?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("api.viewer_dir {} is not a directory", dir.display()),
            ));
        }
        if !root.join("index.html").is_file() {
            tracing::warn!(
                viewer.dir = %root.display(),
                "the viewer directory has no index.html (is the viewer built?)"
            );
        }
        Ok(Viewer { root })
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers a GET or HEAD for `req`'s path.
    pub fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let segments = match segments(req.path()) {
            Ok(s) => s,
            Err(detail) => {
                return HttpResponse::from_error(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    detail,
                ));
            }
        };
        let under_assets = segments.first().is_some_and(|s| s == "assets");
        let has_extension = segments
            .last()
            .is_some_and(|s| Path::new(s).extension().is_some());
        let requested: PathBuf = segments.iter().collect();
        if let Some(file) = self.file(&requested) {
            let cache = if under_assets {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return self.send(req, &file, cache);
        }
        if has_extension || under_assets {
            return HttpResponse::from_error(ApiError::not_found("file"));
        }
        match self.file(Path::new("index.html")) {
            Some(index) => self.send(req, &index, "no-cache"),
            None => HttpResponse::from_error(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "the viewer directory has no index.html (is the viewer built?)",
            )),
        }
    }

    /// The regular file at `relative` under the root (see [`Viewer::inside`]).
    fn file(&self, relative: &Path) -> Option<PathBuf> {
        self.inside(&self.root.join(relative))
    }

    /// `path` with symbolic links resolved, when it is a regular file that does not lead
    /// out of the root.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let real = std::fs::canonicalize(path).ok()?;
        (real.starts_with(&self.root) && real.is_file()).then_some(real)
    }

    /// Sends `file` (or its best precompressed sibling the request takes).
    fn send(&self, req: &HttpRequest, file: &Path, cache: &'static str) -> HttpResponse {
        let (br, gzip) = accepted_encodings(req);
        let sibling = |suffix: &str| {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            self.inside(Path::new(&name))
        };
        let chosen = [
            (br, ".br", ContentEncoding::Brotli),
            (gzip, ".gz", ContentEncoding::Gzip),
        ]
        .into_iter()
        .filter(|(ok, _, _)| *ok)
        .find_map(|(_, suffix, encoding)| sibling(suffix).map(|p| (p, Some(encoding))));
        let (path, encoding) = chosen.unwrap_or_else(|| (file.to_path_buf(), None));
        let named = match NamedFile::open(&path) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "a viewer file cannot be opened");
                return HttpResponse::from_error(ApiError::not_found("file"));
            }
        };
        let mime: mime::Mime = content_type(file)
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM);
        let mut named = named.set_content_type(mime).disable_content_disposition();
        if let Some(encoding) = encoding {
            named = named.set_content_encoding(encoding);
        }
        let mut res = named.into_response(req);
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        res
    }
}

/// The decoded segments of a request path; empty ones (`//`, a trailing `/`) dropped.
/// Refuses `.` and `..`, separators and NUL written with `%`, and non-UTF-8 text.
fn segments(raw: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in raw.split('/').filter(|p| !p.is_empty()) {
        let bytes = percent_decode(part).ok_or("the path has a malformed %-escape")?;
        let text = String::from_utf8(bytes).map_err(|_| "the path is not UTF-8".to_string())?;
        if text == "." || text == ".." {
            return Err("the path may not contain `.` or `..` segments".into());
        }
        if text.contains(['/', '\\', '\0']) {
            return Err("the path may not contain encoded separators".into());
        }
        out.push(text);
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The media type of a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

/// Which precompressed encodings the request's `Accept-Encoding` takes: (br, gzip).
fn accepted_encodings(req: &HttpRequest) -> (bool, bool) {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in req.headers().get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let ok = q > 0.0;
            match coding.as_str() {
                "br" => br = Some(ok),
                "gzip" | "x-gzip" => gzip = Some(ok),
                "*" => any = Some(ok),
                _ => {}
            }
        }
    }
    let any = any.unwrap_or(false);
    (br.unwrap_or(any), gzip.unwrap_or(any))
}

/// Whether the viewer (or the page standing in for it) may answer `req`: a GET or HEAD
/// of a path that is not the API's.
pub fn takes(req: &HttpRequest) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD)
        && !is_api_path(req.path())
        && req.resource_map().match_pattern(req.path()).is_none()
}

/// The page `/` answers when no viewer is served.
pub fn not_built_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(NOT_BUILT)
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>ODE</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;\
padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}</style></head><body>\
<h1>ODE is running</h1>\
<p>The viewer is not built here, so this server has no viewer to show.</p>\
<p>Build it with <code>./scripts/build-viewer.sh</code>, then restart <code>ode serve</code>; \
or point <code>api.viewer_dir</code> (<code>ODE__API__VIEWER_DIR</code>) at a built viewer.</p>\
<p>The API is here: see <a href=\"/docs\">/docs</a> \
(OpenAPI: <a href=\"/v1/openapi.json\">/v1/openapi.json</a>).</p>\
</body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_recognised_by_their_first_segment() {
        for p in [
            "/v1", "/v1/", "/v1/nope", "/health", "/ready", "/metrics", "/docs", "/docs/x",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/", "/documents/42", "/v1x", "/assets/app.js", "/healthz"] {
            assert!(!is_api_path(p), "{p}");
        }
    }

    #[test]
    fn segments_are_decoded_and_escapes_refused() {
        assert_eq!(
            segments("/assets//app%20x.js/").unwrap(),
            ["assets", "app x.js"]
        );
        assert!(segments("/").unwrap().is_empty());
        for bad in [
            "/../x",
            "/%2e%2e/x",
            "/a/%2E%2E",
            "/a/./b",
            "/assets/..%2f..%2fsecret",
            "/a%5cb",
            "/a%00",
            "/%zz",
            "/%e",
            "/%ff",
        ] {
            assert!(segments(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accept_encoding_honours_q_zero_and_the_wildcard() {
        let req = |v: &str| {
            actix_web::test::TestRequest::get()
                .insert_header((header::ACCEPT_ENCODING, v))
                .to_http_request()
        };
        assert_eq!(accepted_encodings(&req("gzip, deflate, br")), (true, true));
        assert_eq!(accepted_encodings(&req("gzip")), (false, true));
        assert_eq!(
            accepted_encodings(&req("br;q=0, gzip;q=0.5")),
            (false, true)
        );
        assert_eq!(accepted_encodings(&req("*")), (true, true));
        assert_eq!(accepted_encodings(&req("*, gzip;q=0")), (true, false));
        assert_eq!(accepted_encodings(&req("identity")), (false, false));
        assert_eq!(
            accepted_encodings(&actix_web::test::TestRequest::get().to_http_request()),
            (false, false)
        );
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type(Path::new("a/engine.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("app.MJS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.map")), "application/json");
        assert_eq!(content_type(Path::new("f.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
