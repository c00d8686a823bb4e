-- Background work (the reconciler) runs on one instance at a time: the one holding this
-- lease, renewed on every pass; another instance takes over once it expires.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
