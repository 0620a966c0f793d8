//! Blobs in local folders: one folder per [`Bucket`] under a root directory, one file per
//! key (the key's `/`-separated segments are sub-folders).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{BlobError, BlobStore, Download};
use crate::domain::{BlobKey, Bucket};

/// File names starting with this are temporary files of writes in progress: they are not
/// blobs, and keys may not use them.
const TEMP_PREFIX: &str = ".ode-tmp-";

/// Blobs kept in folders under a root directory (`<root>/<bucket>/<key>`), for embedded
/// use and development.
///
/// Keys are relative paths: absolute keys, `..` and `.` segments, empty segments and
/// backslashes are refused. Writes go to a temporary file in the same folder that is then
/// renamed over the blob, so readers never see a partial blob.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// A store under `root` (folders are created by [`BlobStore::ensure_buckets`] and by
    /// writes).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobs { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a bucket.
    pub fn bucket_dir(&self, bucket: Bucket) -> PathBuf {
        self.root.join(bucket.name())
    }

    /// The file of a key (refusing keys that are not plain relative paths).
    pub fn path_of(&self, bucket: Bucket, key: &BlobKey) -> Result<PathBuf, BlobError> {
        let key = key.as_str();
        if key.is_empty() {
            return Err(BlobError::Other(
                "refused blob key \"\": it is empty".into(),
            ));
        }
        let mut path = self.bucket_dir(bucket);
        for segment in key.split('/') {
            check_segment(key, segment)?;
            path.push(segment);
        }
        Ok(path)
    }

    /// The folder to walk for `prefix` and the key prefix of the files in it.
    fn walk_start(&self, bucket: Bucket, prefix: &str) -> Result<(PathBuf, String), BlobError> {
        let mut dir = self.bucket_dir(bucket);
        let Some((dirs, _)) = prefix.rsplit_once('/') else {
            return Ok((dir, String::new()));
        };
        for segment in dirs.split('/') {
            check_segment(prefix, segment)?;
            dir.push(segment);
        }
        Ok((dir, format!("{dirs}/")))
    }

    /// Every key starting with `prefix`, sorted, with its file.
    fn matching(&self, bucket: Bucket, prefix: &str) -> Result<Vec<(String, PathBuf)>, BlobError> {
        if prefix.contains('\\') {
            return Err(refused(prefix, "it contains a backslash"));
        }
        let (dir, dir_key) = self.walk_start(bucket, prefix)?;
        let mut found = Vec::new();
        walk(&dir, &dir_key, prefix, &mut found)?;
        found.sort();
        Ok(found)
    }
}

fn refused(key: &str, why: &str) -> BlobError {
    BlobError::Other(format!("refused blob key {key:?}: {why}"))
}

fn check_segment(key: &str, segment: &str) -> Result<(), BlobError> {
    if key.starts_with('/') {
        return Err(refused(key, "it is absolute"));
    }
    if segment.is_empty() {
        return Err(refused(key, "it has an empty segment"));
    }
    if segment == ".." || segment == "." {
        return Err(refused(key, "it has a `.` or `..` segment"));
    }
    if segment.contains('\\') {
        return Err(refused(key, "it contains a backslash"));
    }
    if segment.contains('\0') {
        return Err(refused(key, "it contains a NUL character"));
    }
    if segment.contains(':') && cfg!(windows) {
        return Err(refused(key, "it contains a colon"));
    }
    if segment.starts_with(TEMP_PREFIX) {
        return Err(refused(key, "its segments may not start with `.ode-tmp-`"));
    }
    Ok(())
}

fn io_error(what: &str, path: &Path, err: io::Error) -> BlobError {
    BlobError::Other(format!("{what} {}: {err}", path.display()))
}

/// Collects the files under `dir` whose key (`dir_key` + relative path) starts with `prefix`.
fn walk(
    dir: &Path,
    dir_key: &str,
    prefix: &str,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), BlobError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(());
        }
        Err(err) => return Err(io_error("cannot list", dir, err)),
    };
    for entry in entries {
        let entry = entry.map_err(|err| io_error("cannot list", dir, err))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not a key this store wrote
        };
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let key = format!("{dir_key}{name}");
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|err| io_error("cannot inspect", &path, err))?;
        if kind.is_dir() {
            // Only descend where keys below can still start with `prefix`.
            let sub = format!("{key}/");
            if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                walk(&path, &sub, prefix, found)?;
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            found.push((key, path));
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let dir = path
        .parent()
        .ok_or_else(|| BlobError::Other(format!("no folder for {}", path.display())))?;
    let temp = dir.join(format!("{TEMP_PREFIX}{}", uuid::Uuid::now_v7().simple()));
    // A concurrent `delete_prefix` may remove the folder between its creation and the
    // creation of the file: try again a few times.
    let mut attempt = 0;
    let mut file = loop {
        attempt += 1;
        std::fs::create_dir_all(dir).map_err(|err| io_error("cannot create folder", dir, err))?;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => break file,
            Err(err) if err.kind() == io::ErrorKind::NotFound && attempt < 5 => continue,
            Err(err) => return Err(io_error("cannot create", &temp, err)),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| io_error("cannot write", &temp, err))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, path).map_err(|err| io_error("cannot replace", path, err))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Removes the empty folders from `path`'s folder up to (not including) `stop`.
fn remove_empty_dirs(path: &Path, stop: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T, F>(work: F) -> Result<T, BlobError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, BlobError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| BlobError::Other(format!("local blob task failed: {err}")))?
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn ping(&self) -> Result<(), BlobError> {
        let dirs: Vec<PathBuf> = Bucket::ALL.iter().map(|b| self.bucket_dir(*b)).collect();
        blocking(move || {
            for dir in dirs {
                match std::fs::metadata(&dir) {
                    Ok(meta) if meta.is_dir() => {}
                    Ok(_) => {
                        return Err(BlobError::Other(format!(
                            "blob folder {} is not a folder",
                            dir.display()
                        )));
                    }
                    Err(err) => return Err(io_error("blob folder unusable:", &dir, err)),
                }
            }
            Ok(())
        })
        .await
    }

    async fn ensure_buckets(&self) -> Result<(), BlobError> {
        let dirs: Vec<PathBuf> = Bucket::ALL.iter().map(|b| self.bucket_dir(*b)).collect();
        blocking(move || {
            for dir in dirs {
                std::fs::create_dir_all(&dir)
                    .map_err(|err| io_error("cannot create blob folder", &dir, err))?;
            }
            Ok(())
        })
        .await
    }

    async fn put(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        bytes: Bytes,
        _content_type: &str,
    ) -> Result<(), BlobError> {
        let path = self.path_of(bucket, key)?;
        blocking(move || write_atomically(&path, &bytes)).await
    }

    async fn get(&self, bucket: Bucket, key: &BlobKey) -> Result<Bytes, BlobError> {
        let path = self.path_of(bucket, key)?;
        let name = key.to_string();
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound
                        | io::ErrorKind::NotADirectory
                        | io::ErrorKind::IsADirectory
                ) =>
            {
                Err(BlobError::NotFound(name))
            }
            Err(err) => Err(io_error("cannot read", &path, err)),
        })
        .await
    }

    async fn exists(&self, bucket: Bucket, key: &BlobKey) -> Result<bool, BlobError> {
        let path = self.path_of(bucket, key)?;
        blocking(move || match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(io_error("cannot inspect", &path, err)),
        })
        .await
    }

    async fn delete(&self, bucket: Bucket, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path_of(bucket, key)?;
        let stop = self.bucket_dir(bucket);
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => {
                remove_empty_dirs(&path, &stop);
                Ok(())
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(io_error("cannot delete", &path, err)),
        })
        .await
    }

    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<usize, BlobError> {
        let store = self.clone();
        let prefix = prefix.to_string();
        let stop = self.bucket_dir(bucket);
        blocking(move || {
            let mut deleted = 0;
            for (_, path) in store.matching(bucket, &prefix)? {
                match std::fs::remove_file(&path) {
                    Ok(()) => deleted += 1,
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => return Err(io_error("cannot delete", &path, err)),
                }
                remove_empty_dirs(&path, &stop);
            }
            Ok(deleted)
        })
        .await
    }

    async fn list(&self, bucket: Bucket, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        let store = self.clone();
        let prefix = prefix.to_string();
        blocking(move || {
            Ok(store
                .matching(bucket, &prefix)?
                .into_iter()
                .map(|(key, _)| BlobKey(key))
                .collect())
        })
        .await
    }

    async fn download(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        _file_name: &str,
        _content_type: &str,
        _ttl_secs: u64,
    ) -> Result<Download, BlobError> {
        self.get(bucket, key).await.map(Download::Bytes)
    }
}
