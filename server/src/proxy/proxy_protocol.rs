//! PROXY protocol version 2, as each cloud's load balancer sends it in front of every
//! connection: the client's address and, for private traffic, which endpoint it came through,
//! in that cloud's TLV:
//! - AWS PrivateLink: type `0xEA`, subtype `0x01`, the VPC endpoint id in UTF-8;
//! - Google Cloud Private Service Connect: type `0xE0`, the PSC connection id as an 8-byte
//!   big-endian number;
//! - Azure Private Link: type `0xEE`, subtype `0x01`, the LinkID as a 4-byte little-endian
//!   number.
//!
//! Each becomes the endpoint's stored form (`vpce-…`, `psc-<n>`, `linkid-<n>`), so the access
//! decision is the same for all three. Only the binary v2 form is accepted.
//!
//! The parser never panics and never trusts a length: every read is bounds-checked, and a
//! header longer than [`MAX_HEADER`] is refused before it is buffered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use app::domain::{LINK_ID_PREFIX, PSC_PREFIX};

/// The 12-byte signature every v2 header starts with.
pub const SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];
/// Signature, version/command, family/protocol and the 2-byte length.
pub const FIXED_LEN: usize = 16;
/// The largest header accepted (NLB headers are well under 200 bytes).
pub const MAX_HEADER: usize = 1024;
/// AWS's TLV type, and the subtype carrying the VPC endpoint id.
pub const PP2_TYPE_AWS: u8 = 0xEA;
pub const PP2_SUBTYPE_AWS_VPCE_ID: u8 = 0x01;
/// Google Cloud's TLV type carrying the PSC connection id.
pub const PP2_TYPE_GCP: u8 = 0xE0;
/// Azure's TLV type, and the subtype carrying the private endpoint's LinkID.
pub const PP2_TYPE_AZURE: u8 = 0xEE;
pub const PP2_SUBTYPE_AZURE_LINK_ID: u8 = 0x01;

/// What a complete header said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// A health check or the balancer's own connection: no client behind it.
    Local,
    Proxy {
        /// The client's address (`None` for UNIX or unspecified families).
        source: Option<SocketAddr>,
        /// The private endpoint the connection came through, in its stored form
        /// (`vpce-…`, `psc-<n>`, `linkid-<n>`).
        vpc_endpoint_id: Option<String>,
    },
}

/// Why a header was refused; the proxy logs it and closes the connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("not a PROXY protocol v2 header (bad signature)")]
    BadSignature,
    #[error("unsupported PROXY protocol version {0}")]
    BadVersion(u8),
    #[error("unknown PROXY command {0:#x}")]
    BadCommand(u8),
    #[error("header length {0} is over the {MAX_HEADER}-byte limit")]
    TooLong(usize),
    #[error("address block is shorter than its family needs")]
    ShortAddress,
    #[error("malformed TLV at offset {0}")]
    BadTlv(usize),
    #[error("the VPC endpoint id TLV is not UTF-8, or not an AWS id")]
    BadEndpointId,
    #[error("the {0} endpoint TLV has {1} bytes where the cloud sends {2}")]
    BadEndpointLength(&'static str, usize, usize),
    #[error("the header names two different private endpoints")]
    ConflictingEndpoints,
}

/// The outcome of looking at the first bytes of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parse {
    /// More bytes are needed (at least this many in all).
    Incomplete(usize),
    /// A complete header of `len` bytes.
    Complete { header: ProxyHeader, len: usize },
}

/// Whether `buf` could still become a v2 header (used by `optional` mode to tell a header
/// from a client that starts speaking Postgres at once).
pub fn may_be_header(buf: &[u8]) -> bool {
    let n = buf.len().min(SIGNATURE.len());
    buf[..n] == SIGNATURE[..n]
}

/// Parses a v2 header at the start of `buf`.
pub fn parse(buf: &[u8]) -> Result<Parse, ProxyError> {
    if !may_be_header(buf) {
        return Err(ProxyError::BadSignature);
    }
    if buf.len() < FIXED_LEN {
        return Ok(Parse::Incomplete(FIXED_LEN));
    }
    let version = buf[12] >> 4;
    if version != 2 {
        return Err(ProxyError::BadVersion(version));
    }
    let command = buf[12] & 0x0F;
    let body_len = u16::from_be_bytes([buf[14], buf[15]]) as usize;
    let total = FIXED_LEN + body_len;
    if total > MAX_HEADER {
        return Err(ProxyError::TooLong(total));
    }
    if buf.len() < total {
        return Ok(Parse::Incomplete(total));
    }
    let body = &buf[FIXED_LEN..total];
    let header = match command {
        0x0 => ProxyHeader::Local,
        0x1 => {
            let family = buf[13] >> 4;
            let (source, tlv_start) = match family {
                // AF_INET: src 4, dst 4, src port 2, dst port 2.
                0x1 => {
                    let a = body.get(..12).ok_or(ProxyError::ShortAddress)?;
                    let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
                    let port = u16::from_be_bytes([a[8], a[9]]);
                    (Some(SocketAddr::new(IpAddr::V4(ip), port)), 12)
                }
                // AF_INET6: src 16, dst 16, ports 2 + 2.
                0x2 => {
                    let a = body.get(..36).ok_or(ProxyError::ShortAddress)?;
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(&a[..16]);
                    let port = u16::from_be_bytes([a[32], a[33]]);
                    (
                        Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(octets)), port)),
                        36,
                    )
                }
                // AF_UNIX: two 108-byte paths.
                0x3 => {
                    body.get(..216).ok_or(ProxyError::ShortAddress)?;
                    (None, 216)
                }
                // AF_UNSPEC: no address; anything after is TLVs.
                _ => (None, 0),
            };
            let vpc_endpoint_id = endpoint_tlv(&body[tlv_start..], FIXED_LEN + tlv_start)?;
            ProxyHeader::Proxy {
                source,
                vpc_endpoint_id,
            }
        }
        other => return Err(ProxyError::BadCommand(other)),
    };
    Ok(Parse::Complete { header, len: total })
}

/// Walks the TLVs and returns the private endpoint they name, if any, in its stored form.
/// Two TLVs naming different endpoints are refused: which one would be trusted?
fn endpoint_tlv(mut tlvs: &[u8], mut offset: usize) -> Result<Option<String>, ProxyError> {
    let mut found: Option<String> = None;
    while !tlvs.is_empty() {
        if tlvs.len() < 3 {
            return Err(ProxyError::BadTlv(offset));
        }
        let kind = tlvs[0];
        let len = u16::from_be_bytes([tlvs[1], tlvs[2]]) as usize;
        let value = tlvs.get(3..3 + len).ok_or(ProxyError::BadTlv(offset))?;
        let endpoint = match (kind, value.first()) {
            (PP2_TYPE_AWS, Some(&PP2_SUBTYPE_AWS_VPCE_ID)) => {
                let id = std::str::from_utf8(&value[1..]).map_err(|_| ProxyError::BadEndpointId)?;
                // Another cloud's stored form in AWS's TLV would pass for that cloud's endpoint.
                if id.starts_with(PSC_PREFIX) || id.starts_with(LINK_ID_PREFIX) {
                    return Err(ProxyError::BadEndpointId);
                }
                Some(id.to_string())
            }
            (PP2_TYPE_GCP, _) => {
                let bytes: [u8; 8] = value
                    .try_into()
                    .map_err(|_| ProxyError::BadEndpointLength("GCP", value.len(), 8))?;
                Some(format!("{PSC_PREFIX}{}", u64::from_be_bytes(bytes)))
            }
            (PP2_TYPE_AZURE, Some(&PP2_SUBTYPE_AZURE_LINK_ID)) => {
                let bytes: [u8; 4] = value[1..]
                    .try_into()
                    .map_err(|_| ProxyError::BadEndpointLength("Azure", value.len() - 1, 4))?;
                Some(format!("{LINK_ID_PREFIX}{}", u32::from_le_bytes(bytes)))
            }
            _ => None,
        };
        if let Some(endpoint) = endpoint {
            if found.as_ref().is_some_and(|f| *f != endpoint) {
                return Err(ProxyError::ConflictingEndpoints);
            }
            found = Some(endpoint);
        }
        tlvs = &tlvs[3 + len..];
        offset += 3 + len;
    }
    Ok(found)
}

/// The TLV a load balancer of the endpoint's cloud sends for it.
fn encode_endpoint(id: &str, body: &mut Vec<u8>) {
    if let Some(n) = id
        .strip_prefix(PSC_PREFIX)
        .and_then(|n| n.parse::<u64>().ok())
    {
        body.push(PP2_TYPE_GCP);
        body.extend_from_slice(&8u16.to_be_bytes());
        body.extend_from_slice(&n.to_be_bytes());
    } else if let Some(n) = id
        .strip_prefix(LINK_ID_PREFIX)
        .and_then(|n| n.parse::<u32>().ok())
    {
        body.push(PP2_TYPE_AZURE);
        body.extend_from_slice(&5u16.to_be_bytes());
        body.push(PP2_SUBTYPE_AZURE_LINK_ID);
        body.extend_from_slice(&n.to_le_bytes());
    } else {
        body.push(PP2_TYPE_AWS);
        body.extend_from_slice(&((id.len() + 1) as u16).to_be_bytes());
        body.push(PP2_SUBTYPE_AWS_VPCE_ID);
        body.extend_from_slice(id.as_bytes());
    }
}

/// Builds a v2 header (the tests play each cloud's load balancer with it): the endpoint's
/// stored form picks the TLV.
pub fn encode(header: &ProxyHeader) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    match header {
        ProxyHeader::Local => {
            out.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
        }
        ProxyHeader::Proxy {
            source,
            vpc_endpoint_id,
        } => {
            let mut body = Vec::new();
            let family = match source {
                Some(SocketAddr::V4(a)) => {
                    body.extend_from_slice(&a.ip().octets());
                    body.extend_from_slice(&[10, 0, 0, 1]);
                    body.extend_from_slice(&a.port().to_be_bytes());
                    body.extend_from_slice(&5432u16.to_be_bytes());
                    0x11
                }
                Some(SocketAddr::V6(a)) => {
                    body.extend_from_slice(&a.ip().octets());
                    body.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
                    body.extend_from_slice(&a.port().to_be_bytes());
                    body.extend_from_slice(&5432u16.to_be_bytes());
                    0x21
                }
                None => 0x00,
            };
            if let Some(id) = vpc_endpoint_id {
                encode_endpoint(id, &mut body);
            }
            out.extend_from_slice(&[0x21, family]);
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            out.extend_from_slice(&body);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn proxied(id: Option<&str>) -> ProxyHeader {
        ProxyHeader::Proxy {
            source: Some("203.0.113.7:51000".parse().unwrap()),
            vpc_endpoint_id: id.map(str::to_owned),
        }
    }

    #[test]
    fn round_trips_what_a_load_balancer_sends() {
        for header in [
            ProxyHeader::Local,
            proxied(None),
            proxied(Some("vpce-0123456789abcdef0")),
            proxied(Some("psc-12345678901234567")),
            proxied(Some("psc-0")),
            proxied(Some("linkid-536870913")),
            ProxyHeader::Proxy {
                source: Some("[2001:db8::1]:4000".parse().unwrap()),
                vpc_endpoint_id: Some("vpce-12345678".into()),
            },
        ] {
            let bytes = encode(&header);
            assert_eq!(
                parse(&bytes).unwrap(),
                Parse::Complete {
                    header: header.clone(),
                    len: bytes.len()
                }
            );
            // Every prefix asks for more, never fails.
            for cut in 0..bytes.len() {
                assert!(
                    matches!(parse(&bytes[..cut]), Ok(Parse::Incomplete(_))),
                    "{cut}"
                );
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_v2_header() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(ProxyError::BadSignature));
        assert_eq!(
            parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
            Err(ProxyError::BadSignature)
        );
        let mut v1 = encode(&proxied(None));
        v1[12] = 0x11;
        assert_eq!(parse(&v1), Err(ProxyError::BadVersion(1)));
        let mut cmd = encode(&proxied(None));
        cmd[12] = 0x2F;
        assert_eq!(parse(&cmd), Err(ProxyError::BadCommand(0xF)));
        let mut long = encode(&proxied(None));
        long[14] = 0xFF;
        assert!(matches!(parse(&long), Err(ProxyError::TooLong(_))));
        // A TLV that claims more bytes than the header holds.
        let mut tlv = encode(&proxied(Some("vpce-12345678")));
        let tlv_len_at = FIXED_LEN + 12 + 1;
        tlv[tlv_len_at] = 0x00;
        tlv[tlv_len_at + 1] = 0x40;
        assert!(matches!(parse(&tlv), Err(ProxyError::BadTlv(_))));
        // An address block too short for its family.
        let mut short = SIGNATURE.to_vec();
        short.extend_from_slice(&[0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]);
        assert_eq!(parse(&short), Err(ProxyError::ShortAddress));
    }

    /// A header with the given TLVs after an IPv4 address block.
    fn with_tlvs(tlvs: &[u8]) -> Vec<u8> {
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend_from_slice(&[0x21, 0x11]);
        bytes.extend_from_slice(&((12 + tlvs.len()) as u16).to_be_bytes());
        bytes.extend_from_slice(&[203, 0, 113, 7, 10, 0, 0, 1, 0xC7, 0x38, 0x15, 0x38]);
        bytes.extend_from_slice(tlvs);
        bytes
    }

    fn endpoint_of(bytes: &[u8]) -> Result<Option<String>, ProxyError> {
        match parse(bytes)? {
            Parse::Complete {
                header:
                    ProxyHeader::Proxy {
                        vpc_endpoint_id, ..
                    },
                ..
            } => Ok(vpc_endpoint_id),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_cloud_tlv_reads_as_the_cloud_sends_it() {
        // GCP: 8 bytes, big-endian.
        let gcp = with_tlvs(&[0xE0, 0, 8, 0, 0, 0, 0, 0, 0, 0x01, 0x02]);
        assert_eq!(endpoint_of(&gcp).unwrap().as_deref(), Some("psc-258"));
        // Azure: subtype 1, then 4 bytes, little-endian.
        let azure = with_tlvs(&[0xEE, 0, 5, 0x01, 0x01, 0x00, 0x00, 0x20]);
        assert_eq!(
            endpoint_of(&azure).unwrap().as_deref(),
            Some("linkid-536870913")
        );
        // Azure's other subtypes and unknown TLVs are skipped.
        let other = with_tlvs(&[0xEE, 0, 2, 0x02, 0x07, 0x04, 0, 1, 9]);
        assert_eq!(endpoint_of(&other).unwrap(), None);
        // Wrong lengths are refused, not truncated or padded.
        let short = with_tlvs(&[0xE0, 0, 4, 0, 0, 1, 2]);
        assert_eq!(
            endpoint_of(&short),
            Err(ProxyError::BadEndpointLength("GCP", 4, 8))
        );
        let long = with_tlvs(&[0xEE, 0, 6, 0x01, 1, 2, 3, 4, 5]);
        assert_eq!(
            endpoint_of(&long),
            Err(ProxyError::BadEndpointLength("Azure", 5, 4))
        );
        // Two clouds naming different endpoints: refused.
        let both = with_tlvs(&[
            0xE0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0xEE, 0, 5, 0x01, 1, 0, 0, 0,
        ]);
        assert_eq!(endpoint_of(&both), Err(ProxyError::ConflictingEndpoints));
        // Another cloud's stored form inside AWS's TLV does not pass for that cloud.
        let mut aws = vec![0xEA, 0, 7, 0x01];
        aws.extend_from_slice(b"psc-42");
        assert_eq!(
            endpoint_of(&with_tlvs(&aws)),
            Err(ProxyError::BadEndpointId)
        );
    }

    proptest! {
        #[test]
        fn gcp_connection_ids_survive_the_round_trip(n in any::<u64>()) {
            let header = proxied(Some(&format!("psc-{n}")));
            let bytes = encode(&header);
            prop_assert_eq!(&bytes[bytes.len() - 11..bytes.len() - 8], &[0xE0, 0, 8][..]);
            prop_assert_eq!(parse(&bytes).unwrap(), Parse::Complete { header, len: bytes.len() });
        }

        #[test]
        fn azure_link_ids_survive_the_round_trip(n in any::<u32>()) {
            let header = proxied(Some(&format!("linkid-{n}")));
            let bytes = encode(&header);
            prop_assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], &[0xEE, 0, 5, 1][..]);
            prop_assert_eq!(parse(&bytes).unwrap(), Parse::Complete { header, len: bytes.len() });
        }

        #[test]
        fn never_panics_on_any_input(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_after_a_valid_signature(rest in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut bytes = SIGNATURE.to_vec();
            bytes.extend_from_slice(&rest);
            match parse(&bytes) {
                Ok(Parse::Complete { len, .. }) => prop_assert!(len <= bytes.len()),
                Ok(Parse::Incomplete(n)) => prop_assert!(n > bytes.len() && n <= MAX_HEADER),
                Err(_) => {}
            }
        }

        #[test]
        fn endpoint_ids_survive_the_round_trip(id in "[ -~]{0,200}") {
            prop_assume!(!id.starts_with("psc-") && !id.starts_with("linkid-"));
            let header = proxied(Some(&id));
            let bytes = encode(&header);
            prop_assert_eq!(parse(&bytes).unwrap(), Parse::Complete { header, len: bytes.len() });
        }
    }
}
