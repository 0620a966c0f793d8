//! Blobs: document sources and assets, export results and fonts, in S3 (aws-sdk-s3)
//! or in a local folder when embedded. Keys are `<tenant>/<kind>/<id>/<name>` inside one
//! of three [`Bucket`]s.

use async_trait::async_trait;
use bytes::Bytes;

use crate::domain::{BlobKey, Bucket};

mod local;
#[cfg(feature = "s3")]
mod s3;

pub use local::LocalBlobs;
#[cfg(feature = "s3")]
pub use s3::S3Blobs;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// No blob has this key.
    #[error("no blob {0}")]
    NotFound(String),
    /// The store could not be reached, or answered with a server error.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    /// Any other failure (refused key, permissions, bad configuration).
    #[error("blob store: {0}")]
    Other(String),
}

impl BlobError {
    /// Whether retrying later could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, BlobError::Unavailable(_))
    }
}

/// How to hand a stored blob to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// Redirect the client here (an S3 presigned URL, valid for a limited time).
    Redirect(String),
    /// Stream these bytes.
    Bytes(Bytes),
}

/// The blob store.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Checks that every bucket answers (for `/ready`).
    async fn ping(&self) -> Result<(), BlobError>;
    /// Creates the buckets (or folders) that do not exist yet.
    async fn ensure_buckets(&self) -> Result<(), BlobError>;
    /// Stores a blob, replacing any with the same key. Writes are atomic: a reader sees
    /// the old bytes or the new ones, never a part.
    async fn put(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), BlobError>;
    /// Reads a blob.
    async fn get(&self, bucket: Bucket, key: &BlobKey) -> Result<Bytes, BlobError>;
    /// Whether a blob exists.
    async fn exists(&self, bucket: Bucket, key: &BlobKey) -> Result<bool, BlobError>;
    /// Deletes a blob (deleting a missing one is not an error).
    async fn delete(&self, bucket: Bucket, key: &BlobKey) -> Result<(), BlobError>;
    /// Deletes every blob whose key starts with `prefix`; how many were deleted.
    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<usize, BlobError>;
    /// Keys starting with `prefix`, sorted.
    async fn list(&self, bucket: Bucket, prefix: &str) -> Result<Vec<BlobKey>, BlobError>;
    /// How a client should download a blob: a presigned URL that serves it with this
    /// file name (`Content-Disposition: attachment`) and type, valid for `ttl_secs`, where
    /// the store supports that; otherwise its bytes.
    async fn download(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        file_name: &str,
        content_type: &str,
        ttl_secs: u64,
    ) -> Result<Download, BlobError>;
}

/// The blob store the settings ask for: local folders under
/// [`Settings::blob_dir`](crate::config::Settings::blob_dir) (created when missing), or S3
/// (its buckets created when `blobs.s3.create_buckets` is set).
pub async fn connect_blobs(
    settings: &crate::config::Settings,
) -> Result<std::sync::Arc<dyn BlobStore>, BlobError> {
    use crate::config::BlobBackend;
    match settings.blobs.backend {
        BlobBackend::Local => {
            let store = LocalBlobs::new(settings.blob_dir());
            store.ensure_buckets().await?;
            Ok(std::sync::Arc::new(store))
        }
        #[cfg(feature = "s3")]
        BlobBackend::S3 => {
            let store = S3Blobs::connect(&settings.blobs.s3).await?;
            if settings.blobs.s3.create_buckets {
                store.ensure_buckets().await?;
            }
            Ok(std::sync::Arc::new(store))
        }
        #[cfg(not(feature = "s3"))]
        BlobBackend::S3 => Err(BlobError::Other(
            "blobs.backend is s3, but this build has no S3 support (build with the `s3` \
             feature)"
                .into(),
        )),
    }
}
