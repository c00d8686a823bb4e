//! Plans, roles and the states an endpoint assignment or a setting moves through (SPEC §3–4).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::FieldError;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Result<Self, FieldError> {
                let value = input.trim().to_ascii_lowercase();
                match value.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(FieldError::new(
                        $field,
                        format!(
                            "must be one of {}; got {:?}.",
                            [$($text),+].join(", "),
                            input.trim()
                        ),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// A billing plan. Private networking is part of scale, business and enterprise.
    Plan, "plan", {
        Free => "free",
        Launch => "launch",
        Scale => "scale",
        Business => "business",
        Enterprise => "enterprise",
    }
);

impl Plan {
    pub fn includes_private_networking(self) -> bool {
        matches!(self, Plan::Scale | Plan::Business | Plan::Enterprise)
    }
}

string_enum!(
    /// What a member of an organization may do: admins change network settings, members read.
    Role, "role", {
        Admin => "admin",
        Member => "member",
    }
);

string_enum!(
    /// Where an endpoint assignment stands with the cloud provider.
    EndpointState, "state", {
        New => "new",
        Accepted => "accepted",
        Rejected => "rejected",
    }
);

string_enum!(
    /// Whether the data plane has confirmed a setting's current value.
    SettingState, "state", {
        Applying => "applying",
        Applied => "applied",
    }
);

string_enum!(
    /// Where a network change stands in the data plane: `applied` once every live proxy has
    /// acknowledged it, `applying` until then, `no_data_plane` while no proxy is connected.
    RolloutState, "state", {
        Applied => "applied",
        Applying => "applying",
        NoDataPlane => "no_data_plane",
    }
);

string_enum!(
    /// Where an organization's latest trial request stands, as its members see it.
    TrialState, "status", {
        Pending => "pending",
        Active => "active",
        Declined => "declined",
        Expired => "expired",
    }
);

/// Where an organization's trial of private networking stands. Only the fields are modelled
/// here; requesting and reviewing trials is built on top of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    /// When an approved trial ends, in milliseconds since the Unix epoch.
    pub ends_at_ms: i64,
}

/// Whether an organization may change private-networking configuration at `now_ms`: its plan
/// includes the feature, or it has an approved trial that has not ended. Evaluated on every
/// call from the clock, never by a job that might not run.
pub fn private_networking_entitled(plan: Plan, trial: Option<Trial>, now_ms: i64) -> bool {
    plan.includes_private_networking() || trial.is_some_and(|t| t.ends_at_ms > now_ms)
}

/// The longest an API key may live, in days (console, CLI and service use this one limit).
pub const API_KEY_MAX_EXPIRY_DAYS: i64 = 3_650;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_name_the_choices_on_error() {
        assert_eq!(Plan::parse(" Scale ").unwrap(), Plan::Scale);
        let err = Plan::parse("gold").unwrap_err();
        assert_eq!(err.field, "plan");
        assert!(err
            .message
            .contains("free, launch, scale, business, enterprise"));
    }

    #[test]
    fn private_networking_needs_a_plan_or_a_running_trial() {
        assert!(private_networking_entitled(Plan::Scale, None, 0));
        assert!(private_networking_entitled(Plan::Enterprise, None, 0));
        assert!(!private_networking_entitled(Plan::Free, None, 0));
        let trial = Some(Trial { ends_at_ms: 1_000 });
        assert!(private_networking_entitled(Plan::Launch, trial, 999));
        assert!(!private_networking_entitled(Plan::Launch, trial, 1_000));
    }

    #[test]
    fn states_serialize_as_the_api_spells_them() {
        assert_eq!(
            serde_json::to_string(&EndpointState::Accepted).unwrap(),
            "\"accepted\""
        );
        assert_eq!(
            SettingState::parse("applying").unwrap(),
            SettingState::Applying
        );
        assert_eq!(Role::Admin.to_string(), "admin");
    }
}
