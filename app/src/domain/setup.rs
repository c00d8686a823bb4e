//! The guided setup (SPEC §6): its six steps, the AWS resource ids an admin types while
//! following it, and the AWS CLI / verification commands it fills in. Pure functions, shared
//! by the server (which renders and saves) and the browser (which fills commands in as the
//! admin types).

use serde::{Deserialize, Serialize};

use super::FieldError;

/// The steps, in order. Each has its own address: `/projects/{id}/setup/{number}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupStep {
    RegionAndServiceNames,
    CreateEndpoint,
    AssignEndpoints,
    AwaitAcceptance,
    EnablePrivateDns,
    RestrictAndBlock,
}

impl SetupStep {
    pub const ALL: [SetupStep; 6] = [
        SetupStep::RegionAndServiceNames,
        SetupStep::CreateEndpoint,
        SetupStep::AssignEndpoints,
        SetupStep::AwaitAcceptance,
        SetupStep::EnablePrivateDns,
        SetupStep::RestrictAndBlock,
    ];

    /// 1 to 6.
    pub fn number(self) -> i64 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as i64 + 1
    }

    /// The step numbered `n` (1 to 6).
    pub fn from_number(n: i64) -> Option<Self> {
        usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The step a path segment names; anything else is not a step.
    pub fn parse(segment: &str) -> Option<Self> {
        segment.parse::<i64>().ok().and_then(Self::from_number)
    }

    pub fn title(self) -> &'static str {
        match self {
            SetupStep::RegionAndServiceNames => "Region and service names",
            SetupStep::CreateEndpoint => "Create the endpoint in AWS",
            SetupStep::AssignEndpoints => "Enter the endpoint ids",
            SetupStep::AwaitAcceptance => "Wait for acceptance",
            SetupStep::EnablePrivateDns => "Enable private DNS and verify",
            SetupStep::RestrictAndBlock => "Restrict and block (optional)",
        }
    }

    /// The title in a region of `cloud` (the steps that happen in the cloud name it).
    pub fn title_in(self, cloud: super::Cloud) -> &'static str {
        use super::Cloud;
        match (self, cloud) {
            (SetupStep::CreateEndpoint, Cloud::Gcp) => "Create the endpoint in Google Cloud",
            (SetupStep::CreateEndpoint, Cloud::Azure) => "Create the private endpoint in Azure",
            (SetupStep::EnablePrivateDns, Cloud::Gcp | Cloud::Azure) => {
                "Add the private DNS zone and verify"
            }
            (step, _) => step.title(),
        }
    }

    pub fn previous(self) -> Option<Self> {
        Self::from_number(self.number() - 1)
    }

    pub fn next(self) -> Option<Self> {
        Self::from_number(self.number() + 1)
    }
}

/// Checks an AWS id of the form `{prefix}-` followed by 8 or 17 hexadecimal digits.
fn aws_id(field: &str, what: &str, prefix: &str, input: &str) -> Result<String, FieldError> {
    let value = input.trim().to_ascii_lowercase();
    let example = format!("{prefix}-0a1b2c3d4e5f67890");
    let Some(hex) = value.strip_prefix(&format!("{prefix}-")) else {
        return Err(FieldError::new(
            field,
            format!("a {what} id starts with {prefix}-, e.g. {example}."),
        ));
    };
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || (hex.len() != 17 && hex.len() != 8) {
        return Err(FieldError::new(
            field,
            format!("{value} is not a {what} id: after {prefix}- come 17 (older ones 8) hexadecimal digits, e.g. {example}."),
        ));
    }
    Ok(value)
}

/// What the admin told the stepper about their AWS side. Every field is checked by
/// [`AwsDetails::parse`]; an empty security group means "the VPC's default".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsDetails {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_id: Option<String>,
}

impl AwsDetails {
    /// Parses the three fields as typed: subnets separated by spaces or commas.
    pub fn parse(
        vpc_id: &str,
        subnet_ids: &str,
        security_group_id: &str,
    ) -> Result<Self, FieldError> {
        if vpc_id.trim().to_ascii_lowercase().starts_with("vpce-") {
            return Err(FieldError::new(
                "vpc_id",
                "this is a VPC endpoint id; enter the id of the VPC your application runs in (vpc-…).",
            ));
        }
        let vpc_id = aws_id("vpc_id", "VPC", "vpc", vpc_id)?;
        let subnets: Vec<&str> = subnet_ids
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        if subnets.is_empty() {
            return Err(FieldError::new(
                "subnet_ids",
                "enter at least one subnet id (subnet-…), one per availability zone you use.",
            ));
        }
        let mut parsed = Vec::with_capacity(subnets.len());
        for subnet in subnets {
            let id = aws_id("subnet_ids", "subnet", "subnet", subnet)?;
            if !parsed.contains(&id) {
                parsed.push(id);
            }
        }
        let security_group_id = match security_group_id.trim() {
            "" => None,
            sg => Some(aws_id("security_group_id", "security group", "sg", sg)?),
        };
        Ok(Self {
            vpc_id,
            subnet_ids: parsed,
            security_group_id,
        })
    }
}

/// One `aws ec2 create-vpc-endpoint` command per service name. Private DNS stays off: it can
/// only be enabled once the endpoint is assigned and accepted (step 5).
pub fn create_endpoint_commands(
    aws_region: &str,
    service_names: &[String],
    details: &AwsDetails,
) -> Vec<String> {
    service_names
        .iter()
        .map(|service| {
            let mut command = format!(
                "aws ec2 create-vpc-endpoint --region {aws_region} \\\n  --vpc-id {} \\\n  --vpc-endpoint-type Interface \\\n  --service-name {service} \\\n  --subnet-ids {}",
                details.vpc_id,
                details.subnet_ids.join(" "),
            );
            if let Some(sg) = &details.security_group_id {
                command.push_str(&format!(" \\\n  --security-group-ids {sg}"));
            }
            command.push_str(" \\\n  --no-private-dns-enabled");
            command
        })
        .collect()
}

/// The inbound rule that lets the VPC reach Postgres (TCP 5432) through the endpoint's
/// network interfaces; `None` without a security group (the default group is used).
pub fn security_group_rule_command(aws_region: &str, details: &AwsDetails) -> Option<String> {
    details.security_group_id.as_ref().map(|sg| {
        format!(
            "aws ec2 authorize-security-group-ingress --region {aws_region} \\\n  --group-id {sg} \\\n  --protocol tcp --port 5432 \\\n  --cidr \"$(aws ec2 describe-vpcs --region {aws_region} --vpc-ids {} --query 'Vpcs[0].CidrBlock' --output text)\"",
            details.vpc_id
        )
    })
}

/// Turns on private DNS for an accepted endpoint, so the project's host name resolves to the
/// endpoint inside the VPC.
pub fn enable_private_dns_command(aws_region: &str, vpc_endpoint_id: &str) -> String {
    format!(
        "aws ec2 modify-vpc-endpoint --region {aws_region} \\\n  --vpc-endpoint-id {vpc_endpoint_id} \\\n  --private-dns-enabled"
    )
}

/// Run inside the VPC: the host name must resolve to private addresses (10.x, 172.16–31.x,
/// 192.168.x), not public ones.
pub fn nslookup_command(hostname: &str) -> String {
    format!("nslookup {hostname}")
}

/// A connection through the endpoint; the connection string itself does not change.
pub fn psql_command(hostname: &str) -> String {
    format!("psql \"postgresql://neondb_owner@{hostname}/neondb?sslmode=require\" -c 'select 1'")
}

/// The AWS console's address for a region's VPC endpoints.
fn endpoints_console(aws_region: &str) -> String {
    format!("https://{aws_region}.console.aws.amazon.com/vpcconsole/home?region={aws_region}#Endpoints:")
}

/// Step 2 in the AWS console, click by click, with the user's values.
pub fn create_endpoint_click_path(
    aws_region: &str,
    service_names: &[String],
    details: &AwsDetails,
) -> String {
    let sg = details
        .security_group_id
        .clone()
        .unwrap_or_else(|| "the VPC's default security group".into());
    let mut lines = vec![
        format!(
            "1. Open the VPC console's endpoints in {aws_region}: {}",
            endpoints_console(aws_region)
        ),
        "2. Choose \"Create endpoint\".".to_string(),
        "3. Type: \"Endpoint services that use NLBs and GWLBs\".".to_string(),
        format!(
            "4. Service name: {}; choose \"Verify service\".",
            service_names
                .first()
                .map(String::as_str)
                .unwrap_or("<service name>")
        ),
        format!(
            "5. VPC: {}. Leave \"Enable DNS name\" unticked (step 5 turns it on).",
            details.vpc_id
        ),
        format!(
            "6. Subnets: tick the availability zones of {}.",
            details.subnet_ids.join(", ")
        ),
        format!("7. Security groups: {sg}."),
        "8. Choose \"Create endpoint\" and note its id (vpce-…).".to_string(),
    ];
    if service_names.len() > 1 {
        lines.push(format!(
            "Repeat 2–8 for each other service name: {}.",
            service_names[1..].join(", ")
        ));
    }
    if let Some(sg) = &details.security_group_id {
        lines.push(format!(
            "Then Security groups → {sg} → \"Edit inbound rules\" → \"Add rule\": type PostgreSQL (TCP 5432), source the CIDR of {} → \"Save rules\".",
            details.vpc_id
        ));
    }
    lines.join("\n")
}

/// Step 2 as Terraform: one `aws_vpc_endpoint` per service name and the security-group rule
/// for Postgres, with the user's values.
pub fn create_endpoint_terraform(
    aws_region: &str,
    service_names: &[String],
    details: &AwsDetails,
) -> String {
    let quoted = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("provider \"aws\" {{\n  region = \"{aws_region}\"\n}}\n");
    for (i, service) in service_names.iter().enumerate() {
        out.push_str(&format!(
            "\nresource \"aws_vpc_endpoint\" \"enclave_{n}\" {{\n  vpc_id              = \"{vpc}\"\n  service_name        = \"{service}\"\n  vpc_endpoint_type   = \"Interface\"\n  subnet_ids          = [{subnets}]\n",
            n = i + 1,
            vpc = details.vpc_id,
            subnets = quoted(&details.subnet_ids),
        ));
        if let Some(sg) = &details.security_group_id {
            out.push_str(&format!("  security_group_ids  = [\"{sg}\"]\n"));
        }
        out.push_str("  # Step 5 sets this to true, once the endpoint is assigned and accepted.\n  private_dns_enabled = false\n}\n");
    }
    if let Some(sg) = &details.security_group_id {
        out.push_str(&format!(
            "\ndata \"aws_vpc\" \"app\" {{\n  id = \"{vpc}\"\n}}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"enclave_postgres\" {{\n  security_group_id = \"{sg}\"\n  cidr_ipv4         = data.aws_vpc.app.cidr_block\n  ip_protocol       = \"tcp\"\n  from_port         = 5432\n  to_port           = 5432\n}}\n",
            vpc = details.vpc_id
        ));
    }
    out
}

/// Step 5 in the AWS console, for one accepted endpoint.
pub fn private_dns_click_path(aws_region: &str, vpc_endpoint_id: &str) -> String {
    [
        format!(
            "1. Open the VPC console's endpoints in {aws_region}: {}",
            endpoints_console(aws_region)
        ),
        format!("2. Select {vpc_endpoint_id}."),
        "3. Actions → \"Modify private DNS name\".".to_string(),
        "4. Tick \"Enable private DNS names\" and choose \"Save changes\".".to_string(),
    ]
    .join("\n")
}

/// Step 5 as Terraform: the endpoints of step 2 with private DNS on.
pub fn private_dns_terraform(vpc_endpoint_ids: &[String]) -> String {
    format!(
        "# In each aws_vpc_endpoint of step 2 (now {}), set\n  private_dns_enabled = true\n# then run: terraform apply",
        vpc_endpoint_ids.join(", ")
    )
}

/// How automation reaches this console's REST API (Neon API v2 compatible), for the
/// snippets: `base` is this console's address, e.g. `https://enclave.example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Automation<'a> {
    pub base: &'a str,
}

impl Automation<'_> {
    fn neonctl(&self, args: &str) -> String {
        format!(
            "export NEON_API_KEY=<your Enclave API key>\nneonctl --api-host {}/api/v2 {args}",
            self.base
        )
    }

    fn curl(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let mut out = format!(
            "curl -X {method} \"{}/api/v2{path}\" \\\n  -H \"Authorization: Bearer $ENCLAVE_API_KEY\"",
            self.base
        );
        if let Some(body) = body {
            out.push_str(&format!(
                " \\\n  -H \"Content-Type: application/json\" \\\n  -d '{body}'"
            ));
        }
        out
    }

    /// Step 3: assign an endpoint to the organization in the region.
    pub fn assign(&self, org_id: &str, region_id: &str, vpc_endpoint_id: &str) -> (String, String) {
        (
            self.neonctl(&format!(
                "vpc endpoint assign {vpc_endpoint_id} --org-id {org_id} --region-id {region_id}"
            )),
            self.curl(
                "POST",
                &format!("/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}"),
                Some(r#"{"label": ""}"#),
            ),
        )
    }

    /// Step 6: allow only this endpoint (and others restricted the same way) to reach the
    /// project.
    pub fn restrict(&self, project_id: &str, vpc_endpoint_id: &str) -> (String, String) {
        (
            self.neonctl(&format!(
                "vpc project restrict {vpc_endpoint_id} --project-id {project_id}"
            )),
            self.curl(
                "POST",
                &format!("/projects/{project_id}/vpc_endpoints/{vpc_endpoint_id}"),
                Some(r#"{"label": ""}"#),
            ),
        )
    }

    /// Step 6: block connections from the public internet.
    pub fn block_public(&self, project_id: &str) -> (String, String) {
        (
            self.neonctl(&format!(
                "projects update {project_id} --block-public-connections true"
            )),
            self.curl(
                "PATCH",
                &format!("/projects/{project_id}"),
                Some(r#"{"project": {"settings": {"block_public_connections": true}}}"#),
            ),
        )
    }
}

/// Everything a setup step page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupPageView {
    pub page: super::ProjectPageView,
    /// The project's cloud (from its region): which commands and fields the steps show.
    pub cloud: super::Cloud,
    /// The region as its cloud names it (`us-east-2`, `us-central1`, `eastus2`).
    pub cloud_region: String,
    /// The step saved for the project (where "Resume" leads).
    pub saved_step: i64,
    /// What was typed in step 2, as saved.
    pub vpc_id: String,
    pub subnet_ids: String,
    pub security_group_id: String,
    /// What was typed in step 2 on Google Cloud or Azure, as saved.
    #[serde(default)]
    pub consumer_network: super::ConsumerNetwork,
    /// This console's address as the browser reached it (for the automation snippets).
    #[serde(default)]
    pub api_base: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_number_one_to_six_and_link_up() {
        assert_eq!(
            SetupStep::parse("1"),
            Some(SetupStep::RegionAndServiceNames)
        );
        assert_eq!(SetupStep::parse("6"), Some(SetupStep::RestrictAndBlock));
        assert_eq!(SetupStep::parse("0"), None);
        assert_eq!(SetupStep::parse("7"), None);
        assert_eq!(SetupStep::parse("two"), None);
        assert_eq!(
            SetupStep::CreateEndpoint.previous(),
            Some(SetupStep::RegionAndServiceNames)
        );
        assert_eq!(SetupStep::RestrictAndBlock.next(), None);
        for step in SetupStep::ALL {
            assert_eq!(SetupStep::from_number(step.number()), Some(step));
        }
    }

    #[test]
    fn aws_details_parse_and_name_the_field_in_error() {
        let details = AwsDetails::parse(
            " VPC-0123456789abcdef0 ",
            "subnet-0123456789abcdef0, subnet-0123456789abcdef1 subnet-0123456789abcdef0",
            "",
        )
        .unwrap();
        assert_eq!(details.vpc_id, "vpc-0123456789abcdef0");
        assert_eq!(details.subnet_ids.len(), 2, "duplicates are dropped");
        assert_eq!(details.security_group_id, None);

        let err = AwsDetails::parse("vpce-0123456789abcdef0", "subnet-12345678", "").unwrap_err();
        assert_eq!(err.field, "vpc_id");
        assert!(err.message.contains("VPC endpoint id"));
        let err = AwsDetails::parse("vpc-12345678", "", "").unwrap_err();
        assert_eq!(err.field, "subnet_ids");
        let err = AwsDetails::parse("vpc-12345678", "subnet-xyz", "").unwrap_err();
        assert_eq!(err.field, "subnet_ids");
        assert!(err.message.contains("subnet-xyz"));
        let err = AwsDetails::parse("vpc-12345678", "subnet-12345678", "sg-1").unwrap_err();
        assert_eq!(err.field, "security_group_id");
    }

    #[test]
    fn commands_are_filled_in_one_per_service_name() {
        let details = AwsDetails::parse(
            "vpc-12345678",
            "subnet-12345678 subnet-87654321",
            "sg-12345678",
        )
        .unwrap();
        let names = vec!["svc.a".to_string(), "svc.b".to_string()];
        let commands = create_endpoint_commands("us-east-2", &names, &details);
        assert_eq!(commands.len(), 2);
        assert!(commands[0].contains("--service-name svc.a"));
        assert!(commands[1].contains("--service-name svc.b"));
        assert!(commands[0].contains("--subnet-ids subnet-12345678 subnet-87654321"));
        assert!(commands[0].contains("--security-group-ids sg-12345678"));
        assert!(commands[0].contains("--no-private-dns-enabled"));
        let rule = security_group_rule_command("us-east-2", &details).unwrap();
        assert!(rule.contains("--port 5432") && rule.contains("--vpc-ids vpc-12345678"));
        let no_sg = AwsDetails::parse("vpc-12345678", "subnet-12345678", "").unwrap();
        assert!(security_group_rule_command("us-east-2", &no_sg).is_none());
        assert!(
            !create_endpoint_commands("us-east-2", &names, &no_sg)[0].contains("security-group")
        );
        assert!(enable_private_dns_command("us-east-2", "vpce-12345678")
            .contains("--private-dns-enabled"));
        assert_eq!(nslookup_command("h.example"), "nslookup h.example");
        let clicks = create_endpoint_click_path("us-east-2", &names, &details);
        assert!(clicks.contains("region=us-east-2") && clicks.contains("Service name: svc.a"));
        assert!(clicks.contains("svc.b") && clicks.contains("sg-12345678"));
        let tf = create_endpoint_terraform("us-east-2", &names, &details);
        assert_eq!(tf.matches("resource \"aws_vpc_endpoint\"").count(), 2);
        assert!(tf.contains(r#"subnet_ids          = ["subnet-12345678", "subnet-87654321"]"#));
        assert!(tf.contains("aws_vpc_security_group_ingress_rule") && tf.contains("5432"));
        assert!(!create_endpoint_terraform("us-east-2", &names, &no_sg).contains("ingress"));
        assert!(private_dns_click_path("us-east-2", "vpce-1").contains("Select vpce-1."));
        let auto = Automation {
            base: "https://enclave.test",
        };
        let (neonctl, curl) = auto.assign("org-a-1", "aws-us-east-2", "vpce-1");
        assert!(neonctl.contains("--api-host https://enclave.test/api/v2 vpc endpoint assign vpce-1 --org-id org-a-1 --region-id aws-us-east-2"));
        assert!(curl.contains("POST \"https://enclave.test/api/v2/organizations/org-a-1/vpc/region/aws-us-east-2/vpc_endpoints/vpce-1\""));
        let (_, curl) = auto.block_public("p-1");
        assert!(curl.contains("PATCH") && curl.contains("block_public_connections\": true"));
        assert!(psql_command("h.example").contains("@h.example/"));
    }
}
