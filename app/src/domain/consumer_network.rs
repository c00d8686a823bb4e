//! The guided setup on Google Cloud (Private Service Connect) and Azure (Private Link): where
//! the admin's endpoint goes (a GCP project or Azure resource group, a network, a subnet) and
//! every way to create it, point DNS at it and find its id — gcloud / az commands, console
//! click-paths and Terraform, filled in. Pure functions shared by the server (which renders
//! and saves) and the browser (which fills commands in as the admin types). The AWS side is
//! in [`super::setup`].

use serde::{Deserialize, Serialize};

use super::{Cloud, FieldError};

/// Where a Google Cloud or Azure endpoint is created. Checked by [`ConsumerNetwork::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerNetwork {
    /// The GCP project id, or the Azure resource group.
    pub owner: String,
    /// The VPC network (GCP) or virtual network (Azure) the application runs in.
    pub network: String,
    /// The subnet the endpoint's address comes from.
    pub subnet: String,
}

/// How each field is named and shown, per cloud (for the form and its messages).
pub struct ConsumerField {
    /// The form field's name.
    pub name: &'static str,
    pub label: &'static str,
    pub placeholder: &'static str,
}

impl ConsumerNetwork {
    /// The three fields of step 2 in the order the form shows them.
    pub fn fields(cloud: Cloud) -> [ConsumerField; 3] {
        match cloud {
            Cloud::Gcp => [
                ConsumerField {
                    name: "network_owner",
                    label: "Google Cloud project id",
                    placeholder: "my-app-prod",
                },
                ConsumerField {
                    name: "network_name",
                    label: "VPC network name",
                    placeholder: "app-network",
                },
                ConsumerField {
                    name: "subnet_name",
                    label: "Subnet name (in the project's region)",
                    placeholder: "app-subnet",
                },
            ],
            _ => [
                ConsumerField {
                    name: "network_owner",
                    label: "Resource group",
                    placeholder: "app-rg",
                },
                ConsumerField {
                    name: "network_name",
                    label: "Virtual network name",
                    placeholder: "app-vnet",
                },
                ConsumerField {
                    name: "subnet_name",
                    label: "Subnet name",
                    placeholder: "app-subnet",
                },
            ],
        }
    }

    /// Placeholders shown in the commands until the form is filled in correctly.
    pub fn placeholder(cloud: Cloud) -> Self {
        match cloud {
            Cloud::Gcp => Self {
                owner: "<project-id>".into(),
                network: "<vpc-network>".into(),
                subnet: "<subnet>".into(),
            },
            _ => Self {
                owner: "<resource-group>".into(),
                network: "<virtual-network>".into(),
                subnet: "<subnet>".into(),
            },
        }
    }

    /// Parses the fields as typed for `cloud` (Google Cloud or Azure); each error names its
    /// field and says what to enter instead.
    pub fn parse(
        cloud: Cloud,
        owner: &str,
        network: &str,
        subnet: &str,
    ) -> Result<Self, FieldError> {
        let (owner, network, subnet) = (owner.trim(), network.trim(), subnet.trim());
        match cloud {
            Cloud::Gcp => Ok(Self {
                owner: gcp_project_id(owner)?,
                network: gcp_name("network_name", "VPC network", "networks", network)?,
                subnet: gcp_name("subnet_name", "subnet", "subnetworks", subnet)?,
            }),
            Cloud::Azure => Ok(Self {
                owner: azure_resource_group(owner)?,
                network: azure_name("network_name", "virtual network", 2, 64, network)?,
                subnet: azure_name("subnet_name", "subnet", 1, 80, subnet)?,
            }),
            Cloud::Aws => Err(FieldError::new(
                "network_name",
                "this project runs on AWS: enter the VPC, subnets and security group instead.",
            )),
        }
    }
}

/// A Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a
/// letter and not ending with a hyphen.
fn gcp_project_id(input: &str) -> Result<String, FieldError> {
    let field = "network_owner";
    if input.is_empty() {
        return Err(FieldError::new(
            field,
            "enter the id of the Google Cloud project your application's VPC network is in, e.g. my-app-prod.",
        ));
    }
    if input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            field,
            format!("{input} is a project number; enter the project id (letters, digits and hyphens, e.g. my-app-prod), shown beside it in the console."),
        ));
    }
    if let Some(rest) = input.strip_prefix("projects/") {
        let id = rest.split('/').next().unwrap_or_default();
        return Err(FieldError::new(
            field,
            format!("this is a resource path; enter only the project id ({id})."),
        ));
    }
    let ok = (6..=30).contains(&input.len())
        && input.starts_with(|c: char| c.is_ascii_lowercase())
        && !input.ends_with('-')
        && input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(FieldError::new(
            field,
            format!("{input} is not a project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter (a project's display name may differ from its id)."),
        ));
    }
    Ok(input.to_string())
}

/// A Google Cloud resource name (RFC 1035: 1 to 63 lowercase letters, digits and hyphens,
/// starting with a letter); a pasted path gets the name it ends with as a hint.
fn gcp_name(field: &str, what: &str, collection: &str, input: &str) -> Result<String, FieldError> {
    if input.is_empty() {
        return Err(FieldError::new(field, format!("enter the {what}'s name.")));
    }
    if input.contains('/') {
        let name = input.rsplit('/').next().unwrap_or_default();
        let wrong_kind = !input.contains(&format!("/{collection}/"));
        return Err(FieldError::new(
            field,
            if wrong_kind {
                format!("this is the path of another kind of resource; enter the {what}'s name.")
            } else {
                format!("this is the {what}'s path; enter only its name ({name}).")
            },
        ));
    }
    let ok = input.len() <= 63
        && input.starts_with(|c: char| c.is_ascii_lowercase())
        && !input.ends_with('-')
        && input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(FieldError::new(
            field,
            format!("{input} is not a {what} name: up to 63 lowercase letters, digits and hyphens, starting with a letter."),
        ));
    }
    Ok(input.to_string())
}

/// An Azure resource group: 1 to 90 letters, digits, underscores, hyphens, periods and
/// parentheses, not ending with a period.
fn azure_resource_group(input: &str) -> Result<String, FieldError> {
    let field = "network_owner";
    if input.is_empty() {
        return Err(FieldError::new(
            field,
            "enter the resource group your virtual network is in, e.g. app-rg.",
        ));
    }
    if input.starts_with("/subscriptions/") {
        let group = input
            .split('/')
            .skip_while(|p| !p.eq_ignore_ascii_case("resourceGroups"))
            .nth(1)
            .unwrap_or_default();
        return Err(FieldError::new(
            field,
            if group.is_empty() {
                "this is a resource id; enter only the resource group's name.".to_string()
            } else {
                format!("this is a resource id; enter only the resource group's name ({group}).")
            },
        ));
    }
    let ok = input.len() <= 90
        && !input.ends_with('.')
        && input
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if !ok {
        return Err(FieldError::new(
            field,
            format!("{input} is not a resource group name: up to 90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period."),
        ));
    }
    Ok(input.to_string())
}

/// An Azure virtual network or subnet name: letters, digits, underscores, periods and
/// hyphens, starting with a letter or digit and ending with a letter, digit or underscore.
fn azure_name(
    field: &str,
    what: &str,
    min: usize,
    max: usize,
    input: &str,
) -> Result<String, FieldError> {
    if input.is_empty() {
        return Err(FieldError::new(field, format!("enter the {what}'s name.")));
    }
    if input.starts_with("/subscriptions/") {
        let name = input.rsplit('/').next().unwrap_or_default();
        return Err(FieldError::new(
            field,
            format!("this is a resource id; enter only the {what}'s name ({name})."),
        ));
    }
    let ok = (min..=max).contains(&input.len())
        && input.starts_with(|c: char| c.is_ascii_alphanumeric())
        && input.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && input
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(FieldError::new(
            field,
            format!("{input} is not a {what} name: {min} to {max} letters, digits, underscores, periods and hyphens, starting with a letter or digit."),
        ));
    }
    Ok(input.to_string())
}

/// The name Enclave's commands give the n-th (1-based) endpoint and its address.
fn endpoint_name(cloud: Cloud, n: usize) -> String {
    match cloud {
        Cloud::Azure => format!("enclave-pe-{n}"),
        _ => format!("enclave-psc-{n}"),
    }
}

/// The Terraform resource suffix of the n-th endpoint.
fn tf_name(n: usize) -> String {
    format!("enclave_{n}")
}

/// Step 2 with gcloud: per service attachment, reserve an internal address, create the
/// forwarding rule that targets the attachment, and print its PSC connection id.
pub fn gcp_create_commands(
    region: &str,
    attachments: &[String],
    net: &ConsumerNetwork,
) -> Vec<String> {
    let project = &net.owner;
    attachments
        .iter()
        .enumerate()
        .map(|(i, attachment)| {
            let name = endpoint_name(Cloud::Gcp, i + 1);
            format!(
                "gcloud compute addresses create {name} \\\n  --project={project} --region={region} \\\n  --subnet={subnet}\n\n\
                 gcloud compute forwarding-rules create {name} \\\n  --project={project} --region={region} \\\n  --network={network} \\\n  --address={name} \\\n  --target-service-attachment={attachment}\n\n\
                 gcloud compute forwarding-rules describe {name} \\\n  --project={project} --region={region} \\\n  --format='value(pscConnectionId)'",
                subnet = net.subnet,
                network = net.network,
            )
        })
        .collect()
}

/// Step 2 in the Google Cloud console, click by click.
pub fn gcp_create_click_path(
    region: &str,
    attachments: &[String],
    net: &ConsumerNetwork,
) -> String {
    let mut lines = vec![
        format!(
            "1. Open Private Service Connect's connected endpoints: https://console.cloud.google.com/net-services/psc/list/consumers?project={}",
            net.owner
        ),
        "2. Choose \"Connect endpoint\".".to_string(),
        format!(
            "3. Target: \"Published service\"; target service: {}.",
            attachments
                .first()
                .map(String::as_str)
                .unwrap_or("<service attachment>")
        ),
        format!("4. Endpoint name: {}.", endpoint_name(Cloud::Gcp, 1)),
        format!(
            "5. Network: {}; subnetwork: {} (region {region}).",
            net.network, net.subnet
        ),
        format!(
            "6. IP address: \"Create IP address\", named {}.",
            endpoint_name(Cloud::Gcp, 1)
        ),
        "7. Choose \"Add endpoint\", open it and note its \"PSC connection ID\" (a number).".to_string(),
    ];
    if attachments.len() > 1 {
        lines.push(format!(
            "Repeat 2–7 for each other service attachment: {}.",
            attachments[1..].join(", ")
        ));
    }
    lines.join("\n")
}

/// Step 2 as Terraform: an internal address and a `google_compute_forwarding_rule` per
/// service attachment, with the connection id as an output.
pub fn gcp_create_terraform(region: &str, attachments: &[String], net: &ConsumerNetwork) -> String {
    let mut out = format!(
        "provider \"google\" {{\n  project = \"{}\"\n  region  = \"{region}\"\n}}\n",
        net.owner
    );
    for (i, attachment) in attachments.iter().enumerate() {
        let (name, tf) = (endpoint_name(Cloud::Gcp, i + 1), tf_name(i + 1));
        out.push_str(&format!(
            "\nresource \"google_compute_address\" \"{tf}\" {{\n  name         = \"{name}\"\n  region       = \"{region}\"\n  subnetwork   = \"{subnet}\"\n  address_type = \"INTERNAL\"\n}}\n\
             \nresource \"google_compute_forwarding_rule\" \"{tf}\" {{\n  name                  = \"{name}\"\n  region                = \"{region}\"\n  network               = \"{network}\"\n  ip_address            = google_compute_address.{tf}.id\n  target                = \"{attachment}\"\n  load_balancing_scheme = \"\"\n}}\n\
             \noutput \"{tf}_psc_connection_id\" {{\n  value = google_compute_forwarding_rule.{tf}.psc_connection_id\n}}\n",
            subnet = net.subnet,
            network = net.network,
        ));
    }
    out
}

/// Step 5 with gcloud: a Cloud DNS private zone for the project's host name, visible to the
/// network, answering with the first endpoint's address.
pub fn gcp_dns_commands(region: &str, hostname: &str, net: &ConsumerNetwork) -> String {
    let project = &net.owner;
    format!(
        "gcloud dns managed-zones create enclave-private \\\n  --project={project} \\\n  --dns-name={hostname}. \\\n  --visibility=private \\\n  --networks={network} \\\n  --description=\"Enclave private endpoint\"\n\n\
         gcloud dns record-sets create {hostname}. \\\n  --project={project} --zone=enclave-private \\\n  --type=A --ttl=300 \\\n  --rrdatas=\"$(gcloud compute addresses describe {address} --project={project} --region={region} --format='value(address)')\"",
        network = net.network,
        address = endpoint_name(Cloud::Gcp, 1),
    )
}

/// Step 5 in the Google Cloud console.
pub fn gcp_dns_click_path(hostname: &str, net: &ConsumerNetwork) -> String {
    [
        format!(
            "1. Open Cloud DNS: https://console.cloud.google.com/net-services/dns/zones?project={}",
            net.owner
        ),
        "2. Choose \"Create zone\": zone type \"Private\", zone name enclave-private.".to_string(),
        format!("3. DNS name: {hostname}; networks: {}; choose \"Create\".", net.network),
        format!(
            "4. In the zone choose \"Add standard\": type A, IPv4 address the internal address of {} (VPC network → IP addresses); choose \"Create\".",
            endpoint_name(Cloud::Gcp, 1)
        ),
    ]
    .join("\n")
}

/// Step 5 as Terraform: the private zone and its record, next to step 2's resources.
pub fn gcp_dns_terraform(hostname: &str, net: &ConsumerNetwork) -> String {
    format!(
        "resource \"google_dns_managed_zone\" \"enclave\" {{\n  name       = \"enclave-private\"\n  dns_name   = \"{hostname}.\"\n  visibility = \"private\"\n  private_visibility_config {{\n    networks {{\n      network_url = \"projects/{project}/global/networks/{network}\"\n    }}\n  }}\n}}\n\n\
         resource \"google_dns_record_set\" \"enclave\" {{\n  managed_zone = google_dns_managed_zone.enclave.name\n  name         = \"{hostname}.\"\n  type         = \"A\"\n  ttl          = 300\n  rrdatas      = [google_compute_address.{tf}.address]\n}}\n",
        project = net.owner,
        network = net.network,
        tf = tf_name(1),
    )
}

/// Step 2 with the Azure CLI: per Private Link service alias, a private endpoint connecting
/// by alias with a manual request (Enclave approves it once assigned), then its resource id.
pub fn azure_create_commands(
    location: &str,
    aliases: &[String],
    net: &ConsumerNetwork,
    org_id: &str,
) -> Vec<String> {
    aliases
        .iter()
        .enumerate()
        .map(|(i, alias)| {
            let name = endpoint_name(Cloud::Azure, i + 1);
            format!(
                "az network private-endpoint create \\\n  --name {name} \\\n  --resource-group {group} \\\n  --location {location} \\\n  --vnet-name {vnet} \\\n  --subnet {subnet} \\\n  --private-connection-resource-id {alias} \\\n  --connection-name {name} \\\n  --manual-request true \\\n  --request-message \"Enclave organization {org_id}\"\n\n\
                 az network private-endpoint show \\\n  --name {name} --resource-group {group} \\\n  --query id --output tsv",
                group = net.owner,
                vnet = net.network,
                subnet = net.subnet,
            )
        })
        .collect()
}

/// Step 2 in the Azure portal, click by click.
pub fn azure_create_click_path(
    location: &str,
    aliases: &[String],
    net: &ConsumerNetwork,
    org_id: &str,
) -> String {
    let mut lines = vec![
        "1. Open Private Link Center → Private endpoints: https://portal.azure.com/#view/Microsoft_Azure_Network/PrivateLinkCenterBlade/~/privateendpoints".to_string(),
        "2. Choose \"Create\".".to_string(),
        format!(
            "3. Basics: resource group {}, name {}, region {location}.",
            net.owner,
            endpoint_name(Cloud::Azure, 1)
        ),
        format!(
            "4. Resource: \"Connect to an Azure resource by resource ID or alias\"; resource ID or alias: {}; request message: Enclave organization {org_id}.",
            aliases.first().map(String::as_str).unwrap_or("<alias>")
        ),
        format!(
            "5. Virtual network: {}; subnet: {}.",
            net.network, net.subnet
        ),
        "6. DNS: leave \"Integrate with private DNS zone\" off (step 5 adds the zone).".to_string(),
        "7. Choose \"Review + create\", then \"Create\". The connection shows \"Pending\" until Enclave approves it.".to_string(),
    ];
    if aliases.len() > 1 {
        lines.push(format!(
            "Repeat 2–7 for each other alias: {}.",
            aliases[1..].join(", ")
        ));
    }
    lines.join("\n")
}

/// Step 2 as Terraform: one `azurerm_private_endpoint` per alias, connecting by alias with a
/// manual request.
pub fn azure_create_terraform(
    location: &str,
    aliases: &[String],
    net: &ConsumerNetwork,
    org_id: &str,
) -> String {
    let mut out = format!(
        "provider \"azurerm\" {{\n  features {{}}\n}}\n\n\
         data \"azurerm_subnet\" \"app\" {{\n  name                 = \"{subnet}\"\n  virtual_network_name = \"{vnet}\"\n  resource_group_name  = \"{group}\"\n}}\n",
        subnet = net.subnet,
        vnet = net.network,
        group = net.owner,
    );
    for (i, alias) in aliases.iter().enumerate() {
        let (name, tf) = (endpoint_name(Cloud::Azure, i + 1), tf_name(i + 1));
        out.push_str(&format!(
            "\nresource \"azurerm_private_endpoint\" \"{tf}\" {{\n  name                = \"{name}\"\n  location            = \"{location}\"\n  resource_group_name = \"{group}\"\n  subnet_id           = data.azurerm_subnet.app.id\n\n  private_service_connection {{\n    name                              = \"{name}\"\n    private_connection_resource_alias = \"{alias}\"\n    is_manual_connection              = true\n    request_message                   = \"Enclave organization {org_id}\"\n  }}\n}}\n",
            group = net.owner,
        ));
    }
    out
}

/// Step 5 with the Azure CLI: a private DNS zone for the project's host name, linked to the
/// virtual network, answering with the first endpoint's private address.
pub fn azure_dns_commands(hostname: &str, net: &ConsumerNetwork) -> String {
    let group = &net.owner;
    let name = endpoint_name(Cloud::Azure, 1);
    format!(
        "az network private-dns zone create \\\n  --resource-group {group} --name {hostname}\n\n\
         az network private-dns link vnet create \\\n  --resource-group {group} --zone-name {hostname} \\\n  --name enclave-link --virtual-network {vnet} \\\n  --registration-enabled false\n\n\
         az network private-dns record-set a add-record \\\n  --resource-group {group} --zone-name {hostname} \\\n  --record-set-name @ \\\n  --ipv4-address \"$(az network nic show --ids \"$(az network private-endpoint show --name {name} --resource-group {group} --query 'networkInterfaces[0].id' --output tsv)\" --query 'ipConfigurations[0].privateIPAddress' --output tsv)\"",
        vnet = net.network,
    )
}

/// Step 5 in the Azure portal.
pub fn azure_dns_click_path(hostname: &str, net: &ConsumerNetwork) -> String {
    [
        "1. Open Private DNS zones: https://portal.azure.com/#browse/Microsoft.Network/privateDnsZones".to_string(),
        format!(
            "2. Choose \"Create\": resource group {}, name {hostname}; \"Review + create\".",
            net.owner
        ),
        format!(
            "3. In the zone, \"Virtual Network Links\" → \"Add\": name enclave-link, virtual network {}, auto-registration off.",
            net.network
        ),
        format!(
            "4. \"Record sets\" → \"Add\": name @, type A, IP address the private address of {} (its network interface's overview).",
            endpoint_name(Cloud::Azure, 1)
        ),
    ]
    .join("\n")
}

/// Step 5 as Terraform: the zone, its link to the virtual network and the record.
pub fn azure_dns_terraform(hostname: &str, net: &ConsumerNetwork) -> String {
    format!(
        "resource \"azurerm_private_dns_zone\" \"enclave\" {{\n  name                = \"{hostname}\"\n  resource_group_name = \"{group}\"\n}}\n\n\
         data \"azurerm_virtual_network\" \"app\" {{\n  name                = \"{vnet}\"\n  resource_group_name = \"{group}\"\n}}\n\n\
         resource \"azurerm_private_dns_zone_virtual_network_link\" \"enclave\" {{\n  name                  = \"enclave-link\"\n  resource_group_name   = \"{group}\"\n  private_dns_zone_name = azurerm_private_dns_zone.enclave.name\n  virtual_network_id    = data.azurerm_virtual_network.app.id\n}}\n\n\
         resource \"azurerm_private_dns_a_record\" \"enclave\" {{\n  name                = \"@\"\n  zone_name           = azurerm_private_dns_zone.enclave.name\n  resource_group_name = \"{group}\"\n  ttl                 = 300\n  records             = [azurerm_private_endpoint.{tf}.private_service_connection[0].private_ip_address]\n}}\n",
        group = net.owner,
        vnet = net.network,
        tf = tf_name(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcp() -> ConsumerNetwork {
        ConsumerNetwork::parse(Cloud::Gcp, " my-app-prod ", "app-network", "app-subnet").unwrap()
    }

    fn azure() -> ConsumerNetwork {
        ConsumerNetwork::parse(Cloud::Azure, "app-rg", "app-vnet", "app_subnet").unwrap()
    }

    #[test]
    fn gcp_fields_parse_with_a_hint_per_mistake() {
        assert_eq!(gcp().owner, "my-app-prod");
        let err =
            |o: &str, n: &str, s: &str| ConsumerNetwork::parse(Cloud::Gcp, o, n, s).unwrap_err();
        let e = err("123456789012", "net", "sub");
        assert_eq!(e.field, "network_owner");
        assert!(e.message.contains("project number"), "{}", e.message);
        let e = err("projects/my-app-prod", "net", "sub");
        assert!(e.message.contains("only the project id (my-app-prod)"));
        let e = err("My App", "net", "sub");
        assert!(e.message.contains("not a project id"));
        let e = err(
            "my-app-prod",
            "projects/my-app-prod/global/networks/app-network",
            "sub",
        );
        assert_eq!(e.field, "network_name");
        assert!(
            e.message.contains("only its name (app-network)"),
            "{}",
            e.message
        );
        let e = err(
            "my-app-prod",
            "net",
            "projects/p/regions/r/subnetworks/app-subnet",
        );
        assert_eq!(e.field, "subnet_name");
        assert!(e.message.contains("(app-subnet)"));
        let e = err("my-app-prod", "net", "projects/p/global/networks/net");
        assert!(
            e.message.contains("another kind of resource"),
            "{}",
            e.message
        );
        let e = err("my-app-prod", "Net_1", "sub");
        assert!(e.message.contains("not a VPC network name"));
        let e = err("my-app-prod", "net", "");
        assert_eq!(e.field, "subnet_name");
    }

    #[test]
    fn azure_fields_parse_with_a_hint_per_mistake() {
        assert_eq!(azure().subnet, "app_subnet");
        let err =
            |o: &str, n: &str, s: &str| ConsumerNetwork::parse(Cloud::Azure, o, n, s).unwrap_err();
        let e = err(
            "/subscriptions/0000/resourceGroups/app-rg/providers/x",
            "v",
            "s",
        );
        assert_eq!(e.field, "network_owner");
        assert!(e.message.contains("(app-rg)"), "{}", e.message);
        let e = err("rg.", "vnet", "s");
        assert!(e.message.contains("not ending with a period"));
        let e = err("rg", "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/app-vnet", "s");
        assert_eq!(e.field, "network_name");
        assert!(e.message.contains("(app-vnet)"));
        let e = err("rg", "v", "s");
        assert!(
            e.message.contains("2 to 64"),
            "a virtual network name has two characters at least"
        );
        let e = err("rg", "vnet", "-sub");
        assert_eq!(e.field, "subnet_name");
        assert!(ConsumerNetwork::parse(Cloud::Aws, "a", "b", "c").is_err());
    }

    #[test]
    fn gcp_ways_are_filled_in() {
        let names = vec![
            "projects/enclave/regions/us-central1/serviceAttachments/a".to_string(),
            "projects/enclave/regions/us-central1/serviceAttachments/b".to_string(),
        ];
        let commands = gcp_create_commands("us-central1", &names, &gcp());
        assert_eq!(commands.len(), 2);
        assert!(commands[0].contains("gcloud compute addresses create enclave-psc-1"));
        assert!(commands[0].contains("--subnet=app-subnet"));
        assert!(commands[0].contains("forwarding-rules create enclave-psc-1"));
        assert!(commands[0].contains(
            "--target-service-attachment=projects/enclave/regions/us-central1/serviceAttachments/a"
        ));
        assert!(commands[0].contains("--network=app-network"));
        assert!(commands[0].contains("value(pscConnectionId)"));
        assert!(
            commands[1].contains("enclave-psc-2")
                && commands[1].ends_with("'value(pscConnectionId)'")
        );
        let clicks = gcp_create_click_path("us-central1", &names, &gcp());
        assert!(clicks.contains("project=my-app-prod") && clicks.contains("serviceAttachments/a"));
        assert!(clicks.contains("Repeat 2–7") && clicks.contains("serviceAttachments/b"));
        let tf = gcp_create_terraform("us-central1", &names, &gcp());
        assert_eq!(
            tf.matches("resource \"google_compute_forwarding_rule\"")
                .count(),
            2
        );
        assert!(tf.contains("psc_connection_id") && tf.contains("project = \"my-app-prod\""));
        let dns = gcp_dns_commands("us-central1", "ep-1.example.net", &gcp());
        assert!(
            dns.contains("--dns-name=ep-1.example.net.") && dns.contains("--networks=app-network")
        );
        assert!(dns.contains("record-sets create ep-1.example.net."));
        assert!(
            gcp_dns_click_path("ep-1.example.net", &gcp()).contains("DNS name: ep-1.example.net")
        );
        let tf = gcp_dns_terraform("ep-1.example.net", &gcp());
        assert!(tf.contains("projects/my-app-prod/global/networks/app-network"));
        assert!(tf.contains("google_compute_address.enclave_1.address"));
    }

    #[test]
    fn azure_ways_are_filled_in() {
        let aliases = vec!["svc.guid.eastus2.azure.privatelinkservice".to_string()];
        let commands = azure_create_commands("eastus2", &aliases, &azure(), "org-a-1");
        assert_eq!(commands.len(), 1);
        assert!(commands[0].contains("az network private-endpoint create"));
        assert!(commands[0].contains(
            "--private-connection-resource-id svc.guid.eastus2.azure.privatelinkservice"
        ));
        assert!(commands[0].contains("--manual-request true"));
        assert!(
            commands[0].contains("--vnet-name app-vnet")
                && commands[0].contains("--subnet app_subnet")
        );
        assert!(
            commands[0].contains("--resource-group app-rg")
                && commands[0].contains("--location eastus2")
        );
        let clicks = azure_create_click_path("eastus2", &aliases, &azure(), "org-a-1");
        assert!(clicks.contains("resource group app-rg") && clicks.contains("privatelinkservice"));
        let tf = azure_create_terraform("eastus2", &aliases, &azure(), "org-a-1");
        assert!(tf.contains("resource \"azurerm_private_endpoint\" \"enclave_1\""));
        assert!(tf.contains(
            "private_connection_resource_alias = \"svc.guid.eastus2.azure.privatelinkservice\""
        ));
        assert!(tf.contains("is_manual_connection              = true"));
        let dns = azure_dns_commands("ep-1.example.net", &azure());
        assert!(dns.contains("private-dns zone create") && dns.contains("--name ep-1.example.net"));
        assert!(dns.contains("link vnet create") && dns.contains("--virtual-network app-vnet"));
        assert!(dns.contains("--record-set-name @"));
        assert!(
            azure_dns_click_path("ep-1.example.net", &azure()).contains("virtual network app-vnet")
        );
        let tf = azure_dns_terraform("ep-1.example.net", &azure());
        assert!(tf.contains("azurerm_private_dns_zone_virtual_network_link"));
        assert!(tf.contains(
            "azurerm_private_endpoint.enclave_1.private_service_connection[0].private_ip_address"
        ));
    }
}
