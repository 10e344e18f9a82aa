-- Server secrets that must survive restarts (the CSRF signing key), created
-- on first use.
CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	created_at TEXT NOT NULL
);
