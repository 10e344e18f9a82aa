-- Accounts. Usernames are ASCII (see chat.ValidateUsername), so NOCASE
-- gives case-insensitive uniqueness.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT    NOT NULL DEFAULT '',
	password_hash BLOB,
	github_id     INTEGER UNIQUE,
	login_count   INTEGER NOT NULL DEFAULT 0,
	last_login_at TEXT,
	created_at    TEXT    NOT NULL
);

-- Server-side sessions. id is the SHA-256 of the cookie's secret token.
CREATE TABLE sessions (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT    NOT NULL,
	expires_at TEXT    NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Chat messages, in the order they were accepted.
CREATE TABLE messages (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	text       TEXT    NOT NULL CHECK (text <> ''),
	created_at TEXT    NOT NULL
);
CREATE INDEX messages_user_id ON messages (user_id);
