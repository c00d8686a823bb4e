//! A project's IP allow list: public connections only from listed addresses, CIDR ranges or
//! dash ranges (Neon's `settings.allowed_ips.ips` shapes). One parser for browser and server.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::FieldError;

/// Entries per project, at most.
pub const MAX_ALLOWED_IPS: usize = 100;

/// One allow-list entry, kept in the canonical text form it was parsed into.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpAllowEntry {
    text: String,
    first: IpAddr,
    last: IpAddr,
}

impl IpAllowEntry {
    pub const FIELD: &'static str = "allowed_ips";

    /// `203.0.113.7`, `203.0.113.0/24`, `203.0.113.10-203.0.113.20`, or IPv6 equivalents.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        let bad = |why: &str| {
            FieldError::new(
                Self::FIELD,
                format!(
                    "{:?} {why}; enter an address (203.0.113.7), a CIDR range (203.0.113.0/24) \
                     or a dash range (203.0.113.10-203.0.113.20).",
                    value.chars().take(60).collect::<String>()
                ),
            )
        };
        if value.is_empty() {
            return Err(bad("is empty"));
        }
        let addr = |s: &str| {
            s.trim()
                .parse::<IpAddr>()
                .map_err(|_| bad("is not an IP address"))
        };
        let (first, last) = if let Some((net, bits)) = value.split_once('/') {
            let net = addr(net)?;
            let bits: u8 = bits
                .trim()
                .parse()
                .map_err(|_| bad("has a bad prefix length"))?;
            let width = if net.is_ipv4() { 32 } else { 128 };
            if bits > width {
                return Err(bad("has a prefix longer than the address"));
            }
            if bits == 0 {
                return Err(bad(
                    "allows every address, which is the same as no allow list (remove the list instead)",
                ));
            }
            range_of(net, bits)
        } else if let Some((a, b)) = value.split_once('-') {
            let (a, b) = (addr(a)?, addr(b)?);
            if a.is_ipv4() != b.is_ipv4() {
                return Err(bad("mixes IPv4 and IPv6"));
            }
            if b < a {
                return Err(bad("ends before it starts"));
            }
            (a, b)
        } else {
            let a = addr(value)?;
            (a, a)
        };
        let text = if let Some((_, bits)) = value.split_once('/') {
            format!("{first}/{}", bits.trim())
        } else if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        };
        Ok(Self { text, first, last })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        ip.is_ipv4() == self.first.is_ipv4() && self.first <= ip && ip <= self.last
    }
}

/// The first and last address of `net/bits`.
fn range_of(net: IpAddr, bits: u8) -> (IpAddr, IpAddr) {
    match net {
        IpAddr::V4(v4) => {
            let n = u32::from(v4);
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            (
                IpAddr::V4((n & mask).into()),
                IpAddr::V4((n | !mask).into()),
            )
        }
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            (
                IpAddr::V6((n & mask).into()),
                IpAddr::V6((n | !mask).into()),
            )
        }
    }
}

impl TryFrom<String> for IpAllowEntry {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|e| e.message)
    }
}

impl From<IpAllowEntry> for String {
    fn from(entry: IpAllowEntry) -> Self {
        entry.text
    }
}

impl std::fmt::Display for IpAllowEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An allow-list entry as the data plane applies it: until when (none: no expiry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedIpRule {
    pub entry: IpAllowEntry,
    pub expires_at_ms: Option<i64>,
}

impl AllowedIpRule {
    pub fn admits(&self, ip: IpAddr, now_ms: i64) -> bool {
        self.expires_at_ms.is_none_or(|t| now_ms < t) && self.entry.contains(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_parse_into_ranges() {
        let single = IpAllowEntry::parse(" 203.0.113.7 ").unwrap();
        assert_eq!(single.as_str(), "203.0.113.7");
        assert!(single.contains(ip("203.0.113.7")));
        assert!(!single.contains(ip("203.0.113.8")));
        let cidr = IpAllowEntry::parse("203.0.113.9/24").unwrap();
        assert_eq!(cidr.as_str(), "203.0.113.0/24");
        assert!(cidr.contains(ip("203.0.113.255")) && !cidr.contains(ip("203.0.114.0")));
        assert!(cidr.contains(ip("::ffff:203.0.113.1")));
        let dash = IpAllowEntry::parse("10.0.0.10-10.0.0.20").unwrap();
        assert!(dash.contains(ip("10.0.0.15")) && !dash.contains(ip("10.0.0.21")));
        let v6 = IpAllowEntry::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("203.0.113.7")));
    }

    #[test]
    fn bad_entries_say_what_to_enter() {
        for bad in [
            "",
            "example.com",
            "10.0.0.1/33",
            "10.0.0.9-10.0.0.1",
            "0.0.0.0/0",
            "10.0.0.1-::1",
        ] {
            let err = IpAllowEntry::parse(bad).unwrap_err();
            assert_eq!(err.field, "allowed_ips");
            assert!(err.message.contains("CIDR range"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn rules_expire() {
        let rule = AllowedIpRule {
            entry: IpAllowEntry::parse("203.0.113.7").unwrap(),
            expires_at_ms: Some(1_000),
        };
        assert!(rule.admits(ip("203.0.113.7"), 999));
        assert!(!rule.admits(ip("203.0.113.7"), 1_000));
    }
}
