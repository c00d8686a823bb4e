-- The console's setup stepper remembers, per project, the step an admin was on and what they
-- typed about their AWS side (VPC, subnets, security group), so leaving and coming back
-- resumes where they were.
CREATE TABLE project_setup_progress (
    project_id         TEXT PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    step               BIGINT NOT NULL CHECK (step BETWEEN 1 AND 6),
    vpc_id             TEXT NOT NULL DEFAULT '',
    subnet_ids         TEXT NOT NULL DEFAULT '',
    security_group_id  TEXT NOT NULL DEFAULT '',
    updated_at         BIGINT NOT NULL,
    updated_by         TEXT NOT NULL
);
