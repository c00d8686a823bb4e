//! The region catalog: where private networking is offered and which endpoint service names
//! a customer connects to there (SPEC §2). The data lives in a JSON file the server ships and
//! an operator may replace; this module holds its shape and its checks.

use serde::{Deserialize, Serialize};

use super::{Cloud, RegionId};

/// One region of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: RegionId,
    /// `aws`, `gcp` or `azure`.
    pub cloud: String,
    pub display_name: String,
    pub private_networking: bool,
    /// One endpoint service name per platform cell; a VPC needs one endpoint per name.
    pub service_names: Vec<String>,
    #[serde(default)]
    pub availability_zone_notes: Vec<String>,
}

impl Region {
    /// The region as the cloud names it (`us-east-2` for `aws-us-east-2`).
    pub fn cloud_region(&self) -> &str {
        self.id
            .as_str()
            .strip_prefix(&format!("{}-", self.cloud))
            .unwrap_or(self.id.as_str())
    }
}

/// Every region Enclave knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCatalog {
    pub regions: Vec<Region>,
}

impl RegionCatalog {
    /// Parses and checks a catalog document. Errors say which region is wrong and why, so an
    /// operator's override fails at start-up instead of at the first request.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let catalog: RegionCatalog = serde_json::from_str(json)
            .map_err(|e| format!("the region catalog is not valid: {e}"))?;
        if catalog.regions.is_empty() {
            return Err("the region catalog lists no regions".into());
        }
        let mut seen = std::collections::HashSet::new();
        for region in &catalog.regions {
            if !seen.insert(region.id.as_str()) {
                return Err(format!("region {} is listed twice", region.id));
            }
            let Some(cloud) = Cloud::parse(&region.cloud) else {
                return Err(format!(
                    "region {}: cloud {:?} is not one of aws, gcp, azure",
                    region.id, region.cloud
                ));
            };
            if !region
                .id
                .as_str()
                .starts_with(&format!("{}-", region.cloud))
            {
                return Err(format!(
                    "region {} must start with its cloud ({}-)",
                    region.id, region.cloud
                ));
            }
            if region.cloud == "aws" {
                // An AWS endpoint service name ends in the service's id (vpce-svc-…), which
                // the AWS provider uses for every call about the service.
                if let Some(bad) = region.service_names.iter().find(|name| {
                    let id = name.rsplit('.').next().unwrap_or_default();
                    !id.strip_prefix("vpce-svc-").is_some_and(|hex| {
                        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    })
                }) {
                    return Err(format!(
                        "region {}: service name {bad} does not end in an endpoint service id \
                         (vpce-svc-…); use the service name AWS shows for the endpoint service",
                        region.id
                    ));
                }
            }
            if let Some(bad) = region
                .service_names
                .iter()
                .find(|name| !service_name_fits(cloud, region.cloud_region(), name))
            {
                return Err(match cloud {
                    Cloud::Aws => unreachable!("checked above"),
                    Cloud::Gcp => format!(
                        "region {}: {bad} is not a service attachment URI of this region \
                         (projects/PROJECT/regions/{}/serviceAttachments/NAME)",
                        region.id,
                        region.cloud_region()
                    ),
                    Cloud::Azure => format!(
                        "region {}: {bad} is not a Private Link service alias \
                         (NAME.GUID.{}.azure.privatelinkservice)",
                        region.id,
                        region.cloud_region()
                    ),
                });
            }
            if region.private_networking && !(1..=3).contains(&region.service_names.len()) {
                return Err(format!(
                    "region {} offers private networking, so it needs one to three service names",
                    region.id
                ));
            }
        }
        Ok(catalog)
    }

    pub fn get(&self, id: &RegionId) -> Option<&Region> {
        self.regions.iter().find(|r| &r.id == id)
    }
}

/// Whether a catalog entry's service name has its cloud's shape: for Google Cloud a service
/// attachment URI in the region (what `--target-service-attachment` takes), for Azure a
/// Private Link service alias in the region (what `--manual-request` connects to). AWS names
/// are checked above, where their message is.
fn service_name_fits(cloud: Cloud, cloud_region: &str, name: &str) -> bool {
    let name_part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    match cloud {
        Cloud::Aws => true,
        Cloud::Gcp => {
            let parts: Vec<&str> = name.split('/').collect();
            matches!(
                parts.as_slice(),
                ["projects", project, "regions", region, "serviceAttachments", attachment]
                    if name_part(project) && *region == cloud_region && name_part(attachment)
            )
        }
        Cloud::Azure => {
            let Some(rest) = name.strip_suffix(".azure.privatelinkservice") else {
                return false;
            };
            let parts: Vec<&str> = rest.split('.').collect();
            matches!(
                parts.as_slice(),
                [prefix, guid, region]
                    if name_part(prefix)
                        && guid.len() == 36
                        && guid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                        && *region == cloud_region
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"regions":[{"id":"aws-us-east-2","cloud":"aws","display_name":"US East (Ohio)",
        "private_networking":true,"service_names":["com.amazonaws.vpce.us-east-2.vpce-svc-1"]}]}"#;

    #[test]
    fn a_catalog_is_checked_when_loaded() {
        let catalog = RegionCatalog::from_json(SAMPLE).unwrap();
        let region = catalog
            .get(&RegionId::parse("aws-us-east-2").unwrap())
            .unwrap();
        assert_eq!(region.cloud_region(), "us-east-2");
        assert!(catalog
            .get(&RegionId::parse("aws-us-west-1").unwrap())
            .is_none());

        let no_names = SAMPLE.replace(r#"["com.amazonaws.vpce.us-east-2.vpce-svc-1"]"#, "[]");
        assert!(RegionCatalog::from_json(&no_names)
            .unwrap_err()
            .contains("one to three"));
        let region = &SAMPLE[SAMPLE.find("[{").unwrap() + 1..SAMPLE.rfind("}]").unwrap() + 1];
        let twice = format!(r#"{{"regions":[{region},{region}]}}"#);
        assert!(RegionCatalog::from_json(&twice)
            .unwrap_err()
            .contains("listed twice"));
        let unknown_cloud = SAMPLE.replace(r#""cloud":"aws""#, r#""cloud":"oracle""#);
        assert!(RegionCatalog::from_json(&unknown_cloud)
            .unwrap_err()
            .contains("not one of aws, gcp, azure"));
        let no_id = SAMPLE.replace("vpce-svc-1", "db-cell-1");
        let err = RegionCatalog::from_json(&no_id).unwrap_err();
        assert!(
            err.contains("com.amazonaws.vpce.us-east-2.db-cell-1") && err.contains("vpce-svc-"),
            "{err}"
        );
    }

    #[test]
    fn gcp_and_azure_regions_carry_their_clouds_service_names() {
        let gcp = r#"{"regions":[{"id":"gcp-us-central1","cloud":"gcp","display_name":"Iowa",
            "private_networking":true,
            "service_names":["projects/enclave-prod/regions/us-central1/serviceAttachments/db-cell-1"]}]}"#;
        let catalog = RegionCatalog::from_json(gcp).unwrap();
        assert_eq!(catalog.regions[0].cloud_region(), "us-central1");
        let elsewhere = gcp.replace("regions/us-central1/", "regions/europe-west3/");
        let err = RegionCatalog::from_json(&elsewhere).unwrap_err();
        assert!(err.contains("service attachment URI"), "{err}");
        let bare = gcp.replace(
            "projects/enclave-prod/regions/us-central1/serviceAttachments/",
            "",
        );
        assert!(RegionCatalog::from_json(&bare).is_err());

        let azure = r#"{"regions":[{"id":"azure-eastus2","cloud":"azure","display_name":"East US 2",
            "private_networking":true,
            "service_names":["enclave-db.0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.eastus2.azure.privatelinkservice"]}]}"#;
        assert!(RegionCatalog::from_json(azure).is_ok());
        let elsewhere = azure.replace(".eastus2.", ".westeurope.");
        let err = RegionCatalog::from_json(&elsewhere).unwrap_err();
        assert!(err.contains("Private Link service alias"), "{err}");
        let resource_id = azure.replace(
            "enclave-db.0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.eastus2.azure.privatelinkservice",
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/db",
        );
        assert!(RegionCatalog::from_json(&resource_id).is_err());
    }
}
