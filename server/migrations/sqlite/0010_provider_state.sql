-- What the cloud provider work needs to keep between passes and across instances.
-- Assignments still `new`: when to ask the provider again (backoff while AWS has no
-- connection request yet) and how many times it has been asked.
ALTER TABLE vpc_endpoint_assignments ADD COLUMN next_review_at BIGINT;
ALTER TABLE vpc_endpoint_assignments ADD COLUMN review_attempts INTEGER NOT NULL DEFAULT 0;
-- Removed endpoints: when the provider disconnected them (NULL: still to do).
ALTER TABLE removed_vpc_endpoints ADD COLUMN disconnected_at BIGINT;
-- Provider health for operators: one row per failing (call, region), cleared on success.
CREATE TABLE provider_problems (
    call        TEXT NOT NULL,
    region      TEXT NOT NULL,
    message     TEXT NOT NULL,
    since       BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (call, region)
);
-- Connection requests on the platform's endpoint services that no organization assigned;
-- never accepted, listed for operators. Bounded by the reconciler.
CREATE TABLE unassigned_connection_requests (
    vpc_endpoint_id  TEXT PRIMARY KEY,
    region_id        TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    owner_account    TEXT NOT NULL,
    state            TEXT NOT NULL,
    first_seen       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL
);
