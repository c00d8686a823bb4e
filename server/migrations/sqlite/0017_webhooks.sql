-- Webhooks: receivers an organization's admins register, with the events each wants and the
-- secret deliveries are signed with (Standard Webhooks; shown once, kept to sign).
CREATE TABLE webhooks (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url                TEXT NOT NULL,
    secret             TEXT NOT NULL,
    -- ",endpoint.accepted,trial.ended," : matched with LIKE '%,<type>,%'.
    events             TEXT NOT NULL,
    refusal_threshold  BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id);

-- The outbox: one row per event per receiver, written in the transaction of the change the
-- event reports (with its audit entry and feed event). `seq` is that feed version: a
-- receiver gets its deliveries in this order, one at a time.
CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY NOT NULL,
    webhook_id        TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    org_id            TEXT NOT NULL,
    seq               BIGINT NOT NULL,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT NOT NULL,
    last_status_code  INTEGER,
    last_error        TEXT NOT NULL DEFAULT '',
    finished_at       BIGINT
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_of_webhook ON webhook_deliveries (webhook_id, seq);

-- Every attempt, for the delivery log: the receiver's status code or why there was none.
CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           BIGINT NOT NULL,
    status_code  INTEGER,
    error        TEXT NOT NULL DEFAULT '',
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- The trial deadline notices (3 days before the end, at the end), each sent once.
ALTER TABLE trial_requests ADD COLUMN ending_notice_at BIGINT;
ALTER TABLE trial_requests ADD COLUMN ended_notice_at BIGINT;

-- Refused connections per project per hour (from the proxies' evidence), for the
-- refusals-above-threshold event; pruned with the evidence.
CREATE TABLE refusal_hours (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour        BIGINT NOT NULL,
    refused     BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour)
);

-- How far `settings.applied` has been announced: every project settings change at or below
-- this feed version has been acknowledged by all live proxies and reported. It starts at the
-- current head, so changes from before webhooks existed are not announced.
CREATE TABLE applied_watermark (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO applied_watermark (id, version) SELECT 1, version FROM change_feed_head WHERE id = 1;
