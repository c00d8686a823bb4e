-- The change feed: one versioned event per committed change, written in the same transaction
-- as the change (by the audit writer). Versions come from a single counter row: a writer
-- holds its row lock until commit, so versions become visible in order and a consumer that
-- has seen version V has seen everything before it.
CREATE TABLE change_feed_head (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO change_feed_head (id, version) VALUES (1, 0);

CREATE TABLE change_events (
    version     BIGINT PRIMARY KEY NOT NULL,
    org_id      TEXT,
    project_id  TEXT,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX change_events_project ON change_events (project_id, version);
CREATE INDEX change_events_at ON change_events (at);

-- Live data-plane proxies: the last feed version each one applied, from its heartbeats.
CREATE TABLE data_plane_proxies (
    proxy_id      TEXT PRIMARY KEY NOT NULL,
    version       BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    counters      TEXT NOT NULL DEFAULT '{}'
);

-- The Postgres host label a client names (the first label of the host name), unique and
-- looked up by equality.
ALTER TABLE projects ADD COLUMN endpoint_label TEXT;
UPDATE projects SET endpoint_label = split_part(hostname, '.', 1);
CREATE UNIQUE INDEX projects_endpoint_label ON projects (endpoint_label);

-- The project's connection pooler, reached through the `-pooler` form of its host name.
ALTER TABLE project_upstreams ADD COLUMN pooler_address TEXT;

-- Connections the proxies saw, aggregated per project, endpoint ('' for the public
-- internet), reason and client network; bounded per project and pruned by age.
CREATE TABLE connection_evidence (
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    vpc_endpoint_id  TEXT NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused')),
    reason           TEXT NOT NULL,
    client_network   TEXT NOT NULL,
    count            BIGINT NOT NULL,
    first_seen       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    PRIMARY KEY (project_id, vpc_endpoint_id, reason, client_network)
);
CREATE INDEX connection_evidence_last_seen ON connection_evidence (last_seen);
