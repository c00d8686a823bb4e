-- AWS accounts an organization allows to create endpoints to the platform's services. The
-- endpoint services' allowed principals are the union over organizations; an accepted
-- endpoint's owner must be listed by its organization.
CREATE TABLE allowed_aws_accounts (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX allowed_aws_accounts_account ON allowed_aws_accounts (account_id);
