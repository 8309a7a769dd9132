//! Observe: what exists for a project right now, read from the runtime's container records
//! (filtered by the project label), the project state dir, the image store and the network and
//! volume layers, as a [`planner::Actual`]. Level-triggered: `up` plans from this, never from a
//! remembered plan, so a crash at any point followed by another `up` converges.

use indexmap::IndexMap;

use super::error::Result;
use super::layers;
use super::state::{ContainerRecord, HealthStatus, PortRecord, ProjectDir};
use crate::image::ImageStore;
use crate::paths::Roots;
use crate::planner::actual::labels;
use crate::planner::{self, ContainerStatus, Health, ImageState};
use crate::runtime::{ContainerConfig, Runtime, Status};

/// One container of a project, as the ops commands (`ps`, `logs`, `exec`, …) need it.
#[derive(Debug, Clone)]
pub struct ProjectContainer {
    /// The runtime's id (pass it to `Runtime::*`).
    pub id: String,
    pub name: String,
    pub service: String,
    /// Replica number, 1-based.
    pub number: u32,
    /// A one-off container (`berth run SERVICE`), not part of the stack's desired state.
    pub oneoff: bool,
    /// The runtime's record: status, pids, times.
    pub state: crate::runtime::ContainerState,
    /// What the container was created with (labels, command, …).
    pub config: ContainerConfig,
    /// berth's record (health, restarts, ports); None for a container without one.
    pub record: Option<ContainerRecord>,
}

impl ProjectContainer {
    pub fn health(&self) -> HealthStatus {
        self.record.as_ref().map(|r| r.health).unwrap_or_default()
    }

    pub fn restart_count(&self) -> u32 {
        self.record.as_ref().map(|r| r.restart_count).unwrap_or(0)
    }

    pub fn ports(&self) -> &[PortRecord] {
        self.record.as_ref().map(|r| r.ports.as_slice()).unwrap_or(&[])
    }

    pub fn is_running(&self) -> bool {
        self.state.is_running()
    }

    /// The container's unique id (64 hex digits), as `ps -q` prints it: the uid its record
    /// got at create; for a container without one (a one-off, or a record from before berth
    /// kept uids) a hash of its name and creation time, which is as stable as the container
    /// and changes when it is recreated.
    pub fn container_id(&self) -> String {
        if let Some(uid) = self.record.as_ref().map(|r| &r.uid).filter(|u| !u.is_empty()) {
            return uid.clone();
        }
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}\n{}", self.name, self.state.created_at));
        hex::encode(digest)
    }

    /// The status as `ps` shows it: `created`, `running`, `restarting`, `exited (3)`.
    pub fn status_text(&self) -> String {
        match (&self.state.status, &self.record) {
            (Status::Running, _) => "running".into(),
            (Status::Created, _) => "created".into(),
            (Status::Exited { code, .. }, Some(r)) if restarting(r, *code) => "restarting".into(),
            (Status::Exited { code, .. }, _) => format!("exited ({code})"),
        }
    }
}

/// An exited container the restart policy will start again (not stopped on purpose, not given up).
fn restarting(r: &ContainerRecord, code: i32) -> bool {
    super::restart::decide(r, code) == super::restart::Decision::Restart
}

/// Every container labelled with `project` (one-offs included), sorted by service and number.
pub fn project_containers(roots: &Roots, project: &str) -> Result<Vec<ProjectContainer>> {
    let rt = Runtime::new(roots);
    let pd = ProjectDir::new(roots, project);
    let records = pd.records()?;
    let mut out = Vec::new();
    for state in rt.list()? {
        // A container removed between list and config: skip it.
        let Ok(config) = rt.config(&state.id) else { continue };
        if config.labels.get(labels::PROJECT).map(String::as_str) != Some(project) {
            continue;
        }
        let service = config.labels.get(labels::SERVICE).cloned().unwrap_or_default();
        let number = config.labels.get(labels::NUMBER).and_then(|n| n.parse().ok()).unwrap_or(1);
        let oneoff = config.labels.contains_key(crate::planner::actual::labels::ONEOFF);
        let record = records.get(&config.name).cloned();
        out.push(ProjectContainer {
            id: state.id.clone(),
            name: config.name.clone(),
            service,
            number,
            oneoff,
            state,
            config,
            record,
        });
    }
    out.sort_by(|a, b| (a.oneoff, &a.service, a.number, &a.name).cmp(&(b.oneoff, &b.service, b.number, &b.name)));
    Ok(out)
}

/// The observed state of `project` for the planner, firewall rules included (one
/// `iptables-save` when the project has networks).
pub fn observe(roots: &Roots, project: &str) -> Result<planner::Actual> {
    let mut actual = observe_without_firewall(roots, project)?;
    if !actual.networks.is_empty() {
        actual.firewall_drift = firewall_drift(roots, project);
    }
    Ok(actual)
}

/// The project's networks whose firewall rules drifted. Rules that cannot be read (no root,
/// a broken iptables) read as no drift, with a warning: `plan` still plans, and `up` installs
/// through the same iptables, which then reports the real problem.
fn firewall_drift(roots: &Roots, project: &str) -> IndexMap<String, planner::FirewallDrift> {
    layers::firewall_drift(roots, project).unwrap_or_else(|e| {
        tracing::warn!(project, error = %e, "cannot check the firewall rules of the project's networks");
        IndexMap::new()
    })
}

/// [`observe`] without reading the firewall rules (`down` removes them whatever their state).
pub fn observe_without_firewall(roots: &Roots, project: &str) -> Result<planner::Actual> {
    let listed: Vec<ProjectContainer> = project_containers(roots, project)?.into_iter().filter(|c| !c.oneoff).collect();
    let mut anon =
        layers::anonymous_volumes(roots, project, listed.iter().map(|c| (c.id.as_str(), &c.config.mounts[..])))?;
    let containers = listed
        .into_iter()
        .map(|c| {
            let vols = anon.remove(&c.id).unwrap_or_default();
            let mut state = to_planner(project, c);
            state.anon_volumes = vols.into_iter().collect();
            state
        })
        .collect();
    let mut networks = IndexMap::new();
    for n in layers::list_networks(roots, project)? {
        networks.insert(n.name.clone(), n);
    }
    let mut volumes = IndexMap::new();
    for v in layers::list_volumes(roots, project)? {
        volumes.insert(v.name.clone(), v);
    }
    Ok(planner::Actual { containers, networks, volumes, images: images(roots), firewall_drift: IndexMap::new() })
}

fn to_planner(project: &str, c: ProjectContainer) -> planner::ContainerState {
    let status = match (&c.state.status, &c.record) {
        (Status::Created, _) => ContainerStatus::Created,
        (Status::Running, _) => ContainerStatus::Running,
        (Status::Exited { code, .. }, Some(r)) if restarting(r, *code) => ContainerStatus::Restarting,
        (Status::Exited { code, .. }, _) => ContainerStatus::Exited(*code),
    };
    let health = match c.health() {
        HealthStatus::None => None,
        HealthStatus::Starting => Some(Health::Starting),
        HealthStatus::Healthy => Some(Health::Healthy),
        HealthStatus::Unhealthy => Some(Health::Unhealthy),
    };
    let l = &c.config.labels;
    let depends_on = l
        .get(labels::DEPENDS_ON)
        .map(|d| d.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    planner::ContainerState {
        name: c.name.clone(),
        project: project.to_string(),
        service: c.service.clone(),
        number: c.number,
        config_hash: l.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
        config: c.record.as_ref().and_then(|r| r.config.clone()),
        status,
        health,
        image_id: l.get(crate::planner::actual::labels::IMAGE).cloned(),
        depends_on,
        labels: l.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        anon_volumes: Default::default(),
    }
}

/// The images of the local store (an unreadable store reads as empty: the plan then asks for
/// the images, and resolving them reports the real problem).
fn images(roots: &Roots) -> Vec<ImageState> {
    let Ok(store) = ImageStore::open(roots) else { return Vec::new() };
    store
        .list()
        .map(|l| l.into_iter().map(|i| ImageState { references: reference_forms(&i), id: i.id }).collect())
        .unwrap_or_default()
}

/// Every way a stack file may name an image of the store, for the planner's plain comparison:
/// each tag short and in full (`busybox:latest`, `docker.io/library/busybox:latest`), and
/// pinned to each of its manifest digests, with and without the tag (what `config
/// --resolve-image-digests` writes).
fn reference_forms(i: &crate::image::ImageSummary) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for written in &i.references {
        let Ok(r) = crate::image::Reference::parse(written) else {
            push(written.clone());
            continue;
        };
        push(r.familiar());
        push(r.to_string());
        for d in &i.manifest_digests {
            for tag in [r.tag.clone(), None] {
                let pinned = crate::image::Reference { tag, digest: Some(d.clone()), ..r.clone() };
                push(pinned.familiar());
                push(pinned.to_string());
            }
        }
    }
    out
}

/// Every project known under `roots`: with a state dir or with a labelled container.
pub fn list_projects(roots: &Roots) -> Result<Vec<String>> {
    let mut names = super::state::list_projects(roots)?;
    let rt = Runtime::new(roots);
    for st in rt.list()? {
        if let Some(p) = rt.config(&st.id).ok().and_then(|c| c.labels.get(labels::PROJECT).cloned()) {
            if !names.contains(&p) {
                names.push(p);
            }
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_image_answers_to_its_tags_in_full_and_pinned() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let i = crate::image::ImageSummary {
            id: "sha256:1".into(),
            references: vec!["busybox:latest".into()],
            created: None,
            imported: None,
            size: 0,
            layers: vec![],
            manifest_digests: vec![d.clone()],
        };
        let forms = super::reference_forms(&i);
        for want in [
            "busybox:latest".to_string(),
            "docker.io/library/busybox:latest".into(),
            format!("busybox:latest@{d}"),
            format!("docker.io/library/busybox:latest@{d}"),
            format!("busybox@{d}"),
        ] {
            assert!(forms.contains(&want), "{want} in {forms:?}");
        }
    }
}
