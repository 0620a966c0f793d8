//! The blob store contract, written once and run against every backend: local folders
//! (in a temporary directory) and, with the `s3` feature, S3 on a moto server.
//!
//! S3 tests use `ODE_TEST_S3_ENDPOINT` when set; otherwise they start moto on
//! 127.0.0.1:9000 with `scripts/moto.sh`. They fail when S3 cannot be reached, unless
//! `ODE_SKIP_S3=1`.
//!
//! Run: `cargo test -p ode-sdk --features s3 --test blob`.
#![cfg(feature = "service")]

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use ode_sdk::blob::{BlobError, BlobStore, Download, LocalBlobs, connect_blobs};
use ode_sdk::config::{BlobBackend, BlobSettings, DataDir, Settings};
use ode_sdk::domain::{BlobKey, Bucket};

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Local,
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    S3,
}

/// A store for one test, with whatever it needs cleaned up afterwards.
struct Fixture {
    store: Arc<dyn BlobStore>,
    backend: Backend,
    dir: Option<PathBuf>,
}

impl Fixture {
    async fn cleanup(self) {
        for bucket in Bucket::ALL {
            let _ = self.store.delete_prefix(bucket, "").await;
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-blob-test-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

async fn local_fixture() -> Fixture {
    let dir = temp_dir();
    let store = LocalBlobs::new(dir.join("blobs"));
    store.ensure_buckets().await.expect("local folders");
    Fixture {
        store: Arc::new(store),
        backend: Backend::Local,
        dir: Some(dir),
    }
}

fn key(text: &str) -> BlobKey {
    BlobKey(text.to_string())
}

/// Bytes that are not text: every byte value, repeated.
fn binary(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// Stores many blobs at once (at most 64 requests in flight).
async fn put_many(store: &Arc<dyn BlobStore>, bucket: Bucket, keys: &[String]) {
    let mut tasks = tokio::task::JoinSet::new();
    for k in keys {
        if tasks.len() >= 64 {
            tasks.join_next().await.expect("a task").expect("put task");
        }
        let store = store.clone();
        let k = key(k);
        tasks.spawn(async move {
            store
                .put(bucket, &k, Bytes::from(k.0.clone()), "text/plain")
                .await
                .unwrap_or_else(|err| panic!("put {k}: {err}"));
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("put task");
    }
}

/// Fetches a URL with curl: status, headers (lower-case names) and body.
fn fetch(url: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let dir = temp_dir();
    let body_path = dir.join("body");
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "30",
            "--dump-header",
            "-",
        ])
        .arg("--output")
        .arg(&body_path)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = std::fs::read(&body_path).expect("body file");
    let _ = std::fs::remove_dir_all(dir);
    (status, headers, body)
}

// ---------------------------------------------------------------------------------------
// The contract, for every backend.
// ---------------------------------------------------------------------------------------

async fn a_blob_reads_back_byte_for_byte(f: &Fixture) {
    let small = binary(70_000, 7);
    let big = binary(6 * 1024 * 1024, 3);
    let k1 = key("t1/documents/d1/source.bin");
    let k2 = key("t1/exports/e1/0.pdf");
    f.store
        .put(
            Bucket::Documents,
            &k1,
            small.clone(),
            "application/octet-stream",
        )
        .await
        .expect("put small");
    f.store
        .put(Bucket::Exports, &k2, big.clone(), "application/pdf")
        .await
        .expect("put 6 MB");
    assert_eq!(
        f.store.get(Bucket::Documents, &k1).await.expect("get"),
        small
    );
    let read = f.store.get(Bucket::Exports, &k2).await.expect("get 6 MB");
    assert_eq!(read.len(), big.len());
    assert!(read == big, "the 6 MB blob came back different");
    // Buckets are separate.
    assert!(matches!(
        f.store.get(Bucket::Fonts, &k1).await,
        Err(BlobError::NotFound(_))
    ));
}

async fn an_empty_blob_is_a_blob(f: &Fixture) {
    let k = key("t1/documents/d1/empty");
    f.store
        .put(Bucket::Documents, &k, Bytes::new(), "text/plain")
        .await
        .expect("put");
    assert!(f.store.exists(Bucket::Documents, &k).await.expect("exists"));
    assert!(
        f.store
            .get(Bucket::Documents, &k)
            .await
            .expect("get")
            .is_empty()
    );
}

async fn putting_again_replaces_the_blob(f: &Fixture) {
    let k = key("t1/documents/d1/source.ode");
    f.store
        .put(
            Bucket::Documents,
            &k,
            Bytes::from_static(b"first version, longer"),
            "text/plain",
        )
        .await
        .expect("put");
    f.store
        .put(
            Bucket::Documents,
            &k,
            Bytes::from_static(b"second"),
            "text/plain",
        )
        .await
        .expect("put again");
    assert_eq!(
        f.store.get(Bucket::Documents, &k).await.expect("get"),
        Bytes::from_static(b"second")
    );
    assert_eq!(
        f.store.list(Bucket::Documents, "t1/").await.expect("list"),
        vec![k]
    );
}

async fn readers_never_see_a_partial_write(f: &Fixture) {
    let k = key("t1/documents/d1/big");
    let a = binary(512 * 1024, 1);
    let b = binary(512 * 1024, 2);
    f.store
        .put(Bucket::Documents, &k, a.clone(), "application/octet-stream")
        .await
        .expect("put");
    let writer = {
        let (store, k, a, b) = (f.store.clone(), k.clone(), a.clone(), b.clone());
        tokio::spawn(async move {
            for round in 0..10 {
                let bytes = if round % 2 == 0 { b.clone() } else { a.clone() };
                store
                    .put(Bucket::Documents, &k, bytes, "application/octet-stream")
                    .await
                    .expect("overwrite");
            }
        })
    };
    while !writer.is_finished() {
        let read = f
            .store
            .get(Bucket::Documents, &k)
            .await
            .expect("get while writing");
        assert!(
            read == a || read == b,
            "read a partial blob of {} bytes",
            read.len()
        );
    }
    writer.await.expect("writer");
}

async fn getting_a_missing_blob_is_not_found(f: &Fixture) {
    let k = key("t1/documents/nothing/here");
    match f.store.get(Bucket::Documents, &k).await {
        Err(BlobError::NotFound(name)) => assert_eq!(name, k.0),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let err = f.store.get(Bucket::Documents, &k).await.unwrap_err();
    assert!(!err.is_transient());
}

async fn exists_says_whether_a_blob_is_there(f: &Fixture) {
    let k = key("t1/fonts/f1/Inter.ttf");
    assert!(!f.store.exists(Bucket::Fonts, &k).await.expect("exists"));
    f.store
        .put(Bucket::Fonts, &k, binary(1000, 9), "font/ttf")
        .await
        .expect("put");
    assert!(f.store.exists(Bucket::Fonts, &k).await.expect("exists"));
    // A prefix of a key is not a blob.
    assert!(
        !f.store
            .exists(Bucket::Fonts, &key("t1/fonts/f1"))
            .await
            .expect("exists")
    );
    assert!(!f.store.exists(Bucket::Documents, &k).await.expect("exists"));
}

async fn deleting_removes_a_blob_and_a_missing_one_is_no_error(f: &Fixture) {
    let k = key("t1/exports/e1/0.png");
    let other = key("t1/exports/e1/1.png");
    for k in [&k, &other] {
        f.store
            .put(Bucket::Exports, k, binary(100, 4), "image/png")
            .await
            .expect("put");
    }
    f.store.delete(Bucket::Exports, &k).await.expect("delete");
    assert!(!f.store.exists(Bucket::Exports, &k).await.expect("exists"));
    assert!(matches!(
        f.store.get(Bucket::Exports, &k).await,
        Err(BlobError::NotFound(_))
    ));
    assert!(
        f.store
            .exists(Bucket::Exports, &other)
            .await
            .expect("exists")
    );
    f.store
        .delete(Bucket::Exports, &k)
        .await
        .expect("delete again");
    f.store
        .delete(Bucket::Exports, &key("t9/never/was/there"))
        .await
        .expect("delete a missing blob");
}

async fn list_gives_the_keys_with_the_prefix_sorted(f: &Fixture) {
    let keys = [
        "t1/documents/d2/source.ode",
        "t1/documents/d1/source.ode",
        "t1/documents/d1/assets/logo.png",
        "t1/documents/d10/source.ode",
        "t2/documents/d1/source.ode",
        "t1/fonts-not-documents/x",
        "top-level",
    ];
    for k in keys {
        f.store
            .put(Bucket::Documents, &key(k), Bytes::from(k), "text/plain")
            .await
            .expect("put");
    }
    f.store
        .put(
            Bucket::Exports,
            &key("t1/documents/d3/elsewhere"),
            Bytes::new(),
            "text/plain",
        )
        .await
        .expect("put");
    let list = |prefix: &'static str| {
        let store = f.store.clone();
        async move {
            store
                .list(Bucket::Documents, prefix)
                .await
                .expect("list")
                .into_iter()
                .map(|k| k.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list("t1/documents/").await,
        vec![
            "t1/documents/d1/assets/logo.png",
            "t1/documents/d1/source.ode",
            "t1/documents/d10/source.ode",
            "t1/documents/d2/source.ode",
        ]
    );
    // A prefix need not end at a `/`.
    assert_eq!(
        list("t1/documents/d1").await,
        vec![
            "t1/documents/d1/assets/logo.png",
            "t1/documents/d1/source.ode",
            "t1/documents/d10/source.ode",
        ]
    );
    assert_eq!(list("t1/doc").await.len(), 4);
    assert_eq!(list("t1/").await.len(), 5);
    assert_eq!(list("").await.len(), keys.len());
    assert!(list("t3/").await.is_empty());
    assert!(list("t1/documents/d1/source.ode/").await.is_empty());
    assert_eq!(list("top").await, vec!["top-level"]);
}

async fn delete_prefix_deletes_the_matching_keys_only(f: &Fixture) {
    for k in [
        "t1/exports/e1/0.pdf",
        "t1/exports/e1/1.pdf",
        "t1/exports/e10/0.pdf",
        "t1/exports/e2/0.pdf",
        "t2/exports/e1/0.pdf",
    ] {
        f.store
            .put(Bucket::Exports, &key(k), Bytes::from(k), "application/pdf")
            .await
            .expect("put");
    }
    assert_eq!(
        f.store
            .delete_prefix(Bucket::Exports, "t1/exports/e1/")
            .await
            .expect("delete_prefix"),
        2
    );
    let left: Vec<String> = f
        .store
        .list(Bucket::Exports, "")
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert_eq!(
        left,
        vec![
            "t1/exports/e10/0.pdf",
            "t1/exports/e2/0.pdf",
            "t2/exports/e1/0.pdf"
        ]
    );
    assert_eq!(
        f.store
            .delete_prefix(Bucket::Exports, "t1/exports/e1/")
            .await
            .expect("delete_prefix again"),
        0
    );
    assert_eq!(
        f.store
            .delete_prefix(Bucket::Exports, "t1/")
            .await
            .expect("delete_prefix"),
        2
    );
    // The folder of a deleted prefix can be written again.
    f.store
        .put(
            Bucket::Exports,
            &key("t1/exports/e1/0.pdf"),
            Bytes::from_static(b"again"),
            "application/pdf",
        )
        .await
        .expect("put after delete_prefix");
    assert_eq!(
        f.store
            .get(Bucket::Exports, &key("t1/exports/e1/0.pdf"))
            .await
            .expect("get"),
        Bytes::from_static(b"again")
    );
}

async fn more_than_a_thousand_keys_are_listed_and_deleted(f: &Fixture) {
    let keys: Vec<String> = (0..1150)
        .map(|i| format!("t1/documents/many/{i:05}"))
        .collect();
    put_many(&f.store, Bucket::Documents, &keys).await;
    put_many(
        &f.store,
        Bucket::Documents,
        &["t1/documents/other/x".to_string()],
    )
    .await;
    let listed: Vec<String> = f
        .store
        .list(Bucket::Documents, "t1/documents/many/")
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert_eq!(listed, keys);
    assert_eq!(
        f.store
            .delete_prefix(Bucket::Documents, "t1/documents/many/")
            .await
            .expect("delete_prefix"),
        keys.len()
    );
    assert!(
        f.store
            .list(Bucket::Documents, "t1/documents/many/")
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        f.store.list(Bucket::Documents, "t1/").await.expect("list"),
        vec![key("t1/documents/other/x")]
    );
}

async fn a_download_serves_the_exact_bytes_as_an_attachment(f: &Fixture) {
    let k = key("t1/exports/e1/0.pdf");
    let bytes = binary(300_000, 5);
    f.store
        .put(
            Bucket::Exports,
            &k,
            bytes.clone(),
            "application/octet-stream",
        )
        .await
        .expect("put");
    let download = f
        .store
        .download(
            Bucket::Exports,
            &k,
            "invoice 42.pdf",
            "application/pdf",
            300,
        )
        .await
        .expect("download");
    match (f.backend, download) {
        (Backend::Local, Download::Bytes(served)) => assert_eq!(served, bytes),
        (Backend::S3, Download::Redirect(url)) => {
            let (status, headers, body) = fetch(&url);
            assert_eq!(status, 200, "GET {url}: {headers:?}");
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
            };
            assert_eq!(
                header("content-disposition"),
                "attachment; filename=\"invoice 42.pdf\""
            );
            assert_eq!(header("content-type"), "application/pdf");
            assert_eq!(body.len(), bytes.len());
            assert!(body == bytes, "the presigned URL served different bytes");
        }
        (backend, other) => panic!("{backend:?} answered {other:?}"),
    }
    assert!(matches!(
        f.store
            .download(
                Bucket::Exports,
                &key("t1/exports/none/0.pdf"),
                "x.pdf",
                "application/pdf",
                300
            )
            .await,
        Err(BlobError::NotFound(_))
    ));
}

async fn ping_answers_once_the_buckets_exist(f: &Fixture) {
    f.store.ping().await.expect("ping");
    f.store
        .ensure_buckets()
        .await
        .expect("ensure_buckets is idempotent");
    f.store.ping().await.expect("ping");
}

/// Generates one test per contract function and backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fixture = super::local_fixture().await;
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }

        #[cfg(feature = "s3")]
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(fixture) = super::s3_only::fixture().await else { return };
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }
    };
}

contract!(
    a_blob_reads_back_byte_for_byte,
    an_empty_blob_is_a_blob,
    putting_again_replaces_the_blob,
    readers_never_see_a_partial_write,
    getting_a_missing_blob_is_not_found,
    exists_says_whether_a_blob_is_there,
    deleting_removes_a_blob_and_a_missing_one_is_no_error,
    list_gives_the_keys_with_the_prefix_sorted,
    delete_prefix_deletes_the_matching_keys_only,
    more_than_a_thousand_keys_are_listed_and_deleted,
    a_download_serves_the_exact_bytes_as_an_attachment,
    ping_answers_once_the_buckets_exist,
);

// ---------------------------------------------------------------------------------------
// Local folders only.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn local_keys_that_escape_the_root_are_refused() {
    let f = local_fixture().await;
    let root = f.dir.clone().expect("a directory");
    let bad = [
        "../outside",
        "t1/../../outside",
        "/etc/passwd",
        "t1//x",
        "t1/x/",
        "t1/./x",
        "t1\\..\\x",
        "",
        "t1/.ode-tmp-123",
    ];
    for k in bad {
        let k = key(k);
        let refusals = [
            f.store
                .put(
                    Bucket::Documents,
                    &k,
                    Bytes::from_static(b"x"),
                    "text/plain",
                )
                .await
                .err(),
            f.store.get(Bucket::Documents, &k).await.err(),
            f.store.exists(Bucket::Documents, &k).await.err(),
            f.store.delete(Bucket::Documents, &k).await.err(),
            f.store
                .download(Bucket::Documents, &k, "x", "text/plain", 60)
                .await
                .err(),
        ];
        for refusal in refusals {
            match refusal {
                Some(BlobError::Other(message)) => {
                    assert!(
                        message.contains(&format!("{:?}", k.0)),
                        "{message} names the key"
                    )
                }
                other => panic!("key {k:?}: expected a refusal, got {other:?}"),
            }
        }
    }
    for prefix in ["../", "/etc/", "t1//", "a\\b"] {
        assert!(
            matches!(
                f.store.list(Bucket::Documents, prefix).await,
                Err(BlobError::Other(_))
            ),
            "list {prefix:?}"
        );
        assert!(
            matches!(
                f.store.delete_prefix(Bucket::Documents, prefix).await,
                Err(BlobError::Other(_))
            ),
            "delete_prefix {prefix:?}"
        );
    }
    assert!(!root.join("outside").exists());
    assert!(!root.join("blobs").join("outside").exists());
    f.cleanup().await;
}

#[tokio::test]
async fn local_blobs_are_files_in_one_folder_per_bucket_without_leftovers() {
    let dir = temp_dir();
    let store = LocalBlobs::new(&dir);
    assert!(store.ping().await.is_err(), "ping before the folders exist");
    store.ensure_buckets().await.expect("folders");
    store.ping().await.expect("ping");
    let k = key("t1/fonts/f1/Inter.ttf");
    store
        .put(Bucket::Fonts, &k, Bytes::from_static(b"font"), "font/ttf")
        .await
        .expect("put");
    store
        .put(Bucket::Fonts, &k, Bytes::from_static(b"font 2"), "font/ttf")
        .await
        .expect("put again");
    let folder = dir.join("fonts/t1/fonts/f1");
    assert_eq!(
        std::fs::read(folder.join("Inter.ttf")).expect("file"),
        b"font 2"
    );
    let names: Vec<_> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec!["Inter.ttf"], "no temporary files are left");
    // Deleting the last blob of a folder removes the empty folders, not the bucket's.
    store.delete(Bucket::Fonts, &k).await.expect("delete");
    assert!(!dir.join("fonts/t1").exists());
    assert!(dir.join("fonts").is_dir());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn connect_blobs_gives_local_folders_under_the_data_dir() {
    let dir = temp_dir();
    let settings = Settings {
        data_dir: DataDir(dir.clone()),
        blobs: BlobSettings {
            backend: BlobBackend::Local,
            ..BlobSettings::default()
        },
        ..Settings::default()
    };
    let store = connect_blobs(&settings).await.expect("connect");
    store.ping().await.expect("folders were created");
    store
        .put(
            Bucket::Documents,
            &key("t1/a"),
            Bytes::from_static(b"a"),
            "text/plain",
        )
        .await
        .expect("put");
    assert!(settings.blob_dir().join("documents/t1/a").is_file());
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(not(feature = "s3"))]
#[tokio::test]
async fn without_the_s3_feature_choosing_s3_says_so() {
    let settings = Settings {
        blobs: BlobSettings {
            backend: BlobBackend::S3,
            ..BlobSettings::default()
        },
        ..Settings::default()
    };
    match connect_blobs(&settings).await {
        Err(BlobError::Other(message)) => assert!(message.contains("no S3 support"), "{message}"),
        Err(other) => panic!("expected Other, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    }
}

// ---------------------------------------------------------------------------------------
// S3 only.
// ---------------------------------------------------------------------------------------

#[cfg(feature = "s3")]
mod s3_only {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use ode_sdk::blob::S3Blobs;
    use ode_sdk::config::{S3Settings, Secret};

    use super::*;

    /// The S3 endpoint to test against, starting moto when none is given; `None` when
    /// `ODE_SKIP_S3=1`. Panics when S3 cannot be made to answer.
    fn endpoint() -> Option<String> {
        if std::env::var("ODE_SKIP_S3").is_ok_and(|v| v == "1") {
            eprintln!("ODE_SKIP_S3=1: skipping an S3 test");
            return None;
        }
        static ENDPOINT: OnceLock<Result<String, String>> = OnceLock::new();
        let endpoint = ENDPOINT.get_or_init(|| {
            if let Ok(endpoint) = std::env::var("ODE_TEST_S3_ENDPOINT") {
                return Ok(endpoint);
            }
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/moto.sh");
            let out = std::process::Command::new("bash")
                .arg(&script)
                .env("ODE_MOTO_PORT", "9000")
                .output()
                .map_err(|err| format!("cannot run {}: {err}", script.display()))?;
            if out.status.success() {
                Ok("http://127.0.0.1:9000".to_string())
            } else {
                Err(format!(
                    "{} failed: {}{}",
                    script.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        });
        match endpoint {
            Ok(endpoint) => Some(endpoint.clone()),
            Err(why) => panic!("S3 (moto) is not reachable: {why} (ODE_SKIP_S3=1 skips S3 tests)"),
        }
    }

    /// Settings with bucket names no other test uses.
    pub(super) fn settings(endpoint: &str) -> S3Settings {
        let id = uuid::Uuid::now_v7().simple().to_string();
        S3Settings {
            region: "us-east-1".into(),
            endpoint: Some(endpoint.to_string()),
            force_path_style: true,
            access_key_id: Some("test".into()),
            secret_access_key: Some(Secret::new("test")),
            documents_bucket: format!("ode-{id}-documents"),
            exports_bucket: format!("ode-{id}-exports"),
            fonts_bucket: format!("ode-{id}-fonts"),
            create_buckets: true,
        }
    }

    pub(super) async fn fixture() -> Option<Fixture> {
        let endpoint = endpoint()?;
        let store = S3Blobs::connect(&settings(&endpoint))
            .await
            .expect("client");
        store
            .ensure_buckets()
            .await
            .unwrap_or_else(|err| panic!("S3 at {endpoint} is not usable: {err}"));
        Some(Fixture {
            store: Arc::new(store),
            backend: Backend::S3,
            dir: None,
        })
    }

    #[tokio::test]
    async fn an_unreachable_s3_is_unavailable_within_seconds() {
        let store = S3Blobs::connect(&settings("http://127.0.0.1:1"))
            .await
            .expect("client");
        let started = Instant::now();
        let err = store
            .get(Bucket::Documents, &key("t1/a"))
            .await
            .expect_err("nothing listens on port 1");
        assert!(matches!(err, BlobError::Unavailable(_)), "{err:?}");
        assert!(err.is_transient());
        assert!(
            matches!(store.ping().await, Err(BlobError::Unavailable(_))),
            "ping"
        );
        assert!(
            matches!(
                store
                    .put(
                        Bucket::Documents,
                        &key("t1/a"),
                        Bytes::from_static(b"a"),
                        "text/plain"
                    )
                    .await,
                Err(BlobError::Unavailable(_))
            ),
            "put"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "three operations took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn missing_buckets_fail_the_ping_until_connect_blobs_creates_them() {
        let Some(endpoint) = endpoint() else { return };
        let mut settings = Settings {
            blobs: BlobSettings {
                backend: BlobBackend::S3,
                s3: S3Settings {
                    create_buckets: false,
                    ..self::settings(&endpoint)
                },
                ..BlobSettings::default()
            },
            ..Settings::default()
        };
        let store = connect_blobs(&settings).await.expect("connect");
        match store.ping().await {
            Err(BlobError::Other(message)) => {
                assert!(
                    message.contains(&settings.blobs.s3.documents_bucket),
                    "{message}"
                )
            }
            other => panic!("expected a missing bucket, got {other:?}"),
        }
        settings.blobs.s3.create_buckets = true;
        let store = connect_blobs(&settings)
            .await
            .expect("connect and create the buckets");
        store.ping().await.expect("ping");
        let k = key("t1/documents/d1/source.ode");
        store
            .put(
                Bucket::Documents,
                &k,
                Bytes::from_static(b"hello"),
                "text/plain",
            )
            .await
            .expect("put");
        // The blob is in the documents bucket named in the settings.
        let direct = S3Blobs::connect(&settings.blobs.s3).await.expect("client");
        let object = direct
            .client()
            .get_object()
            .bucket(&settings.blobs.s3.documents_bucket)
            .key(k.as_str())
            .send()
            .await
            .expect("the object is in the named bucket");
        assert_eq!(object.content_type(), Some("text/plain"));
        let fixture = Fixture {
            store,
            backend: Backend::S3,
            dir: None,
        };
        fixture.cleanup().await;
    }

    /// (moto does not enforce the expiry of presigned URLs, so only the signed lifetime is
    /// checked here.)
    #[tokio::test]
    async fn a_presigned_url_is_signed_for_its_lifetime_within_s3_limits() {
        let Some(f) = fixture().await else { return };
        let k = key("t1/exports/e1/0.pdf");
        f.store
            .put(
                Bucket::Exports,
                &k,
                Bytes::from_static(b"%PDF"),
                "application/pdf",
            )
            .await
            .expect("put");
        for ttl in [0, 8 * 24 * 3600] {
            assert!(
                matches!(
                    f.store
                        .download(Bucket::Exports, &k, "a.pdf", "application/pdf", ttl)
                        .await,
                    Err(BlobError::Other(_))
                ),
                "a lifetime of {ttl} s is refused"
            );
        }
        let Download::Redirect(url) = f
            .store
            .download(Bucket::Exports, &k, "a.pdf", "application/pdf", 900)
            .await
            .expect("download")
        else {
            panic!("S3 downloads are redirects")
        };
        assert!(url.contains("X-Amz-Expires=900"), "{url}");
        f.cleanup().await;
    }
}
