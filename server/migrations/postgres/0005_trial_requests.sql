-- Trial requests (SPEC §5): an admin of an organization whose plan lacks private networking
-- asks for a trial; an operator approves it (setting organizations.trial_ends_at) or declines
-- it with a reason. "Expired" is not stored: it is an approved request whose end has passed,
-- judged by the clock on every read.
CREATE TABLE trial_requests (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    use_case            TEXT NOT NULL,
    regions             TEXT NOT NULL DEFAULT '',
    expected_endpoints  BIGINT NOT NULL DEFAULT 0,
    requested_by        TEXT NOT NULL,
    requested_at        BIGINT NOT NULL,
    reviewed_by         TEXT,
    reviewed_at         BIGINT,
    decline_reason      TEXT,
    trial_ends_at       BIGINT
);
CREATE INDEX trial_requests_org ON trial_requests (org_id, requested_at);
-- One open request per organization, whatever races.
CREATE UNIQUE INDEX trial_requests_one_pending ON trial_requests (org_id) WHERE status = 'pending';
