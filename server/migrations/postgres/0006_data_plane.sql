-- The data-plane proxy: where each project's Postgres listens (set by operators), and the
-- connections the proxy refused, so a project's page can show them.
CREATE TABLE project_upstreams (
    project_id  TEXT PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE denied_connections (
    id BIGSERIAL PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    vpc_endpoint_id  TEXT,
    reason           TEXT NOT NULL,
    message          TEXT NOT NULL,
    client_addr      TEXT NOT NULL,
    at               BIGINT NOT NULL
);
CREATE INDEX denied_connections_project ON denied_connections (project_id, at);
