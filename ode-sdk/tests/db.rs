//! The metadata store against real databases: one suite, written once, run on SQLite (a
//! file in a temporary folder) and on PostgreSQL (a fresh database per test, created
//! from the `postgres` maintenance database on 127.0.0.1:5432 and dropped afterwards).
//!
//! PostgreSQL tests fail when the server cannot be reached, unless `ODE_SKIP_POSTGRES=1`.
//! `ODE_TEST_POSTGRES=postgres://user@host:port` points them at another server.

#![cfg(any(feature = "sqlite", feature = "postgres"))]

use std::collections::HashSet;
use std::sync::Arc;

use ode_sdk::config::DatabaseSettings;
use ode_sdk::db::{
    DbError, DieselStore, ExportCounts, Inserted, MetadataStore, NewExport, Outcome,
};
use ode_sdk::domain::{
    ApiKey, ApiKeyId, BlobKey, DocumentId, DocumentRecord, Export, ExportFormat, ExportId,
    ExportStatus, FontId, FontRecord, SourceKind, Tenant, TenantId, Timestamp,
};

type Store = Arc<dyn MetadataStore>;

fn settings() -> DatabaseSettings {
    DatabaseSettings {
        pool_size: 8,
        connect_timeout_ms: 2000,
        migrate: true,
        ..DatabaseSettings::default()
    }
}

// Databases.

/// A store on a database of its own, removed when dropped.
struct TestDb {
    store: Option<Store>,
    #[allow(dead_code)]
    place: Place,
}

#[allow(dead_code)]
enum Place {
    Folder(std::path::PathBuf),
    Postgres { server: String, name: String },
}

impl TestDb {
    fn store(&self) -> Store {
        Arc::clone(self.store.as_ref().expect("the store is open"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.store = None;
        match &self.place {
            Place::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { server, name } => {
                // Dropping runs outside the test's runtime (which may be unwinding).
                let (server, name) = (server.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    rt.block_on(pg::drop_database(&server, &name));
                })
                .join();
            }
            #[cfg(not(feature = "postgres"))]
            Place::Postgres { .. } => {}
        }
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_db() -> Option<TestDb> {
    let dir = std::env::temp_dir().join(format!("ode-db-test-{}", uuid::Uuid::now_v7()));
    // A folder that does not exist yet: connecting creates it.
    let url = format!("sqlite://{}", dir.join("nested/ode.db").display());
    let store = DieselStore::connect(&url, &settings())
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    Some(TestDb {
        store: Some(Arc::new(store)),
        place: Place::Folder(dir),
    })
}

#[cfg(feature = "postgres")]
mod pg {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

    /// The servers tried, in order.
    fn servers() -> Vec<String> {
        match std::env::var("ODE_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => vec![url.trim_end_matches('/').to_string()],
            _ => vec![
                "postgres://postgres@127.0.0.1:5432".to_string(),
                "postgres://root@127.0.0.1:5432".to_string(),
            ],
        }
    }

    pub fn skipped() -> bool {
        std::env::var("ODE_SKIP_POSTGRES").is_ok_and(|v| v == "1")
    }

    async fn admin(server: &str) -> Result<AsyncPgConnection, String> {
        let url = format!("{server}/postgres");
        match tokio::time::timeout(
            std::time::Duration::from_secs(5),
            AsyncPgConnection::establish(&url),
        )
        .await
        {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(format!("{url}: {e}")),
            Err(_) => Err(format!("{url}: no answer within 5 s")),
        }
    }

    /// Creates an empty database; its server and name.
    pub async fn create_database() -> (String, String) {
        let mut failures = Vec::new();
        for server in servers() {
            match admin(&server).await {
                Ok(mut conn) => {
                    let name = format!("ode_test_{}", uuid::Uuid::now_v7().simple());
                    diesel::sql_query(format!("CREATE DATABASE {name}"))
                        .execute(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
                    return (server, name);
                }
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "PostgreSQL is not reachable ({}); start it, or set ODE_SKIP_POSTGRES=1 to skip \
             the PostgreSQL tests",
            failures.join("; ")
        );
    }

    pub async fn drop_database(server: &str, name: &str) {
        if let Ok(mut conn) = admin(server).await {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

#[cfg(feature = "postgres")]
async fn postgres_db() -> Option<TestDb> {
    if pg::skipped() {
        eprintln!("ODE_SKIP_POSTGRES=1: PostgreSQL test skipped");
        return None;
    }
    let (server, name) = pg::create_database().await;
    let place = Place::Postgres {
        server: server.clone(),
        name: name.clone(),
    };
    let url = format!("{server}/{name}");
    let store = DieselStore::connect(&url, &settings())
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    Some(TestDb {
        store: Some(Arc::new(store)),
        place,
    })
}

/// Runs each named test (an `async fn(Store)` below) on every backend built in:
/// `sqlite::<name>` and `postgres::<name>`.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = super::sqlite_db().await {
                        super::$name(db.store()).await;
                    }
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = super::postgres_db().await {
                        super::$name(db.store()).await;
                    }
                }
            )*
        }
    };
}

suite!(
    tenants_and_keys_are_stored_and_a_key_is_found_by_its_hash,
    a_revoked_key_authenticates_nothing,
    another_tenants_rows_are_invisible_to_every_call,
    documents_are_versioned_and_listed_newest_first_page_by_page,
    fonts_are_listed_oldest_first_and_deleted,
    an_export_goes_from_queued_to_succeeded_with_its_history_in_order,
    a_claimed_export_cannot_be_claimed_again_until_its_lease_ends,
    finishing_with_a_stale_token_changes_nothing,
    a_finished_export_cannot_be_claimed,
    an_idempotency_key_used_twice_returns_the_existing_export,
    concurrent_inserts_with_one_idempotency_key_create_one_export,
    a_retry_puts_the_export_back_in_the_queue,
    stale_exports_are_old_queued_ones_and_expired_leases,
    webhook_pending_is_set_only_when_the_tenant_has_a_webhook,
    export_counts_name_every_status_zeros_included,
    fifty_exports_claimed_by_eight_workers_are_each_claimed_exactly_once,
    a_failed_export_keeps_its_error,
);

// Builders.

const T0: Timestamp = Timestamp(1_750_000_000_000);

fn at(ms: i64) -> Timestamp {
    T0.plus_ms(ms)
}

async fn new_tenant(store: &Store, name: &str, webhook: Option<&str>) -> Tenant {
    let tenant = Tenant {
        id: TenantId::new(),
        name: name.to_string(),
        webhook_url: webhook.map(str::to_string),
        webhook_secret: webhook.map(|_| "s3cret".to_string()),
        created_at: Timestamp::now(),
    };
    store.insert_tenant(&tenant).await.expect("insert tenant");
    tenant
}

fn key(tenant: TenantId, hash: &str) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        tenant_id: tenant,
        name: "ci".to_string(),
        prefix: "ode_1234".to_string(),
        hash: hash.to_string(),
        created_at: at(0),
        revoked_at: None,
    }
}

fn document(tenant: TenantId, kind: SourceKind, name: &str) -> DocumentRecord {
    let id = DocumentId::new();
    DocumentRecord {
        id,
        tenant_id: tenant,
        kind,
        name: name.to_string(),
        version: 1,
        source_key: BlobKey(format!("{tenant}/documents/{id}/v1.json")),
        size_bytes: 120,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn font(tenant: TenantId, family: &str) -> FontRecord {
    let id = FontId::new();
    FontRecord {
        id,
        tenant_id: tenant,
        family: family.to_string(),
        file_name: format!("{family}.ttf"),
        blob_key: BlobKey(format!("{tenant}/fonts/{id}/{family}.ttf")),
        size_bytes: 50_000,
        created_at: at(0),
    }
}

fn new_export(tenant: TenantId, idempotency_key: Option<&str>) -> NewExport {
    let id = ExportId::new();
    NewExport {
        id,
        tenant_id: tenant,
        document_id: Some(DocumentId::new()),
        kind: SourceKind::Template,
        format: ExportFormat::Pdf,
        input_key: BlobKey(format!("{tenant}/inputs/{id}/input.json")),
        records: 3,
        merge: true,
        idempotency_key: idempotency_key.map(str::to_string),
        request_hash: Some("digest".into()),
    }
}

async fn queued(store: &Store, tenant: TenantId) -> Export {
    match store
        .insert_export(&new_export(tenant, None), at(0))
        .await
        .expect("insert export")
    {
        Inserted::Created(e) => e,
        Inserted::Existing(e) => panic!("a new export without a key was found: {e:?}"),
    }
}

const DONE: Outcome = Outcome::Succeeded {
    files: 1,
    bytes: 2048,
    pages: 4,
};

// The suite.

async fn tenants_and_keys_are_stored_and_a_key_is_found_by_its_hash(store: Store) {
    store.ping().await.expect("ping");
    let first = new_tenant(&store, "first", None).await;
    let second = new_tenant(&store, "second", None).await;
    assert_eq!(store.tenant(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.tenant(TenantId::new()).await.unwrap(), None);
    let all = store.tenants().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.contains(&first) && all.contains(&second));

    assert!(
        store
            .set_webhook(first.id, Some("https://hooks.example/ode"), Some("k"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_webhook(TenantId::new(), None, None)
            .await
            .unwrap()
    );

    let k = key(first.id, "aa11");
    store.insert_api_key(&k).await.unwrap();
    store.insert_api_key(&key(second.id, "bb22")).await.unwrap();
    let (found, tenant) = store
        .api_key_by_hash("aa11")
        .await
        .unwrap()
        .expect("the key");
    assert_eq!(found, k);
    assert_eq!(tenant.id, first.id);
    assert_eq!(
        tenant.webhook_url.as_deref(),
        Some("https://hooks.example/ode")
    );
    assert_eq!(tenant.webhook_secret.as_deref(), Some("k"));
    assert_eq!(store.api_key_by_hash("cc33").await.unwrap(), None);

    // Hashes are unique.
    let again = store.insert_api_key(&key(second.id, "aa11")).await;
    assert!(matches!(again, Err(DbError::Conflict(_))), "{again:?}");

    // Clearing the webhook.
    assert!(store.set_webhook(first.id, None, None).await.unwrap());
    let cleared = store.tenant(first.id).await.unwrap().unwrap();
    assert_eq!((cleared.webhook_url, cleared.webhook_secret), (None, None));
}

async fn a_revoked_key_authenticates_nothing(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let k = key(tenant.id, "dd44");
    store.insert_api_key(&k).await.unwrap();
    assert!(store.api_key_by_hash("dd44").await.unwrap().is_some());
    assert!(
        !store
            .revoke_api_key(tenant.id, ApiKeyId::new(), at(5))
            .await
            .unwrap()
    );
    assert!(store.revoke_api_key(tenant.id, k.id, at(5)).await.unwrap());
    assert_eq!(store.api_key_by_hash("dd44").await.unwrap(), None);
    // Revoking again still names the key.
    assert!(store.revoke_api_key(tenant.id, k.id, at(9)).await.unwrap());
}

async fn another_tenants_rows_are_invisible_to_every_call(store: Store) {
    let owner = new_tenant(&store, "owner", None).await;
    let other = new_tenant(&store, "other", None).await;
    let doc = document(owner.id, SourceKind::Document, "invoice");
    store.insert_document(&doc).await.unwrap();
    let f = font(owner.id, "Inter");
    store.insert_font(&f).await.unwrap();
    let export = queued(&store, owner.id).await;
    let k = key(owner.id, "ee55");
    store.insert_api_key(&k).await.unwrap();

    assert_eq!(store.document(other.id, doc.id).await.unwrap(), None);
    let listed = store.documents(other.id, None, None, 10).await.unwrap();
    assert!(listed.items.is_empty() && listed.next.is_none());
    let replaced = store
        .replace_document(other.id, doc.id, "x", &BlobKey("x".into()), 1, at(1))
        .await
        .unwrap();
    assert_eq!(replaced, None);
    assert_eq!(store.delete_document(other.id, doc.id).await.unwrap(), None);
    assert!(store.fonts(other.id).await.unwrap().is_empty());
    assert_eq!(store.delete_font(other.id, f.id).await.unwrap(), None);
    assert_eq!(store.export(other.id, export.id).await.unwrap(), None);
    assert!(
        store
            .exports(other.id, None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(!store.revoke_api_key(other.id, k.id, at(1)).await.unwrap());

    // Nothing of the owner's changed.
    assert_eq!(store.document(owner.id, doc.id).await.unwrap(), Some(doc));
    assert_eq!(store.fonts(owner.id).await.unwrap(), vec![f]);
    assert_eq!(
        store.export(owner.id, export.id).await.unwrap(),
        Some(export.clone())
    );
    assert_eq!(store.export_any(export.id).await.unwrap(), Some(export));
    assert!(store.api_key_by_hash("ee55").await.unwrap().is_some());
}

async fn documents_are_versioned_and_listed_newest_first_page_by_page(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let mut docs = Vec::new();
    for i in 0..7 {
        let kind = if i % 3 == 0 {
            SourceKind::Document
        } else {
            SourceKind::Template
        };
        let doc = document(tenant.id, kind, &format!("doc {i}"));
        store.insert_document(&doc).await.unwrap();
        docs.push(doc);
    }
    // Newest first is highest id first (UUIDv7).
    let mut expected: Vec<DocumentId> = docs.iter().map(|d| d.id).collect();
    expected.sort();
    expected.reverse();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store.documents(tenant.id, None, after, 3).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(next) => {
                assert_eq!(next, page.items.last().unwrap().id.to_string());
                after = Some(next.parse().unwrap());
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    // A kind at a time; a page that ends exactly at the last item has no `next`.
    let templates = store
        .documents(tenant.id, Some(SourceKind::Template), None, 2)
        .await
        .unwrap();
    assert_eq!(templates.items.len(), 2);
    assert!(
        templates
            .items
            .iter()
            .all(|d| d.kind == SourceKind::Template)
    );
    let rest = store
        .documents(
            tenant.id,
            Some(SourceKind::Template),
            templates.next.map(|n| n.parse().unwrap()),
            2,
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next, None);
    assert!(
        store
            .documents(tenant.id, Some(SourceKind::Markdown), None, 5)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Replacing points at a new source and counts the version.
    let doc = &docs[2];
    let new_key = BlobKey(format!("{}/documents/{}/v2.json", tenant.id, doc.id));
    let replaced = store
        .replace_document(tenant.id, doc.id, "renamed", &new_key, 999, at(50))
        .await
        .unwrap()
        .expect("replaced");
    assert_eq!(replaced.version, 2);
    assert_eq!(replaced.name, "renamed");
    assert_eq!(replaced.source_key, new_key);
    assert_eq!(replaced.size_bytes, 999);
    assert_eq!(replaced.created_at, doc.created_at);
    assert_eq!(replaced.updated_at, at(50));
    let again = store
        .replace_document(tenant.id, doc.id, "renamed", &new_key, 999, at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.version, 3);
    assert_eq!(
        store.document(tenant.id, doc.id).await.unwrap(),
        Some(again.clone())
    );
    assert_eq!(
        store
            .replace_document(tenant.id, DocumentId::new(), "x", &new_key, 1, at(70))
            .await
            .unwrap(),
        None
    );

    // Deleting answers the deleted record, once.
    assert_eq!(
        store.delete_document(tenant.id, doc.id).await.unwrap(),
        Some(again)
    );
    assert_eq!(
        store.delete_document(tenant.id, doc.id).await.unwrap(),
        None
    );
    assert_eq!(store.document(tenant.id, doc.id).await.unwrap(), None);
}

async fn fonts_are_listed_oldest_first_and_deleted(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let mut a = font(tenant.id, "Alpha");
    a.created_at = at(10);
    let mut b = font(tenant.id, "Beta");
    b.created_at = at(5);
    store.insert_font(&a).await.unwrap();
    store.insert_font(&b).await.unwrap();
    assert_eq!(
        store.fonts(tenant.id).await.unwrap(),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        store.delete_font(tenant.id, b.id).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(store.delete_font(tenant.id, b.id).await.unwrap(), None);
    assert_eq!(store.fonts(tenant.id).await.unwrap(), vec![a]);
}

async fn an_export_goes_from_queued_to_succeeded_with_its_history_in_order(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let new = new_export(tenant.id, Some("req-1"));
    let Inserted::Created(export) = store.insert_export(&new, at(0)).await.unwrap() else {
        panic!("a new export was found");
    };
    assert_eq!(export.id, new.id);
    assert_eq!(export.status, ExportStatus::Queued);
    assert_eq!(export.attempts, 0);
    assert_eq!(export.document_id, new.document_id);
    assert_eq!(export.kind, SourceKind::Template);
    assert_eq!(export.format, ExportFormat::Pdf);
    assert_eq!((export.records, export.merge), (3, true));
    assert_eq!(export.idempotency_key.as_deref(), Some("req-1"));
    assert_eq!((export.created_at, export.updated_at), (at(0), at(0)));
    assert!(!export.webhook_pending);
    assert_eq!(
        store.export(tenant.id, new.id).await.unwrap(),
        Some(export.clone())
    );

    let claimed = store
        .claim_export(new.id, "worker-a", at(10), at(30_010))
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(claimed.status, ExportStatus::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_token.as_deref(), Some("worker-a"));
    assert_eq!(claimed.lease_until, Some(at(30_010)));
    assert_eq!(claimed.updated_at, at(10));

    assert!(
        store
            .renew_lease(new.id, "worker-a", at(60_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_lease(new.id, "worker-b", at(90_000))
            .await
            .unwrap()
    );
    assert_eq!(
        store.export_any(new.id).await.unwrap().unwrap().lease_until,
        Some(at(60_000))
    );

    let done = store
        .finish_export(new.id, "worker-a", &DONE, at(20))
        .await
        .unwrap()
        .expect("finished");
    assert_eq!(done.status, ExportStatus::Succeeded);
    assert_eq!(
        (done.result_files, done.result_bytes, done.pages),
        (1, 2048, 4)
    );
    assert_eq!(
        (done.lease_token.as_deref(), done.lease_until),
        (None, None)
    );
    assert_eq!(done.error, None);
    assert_eq!(done.updated_at, at(20));
    assert!(!done.webhook_pending, "the tenant has no webhook");
    assert_eq!(store.export_any(new.id).await.unwrap(), Some(done.clone()));
    // The lease is gone: it cannot be renewed or finished again.
    assert!(
        !store
            .renew_lease(new.id, "worker-a", at(99_000))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .finish_export(new.id, "worker-a", &DONE, at(30))
            .await
            .unwrap(),
        None
    );

    let events = store.export_events(new.id).await.unwrap();
    let steps: Vec<_> = events.iter().map(|e| (e.status, e.at)).collect();
    assert_eq!(
        steps,
        vec![
            (ExportStatus::Queued, at(0)),
            (ExportStatus::Running, at(10)),
            (ExportStatus::Succeeded, at(20)),
        ]
    );
    assert_eq!(events[1].detail.as_deref(), Some("attempt 1"));
    assert!(
        store
            .export_events(ExportId::new())
            .await
            .unwrap()
            .is_empty()
    );

    let listed = store.exports(tenant.id, None, 10).await.unwrap();
    assert_eq!(listed.items, vec![done]);
    assert_eq!(listed.next, None);
}

async fn a_claimed_export_cannot_be_claimed_again_until_its_lease_ends(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let export = queued(&store, tenant.id).await;
    assert!(
        store
            .claim_export(export.id, "a", at(0), at(1000))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .claim_export(export.id, "b", at(500), at(1500))
            .await
            .unwrap(),
        None
    );
    // The lease ended: another worker takes it over.
    let second = store
        .claim_export(export.id, "b", at(1001), at(2001))
        .await
        .unwrap()
        .expect("claimed after the lease ended");
    assert_eq!(second.attempts, 2);
    assert_eq!(second.lease_token.as_deref(), Some("b"));
    assert!(!store.renew_lease(export.id, "a", at(5000)).await.unwrap());
    let details: Vec<_> = store
        .export_events(export.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details.last().cloned().flatten().as_deref(),
        Some("attempt 2")
    );
    assert_eq!(
        store
            .claim_export(ExportId::new(), "c", at(0), at(1))
            .await
            .unwrap(),
        None
    );
}

async fn finishing_with_a_stale_token_changes_nothing(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let export = queued(&store, tenant.id).await;
    store
        .claim_export(export.id, "old", at(0), at(100))
        .await
        .unwrap()
        .unwrap();
    let current = store
        .claim_export(export.id, "new", at(200), at(300))
        .await
        .unwrap()
        .unwrap();
    let events_before = store.export_events(export.id).await.unwrap();
    for outcome in [
        DONE,
        Outcome::Failed(serde_json::json!({"errors": []})),
        Outcome::Retry("late".into()),
    ] {
        assert_eq!(
            store
                .finish_export(export.id, "old", &outcome, at(250))
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(store.export_any(export.id).await.unwrap(), Some(current));
    assert_eq!(store.export_events(export.id).await.unwrap(), events_before);
    // The holder finishes it.
    let done = store
        .finish_export(export.id, "new", &DONE, at(260))
        .await
        .unwrap();
    assert_eq!(done.map(|e| e.status), Some(ExportStatus::Succeeded));
}

async fn a_finished_export_cannot_be_claimed(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let export = queued(&store, tenant.id).await;
    store
        .claim_export(export.id, "a", at(0), at(10))
        .await
        .unwrap()
        .unwrap();
    store
        .finish_export(export.id, "a", &DONE, at(5))
        .await
        .unwrap()
        .unwrap();
    // Even long after its (cleared) lease would have ended.
    assert_eq!(
        store
            .claim_export(export.id, "b", at(100_000), at(200_000))
            .await
            .unwrap(),
        None
    );
}

async fn an_idempotency_key_used_twice_returns_the_existing_export(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let other = new_tenant(&store, "other", None).await;
    let Inserted::Created(first) = store
        .insert_export(&new_export(tenant.id, Some("k1")), at(0))
        .await
        .unwrap()
    else {
        panic!("the first export was found");
    };
    let again = store
        .insert_export(&new_export(tenant.id, Some("k1")), at(5))
        .await
        .unwrap();
    assert_eq!(again, Inserted::Existing(first.clone()));
    // Keys belong to their tenant.
    assert!(matches!(
        store
            .insert_export(&new_export(other.id, Some("k1")), at(5))
            .await
            .unwrap(),
        Inserted::Created(_)
    ));
    // Without a key, every insert creates.
    queued(&store, tenant.id).await;
    queued(&store, tenant.id).await;
    assert_eq!(
        store
            .exports(tenant.id, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    // Only the first got a history.
    assert_eq!(store.export_events(first.id).await.unwrap().len(), 1);
}

async fn concurrent_inserts_with_one_idempotency_key_create_one_export(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .insert_export(&new_export(tenant.id, Some("same")), at(0))
                .await
        }));
    }
    let mut created = Vec::new();
    let mut existing = Vec::new();
    for task in tasks {
        match task.await.unwrap().expect("insert") {
            Inserted::Created(e) => created.push(e),
            Inserted::Existing(e) => existing.push(e),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(existing.len(), 7);
    assert!(existing.iter().all(|e| e.id == created[0].id));
    let listed = store.exports(tenant.id, None, 50).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}

async fn a_retry_puts_the_export_back_in_the_queue(store: Store) {
    let tenant = new_tenant(&store, "t", Some("https://hooks.example/x")).await;
    let export = queued(&store, tenant.id).await;
    store
        .claim_export(export.id, "a", at(0), at(1000))
        .await
        .unwrap()
        .unwrap();
    let back = store
        .finish_export(
            export.id,
            "a",
            &Outcome::Retry("blob store down".into()),
            at(40),
        )
        .await
        .unwrap()
        .expect("retried");
    assert_eq!(back.status, ExportStatus::Queued);
    assert_eq!((back.lease_token.clone(), back.lease_until), (None, None));
    assert_eq!(back.error, None);
    assert!(!back.webhook_pending, "not final: no webhook yet");
    let last = store.export_events(export.id).await.unwrap().pop().unwrap();
    assert_eq!(last.status, ExportStatus::Queued);
    assert_eq!(last.at, at(40));
    assert!(last.detail.unwrap().contains("blob store down"));
    // Taken again at once, lease or not.
    let again = store
        .claim_export(export.id, "b", at(50), at(1050))
        .await
        .unwrap()
        .expect("claimed again");
    assert_eq!(again.attempts, 2);
}

async fn stale_exports_are_old_queued_ones_and_expired_leases(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let insert = async |ms: i64| match store
        .insert_export(&new_export(tenant.id, None), at(ms))
        .await
        .unwrap()
    {
        Inserted::Created(e) => e.id,
        Inserted::Existing(_) => panic!("found"),
    };
    let old_queued = insert(0).await;
    let fresh_queued = insert(900).await;
    let expired = insert(0).await;
    store
        .claim_export(expired, "a", at(100), at(400))
        .await
        .unwrap()
        .unwrap();
    let live = insert(0).await;
    store
        .claim_export(live, "b", at(200), at(5000))
        .await
        .unwrap()
        .unwrap();
    let finished = insert(0).await;
    store
        .claim_export(finished, "c", at(50), at(60))
        .await
        .unwrap()
        .unwrap();
    store
        .finish_export(finished, "c", &DONE, at(55))
        .await
        .unwrap()
        .unwrap();

    // Queued before 500, or leased until before 1000.
    let stale = store.stale_exports(at(500), at(1000), 10).await.unwrap();
    assert_eq!(stale, vec![old_queued, expired], "oldest first");
    assert_eq!(
        store.stale_exports(at(500), at(1000), 1).await.unwrap(),
        vec![old_queued]
    );
    assert!(!stale.contains(&fresh_queued) && !stale.contains(&live));
    assert!(
        store
            .stale_exports(at(0), at(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn webhook_pending_is_set_only_when_the_tenant_has_a_webhook(store: Store) {
    let hooked = new_tenant(&store, "hooked", Some("https://hooks.example/a")).await;
    let plain = new_tenant(&store, "plain", None).await;
    let finish = async |tenant: TenantId, outcome: Outcome| {
        let e = queued(&store, tenant).await;
        store
            .claim_export(e.id, "w", at(0), at(100))
            .await
            .unwrap()
            .unwrap();
        store
            .finish_export(e.id, "w", &outcome, at(10))
            .await
            .unwrap()
            .expect("finished")
    };
    let failed = Outcome::Failed(serde_json::json!({"errors": [{"message": "bad"}]}));
    let hooked_done = finish(hooked.id, DONE).await;
    let hooked_failed = finish(hooked.id, failed.clone()).await;
    let plain_done = finish(plain.id, DONE).await;
    let plain_failed = finish(plain.id, failed).await;
    assert!(hooked_done.webhook_pending && hooked_failed.webhook_pending);
    assert!(!plain_done.webhook_pending && !plain_failed.webhook_pending);

    let mut pending = store.pending_webhooks(at(11), 10).await.unwrap();
    pending.sort();
    let mut expected = vec![hooked_done.id, hooked_failed.id];
    expected.sort();
    assert_eq!(pending, expected);
    assert!(
        store.pending_webhooks(at(10), 10).await.unwrap().is_empty(),
        "changed at 10"
    );
    assert_eq!(store.pending_webhooks(at(11), 1).await.unwrap().len(), 1);

    assert!(store.clear_webhook_pending(hooked_done.id).await.unwrap());
    assert!(!store.clear_webhook_pending(hooked_done.id).await.unwrap());
    assert!(!store.clear_webhook_pending(plain_done.id).await.unwrap());
    assert_eq!(
        store.pending_webhooks(at(11), 10).await.unwrap(),
        vec![hooked_failed.id]
    );
}

async fn a_failed_export_keeps_its_error(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let export = queued(&store, tenant.id).await;
    store
        .claim_export(export.id, "w", at(0), at(100))
        .await
        .unwrap()
        .unwrap();
    let error = serde_json::json!({
        "errors": [{"path": "content[2]", "message": "unknown block type \"tabel\""}]
    });
    let failed = store
        .finish_export(export.id, "w", &Outcome::Failed(error.clone()), at(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, ExportStatus::Failed);
    assert_eq!(failed.error, Some(error.clone()));
    assert_eq!(
        store.export_any(export.id).await.unwrap().unwrap().error,
        Some(error)
    );
    let last = store.export_events(export.id).await.unwrap().pop().unwrap();
    assert_eq!(last.status, ExportStatus::Failed);
    assert_eq!(last.detail.as_deref(), Some("unknown block type \"tabel\""));
}

async fn export_counts_name_every_status_zeros_included(store: Store) {
    let zeros = ExportCounts {
        by_status: ExportStatus::ALL.iter().map(|s| (*s, 0)).collect(),
    };
    assert_eq!(store.export_counts().await.unwrap(), zeros);
    let tenant = new_tenant(&store, "t", None).await;
    for _ in 0..3 {
        queued(&store, tenant.id).await;
    }
    let running = queued(&store, tenant.id).await;
    store
        .claim_export(running.id, "w", at(0), at(100))
        .await
        .unwrap()
        .unwrap();
    let done = queued(&store, tenant.id).await;
    store
        .claim_export(done.id, "w", at(0), at(100))
        .await
        .unwrap()
        .unwrap();
    store
        .finish_export(done.id, "w", &DONE, at(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.export_counts().await.unwrap().by_status,
        vec![
            (ExportStatus::Queued, 3),
            (ExportStatus::Running, 1),
            (ExportStatus::Succeeded, 1),
            (ExportStatus::Failed, 0),
        ]
    );
}

async fn fifty_exports_claimed_by_eight_workers_are_each_claimed_exactly_once(store: Store) {
    let tenant = new_tenant(&store, "t", None).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(queued(&store, tenant.id).await.id);
    }
    let ids = Arc::new(ids);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
        workers.push(tokio::spawn(async move {
            let token = format!("worker-{w}");
            let mut mine = Vec::new();
            // Each worker walks the list from a different place, so they collide.
            for i in 0..ids.len() {
                let id = ids[(i + w * 7) % ids.len()];
                if let Some(e) = store
                    .claim_export(id, &token, at(0), at(60_000))
                    .await
                    .expect("claim")
                {
                    assert_eq!(e.lease_token.as_deref(), Some(token.as_str()));
                    mine.push(id);
                }
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    assert_eq!(claimed.len(), 50, "every export claimed once");
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(distinct.len(), 50);
    for id in ids.iter() {
        let e = store.export_any(*id).await.unwrap().unwrap();
        assert_eq!((e.status, e.attempts), (ExportStatus::Running, 1));
        assert_eq!(store.export_events(*id).await.unwrap().len(), 2);
    }
}

// Backend-specific behaviour.

#[tokio::test]
async fn an_unknown_database_url_is_refused_without_showing_it() {
    let e = DieselStore::connect("mysql://user:hunter2@db/ode", &settings())
        .await
        .unwrap_err();
    assert!(matches!(e, DbError::Other(_)), "{e:?}");
    assert!(e.to_string().contains("mysql"), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_database_works() {
    let store = DieselStore::connect("sqlite::memory:", &settings())
        .await
        .expect("in memory");
    store.ping().await.unwrap();
    let tenant = Tenant {
        id: TenantId::new(),
        name: "m".into(),
        webhook_url: None,
        webhook_secret: None,
        created_at: at(0),
    };
    store.insert_tenant(&tenant).await.unwrap();
    assert_eq!(store.tenant(tenant.id).await.unwrap(), Some(tenant));
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_file_without_migrations_is_refused_when_migrating_is_off() {
    let dir = std::env::temp_dir().join(format!("ode-db-test-{}", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}", dir.join("ode.db").display());
    let off = DatabaseSettings {
        migrate: false,
        ..settings()
    };
    let e = DieselStore::connect(&url, &off).await.unwrap_err();
    assert!(matches!(e, DbError::Schema(_)), "{e:?}");
    assert!(e.to_string().contains("pending"), "{e}");
    // Once migrated, it opens with migrations off too.
    drop(DieselStore::connect(&url, &settings()).await.unwrap());
    DieselStore::connect(&url, &off)
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_sqlite_file_share_claims() {
    // As the API and a worker process would: two connections to one file.
    let Some(db) = sqlite_db().await else { return };
    let Place::Folder(dir) = &db.place else {
        unreachable!()
    };
    let url = format!("sqlite://{}", dir.join("nested/ode.db").display());
    let first = db.store();
    let second: Store = Arc::new(DieselStore::connect(&url, &settings()).await.unwrap());
    let tenant = new_tenant(&first, "t", None).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(queued(&first, tenant.id).await.id);
    }
    let run = |store: Store, token: &'static str, ids: Vec<ExportId>| {
        tokio::spawn(async move {
            let mut n = 0;
            for id in ids {
                if store
                    .claim_export(id, token, at(0), at(1000))
                    .await
                    .unwrap()
                    .is_some()
                {
                    n += 1;
                }
            }
            n
        })
    };
    let a = run(first, "a", ids.clone());
    let b = run(second, "b", ids.into_iter().rev().collect());
    assert_eq!(a.await.unwrap() + b.await.unwrap(), 20);
}

#[cfg(feature = "postgres")]
mod outage {
    //! PostgreSQL going away and coming back, simulated by a TCP relay in front of the
    //! real server (so that the shared server itself keeps running).

    use std::time::{Duration, Instant};

    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Relays connections from `listener` to `target` until aborted (which closes the
    /// listener and every relayed connection).
    fn relay(listener: TcpListener, target: String) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        })
    }

    /// A fresh PostgreSQL database for one test (dropped with the guard), or None when
    /// `ODE_SKIP_POSTGRES=1`.
    async fn scratch_database() -> Option<(String, String, TestDb)> {
        if pg::skipped() {
            eprintln!("ODE_SKIP_POSTGRES=1: PostgreSQL test skipped");
            return None;
        }
        let (server, name) = pg::create_database().await;
        let guard = TestDb {
            store: None,
            place: Place::Postgres {
                server: server.clone(),
                name: name.clone(),
            },
        };
        Some((server, name, guard))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_fail_fast_while_the_database_is_away_and_recover_when_it_returns() {
        let Some((server, name, _db)) = scratch_database().await else {
            return;
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let host = server.rsplit('@').next().unwrap().to_string();
        let user = server
            .trim_start_matches("postgres://")
            .split('@')
            .next()
            .unwrap();
        let relayed = relay(listener, host);
        let url = format!("postgres://{user}@127.0.0.1:{port}/{name}");
        let timeout_ms = 1000;
        let store = DieselStore::connect(
            &url,
            &DatabaseSettings {
                connect_timeout_ms: timeout_ms,
                pool_size: 4,
                ..settings()
            },
        )
        .await
        .unwrap();
        let store: Store = Arc::new(store);
        let tenant = new_tenant(&store, "t", None).await;

        // Away: every call fails soon, as unavailable.
        relayed.abort();
        let _ = relayed.await;
        for _ in 0..3 {
            let started = Instant::now();
            let e = store.tenant(tenant.id).await.unwrap_err();
            assert!(e.is_transient(), "{e:?}");
            assert!(
                started.elapsed() < Duration::from_millis(timeout_ms * 2 + 500),
                "took {:?}",
                started.elapsed()
            );
        }
        let e = store.ping().await.unwrap_err();
        assert!(matches!(e, DbError::Unavailable(_)), "{e:?}");

        // Back: the pool reconnects by itself.
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let relayed = relay(listener, server.rsplit('@').next().unwrap().to_string());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match store.tenant(tenant.id).await {
                Ok(found) => {
                    assert_eq!(found, Some(tenant));
                    break;
                }
                Err(e) if Instant::now() < deadline => {
                    assert!(e.is_transient(), "{e:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("not back after 10 s: {e}"),
            }
        }
        drop(store);
        relayed.abort();
    }

    /// How many connections named `app` the server sees, and how many of them use TLS.
    async fn tls_connections(server: &str, app: &str) -> (i64, i64) {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Counts {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            total: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            tls: i64,
        }
        let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
            .await
            .unwrap();
        let c: Counts = diesel::sql_query(
            "SELECT count(*) AS total, count(*) FILTER (WHERE s.ssl) AS tls \
             FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.application_name = $1",
        )
        .bind::<diesel::sql_types::Text, _>(app)
        .get_result(&mut admin)
        .await
        .unwrap();
        (c.total, c.tls)
    }

    /// `sslmode` in the URL is honoured as libpq users expect (RDS runs with
    /// `rds.force_ssl = 1`). The server here is Debian's, with TLS on and a self-signed
    /// certificate.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_are_encrypted_as_sslmode_asks() {
        let Some((server, name, _db)) = scratch_database().await else {
            return;
        };
        for (mode, encrypted) in [("require", true), ("prefer", true), ("disable", false)] {
            let app = format!("ode-tls-{mode}-{}", std::process::id());
            let url = format!("{server}/{name}?application_name={app}&sslmode={mode}");
            let store = DieselStore::connect(&url, &settings()).await.unwrap();
            store.ping().await.unwrap();
            let (total, tls) = tls_connections(&server, &app).await;
            assert!(total >= 1, "{mode}: no connection named {app}");
            assert_eq!(
                tls,
                if encrypted { total } else { 0 },
                "{mode}: {tls} of {total} over TLS"
            );
            drop(store);
        }
        // verify-full checks the certificate: a self-signed one without its authority is
        // refused, and the error says why.
        let e = DieselStore::connect(
            &format!("{server}/{name}?sslmode=verify-full"),
            &DatabaseSettings {
                connect_timeout_ms: 5000,
                ..settings()
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, DbError::Unavailable(_)), "{e:?}");
        assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
        let e = DieselStore::connect(&format!("{server}/{name}?sslmode=maybe"), &settings())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("sslmode=\"maybe\""), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_unavailable_within_the_timeout() {
        // Nothing listens on port 1.
        let started = Instant::now();
        let e = DieselStore::connect(
            "postgres://postgres@127.0.0.1:1/ode",
            &DatabaseSettings {
                connect_timeout_ms: 500,
                ..settings()
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, DbError::Unavailable(_)), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
