//! What `ps` says about a container: Docker's status sentence ("Up 3 seconds (healthy)",
//! "Exited (3) 2 seconds ago", "Restarting (1) 1 second ago"), the one-word state `--status`
//! filters on, and published ports as `127.0.0.1:8080->80/tcp`.

use std::time::SystemTime;

use super::human;
use crate::reconciler::state::{HealthStatus, PortRecord};
use crate::runtime::{ContainerState, Status};

/// One published port: `127.0.0.1:8080->80/tcp` (IPv6 hosts in brackets).
pub fn port_text(p: &PortRecord) -> String {
    let ip = if p.host_ip.contains(':') { format!("[{}]", p.host_ip) } else { p.host_ip.clone() };
    format!("{ip}:{}->{}/{}", p.host_port, p.target, p.protocol)
}

/// `127.0.0.1:8080->80/tcp, 0.0.0.0:53->53/udp`.
pub fn ports_text(ports: &[PortRecord]) -> String {
    ports.iter().map(port_text).collect::<Vec<_>>().join(", ")
}

/// The one word `--status` filters on, as Docker's `State`: created, running, paused,
/// restarting, exited.
pub fn state_word(st: &ContainerState, restarting: bool) -> &'static str {
    match st.status {
        Status::Created => "created",
        Status::Running if st.paused => "paused",
        Status::Running => "running",
        Status::Exited { .. } if restarting => "restarting",
        Status::Exited { .. } => "exited",
    }
}

/// Docker's status sentence.
pub fn status_text(st: &ContainerState, health: HealthStatus, restarting: bool, now: SystemTime) -> String {
    let ago = |ts: &Option<String>| ts.as_deref().map(|t| human::duration(human::since(t, now))).unwrap_or_default();
    match st.status {
        Status::Created => "Created".to_string(),
        // Docker: "Up 3 seconds (Paused)", the health left out.
        Status::Running if st.paused => format!("Up {} (Paused)", ago(&st.started_at)),
        Status::Running => {
            let health = match health {
                HealthStatus::Healthy => " (healthy)",
                HealthStatus::Unhealthy => " (unhealthy)",
                HealthStatus::Starting => " (health: starting)",
                HealthStatus::None => "",
            };
            format!("Up {}{health}", ago(&st.started_at))
        }
        Status::Exited { code, oom } => {
            let word = if restarting { "Restarting" } else { "Exited" };
            let oom = match (oom, st.monitor_lost) {
                (true, _) => " (out of memory)",
                (false, true) => " (monitor lost)",
                _ => "",
            };
            match st.finished_at {
                Some(_) => format!("{word} ({code}){oom} {} ago", ago(&st.finished_at)),
                None => format!("{word} ({code}){oom}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::logs::rfc3339;
    use std::time::{Duration, UNIX_EPOCH};

    fn state(status: Status) -> ContainerState {
        let mut st = ContainerState::new("c", rfc3339(100, 0));
        st.status = status;
        st.started_at = Some(rfc3339(100, 0));
        st.finished_at = Some(rfc3339(110, 0));
        st
    }

    #[test]
    fn sentences_match_docker() {
        let now = UNIX_EPOCH + Duration::from_secs(113);
        let up = state(Status::Running);
        assert_eq!(status_text(&up, HealthStatus::None, false, now), "Up 13 seconds");
        let paused = ContainerState { paused: true, ..up.clone() };
        assert_eq!(status_text(&paused, HealthStatus::Healthy, false, now), "Up 13 seconds (Paused)");
        assert_eq!(state_word(&paused, false), "paused");
        assert_eq!(status_text(&up, HealthStatus::Healthy, false, now), "Up 13 seconds (healthy)");
        assert_eq!(status_text(&up, HealthStatus::Starting, false, now), "Up 13 seconds (health: starting)");
        let ex = state(Status::Exited { code: 3, oom: false });
        assert_eq!(status_text(&ex, HealthStatus::None, false, now), "Exited (3) 3 seconds ago");
        assert_eq!(status_text(&ex, HealthStatus::None, true, now), "Restarting (3) 3 seconds ago");
        assert_eq!(state_word(&ex, true), "restarting");
        assert_eq!(status_text(&state(Status::Created), HealthStatus::None, false, now), "Created");
        // A "running" record whose monitor is gone is not Up.
        let mut lost = state(Status::Running);
        lost.monitor_pid = Some(12345);
        lost.finished_at = None;
        let lost = lost.observed(|_| false);
        assert_eq!(status_text(&lost, HealthStatus::Healthy, false, now), "Exited (255) (monitor lost)");
        assert_eq!(state_word(&lost, false), "exited");
        let alive = state(Status::Running);
        assert_eq!(alive.clone().observed(|_| true), alive);
    }

    #[test]
    fn ports_render_host_to_container() {
        let p = |ip: &str, h, t, proto: &str| PortRecord {
            host_ip: ip.into(),
            host_port: h,
            target: t,
            protocol: proto.into(),
        };
        let text = ports_text(&[p("127.0.0.1", 8080, 80, "tcp"), p("::1", 53, 53, "udp")]);
        assert_eq!(text, "127.0.0.1:8080->80/tcp, [::1]:53->53/udp");
    }
}
