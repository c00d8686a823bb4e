-- Accounts, API keys, private networking and the audit log.
-- New timestamps are BIGINT milliseconds since the Unix epoch, written by the application's
-- clock: the same type on both engines, comparable without format surprises, and
-- controllable in tests (trial expiry is evaluated against it).

ALTER TABLE organizations ADD COLUMN trial_ends_at BIGINT;
-- Bumped by every private-networking write so writers to one organization serialize (a row
-- lock on PostgreSQL, the write lock on SQLite); this is what makes the endpoint limit hold.
ALTER TABLE organizations ADD COLUMN write_version BIGINT NOT NULL DEFAULT 0;

ALTER TABLE projects ADD COLUMN block_public_connections_state TEXT NOT NULL DEFAULT 'applied'
    CHECK (block_public_connections_state IN ('applying', 'applied'));
ALTER TABLE projects ADD COLUMN block_vpc_connections_state TEXT NOT NULL DEFAULT 'applied'
    CHECK (block_vpc_connections_state IN ('applying', 'applied'));

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    password_hash  TEXT,
    is_operator    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships (user_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    -- SHA-256 of the whole key, hex. The key itself is never stored.
    token_hash    TEXT NOT NULL,
    -- The first characters, so a person can tell keys apart.
    token_prefix  TEXT NOT NULL,
    name          TEXT NOT NULL,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    org_id        TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    created_by    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT,
    CHECK ((user_id IS NULL AND org_id IS NOT NULL) OR (user_id IS NOT NULL AND org_id IS NULL))
);
CREATE UNIQUE INDEX api_keys_token_hash_key ON api_keys (token_hash);

-- The primary key makes an endpoint id belong to at most one organization.
CREATE TABLE vpc_endpoint_assignments (
    vpc_endpoint_id  TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    region_id        TEXT NOT NULL,
    label            TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('new', 'accepted', 'rejected')),
    state_reason     TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX vpc_endpoint_assignments_org_region ON vpc_endpoint_assignments (org_id, region_id);
CREATE INDEX vpc_endpoint_assignments_state ON vpc_endpoint_assignments (state);

-- Endpoints once removed from an organization; they may never be assigned to it again.
CREATE TABLE removed_vpc_endpoints (
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    vpc_endpoint_id  TEXT NOT NULL,
    region_id        TEXT NOT NULL,
    removed_at       BIGINT NOT NULL,
    PRIMARY KEY (org_id, vpc_endpoint_id)
);

CREATE TABLE project_vpc_endpoint_restrictions (
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    vpc_endpoint_id  TEXT NOT NULL REFERENCES vpc_endpoint_assignments (vpc_endpoint_id) ON DELETE RESTRICT,
    label            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (project_id, vpc_endpoint_id)
);
CREATE INDEX project_restrictions_endpoint ON project_vpc_endpoint_restrictions (vpc_endpoint_id);

CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    org_id       TEXT,
    project_id   TEXT,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before_value TEXT,
    after_value  TEXT,
    request_id   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
CREATE INDEX audit_log_project ON audit_log (project_id, id);
