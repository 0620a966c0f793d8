//! Blobs in S3 or an S3-compatible server (aws-sdk-s3).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
};
use bytes::Bytes;

use super::{BlobError, BlobStore, Download};
use crate::config::S3Settings;
use crate::domain::{BlobKey, Bucket};

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the first byte of a response may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt of an operation may take (large blobs included).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an operation may take, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// Attempts per operation (the first one included).
const MAX_ATTEMPTS: u32 = 3;
/// Keys per DeleteObjects request (the S3 limit).
const DELETE_BATCH: usize = 1000;
/// The longest a presigned URL may stay valid (SigV4 limit: 7 days).
const MAX_PRESIGN_SECS: u64 = 7 * 24 * 3600;

/// Blobs in S3 (or an S3-compatible server), one S3 bucket per [`Bucket`].
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    documents: String,
    exports: String,
    fonts: String,
}

impl S3Blobs {
    /// A client for these settings: static credentials when given, else the default AWS
    /// chain (environment, profile, web identity, instance profile); the endpoint and
    /// path-style addressing for S3-compatible servers. Nothing is sent to S3 yet.
    pub async fn connect(settings: &S3Settings) -> Result<Self, BlobError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if !settings.region.is_empty() {
            loader = loader.region(Region::new(settings.region.clone()));
        }
        match (&settings.access_key_id, &settings.secret_access_key) {
            (Some(id), Some(secret)) => {
                loader = loader.credentials_provider(Credentials::new(
                    id.clone(),
                    secret.expose().to_string(),
                    None,
                    None,
                    "ode-settings",
                ));
            }
            (None, None) => {}
            _ => {
                return Err(BlobError::Other(
                    "S3 settings: access_key_id and secret_access_key go together; give both \
                     or neither (the default AWS credential chain)"
                        .into(),
                ));
            }
        }
        let shared = loader.load().await;
        if shared.region().is_none() {
            return Err(BlobError::Other(
                "S3 settings: no region (set blobs.s3.region or AWS_REGION)".into(),
            ));
        }
        let mut config =
            aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.force_path_style);
        if let Some(endpoint) = settings.endpoint.as_deref().filter(|e| !e.is_empty()) {
            config = config.endpoint_url(endpoint);
        }
        for (what, name) in [
            ("documents_bucket", &settings.documents_bucket),
            ("exports_bucket", &settings.exports_bucket),
            ("fonts_bucket", &settings.fonts_bucket),
        ] {
            if name.is_empty() {
                return Err(BlobError::Other(format!("S3 settings: {what} is empty")));
            }
        }
        Ok(S3Blobs {
            client: Client::from_conf(config.build()),
            documents: settings.documents_bucket.clone(),
            exports: settings.exports_bucket.clone(),
            fonts: settings.fonts_bucket.clone(),
        })
    }

    /// The S3 bucket name of a bucket.
    pub fn bucket_name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Documents => &self.documents,
            Bucket::Exports => &self.exports,
            Bucket::Fonts => &self.fonts,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every key starting with `prefix`, page after page.
    async fn list_all(&self, bucket: Bucket, prefix: &str) -> Result<Vec<String>, BlobError> {
        let name = self.bucket_name(bucket);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(name)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|err| s3_error(err, &format!("list {name}/{prefix}*"), None))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// Turns an SDK error into a [`BlobError`]: `what` says which operation on what; a 404 is
/// [`BlobError::NotFound`] of `missing` when given.
fn s3_error<E>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    what: &str,
    missing: Option<&str>,
) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let message = format!("{what}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::ConstructionFailure(_) => BlobError::Other(message),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => BlobError::Unavailable(message),
        SdkError::DispatchFailure(failure) if failure.is_user() => BlobError::Other(message),
        SdkError::DispatchFailure(_) => BlobError::Unavailable(message),
        SdkError::ServiceError(_) => {
            let code = code.as_deref();
            match (status, missing) {
                (_, _) if code == Some("NoSuchBucket") => BlobError::Other(message),
                (Some(404), Some(key)) => BlobError::NotFound(key.to_string()),
                (_, Some(key)) if code == Some("NoSuchKey") => BlobError::NotFound(key.to_string()),
                (Some(s), _) if s >= 500 || s == 429 => BlobError::Unavailable(message),
                _ if matches!(code, Some("SlowDown" | "RequestTimeout")) => {
                    BlobError::Unavailable(message)
                }
                _ => BlobError::Other(message),
            }
        }
        _ => BlobError::Other(message),
    }
}

/// `attachment; filename="<name>"`, with `filename*` (RFC 6266) when the name is not
/// plain ASCII.
fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != file_name {
        value.push_str("; filename*=UTF-8''");
        for byte in file_name.bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                value.push(byte as char);
            } else {
                value.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    value
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn ping(&self) -> Result<(), BlobError> {
        for bucket in Bucket::ALL {
            let name = self.bucket_name(bucket);
            match self.client.head_bucket().bucket(name).send().await {
                Ok(_) => {}
                Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(404) => {
                    return Err(BlobError::Other(format!("S3 bucket {name} does not exist")));
                }
                Err(err) => return Err(s3_error(err, &format!("S3 bucket {name}"), None)),
            }
        }
        Ok(())
    }

    async fn ensure_buckets(&self) -> Result<(), BlobError> {
        let region = self
            .client
            .config()
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_default();
        for bucket in Bucket::ALL {
            let name = self.bucket_name(bucket);
            match self.client.head_bucket().bucket(name).send().await {
                Ok(_) => continue,
                Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(404) => {}
                Err(err) => return Err(s3_error(err, &format!("S3 bucket {name}"), None)),
            }
            let mut create = self.client.create_bucket().bucket(name);
            if !region.is_empty() && region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region.as_str()))
                        .build(),
                );
            }
            match create.send().await {
                Ok(_) => {}
                Err(err) if err.code() == Some("BucketAlreadyOwnedByYou") => {}
                Err(err) => {
                    return Err(s3_error(err, &format!("create S3 bucket {name}"), None));
                }
            }
        }
        Ok(())
    }

    async fn put(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let name = self.bucket_name(bucket);
        self.client
            .put_object()
            .bucket(name)
            .key(key.as_str())
            .content_type(content_type)
            .content_length(bytes.len() as i64)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|err| s3_error(err, &format!("put {name}/{key}"), None))?;
        Ok(())
    }

    async fn get(&self, bucket: Bucket, key: &BlobKey) -> Result<Bytes, BlobError> {
        let name = self.bucket_name(bucket);
        let object = self
            .client
            .get_object()
            .bucket(name)
            .key(key.as_str())
            .send()
            .await
            .map_err(|err| s3_error(err, &format!("get {name}/{key}"), Some(key.as_str())))?;
        let body = object.body.collect().await.map_err(|err| {
            BlobError::Unavailable(format!(
                "get {name}/{key}: reading the body failed: {}",
                DisplayErrorContext(&err)
            ))
        })?;
        Ok(body.into_bytes())
    }

    async fn exists(&self, bucket: Bucket, key: &BlobKey) -> Result<bool, BlobError> {
        let name = self.bucket_name(bucket);
        match self
            .client
            .head_object()
            .bucket(name)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => match s3_error(err, &format!("head {name}/{key}"), Some(key.as_str())) {
                BlobError::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn delete(&self, bucket: Bucket, key: &BlobKey) -> Result<(), BlobError> {
        let name = self.bucket_name(bucket);
        match self
            .client
            .delete_object()
            .bucket(name)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match s3_error(err, &format!("delete {name}/{key}"), Some(key.as_str())) {
                BlobError::NotFound(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<usize, BlobError> {
        let name = self.bucket_name(bucket);
        let keys = self.list_all(bucket, prefix).await?;
        let mut deleted = 0;
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| BlobError::Other(format!("delete {name}/{prefix}*: {err}")))?;
            let request = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|err| BlobError::Other(format!("delete {name}/{prefix}*: {err}")))?;
            let output = self
                .client
                .delete_objects()
                .bucket(name)
                .delete(request)
                .send()
                .await
                .map_err(|err| s3_error(err, &format!("delete {name}/{prefix}*"), None))?;
            let errors = output.errors();
            if let Some(first) = errors.first() {
                return Err(BlobError::Other(format!(
                    "delete {name}/{prefix}*: {} of {} keys not deleted, first {:?}: {} {}",
                    errors.len(),
                    batch.len(),
                    first.key().unwrap_or_default(),
                    first.code().unwrap_or_default(),
                    first.message().unwrap_or_default(),
                )));
            }
            deleted += batch.len();
        }
        Ok(deleted)
    }

    async fn list(&self, bucket: Bucket, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        Ok(self
            .list_all(bucket, prefix)
            .await?
            .into_iter()
            .map(BlobKey)
            .collect())
    }

    async fn download(
        &self,
        bucket: Bucket,
        key: &BlobKey,
        file_name: &str,
        content_type: &str,
        ttl_secs: u64,
    ) -> Result<Download, BlobError> {
        if ttl_secs == 0 || ttl_secs > MAX_PRESIGN_SECS {
            return Err(BlobError::Other(format!(
                "presigned URL lifetime {ttl_secs} s is outside 1..={MAX_PRESIGN_SECS} s"
            )));
        }
        if !self.exists(bucket, key).await? {
            return Err(BlobError::NotFound(key.to_string()));
        }
        let name = self.bucket_name(bucket);
        let presigning = PresigningConfig::expires_in(Duration::from_secs(ttl_secs))
            .map_err(|err| BlobError::Other(format!("presign {name}/{key}: {err}")))?;
        let request = self
            .client
            .get_object()
            .bucket(name)
            .key(key.as_str())
            .response_content_disposition(content_disposition(file_name))
            .response_content_type(content_type)
            .presigned(presigning)
            .await
            .map_err(|err| s3_error(err, &format!("presign {name}/{key}"), None))?;
        Ok(Download::Redirect(request.uri().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn an_ascii_file_name_is_quoted_as_is() {
        assert_eq!(
            content_disposition("report 1.pdf"),
            "attachment; filename=\"report 1.pdf\""
        );
    }

    #[test]
    fn quotes_and_non_ascii_names_are_escaped() {
        assert_eq!(
            content_disposition("a\"b\u{e9}.pdf"),
            "attachment; filename=\"a_b_.pdf\"; filename*=UTF-8''a%22b%C3%A9.pdf"
        );
    }
}
