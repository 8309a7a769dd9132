//! `plan()`: turn the per-container decisions into a DAG of actions.
//!
//! Shape of the DAG for one service S with dependency D:
//! image(S), networks(S), volumes(S) → create(S, n) → start(S, n);
//! start(D, *) → [await D healthy | completed] → start(S, n)   (depends_on, links);
//! start(D, *) → create(S, n)  (network_mode/ipc/pid `service:D`: S joins D's namespaces);
//! create(D, *) → create(S, n) (volumes_from D).
//! Removals (scale down, orphans) wait for nothing.

use std::collections::{BTreeMap, HashMap};

use indexmap::{IndexMap, IndexSet};

use super::action::{Action, ContainerRef, RemoveReason};
use super::actual::{Actual, ContainerStatus, Health};
use super::decide::{image_ref, select, Decider, ServiceSteps, Step};
use super::graph::{EdgeKind, ServiceGraph};
use super::hash::{network_name, volume_name};
use super::plan::{ActionId, Plan};
use super::{PlanError, PlanOptions};
use crate::spec::model::{DependsCondition, MountKind, PullPolicy, Service, Stack};

/// Plan what `up` must do to turn `actual` into `desired`. Pure: no I/O.
pub fn plan(desired: &Stack, actual: &Actual, opts: &PlanOptions) -> Result<Plan, PlanError> {
    if opts.force_recreate && opts.no_recreate {
        return Err(PlanError::ConflictingOptions("--force-recreate", "--no-recreate"));
    }
    if opts.renew_anon_volumes && opts.no_recreate {
        return Err(PlanError::ConflictingOptions("--renew-anon-volumes", "--no-recreate"));
    }
    let graph = ServiceGraph::new(desired)?;
    let selected = select(desired, &graph, opts)?;
    let decisions = Decider::new(desired, actual, &graph, opts).decide_all(&selected)?;
    let mut b = Builder::new(desired, actual, &graph, &selected);
    b.renew_anon_volumes = opts.renew_anon_volumes;
    b.all_resources = opts.all_resources;
    b.no_start = opts.no_start;
    b.prerequisites(&decisions);
    for (name, steps) in &decisions {
        b.service(name, steps);
    }
    b.orphans(opts.remove_orphans);
    Ok(b.plan)
}

/// Only the orphans of `desired`'s project (containers of services no longer in the stack):
/// removed with `remove`, else each a note. For `run SERVICE --remove-orphans`, which starts
/// nothing else it needs not.
pub fn plan_orphans(desired: &Stack, actual: &Actual, remove: bool) -> Result<Plan, PlanError> {
    let graph = ServiceGraph::new(desired)?;
    let none = IndexSet::new();
    let mut b = Builder::new(desired, actual, &graph, &none);
    b.orphans(remove);
    Ok(b.plan)
}

struct Builder<'a> {
    stack: &'a Stack,
    actual: &'a Actual,
    graph: &'a ServiceGraph,
    /// The services acted on (targets and their dependencies).
    selected: &'a IndexSet<String>,
    plan: Plan,
    /// Image action of each service that needs one.
    images: HashMap<String, ActionId>,
    networks: HashMap<String, ActionId>,
    volumes: HashMap<String, ActionId>,
    /// Create/recreate actions per service.
    creates: HashMap<String, Vec<ActionId>>,
    /// Start/restart actions per service: its "ready point" for dependents.
    starts: HashMap<String, Vec<ActionId>>,
    awaits: HashMap<(String, bool), ActionId>,
    /// `up -V`: recreated containers get new anonymous volumes instead of their old ones.
    renew_anon_volumes: bool,
    /// `create` / `up --no-start`: no start, restart or await actions.
    no_start: bool,
    /// `--all-resources`: unused networks and volumes are made too.
    all_resources: bool,
}

impl<'a> Builder<'a> {
    fn new(stack: &'a Stack, actual: &'a Actual, graph: &'a ServiceGraph, selected: &'a IndexSet<String>) -> Self {
        Builder {
            stack,
            actual,
            graph,
            selected,
            plan: Plan::new(&stack.name),
            images: HashMap::new(),
            networks: HashMap::new(),
            volumes: HashMap::new(),
            creates: HashMap::new(),
            starts: HashMap::new(),
            awaits: HashMap::new(),
            renew_anon_volumes: false,
            no_start: false,
            all_resources: false,
        }
    }

    /// Networks, volumes and images needed by the services that create containers, added first
    /// (in declaration order) so they get the lowest ids.
    fn prerequisites(&mut self, decisions: &IndexMap<String, ServiceSteps>) {
        self.firewall_repairs();
        let creating: Vec<(&String, &Service)> = decisions
            .iter()
            .filter(|(_, s)| s.steps.iter().any(|c| matches!(c.step, Step::Create | Step::Recreate(_))))
            .filter_map(|(name, _)| self.stack.services.get_key_value(name))
            .collect();
        let used_nets: IndexSet<&str> =
            creating.iter().flat_map(|(_, s)| s.networks.keys().map(String::as_str)).collect();
        for key in self.stack.networks.keys().map(String::as_str).chain(used_nets.iter().copied()) {
            let external = self.stack.networks.get(key).is_some_and(|n| n.external);
            let name = network_name(self.stack, key);
            let declared = self.all_resources && self.stack.networks.contains_key(key);
            if (used_nets.contains(key) || declared)
                && !external
                && !self.networks.contains_key(key)
                && !self.actual.networks.contains_key(&name)
            {
                let id = self.plan.add(Action::CreateNetwork { key: key.into(), name });
                self.networks.insert(key.into(), id);
            }
        }
        let used_vols: IndexSet<&str> = creating.iter().flat_map(|(_, s)| named_volumes(s)).collect();
        for key in self.stack.volumes.keys().map(String::as_str).chain(used_vols.iter().copied()) {
            let external = self.stack.volumes.get(key).is_some_and(|v| v.external);
            let name = volume_name(self.stack, key);
            let declared = self.all_resources && self.stack.volumes.contains_key(key);
            if (used_vols.contains(key) || declared)
                && !external
                && !self.volumes.contains_key(key)
                && !self.actual.volumes.contains_key(&name)
            {
                let id = self.plan.add(Action::CreateVolume { key: key.into(), name });
                self.volumes.insert(key.into(), id);
            }
        }
        let mut pulls: HashMap<String, ActionId> = HashMap::new();
        for (name, service) in creating {
            if let Some(id) = self.image_action(name, service, &mut pulls) {
                self.images.insert(name.clone(), id);
            }
        }
    }

    /// Existing networks of the project whose firewall rules drifted get them back, whatever
    /// the selected services: isolation is the network's, not a service's. A container created
    /// on such a network waits for its repair, as it would for the network's creation.
    fn firewall_repairs(&mut self) {
        let keys: IndexSet<&str> = self
            .stack
            .networks
            .keys()
            .map(String::as_str)
            .chain(self.stack.services.values().flat_map(|s| s.networks.keys().map(String::as_str)))
            .collect();
        for (name, drift) in &self.actual.firewall_drift {
            let owned = self.actual.networks.get(name).is_some_and(|n| !n.external);
            if !owned || (drift.missing.is_empty() && !drift.misordered) {
                continue;
            }
            let id = self.plan.add(Action::RepairFirewall {
                name: name.clone(),
                missing: drift.missing.clone(),
                misordered: drift.misordered,
            });
            for key in keys.iter().filter(|k| network_name(self.stack, k) == *name) {
                self.networks.insert((*key).to_string(), id);
            }
        }
    }

    /// Pull (deduplicated by reference) or build, following `pull_policy`.
    fn image_action(
        &mut self,
        name: &str,
        service: &Service,
        pulls: &mut HashMap<String, ActionId>,
    ) -> Option<ActionId> {
        let image = image_ref(self.stack, name, service);
        let present = self.actual.image_id(&image).is_some();
        let build = service.build.is_some();
        let action = match service.pull_policy {
            Some(PullPolicy::Never) => return None,
            Some(PullPolicy::Build) if build => Action::BuildImage { service: name.into(), image },
            Some(PullPolicy::Always) => Action::EnsureImage { image, services: vec![name.into()] },
            _ if present => return None,
            _ if build => Action::BuildImage { service: name.into(), image },
            _ => Action::EnsureImage { image, services: vec![name.into()] },
        };
        if let Action::EnsureImage { image, .. } = &action {
            if let Some(id) = pulls.get(image) {
                if let Action::EnsureImage { services, .. } = self.plan.action_mut(*id) {
                    services.push(name.into());
                }
                return Some(*id);
            }
            let image = image.clone();
            let id = self.plan.add(action);
            pulls.insert(image, id);
            return Some(id);
        }
        Some(self.plan.add(action))
    }

    /// The container actions of one service, wired to its prerequisites and dependencies.
    fn service(&mut self, name: &str, steps: &ServiceSteps) {
        let Some(service) = self.stack.services.get(name) else { return };
        let image = image_ref(self.stack, name, service);
        for cs in &steps.steps {
            let container = cs.container.clone();
            match &cs.step {
                Step::Create | Step::Recreate(_) => {
                    let config_hash = steps.config_hash.clone();
                    let action = match &cs.step {
                        Step::Recreate(changed) => {
                            let old = cs.replaces.as_deref().unwrap_or(&container.name);
                            let (inherit_volumes, renew_volumes) = self.anon_volumes(old);
                            Action::RecreateContainer {
                                container: container.clone(),
                                replaces: cs.replaces.clone(),
                                image: image.clone(),
                                config_hash,
                                changed: changed.clone(),
                                inherit_volumes,
                                renew_volumes,
                            }
                        }
                        _ => {
                            Action::CreateContainer { container: container.clone(), image: image.clone(), config_hash }
                        }
                    };
                    let create = self.plan.add(action);
                    self.wire_create(name, service, create);
                    if self.no_start {
                        continue;
                    }
                    let start = self.plan.add(Action::StartContainer { container });
                    self.plan.order_after(create, start);
                    self.starts.entry(name.into()).or_default().push(start);
                }
                Step::Start | Step::Restart(_) if self.no_start => {}
                Step::Start => self.add_start(name, Action::StartContainer { container }),
                Step::Restart(cause) => {
                    self.add_start(name, Action::RestartContainer { container, cause: cause.clone() })
                }
                Step::Remove(reason) => {
                    self.plan.add(Action::RemoveContainer { container, reason: *reason });
                }
            }
        }
        self.wire_starts(name);
    }

    /// What a recreate does with the old container's anonymous volumes: hand them to the new
    /// one (inherit), or with `-V` remove them with it (renew).
    fn anon_volumes(&self, old_name: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let old = self
            .actual
            .project_containers(&self.stack.name)
            .find(|c| c.name == old_name)
            .map(|c| c.anon_volumes.clone())
            .unwrap_or_default();
        if self.renew_anon_volumes {
            (BTreeMap::new(), old)
        } else {
            (old, BTreeMap::new())
        }
    }

    fn add_start(&mut self, name: &str, action: Action) {
        let id = self.plan.add(action);
        self.starts.entry(name.into()).or_default().push(id);
    }

    /// A create waits for its image, networks, volumes, and the containers whose namespaces
    /// or volumes it takes.
    fn wire_create(&mut self, name: &str, service: &Service, create: ActionId) {
        let mut before: Vec<ActionId> = self.images.get(name).copied().into_iter().collect();
        before.extend(service.networks.keys().filter_map(|k| self.networks.get(k).copied()));
        before.extend(named_volumes(service).filter_map(|k| self.volumes.get(k).copied()));
        for e in self.graph.dependencies(name) {
            match e.kind {
                // With no starts (`create`), the dependency's sandbox made by its create is
                // what a `network_mode: service:` container joins.
                EdgeKind::NetworkMode | EdgeKind::Namespace if self.no_start => {
                    before.extend(self.creates.get(&e.dependency).into_iter().flatten())
                }
                EdgeKind::NetworkMode | EdgeKind::Namespace => {
                    before.extend(self.starts.get(&e.dependency).into_iter().flatten())
                }
                EdgeKind::VolumesFrom => before.extend(self.creates.get(&e.dependency).into_iter().flatten()),
                _ => {}
            }
        }
        for b in before {
            self.plan.order_after(b, create);
        }
        self.creates.entry(name.into()).or_default().push(create);
    }

    /// Every start of `name` waits for its dependencies' conditions.
    fn wire_starts(&mut self, name: &str) {
        let starts = self.starts.get(name).cloned().unwrap_or_default();
        if starts.is_empty() {
            return;
        }
        for e in self.graph.dependencies(name) {
            let gate = match e.kind {
                EdgeKind::DependsOn { condition, .. } => self.gate(&e.dependency, condition),
                EdgeKind::Link => self.gate(&e.dependency, DependsCondition::ServiceStarted),
                _ => Vec::new(),
            };
            for g in gate {
                for s in &starts {
                    self.plan.order_after(g, *s);
                }
            }
        }
    }

    /// What a dependent's start waits for so that `condition` holds for `dep`.
    fn gate(&mut self, dep: &str, condition: DependsCondition) -> Vec<ActionId> {
        let dep_starts = self.starts.get(dep).cloned().unwrap_or_default();
        let healthy = match condition {
            DependsCondition::ServiceStarted => return dep_starts,
            DependsCondition::ServiceHealthy => true,
            DependsCondition::ServiceCompletedSuccessfully => false,
        };
        // A dependency left out on purpose (`--no-deps`) is not waited for, as in Compose.
        if dep_starts.is_empty() && (!self.selected.contains(dep) || self.condition_holds(dep, healthy)) {
            return Vec::new();
        }
        if let Some(id) = self.awaits.get(&(dep.to_string(), healthy)) {
            return vec![*id];
        }
        let service = dep.to_string();
        let id =
            self.plan.add(if healthy { Action::AwaitHealthy { service } } else { Action::AwaitCompleted { service } });
        for s in dep_starts {
            self.plan.order_after(s, id);
        }
        self.awaits.insert((dep.to_string(), healthy), id);
        vec![id]
    }

    /// Whether the existing containers of `dep` already satisfy the condition.
    fn condition_holds(&self, dep: &str, healthy: bool) -> bool {
        let mut containers = self.actual.project_containers(&self.stack.name).filter(|c| c.service == dep).peekable();
        containers.peek().is_some()
            && containers.all(|c| match healthy {
                true => c.status.is_running() && c.health.is_none_or(|h| h == Health::Healthy),
                false => c.status == ContainerStatus::Exited(0),
            })
    }

    /// Containers of this project whose service is gone: removed with `--remove-orphans`,
    /// otherwise reported.
    fn orphans(&mut self, remove: bool) {
        let mut orphans: Vec<_> = self
            .actual
            .project_containers(&self.stack.name)
            .filter(|c| !self.stack.services.contains_key(&c.service))
            .collect();
        orphans.sort_by(|a, b| a.name.cmp(&b.name));
        for c in orphans {
            let container = ContainerRef { service: c.service.clone(), number: c.number, name: c.name.clone() };
            if remove {
                self.plan.add(Action::RemoveContainer { container, reason: RemoveReason::Orphan });
            } else {
                let msg = format!("service `{}` is not in the stack; --remove-orphans removes it", c.service);
                self.plan.note(c.name.clone(), msg);
            }
        }
    }
}

/// The keys of the top-level volumes a service mounts.
fn named_volumes(service: &Service) -> impl Iterator<Item = &str> {
    service.volumes.iter().filter(|v| v.kind == MountKind::Volume).filter_map(|v| v.source.as_deref())
}
