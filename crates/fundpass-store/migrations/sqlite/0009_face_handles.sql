-- fundpass face verification handles, SQLite. Keep in step with
-- migrations/postgres/0009_face_handles.sql.
--
-- A face login through a query-by-token provider keeps the provider's handle in the
-- flow's nonce column as '<provider>:<handle>'. One handle is one check, so it may be
-- bound to one flow only: a provider answering a handle twice is refused at insert.
-- Signed-result nonces are random and unique anyway; other flows have none (NULL,
-- which a unique index lets repeat).
CREATE UNIQUE INDEX flows_nonce_key ON flows (nonce);
