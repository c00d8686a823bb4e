-- What the provider learned when it accepted an endpoint: which of the region's endpoint
-- service names it connected to, and the AWS account that owns it.
ALTER TABLE vpc_endpoint_assignments ADD COLUMN service_name TEXT;
ALTER TABLE vpc_endpoint_assignments ADD COLUMN owner_account TEXT;
