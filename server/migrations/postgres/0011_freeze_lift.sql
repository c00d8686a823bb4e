-- Without the private-networking entitlement (an ended trial, a downgraded plan) an
-- organization may only tighten. An operator can lift that freeze until a moment (audited).
ALTER TABLE organizations ADD COLUMN freeze_lifted_until BIGINT;
