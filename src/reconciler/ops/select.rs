//! Which containers a command means: the project's containers, narrowed to the services named
//! on the command line (every one must have a container, or the command says which has none),
//! or one replica of one service (`exec`, `port`: `--index N`, default 1).

use std::collections::BTreeSet;

use super::{OpsError, Result};
use crate::paths::Roots;
use crate::reconciler::{project_containers, ProjectContainer};

/// The project's containers, one-offs included only with `oneoff`.
pub fn all(roots: &Roots, project: &str, oneoff: bool) -> Result<Vec<ProjectContainer>> {
    Ok(project_containers(roots, project)?.into_iter().filter(|c| oneoff || !c.oneoff).collect())
}

/// The containers of `services` (all services when empty). A named service without a
/// container is an error naming it.
pub fn services(all: Vec<ProjectContainer>, project: &str, services: &[String]) -> Result<Vec<ProjectContainer>> {
    if services.is_empty() {
        return Ok(all);
    }
    let present: BTreeSet<&str> = all.iter().map(|c| c.service.as_str()).collect();
    if let Some(missing) = services.iter().find(|s| !present.contains(s.as_str())) {
        return Err(no_container(missing, project));
    }
    Ok(all.into_iter().filter(|c| services.contains(&c.service)).collect())
}

/// Replica `index` (1-based) of `service`, one-offs excluded.
pub fn one(all: Vec<ProjectContainer>, project: &str, service: &str, index: u32) -> Result<ProjectContainer> {
    let mine: Vec<ProjectContainer> = all.into_iter().filter(|c| c.service == service && !c.oneoff).collect();
    if mine.is_empty() {
        return Err(no_container(service, project));
    }
    let count = mine.len();
    mine.into_iter().find(|c| c.number == index).ok_or_else(|| OpsError::NoReplica {
        service: service.to_string(),
        project: project.to_string(),
        index,
        count,
    })
}

/// Like [`one`], and it must be running, not paused (`exec`).
pub fn running(all: Vec<ProjectContainer>, project: &str, service: &str, index: u32) -> Result<ProjectContainer> {
    let c = one(all, project, service, index)?;
    if !c.is_running() {
        return Err(OpsError::NotRunning { container: c.name, service: c.service });
    }
    if c.state.paused {
        return Err(OpsError::Paused { container: c.name, service: c.service });
    }
    Ok(c)
}

pub fn no_container(service: &str, project: &str) -> OpsError {
    OpsError::NoContainer { service: service.to_string(), project: project.to_string() }
}

/// Services in start order: a service after every service it depends on (from the
/// `berth.depends-on` labels, so it works without the stack file); as levels, each of which
/// can be handled in parallel. Dependencies outside `containers` are ignored; a cycle (which
/// the loader refuses, so only a hand-edited label could make one) ends up in the last level.
pub fn levels(containers: &[ProjectContainer]) -> Vec<Vec<usize>> {
    let deps = |c: &ProjectContainer| -> Vec<String> {
        c.config
            .labels
            .get(crate::planner::actual::labels::DEPENDS_ON)
            .map(|d| d.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let services: BTreeSet<String> = containers.iter().map(|c| c.service.clone()).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left: Vec<usize> = (0..containers.len()).collect();
    let mut out = Vec::new();
    while !left.is_empty() {
        let ready_services: BTreeSet<String> = left
            .iter()
            .map(|&i| &containers[i])
            .filter(|c| deps(c).iter().all(|d| done.contains(d) || !services.contains(d) || *d == c.service))
            .map(|c| c.service.clone())
            .collect();
        let (now, later): (Vec<usize>, Vec<usize>) = if ready_services.is_empty() {
            (left.clone(), Vec::new())
        } else {
            left.iter().partition(|&&i| ready_services.contains(&containers[i].service))
        };
        done.extend(now.iter().map(|&i| containers[i].service.clone()));
        out.push(now);
        left = later;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::planner::actual::labels;
    use crate::runtime::{ContainerConfig, ContainerState};

    pub(crate) fn container(service: &str, number: u32, deps: &str) -> ProjectContainer {
        let name = format!("demo-{service}-{number}");
        let mut config = ContainerConfig { id: name.clone(), name: name.clone(), ..Default::default() };
        config.labels.insert(labels::DEPENDS_ON.into(), deps.into());
        ProjectContainer {
            id: name.clone(),
            name: name.clone(),
            service: service.into(),
            number,
            oneoff: false,
            state: ContainerState::new(&name, String::new()),
            config,
            record: None,
        }
    }

    #[test]
    fn named_services_must_have_containers() {
        let all = vec![container("web", 1, ""), container("db", 1, "")];
        let got = services(all.clone(), "demo", &["web".into()]).unwrap();
        assert_eq!(got.len(), 1);
        let err = services(all.clone(), "demo", &["cache".into()]).unwrap_err().to_string();
        assert_eq!(err, "no container of service `cache` in project `demo`; run `berth up` first");
        let err = one(all, "demo", "web", 2).unwrap_err().to_string();
        assert_eq!(err, "service `web` has no container number 2 in project `demo` (it has 1)");
    }

    #[test]
    fn levels_follow_depends_on() {
        let all = vec![
            container("web", 1, "api"),
            container("api", 1, "db"),
            container("db", 1, ""),
            container("web", 2, "api"),
        ];
        let names: Vec<Vec<&str>> =
            levels(&all).iter().map(|l| l.iter().map(|&i| all[i].name.as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["demo-db-1"], vec!["demo-api-1"], vec!["demo-web-1", "demo-web-2"]]);
    }
}

#[cfg(test)]
mod id_tests {
    use super::tests::container;
    use crate::reconciler::state::{new_uid, ContainerRecord};

    #[test]
    fn container_ids_come_from_the_record_else_from_name_and_creation() {
        let mut c = container("web", 1, "");
        c.state.created_at = "2026-01-01T00:00:00Z".into();
        let derived = c.container_id();
        assert!(derived.len() == 64 && derived.chars().all(|ch| ch.is_ascii_hexdigit()));
        assert_eq!(c.container_id(), derived, "stable for the container's life");
        let mut recreated = c.clone();
        recreated.state.created_at = "2026-01-01T00:00:05Z".into();
        assert_ne!(recreated.container_id(), derived, "a recreate changes it");
        let uid = new_uid("demo-web-1").unwrap();
        assert_ne!(uid, new_uid("demo-web-1").unwrap());
        c.record = Some(ContainerRecord { uid: uid.clone(), ..Default::default() });
        assert_eq!(c.container_id(), uid);
        // A record written before uids existed still reads, with an empty one.
        let old: ContainerRecord = serde_json::from_str(r#"{"service":"web","number":1,"id":"demo-web-1"}"#).unwrap();
        assert_eq!(old.uid, "");
    }
}
