-- Report-only blocking: while public connections are allowed, the proxy records each one
-- as "would be refused" so admins can watch real traffic before they block.
ALTER TABLE projects ADD COLUMN public_block_report_only BOOLEAN NOT NULL DEFAULT FALSE;
