ALTER TABLE exports DROP COLUMN request_hash;
