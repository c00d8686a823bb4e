-- On Google Cloud and Azure the stepper's step 2 asks where the endpoint goes: the GCP
-- project or Azure resource group, the network and the subnet (the AWS columns stay AWS's).
ALTER TABLE project_setup_progress ADD COLUMN network_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE project_setup_progress ADD COLUMN network_name TEXT NOT NULL DEFAULT '';
ALTER TABLE project_setup_progress ADD COLUMN subnet_name TEXT NOT NULL DEFAULT '';
