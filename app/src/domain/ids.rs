//! Identifiers and labels, parsed once at the edge (parse, don't validate). The browser uses
//! the same parsers to check input as the user types; the server uses them on every request.
//!
//! Every error names the field, what is wrong and what to do about it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that failed to parse: which field, and a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The same problem, named after the form field it came from.
    pub fn with_field(self, field: &str) -> Self {
        Self::new(field, self.message)
    }
}

/// `^[a-z0-9-]{1,max}$`, the shape SPEC §1 accepts for organization and project ids.
fn is_slug(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, FieldError> {
                let value = input.trim();
                if value.is_empty() {
                    return Err(FieldError::new($field, concat!("is required, e.g. ", $example, ".")));
                }
                if !is_slug(value, 60) {
                    return Err(FieldError::new(
                        $field,
                        concat!(
                            "may contain only lower-case letters, digits and hyphens (at most 60), e.g. ",
                            $example,
                            "."
                        ),
                    ));
                }
                Ok(Self(value.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

slug_id!(
    /// An organization id such as `org-bold-bonus-12345678`.
    OrgId,
    "org_id",
    "org-bold-bonus-12345678"
);
slug_id!(
    /// A project id such as `orange-credit-12345678`.
    ProjectId,
    "project_id",
    "orange-credit-12345678"
);

/// A region id such as `aws-us-east-2`: `<cloud>-<cloud region>`. Whether the region exists
/// is a question for the region catalog.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionId(String);

impl RegionId {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim().to_ascii_lowercase();
        let cloud_ok = ["aws-", "gcp-", "azure-"]
            .iter()
            .any(|p| value.starts_with(p) && value.len() > p.len());
        if !cloud_ok || !is_slug(&value, 40) {
            return Err(FieldError::new(
                "region_id",
                "must be a cloud and region such as aws-us-east-2.",
            ));
        }
        Ok(Self(value))
    }

    /// The cloud the id names (`gcp` for `gcp-us-central1`).
    pub fn cloud(&self) -> Cloud {
        match self.0.split('-').next() {
            Some("gcp") => Cloud::Gcp,
            Some("azure") => Cloud::Azure,
            _ => Cloud::Aws,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionId {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RegionId> for String {
    fn from(value: RegionId) -> String {
        value.0
    }
}

/// A private endpoint, in whichever cloud it lives (the field keeps Neon's name):
/// - AWS: the VPC endpoint id, `vpce-` and 17 (or, for older endpoints, 8) hexadecimal digits;
/// - Google Cloud: the Private Service Connect connection id, an unsigned 64-bit number, kept
///   as `psc-<number>`;
/// - Azure: the private endpoint's Private Link LinkID, an unsigned 32-bit number, kept as
///   `linkid-<number>`.
///
/// The prefixes keep the clouds apart (a GCP connection id and an Azure LinkID can be the same
/// number) and are what the proxy derives from each cloud's PROXY protocol TLV. Input is
/// trimmed and lower-cased; people may type the bare number where the cloud is known.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VpcEndpointId(String);

impl VpcEndpointId {
    pub const FIELD: &'static str = "vpc_endpoint_id";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim().to_ascii_lowercase();
        if value.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                "is required: enter the VPC endpoint id shown in AWS, e.g. vpce-1234567890abcdef0.",
            ));
        }
        if value.starts_with("vpc-") {
            return Err(FieldError::new(
                Self::FIELD,
                "this is a VPC id; enter the VPC endpoint id (vpce-…) from VPC › Endpoints in AWS.",
            ));
        }
        let Some(hex) = value.strip_prefix("vpce-") else {
            return Err(FieldError::new(
                Self::FIELD,
                "must start with vpce-, e.g. vpce-1234567890abcdef0.",
            ));
        };
        if hex.starts_with("svc-") {
            return Err(FieldError::new(
                Self::FIELD,
                "this is an endpoint service name; enter the id of the endpoint you created (vpce-…).",
            ));
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FieldError::new(
                Self::FIELD,
                "after vpce- only hexadecimal digits (0-9, a-f) are allowed.",
            ));
        }
        if hex.len() != 17 && hex.len() != 8 {
            return Err(FieldError::new(
                Self::FIELD,
                format!(
                    "has {} hexadecimal digits after vpce-; AWS endpoint ids have 17 (older ones 8).",
                    hex.len()
                ),
            ));
        }
        Ok(Self(value))
    }

    /// The identifier of a private endpoint in a region of `cloud` (`aws`, `gcp`, `azure`),
    /// with hints for what people paste by mistake in that cloud.
    pub fn parse_in(cloud: Cloud, input: &str) -> Result<Self, FieldError> {
        match cloud {
            Cloud::Aws => {
                let value = input.trim().to_ascii_lowercase();
                if value.starts_with(PSC_PREFIX) || value.starts_with(LINK_ID_PREFIX) {
                    return Err(FieldError::new(
                        Self::FIELD,
                        "this identifies a Google Cloud or Azure endpoint, but the region is an \
                         AWS region; enter the VPC endpoint id (vpce-…) from VPC › Endpoints.",
                    ));
                }
                Self::parse(input)
            }
            Cloud::Gcp => Self::parse_gcp(input),
            Cloud::Azure => Self::parse_azure(input),
        }
    }

    /// Any cloud's stored form (`vpce-…`, `psc-<n>`, `linkid-<n>`): what the data plane and
    /// stored rows carry, where the cloud is not known beforehand.
    pub fn parse_any(input: &str) -> Result<Self, FieldError> {
        let value = input.trim().to_ascii_lowercase();
        if value.starts_with(PSC_PREFIX) {
            Self::parse_gcp(&value)
        } else if value.starts_with(LINK_ID_PREFIX) {
            Self::parse_azure(&value)
        } else if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            Err(FieldError::new(
                Self::FIELD,
                format!(
                    "a bare number could be a Google Cloud or an Azure endpoint; write \
                     {PSC_PREFIX}{value} for a PSC connection id or {LINK_ID_PREFIX}{value} for an \
                     Azure LinkID."
                ),
            ))
        } else {
            Self::parse(&value)
        }
    }

    fn parse_gcp(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        let lower = value.to_ascii_lowercase();
        let hint = |message: &str| Err(FieldError::new(Self::FIELD, message));
        if value.is_empty() {
            return hint(
                "is required: enter your endpoint's PSC connection id, a number: gcloud compute \
                 forwarding-rules describe RULE --region REGION --format='value(pscConnectionId)'.",
            );
        }
        if lower.contains("/serviceattachments/") {
            return hint(
                "this is the service attachment you connect to; enter the PSC connection id of \
                 the endpoint (forwarding rule) you created for it, a number.",
            );
        }
        if lower.contains("forwardingrules/") {
            return hint(
                "this is a forwarding rule's path; enter its PSC connection id, a number: gcloud \
                 compute forwarding-rules describe RULE --region REGION \
                 --format='value(pscConnectionId)'.",
            );
        }
        if lower.starts_with("vpce-") {
            return hint(
                "this is an AWS VPC endpoint id, but the region is a Google Cloud region; enter \
                 the PSC connection id of your endpoint, a number.",
            );
        }
        let digits = lower.strip_prefix(PSC_PREFIX).unwrap_or(&lower);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            let looks_like_a_name = lower.starts_with(|c: char| c.is_ascii_lowercase())
                && lower
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            return hint(if looks_like_a_name {
                "this looks like a forwarding rule's name; enter its PSC connection id, a number: \
                 gcloud compute forwarding-rules describe RULE --region REGION \
                 --format='value(pscConnectionId)'."
            } else {
                "must be a PSC connection id: digits only, e.g. 12345678901234567."
            });
        }
        match digits.parse::<u64>() {
            Ok(id) => Ok(Self(format!("{PSC_PREFIX}{id}"))),
            Err(_) => hint(
                "is larger than a PSC connection id can be (an unsigned 64-bit number, at most \
                 18446744073709551615); check that you copied pscConnectionId.",
            ),
        }
    }

    fn parse_azure(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        let lower = value.to_ascii_lowercase();
        let hint = |message: String| Err(FieldError::new(Self::FIELD, message));
        if value.is_empty() {
            return hint(
                "is required: enter your private endpoint's LinkID, a number shown with its \
                 connection to the Enclave Private Link service."
                    .into(),
            );
        }
        if lower.starts_with("/subscriptions/") {
            let kind = lower
                .split("/providers/")
                .nth(1)
                .and_then(|rest| {
                    let mut parts = rest.split('/');
                    let namespace = parts.next()?;
                    let kind = parts.next()?;
                    Some(format!("{namespace}/{kind}"))
                })
                .unwrap_or_default();
            return hint(if kind == "microsoft.network/privateendpoints" {
                "this is the private endpoint's resource id; Enclave needs its LinkID, a number \
                 shown with the endpoint's connection (the resource id is shown beside it)."
                    .into()
            } else if kind.is_empty() {
                "this is a resource id, but not of a private endpoint; enter the private \
                 endpoint's LinkID, a number."
                    .into()
            } else {
                format!(
                    "this is the resource id of a {kind} resource, not of a private endpoint \
                     (Microsoft.Network/privateEndpoints); enter the private endpoint's LinkID, \
                     a number."
                )
            });
        }
        if lower.ends_with(".azure.privatelinkservice") {
            return hint(
                "this is the Private Link service alias you connect to; enter the LinkID of the \
                 private endpoint you created for it, a number."
                    .into(),
            );
        }
        if lower.starts_with("vpce-") {
            return hint(
                "this is an AWS VPC endpoint id, but the region is an Azure region; enter your \
                 private endpoint's LinkID, a number."
                    .into(),
            );
        }
        let digits = lower.strip_prefix(LINK_ID_PREFIX).unwrap_or(&lower);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return hint("must be a LinkID: digits only, e.g. 536870913.".into());
        }
        match digits.parse::<u32>() {
            Ok(id) => Ok(Self(format!("{LINK_ID_PREFIX}{id}"))),
            Err(_) => hint(
                "is larger than a LinkID can be (an unsigned 32-bit number, at most \
                 4294967295); check that you copied the LinkID, not another number."
                    .into(),
            ),
        }
    }

    /// The GCP connection id, in the form the proxy reads from its TLV.
    pub fn gcp(connection_id: u64) -> Self {
        Self(format!("{PSC_PREFIX}{connection_id}"))
    }

    /// The Azure LinkID, in the form the proxy reads from its TLV.
    pub fn azure(link_id: u32) -> Self {
        Self(format!("{LINK_ID_PREFIX}{link_id}"))
    }

    /// Which cloud the endpoint lives in.
    pub fn cloud(&self) -> Cloud {
        if self.0.starts_with(PSC_PREFIX) {
            Cloud::Gcp
        } else if self.0.starts_with(LINK_ID_PREFIX) {
            Cloud::Azure
        } else {
            Cloud::Aws
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a GCP PSC connection id and an Azure LinkID are kept.
pub const PSC_PREFIX: &str = "psc-";
pub const LINK_ID_PREFIX: &str = "linkid-";

/// The clouds private networking is offered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
}

impl Cloud {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "aws" => Some(Self::Aws),
            "gcp" => Some(Self::Gcp),
            "azure" => Some(Self::Azure),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
        }
    }

    /// The name people know it by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Gcp => "Google Cloud",
            Self::Azure => "Azure",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for VpcEndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for VpcEndpointId {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_any(&value)
    }
}

impl From<VpcEndpointId> for String {
    fn from(value: VpcEndpointId) -> String {
        value.0
    }
}

/// An AWS account id: 12 digits. An IAM ARN (`arn:aws:iam::123456789012:root`) is accepted
/// and reduced to its account; dashes as the AWS console prints them are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AwsAccountId(String);

impl AwsAccountId {
    pub const FIELD: &'static str = "aws_account_id";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                "is required: enter the 12-digit AWS account id, e.g. 123456789012.",
            ));
        }
        let account = match value.strip_prefix("arn:") {
            Some(rest) => {
                let parts: Vec<&str> = rest.split(':').collect();
                if parts.len() < 5 || parts[1] != "iam" {
                    return Err(FieldError::new(
                        Self::FIELD,
                        "this ARN is not an IAM principal; enter the account id, or an ARN like \
                         arn:aws:iam::123456789012:root.",
                    ));
                }
                parts[3].to_string()
            }
            None => value.replace('-', ""),
        };
        let upper = account.to_ascii_uppercase();
        if upper.starts_with("AKIA") || upper.starts_with("ASIA") {
            return Err(FieldError::new(
                Self::FIELD,
                "this looks like an access key id, which must never be shared; enter the \
                 12-digit account id instead (top right of the AWS console).",
            ));
        }
        if !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                Self::FIELD,
                "must be digits only, e.g. 123456789012.",
            ));
        }
        if account.len() != 12 {
            return Err(FieldError::new(
                Self::FIELD,
                format!("has {} digits; AWS account ids have 12.", account.len()),
            ));
        }
        Ok(Self(account))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The principal ARN an endpoint service allows.
    pub fn principal_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.0)
    }
}

impl fmt::Display for AwsAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AwsAccountId {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AwsAccountId> for String {
    fn from(value: AwsAccountId) -> String {
        value.0
    }
}

/// A free-text label: 0–64 printable characters, trimmed. Empty is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

/// The first character in `text` that is invisible or changes the direction text is shown
/// in: zero-width spaces and joiners, direction marks, embeddings, overrides and isolates
/// (`U+202E` turns "exe.txt" into what looks like "txt.exe"), the word joiner and invisible
/// operators, the byte-order mark, the soft hyphen. In a name people read, they make it look
/// like something it is not.
pub fn deceptive_char(text: &str) -> Option<char> {
    text.chars().find(|c| {
        matches!(
            *c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
    })
}

impl Label {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(
                "label",
                "must not contain control characters such as tabs or line breaks.",
            ));
        }
        if let Some(c) = deceptive_char(value) {
            return Err(FieldError::new(
                "label",
                format!(
                    "contains the invisible or text-direction character U+{:04X}, which would make \
                     the label read differently from what it is; type it without that character.",
                    c as u32
                ),
            ));
        }
        let count = value.chars().count();
        if count > Self::MAX_CHARS {
            return Err(FieldError::new(
                "label",
                format!("is {count} characters long; shorten it to at most 64."),
            ));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Label> for String {
    fn from(value: Label) -> String {
        value.0
    }
}

#[cfg(test)]
mod deceptive_tests {
    use super::*;

    #[test]
    fn labels_refuse_invisible_and_direction_characters() {
        for bad in [
            "prod\u{202E}gpj",
            "a\u{200B}b",
            "\u{2066}x\u{2069}",
            "x\u{FEFF}",
            "a\u{200D}b",
        ] {
            let err = Label::parse(bad).unwrap_err();
            assert!(err.to_string().contains("U+"), "{bad:?}: {err}");
        }
        // Ordinary text in any script is fine, including right-to-left scripts themselves.
        for good in ["prod vpc", "Zürich", "שלום", "مرحبا", "東京"] {
            assert!(Label::parse(good).is_ok(), "{good}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn aws_account_ids() {
        use super::AwsAccountId;
        assert_eq!(
            AwsAccountId::parse(" 123456789012 ").unwrap().as_str(),
            "123456789012"
        );
        assert_eq!(
            AwsAccountId::parse("1234-5678-9012").unwrap().as_str(),
            "123456789012"
        );
        let arn = AwsAccountId::parse("arn:aws:iam::123456789012:root").unwrap();
        assert_eq!(arn.principal_arn(), "arn:aws:iam::123456789012:root");
        for (bad, hint) in [
            ("", "is required"),
            ("12345678901", "has 11 digits"),
            ("12345678901a", "digits only"),
            ("AKIAIOSFODNN7EXAMPLE", "access key"),
            ("arn:aws:s3:::bucket", "not an IAM principal"),
        ] {
            let err = AwsAccountId::parse(bad).unwrap_err();
            assert_eq!(err.field, "aws_account_id");
            assert!(err.message.contains(hint), "{bad}: {}", err.message);
        }
    }

    use super::*;

    #[test]
    fn endpoint_ids_are_trimmed_and_lower_cased() {
        let id = VpcEndpointId::parse("  VPCE-1234567890ABCDEF0 ").unwrap();
        assert_eq!(id.as_str(), "vpce-1234567890abcdef0");
        assert_eq!(
            VpcEndpointId::parse("vpce-0a1b2c3d").unwrap().as_str(),
            "vpce-0a1b2c3d"
        );
    }

    #[test]
    fn a_vpc_id_gets_its_own_message() {
        let err = VpcEndpointId::parse("vpc-0abc1234def567890").unwrap_err();
        assert_eq!(err.field, "vpc_endpoint_id");
        assert!(err
            .message
            .starts_with("this is a VPC id; enter the VPC endpoint id (vpce-…)"));
    }

    #[test]
    fn malformed_endpoint_ids_say_what_is_wrong() {
        let cases = [
            ("", "is required"),
            ("endpoint-1", "must start with vpce-"),
            ("vpce-12345", "has 5 hexadecimal digits"),
            ("vpce-1234567890abcdefg", "only hexadecimal digits"),
            ("vpce-svc-010736480bcef5824", "endpoint service name"),
        ];
        for (input, expected) in cases {
            let err = VpcEndpointId::parse(input).unwrap_err();
            assert!(err.message.contains(expected), "{input}: {}", err.message);
        }
    }

    #[test]
    fn gcp_connection_ids_parse_with_their_own_hints() {
        let id = VpcEndpointId::parse_in(Cloud::Gcp, " 12345678901234567 ").unwrap();
        assert_eq!(id.as_str(), "psc-12345678901234567");
        assert_eq!(id.cloud(), Cloud::Gcp);
        assert_eq!(
            VpcEndpointId::parse_in(Cloud::Gcp, "PSC-18446744073709551615").unwrap(),
            VpcEndpointId::gcp(u64::MAX)
        );
        assert_eq!(
            VpcEndpointId::parse_any("psc-7").unwrap(),
            VpcEndpointId::gcp(7)
        );
        let cases = [
            ("", "is required"),
            ("psc-endpoint-orders", "forwarding rule's name"),
            (
                "projects/acme/regions/us-central1/forwardingRules/psc-orders",
                "forwarding rule's path",
            ),
            (
                "projects/enclave/regions/us-central1/serviceAttachments/db-cell-1",
                "service attachment you connect to",
            ),
            ("18446744073709551616", "larger than a PSC connection id"),
            ("vpce-1234567890abcdef0", "AWS VPC endpoint id"),
            ("12 34", "digits only"),
        ];
        for (input, expected) in cases {
            let err = VpcEndpointId::parse_in(Cloud::Gcp, input).unwrap_err();
            assert_eq!(err.field, "vpc_endpoint_id");
            assert!(err.message.contains(expected), "{input}: {}", err.message);
        }
    }

    #[test]
    fn azure_link_ids_parse_with_their_own_hints() {
        let id = VpcEndpointId::parse_in(Cloud::Azure, "536870913").unwrap();
        assert_eq!(id.as_str(), "linkid-536870913");
        assert_eq!(id.cloud(), Cloud::Azure);
        assert_eq!(
            VpcEndpointId::parse_any("LINKID-4294967295").unwrap(),
            VpcEndpointId::azure(u32::MAX)
        );
        let pe = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-orders";
        let vnet = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet";
        let cases = [
            ("", "is required"),
            (pe, "private endpoint's resource id"),
            (vnet, "microsoft.network/virtualnetworks resource"),
            (
                "enclave-db.0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.eastus2.azure.privatelinkservice",
                "Private Link service alias",
            ),
            ("4294967296", "larger than a LinkID"),
            ("vpce-1234567890abcdef0", "AWS VPC endpoint id"),
            ("pe-orders", "digits only"),
        ];
        for (input, expected) in cases {
            let err = VpcEndpointId::parse_in(Cloud::Azure, input).unwrap_err();
            assert!(err.message.contains(expected), "{input}: {}", err.message);
        }
    }

    #[test]
    fn each_cloud_keeps_to_its_own_identifiers() {
        // The same number is a different endpoint in each cloud.
        assert_ne!(VpcEndpointId::gcp(42), VpcEndpointId::azure(42));
        let err = VpcEndpointId::parse_in(Cloud::Aws, "psc-42").unwrap_err();
        assert!(err.message.contains("AWS region"), "{}", err.message);
        assert_eq!(
            VpcEndpointId::parse_in(Cloud::Aws, "vpce-0a1b2c3d")
                .unwrap()
                .cloud(),
            Cloud::Aws
        );
        assert!(VpcEndpointId::parse_any("42").is_err());
    }

    #[test]
    fn org_and_project_ids_accept_the_documented_shape() {
        assert_eq!(
            OrgId::parse(" org-bold-bonus-12345678 ").unwrap().as_str(),
            "org-bold-bonus-12345678"
        );
        assert!(ProjectId::parse("orange-credit-12345678").is_ok());
        assert!(OrgId::parse("Org_Bad").is_err());
        assert!(ProjectId::parse(&"a".repeat(61)).is_err());
        assert_eq!(ProjectId::parse("").unwrap_err().field, "project_id");
    }

    #[test]
    fn region_ids_name_a_cloud() {
        assert_eq!(
            RegionId::parse("AWS-us-east-2").unwrap().as_str(),
            "aws-us-east-2"
        );
        assert!(RegionId::parse("us-east-2").is_err());
        assert!(RegionId::parse("aws-").is_err());
    }

    #[test]
    fn labels_are_bounded_and_printable() {
        assert_eq!(Label::parse("").unwrap().as_str(), "");
        assert_eq!(Label::parse("  prod-vpc ").unwrap().as_str(), "prod-vpc");
        assert!(Label::parse(&"é".repeat(64)).is_ok());
        assert!(Label::parse(&"x".repeat(65))
            .unwrap_err()
            .message
            .contains("65 characters"));
        assert!(Label::parse("a\tb").is_err());
    }

    #[test]
    fn serde_goes_through_the_parsers() {
        let id: VpcEndpointId = serde_json::from_str("\"VPCE-1234567890ABCDEF0\"").unwrap();
        assert_eq!(id.as_str(), "vpce-1234567890abcdef0");
        assert!(serde_json::from_str::<VpcEndpointId>("\"vpc-1\"").is_err());
    }
}
