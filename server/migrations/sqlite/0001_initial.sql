-- Organizations and their projects: the tenancy every other table hangs off.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL CHECK (plan IN ('free', 'launch', 'scale', 'business', 'enterprise')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE projects (
    id                        TEXT PRIMARY KEY NOT NULL,
    org_id                    TEXT NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    name                      TEXT NOT NULL,
    region_id                 TEXT NOT NULL,
    hostname                  TEXT NOT NULL UNIQUE,
    block_public_connections  BOOLEAN NOT NULL DEFAULT FALSE,
    block_vpc_connections     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX projects_org_id ON projects (org_id);
