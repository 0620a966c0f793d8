-- ODE metadata. Ids are hyphenated UUIDv7 text (so text order is creation order), times
-- are milliseconds since the Unix epoch. The PostgreSQL schema has the same tables and columns;
-- booleans are integers (0 or 1) here.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('document', 'template', 'markdown')),
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    source_key TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX documents_tenant ON documents (tenant_id, id);
CREATE INDEX documents_tenant_kind ON documents (tenant_id, kind, id);

CREATE TABLE fonts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    family TEXT NOT NULL,
    file_name TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX fonts_tenant ON fonts (tenant_id, id);

-- An export keeps no reference to its document: the document may be replaced or deleted
-- while the export (which rendered a copy of its input) lives on.
CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    document_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('document', 'template', 'markdown')),
    format TEXT NOT NULL CHECK (format IN ('pdf', 'svg', 'png')),
    input_key TEXT NOT NULL,
    records BIGINT NOT NULL,
    merge INTEGER NOT NULL CHECK (merge IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result_files BIGINT NOT NULL DEFAULT 0,
    result_bytes BIGINT NOT NULL DEFAULT 0,
    pages BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    lease_token TEXT,
    lease_until BIGINT,
    webhook_pending INTEGER NOT NULL DEFAULT 0 CHECK (webhook_pending IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX exports_tenant ON exports (tenant_id, id);
CREATE UNIQUE INDEX exports_idempotency ON exports (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX exports_status ON exports (status, updated_at);
CREATE INDEX exports_webhook_pending ON exports (webhook_pending, updated_at);

CREATE TABLE export_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    export_id TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    at BIGINT NOT NULL,
    detail TEXT
);
CREATE INDEX export_events_export ON export_events (export_id, id);
