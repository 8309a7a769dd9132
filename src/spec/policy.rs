//! The two policy values of a service that are text in a stack file and an enum in the model:
//! `restart` and `pull_policy`, each printed back as Compose prints it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(into = "String", try_from = "String")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    OnFailure(Option<u32>),
    UnlessStopped,
}

impl RestartPolicy {
    pub fn is_default(&self) -> bool {
        *self == RestartPolicy::No
    }
}

impl From<RestartPolicy> for String {
    fn from(p: RestartPolicy) -> String {
        match p {
            RestartPolicy::No => "no".into(),
            RestartPolicy::Always => "always".into(),
            RestartPolicy::OnFailure(None) => "on-failure".into(),
            RestartPolicy::OnFailure(Some(n)) => format!("on-failure:{n}"),
            RestartPolicy::UnlessStopped => "unless-stopped".into(),
        }
    }
}

impl TryFrom<String> for RestartPolicy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "no" | "" => Ok(RestartPolicy::No),
            "always" => Ok(RestartPolicy::Always),
            "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
            "on-failure" => Ok(RestartPolicy::OnFailure(None)),
            _ => match s.strip_prefix("on-failure:").map(str::parse::<u32>) {
                Some(Ok(n)) => Ok(RestartPolicy::OnFailure(Some(n))),
                _ => {
                    Err(format!("invalid restart policy `{s}`; expected no, always, on-failure[:N] or unless-stopped"))
                }
            },
        }
    }
}

/// `pull_policy`, written in the model (and `config`) as the user wrote it: `always`,
/// `never`, `missing` (`if_not_present`), `build`, `daily`, `weekly`, `every_<duration>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PullPolicy {
    Always,
    Never,
    Missing,
    Build,
    /// `daily`, `weekly`, `every_<duration>`: pull when the local image was last pulled longer
    /// ago than the interval (in seconds), as docker compose does.
    Refresh {
        text: String,
        every_secs: u64,
    },
}

impl PullPolicy {
    /// The interval of a refresh policy.
    pub fn refresh_interval(&self) -> Option<std::time::Duration> {
        match self {
            PullPolicy::Refresh { every_secs, .. } => Some(std::time::Duration::from_secs(*every_secs)),
            _ => None,
        }
    }
}

impl TryFrom<String> for PullPolicy {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let refresh = |secs: u64| PullPolicy::Refresh { text: text.clone(), every_secs: secs };
        match text.as_str() {
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            "missing" | "if_not_present" => Ok(PullPolicy::Missing),
            "build" => Ok(PullPolicy::Build),
            "daily" => Ok(refresh(86_400)),
            "weekly" => Ok(refresh(7 * 86_400)),
            t => match t.strip_prefix("every_").map(every_secs) {
                Some(Some(secs)) => Ok(refresh(secs)),
                _ => Err(format!(
                    "unknown pull_policy `{text}`; expected always, never, missing, build, daily, weekly or \
                     every_<duration> (e.g. every_12h, every_2d)"
                )),
            },
        }
    }
}

impl From<PullPolicy> for String {
    fn from(p: PullPolicy) -> String {
        match p {
            PullPolicy::Always => "always".into(),
            PullPolicy::Never => "never".into(),
            PullPolicy::Missing => "missing".into(),
            PullPolicy::Build => "build".into(),
            PullPolicy::Refresh { text, .. } => text,
        }
    }
}

/// `2d12h`, `90m`, `1w` (weeks, days, hours, minutes, seconds) in seconds; None if malformed or 0.
fn every_secs(d: &str) -> Option<u64> {
    let (mut total, mut n, mut digits) = (0u64, 0u64, false);
    for c in d.chars() {
        if let Some(v) = c.to_digit(10) {
            n = n.checked_mul(10)?.checked_add(v as u64)?;
            digits = true;
            continue;
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        if !digits {
            return None;
        }
        total = total.checked_add(n.checked_mul(unit)?)?;
        (n, digits) = (0, false);
    }
    (!digits && total > 0).then_some(total)
}
