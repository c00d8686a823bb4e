//! Generated identifiers in the documented shapes: `org-<word>-<word>-<8 digits>`,
//! `<word>-<word>-<8 digits>` for projects and `ep-<word>-<word>-<6 digits>` hostnames.

use rand::{seq::SliceRandom, Rng};

const ADJECTIVES: &[&str] = &[
    "bold", "calm", "cool", "crisp", "damp", "eager", "fancy", "gentle", "green", "hidden", "late",
    "lively", "lucky", "mild", "misty", "noisy", "orange", "plain", "proud", "quiet", "rapid",
    "round", "shy", "silent", "snowy", "solitary", "still", "sweet", "tiny", "wild",
];
const NOUNS: &[&str] = &[
    "bonus", "breeze", "brook", "cell", "cloud", "credit", "darkness", "dawn", "dew", "field",
    "firefly", "forest", "frost", "glade", "grass", "haze", "lake", "leaf", "meadow", "moon",
    "night", "pond", "rain", "river", "sea", "shadow", "sky", "snow", "star", "wave",
];

fn words() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}-{}",
        ADJECTIVES.choose(&mut rng).unwrap_or(&"quiet"),
        NOUNS.choose(&mut rng).unwrap_or(&"lake")
    )
}

fn digits(n: u32) -> String {
    let value = rand::thread_rng().gen_range(0..10u64.pow(n));
    format!("{value:0width$}", width = n as usize)
}

pub fn org_id() -> String {
    forced().unwrap_or_else(|| format!("org-{}-{}", words(), digits(8)))
}

pub fn project_id() -> String {
    forced().unwrap_or_else(|| format!("{}-{}", words(), digits(8)))
}

#[cfg(test)]
thread_local! {
    /// Ids the next draws return, so tests can make a collision happen.
    static FORCED: std::cell::RefCell<std::collections::VecDeque<String>> =
        Default::default();
}

/// The next forced id (tests only; always `None` in the product).
fn forced() -> Option<String> {
    #[cfg(test)]
    {
        FORCED.with(|f| f.borrow_mut().pop_front())
    }
    #[cfg(not(test))]
    {
        None
    }
}

/// Makes the next org or project ids drawn on this thread be `ids` (tests only).
#[cfg(test)]
pub fn force_next_ids(ids: &[&str]) {
    FORCED.with(|f| f.borrow_mut().extend(ids.iter().map(|s| s.to_string())));
}

/// `ep-<words>-<6 digits>.<cloud region>.<cloud>.<domain>`.
pub fn hostname(cloud: &str, cloud_region: &str, domain: &str) -> String {
    format!(
        "ep-{}-{}.{cloud_region}.{cloud}.{domain}",
        words(),
        digits(6)
    )
}

pub fn opaque_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use app::domain::{OrgId, ProjectId};

    #[test]
    fn generated_ids_parse() {
        for _ in 0..50 {
            let org = super::org_id();
            assert!(OrgId::parse(&org).is_ok(), "{org}");
            assert_eq!(org.rsplit('-').next().unwrap().len(), 8);
            assert!(ProjectId::parse(&super::project_id()).is_ok());
        }
        let host = super::hostname("aws", "us-east-2", "db.example");
        assert!(
            host.starts_with("ep-") && host.ends_with(".us-east-2.aws.db.example"),
            "{host}"
        );
    }
}
