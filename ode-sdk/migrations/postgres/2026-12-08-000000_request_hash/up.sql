-- What an export's request was, to refuse an Idempotency-Key reused with another body.
ALTER TABLE exports ADD COLUMN request_hash TEXT;
