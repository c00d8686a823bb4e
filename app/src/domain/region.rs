//! The region catalog: where private networking is offered and which endpoint service names
//! a customer connects to there (SPEC §2). The data lives in a JSON file the server ships and
//! an operator may replace; this module holds its shape and its checks.

use serde::{Deserialize, Serialize};

use super::RegionId;

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
        let no_id = SAMPLE.replace("vpce-svc-1", "db-cell-1");
        let err = RegionCatalog::from_json(&no_id).unwrap_err();
        assert!(
            err.contains("com.amazonaws.vpce.us-east-2.db-cell-1") && err.contains("vpce-svc-"),
            "{err}"
        );
    }
}
