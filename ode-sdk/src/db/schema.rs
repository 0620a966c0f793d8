//! The tables, as diesel sees them: one description for both backends (the migrations in
//! `ode-sdk/migrations/{postgres,sqlite}` give each column a type both read the same way).

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        prefix -> Text,
        hash -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        tenant_id -> Text,
        kind -> Text,
        name -> Text,
        version -> BigInt,
        source_key -> Text,
        size_bytes -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    fonts (id) {
        id -> Text,
        tenant_id -> Text,
        family -> Text,
        file_name -> Text,
        blob_key -> Text,
        size_bytes -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    exports (id) {
        id -> Text,
        tenant_id -> Text,
        document_id -> Nullable<Text>,
        kind -> Text,
        format -> Text,
        input_key -> Text,
        records -> BigInt,
        merge -> Bool,
        status -> Text,
        attempts -> Integer,
        error -> Nullable<Text>,
        result_files -> BigInt,
        result_bytes -> BigInt,
        pages -> BigInt,
        idempotency_key -> Nullable<Text>,
        lease_token -> Nullable<Text>,
        lease_until -> Nullable<BigInt>,
        webhook_pending -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        request_hash -> Nullable<Text>,
    }
}

diesel::table! {
    export_events (id) {
        id -> BigInt,
        export_id -> Text,
        status -> Text,
        at -> BigInt,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(api_keys -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    api_keys,
    documents,
    fonts,
    exports,
    export_events
);
