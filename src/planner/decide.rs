//! Per-container decisions: compare each desired container with what exists and pick one step
//! (create, recreate, start, restart, remove, or nothing). Wiring the steps into a DAG is
//! [`super::build`]'s job.

use std::collections::{BTreeMap, HashSet};

use indexmap::{IndexMap, IndexSet};

use super::action::{ContainerRef, RemoveReason};
use super::actual::{Actual, ContainerState, ContainerStatus};
use super::graph::{EdgeKind, ServiceGraph};
use super::hash::{changed_fields, hash_value, normalized_config};
use super::{PlanError, PlanOptions};
use crate::spec::model::{DependsCondition, Service, Stack};

/// What happens to one container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Create,
    /// With the changed top-level fields (or the reason).
    Recreate(Vec<String>),
    Start,
    /// With the cause (`db recreated`).
    Restart(String),
    Remove(RemoveReason),
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerStep {
    /// The container acted on: the existing one, or for a create or recreate the new one.
    pub container: ContainerRef,
    pub step: Step,
    /// A recreate whose new container is named otherwise (`container_name:` changed): the
    /// existing container it replaces.
    pub replaces: Option<String>,
}

/// The decisions for one service, and the hash its new containers get.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSteps {
    pub config_hash: String,
    pub steps: Vec<ContainerStep>,
}

impl ServiceSteps {
    fn bounced(&self) -> Option<&'static str> {
        if self.steps.iter().any(|s| matches!(s.step, Step::Recreate(_))) {
            Some("recreated")
        } else if self.steps.iter().any(|s| matches!(s.step, Step::Restart(_))) {
            Some("restarted")
        } else {
            None
        }
    }
}

/// Everything the decisions look at, gathered once.
pub(crate) struct Decider<'a> {
    pub stack: &'a Stack,
    pub actual: &'a Actual,
    pub graph: &'a ServiceGraph,
    pub opts: &'a PlanOptions,
    /// Existing containers of the project by service, then replica number.
    pub existing: IndexMap<&'a str, BTreeMap<u32, &'a ContainerState>>,
}

impl<'a> Decider<'a> {
    pub fn new(stack: &'a Stack, actual: &'a Actual, graph: &'a ServiceGraph, opts: &'a PlanOptions) -> Self {
        let mut existing: IndexMap<&str, BTreeMap<u32, &ContainerState>> = IndexMap::new();
        for c in actual.project_containers(&stack.name) {
            existing.entry(c.service.as_str()).or_default().insert(c.number, c);
        }
        Decider { stack, actual, graph, opts, existing }
    }

    /// Decide every service, in dependency order, so cascades see their dependencies' steps.
    /// Services outside `selected` are only touched by cascades.
    pub fn decide_all(&self, selected: &IndexSet<String>) -> Result<IndexMap<String, ServiceSteps>, PlanError> {
        let mut out: IndexMap<String, ServiceSteps> = IndexMap::new();
        for name in self.graph.order() {
            let Some(service) = self.stack.services.get(name) else { continue };
            let config = normalized_config(service, self.stack);
            let hash = hash_value(&config);
            let cascade = self.cascade(name, &out);
            let steps = if selected.contains(name) {
                self.decide_service(name, service, &config, &hash, &cascade)?
            } else {
                self.cascade_only(name, &cascade)
            };
            if !steps.is_empty() {
                out.insert(name.clone(), ServiceSteps { config_hash: hash, steps });
            }
        }
        Ok(out)
    }

    fn decide_service(
        &self,
        name: &str,
        service: &Service,
        config: &serde_json::Value,
        hash: &str,
        cascade: &Cascade,
    ) -> Result<Vec<ContainerStep>, PlanError> {
        let replicas = self.opts.scale.get(name).copied().unwrap_or_else(|| service.replicas());
        if let (Some(cn), true) = (&service.container_name, replicas > 1) {
            return Err(PlanError::ContainerNameScaled { service: name.into(), name: cn.clone(), replicas });
        }
        let existing = self.existing.get(name);
        let mut steps = Vec::new();
        for n in 1..=replicas {
            let wanted = container_name(self.stack, name, service, n);
            let Some(c) = existing.and_then(|e| e.get(&n)) else {
                let container = ContainerRef { service: name.into(), number: n, name: wanted };
                steps.push(ContainerStep { container, step: Step::Create, replaces: None });
                continue;
            };
            let Some(step) = self.decide_existing(name, service, c, config, hash, cascade) else { continue };
            // An existing container keeps its name until it is recreated.
            let (name_now, replaces) = match step {
                Step::Recreate(_) if c.name != wanted => (wanted, Some(c.name.clone())),
                Step::Recreate(_) => (wanted, None),
                _ => (c.name.clone(), None),
            };
            let container = ContainerRef { service: name.into(), number: n, name: name_now };
            steps.push(ContainerStep { container, step, replaces });
        }
        for (n, c) in existing.into_iter().flatten().filter(|(n, _)| **n > replicas) {
            let container = ContainerRef { service: name.into(), number: *n, name: c.name.clone() };
            steps.push(ContainerStep { container, step: Step::Remove(RemoveReason::ScaleDown), replaces: None });
        }
        Ok(steps)
    }

    /// One existing container of a selected service.
    fn decide_existing(
        &self,
        name: &str,
        service: &Service,
        c: &ContainerState,
        config: &serde_json::Value,
        hash: &str,
        cascade: &Cascade,
    ) -> Option<Step> {
        if c.status == ContainerStatus::Dead {
            return Some(Step::Recreate(vec!["container is dead".into()]));
        }
        let target = self.opts.services.is_empty() || self.opts.services.iter().any(|s| s == name);
        if self.opts.force_recreate && target {
            return Some(Step::Recreate(vec!["--force-recreate".into()]));
        }
        if self.opts.always_recreate_deps && !target {
            return Some(Step::Recreate(vec!["--always-recreate-deps".into()]));
        }
        if self.opts.renew_anon_volumes {
            return Some(Step::Recreate(vec!["--renew-anon-volumes".into()]));
        }
        if !self.opts.no_recreate {
            if c.config_hash != hash {
                let changed = c.config.as_ref().map(|old| changed_fields(old, config)).unwrap_or_default();
                let changed = if changed.is_empty() { vec!["config changed".into()] } else { changed };
                return Some(Step::Recreate(changed));
            }
            if self.image_changed(name, service, c) {
                return Some(Step::Recreate(vec!["image".into()]));
            }
            if let Some(reason) = &cascade.recreate {
                return Some(Step::Recreate(vec![reason.clone()]));
            }
        }
        if !c.status.is_running() {
            return (!self.completed_dependency(name, c)).then_some(Step::Start);
        }
        cascade.restart.clone().map(Step::Restart)
    }

    /// A service outside the selection: running containers follow cascades only.
    fn cascade_only(&self, name: &str, cascade: &Cascade) -> Vec<ContainerStep> {
        let step = match (&cascade.recreate, &cascade.restart) {
            (Some(r), _) if !self.opts.no_recreate => Step::Recreate(vec![r.clone()]),
            (_, Some(r)) => Step::Restart(r.clone()),
            _ => return Vec::new(),
        };
        let running = self.existing.get(name).into_iter().flatten().filter(|(_, c)| c.status.is_running());
        running
            .map(|(n, c)| ContainerStep {
                container: ContainerRef { service: name.into(), number: *n, name: c.name.clone() },
                step: step.clone(),
                replaces: None,
            })
            .collect()
    }

    /// Compose's cascade: a dependent sharing the network namespace of a recreated service
    /// must be recreated (the namespace is gone); one with `depends_on: {X: {restart: true}}`
    /// is restarted when X was recreated or restarted.
    fn cascade(&self, name: &str, done: &IndexMap<String, ServiceSteps>) -> Cascade {
        let mut c = Cascade::default();
        for e in self.graph.dependencies(name) {
            let Some(how) = done.get(&e.dependency).and_then(ServiceSteps::bounced) else { continue };
            match e.kind {
                EdgeKind::NetworkMode | EdgeKind::Namespace if how == "recreated" => {
                    c.recreate.get_or_insert_with(|| format!("{} recreated", e.dependency));
                }
                EdgeKind::DependsOn { restart: true, .. } => {
                    c.restart.get_or_insert_with(|| format!("{} {how}", e.dependency));
                }
                _ => {}
            }
        }
        c
    }

    /// The image was re-pulled or rebuilt since the container was created.
    fn image_changed(&self, name: &str, service: &Service, c: &ContainerState) -> bool {
        let image = image_ref(self.stack, name, service);
        match (c.image_id.as_deref(), self.actual.image_id(&image)) {
            (Some(had), Some(now)) => had != now,
            _ => false,
        }
    }

    /// An exited-0 container of a service some other service waits on with
    /// `service_completed_successfully` has done its job: `up` leaves it alone.
    fn completed_dependency(&self, name: &str, c: &ContainerState) -> bool {
        c.status == ContainerStatus::Exited(0)
            && self.graph.dependents(name).any(|(_, k)| {
                matches!(k, EdgeKind::DependsOn { condition: DependsCondition::ServiceCompletedSuccessfully, .. })
            })
    }
}

#[derive(Debug, Default)]
struct Cascade {
    recreate: Option<String>,
    restart: Option<String>,
}

/// `container_name`, else `<project>-<service>-<n>` (`_` in compatibility mode).
pub(crate) fn container_name(stack: &Stack, name: &str, service: &Service, n: u32) -> String {
    let s = stack.separator();
    match &service.container_name {
        Some(cn) => cn.clone(),
        None => format!("{}{s}{name}{s}{n}", stack.name),
    }
}

/// The image a service runs: [`Stack::service_image`].
pub(crate) fn image_ref(stack: &Stack, name: &str, service: &Service) -> String {
    stack.service_image(name, service)
}

/// The services to act on: all, or the targets plus their dependencies (unless `no_deps`).
pub(crate) fn select(stack: &Stack, graph: &ServiceGraph, opts: &PlanOptions) -> Result<IndexSet<String>, PlanError> {
    let unknown = opts.services.iter().chain(opts.scale.keys()).find(|s| !stack.services.contains_key(*s));
    if let Some(s) = unknown {
        return Err(PlanError::UnknownService(s.clone()));
    }
    if opts.services.is_empty() {
        return Ok(graph.order().iter().cloned().collect());
    }
    if opts.no_deps {
        let wanted: HashSet<&String> = opts.services.iter().collect();
        return Ok(graph.order().iter().filter(|s| wanted.contains(s)).cloned().collect());
    }
    Ok(graph.with_dependencies(stack, &opts.services))
}
