DROP TABLE export_events;
DROP TABLE exports;
DROP TABLE fonts;
DROP TABLE documents;
DROP TABLE api_keys;
DROP TABLE tenants;
