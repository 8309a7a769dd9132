//! `down`: remove everything of a project, working from the observed state alone (the stack
//! file may have changed or be gone). Dependents stop before what they depend on (the
//! dependencies recorded on each container); networks, and volumes with `-v`, go last.

use std::collections::HashMap;

use super::action::{Action, ContainerRef, RemoveReason};
use super::actual::Actual;
use super::plan::{ActionId, Plan};

/// Options of `down`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownOptions {
    /// Also remove the project's (non-external) volumes (`down -v`).
    pub volumes: bool,
}

/// Plan the removal of every container, network (and, with `volumes`, volume) of `project`.
pub fn plan_down(project: &str, actual: &Actual, opts: &DownOptions) -> Plan {
    let mut plan = Plan::new(project);
    let mut containers: Vec<_> = actual.project_containers(project).collect();
    containers.sort_by(|a, b| (&a.service, a.number).cmp(&(&b.service, b.number)));
    let mut stops: HashMap<&str, Vec<ActionId>> = HashMap::new();
    let mut removes = Vec::new();
    for c in &containers {
        let container = ContainerRef { service: c.service.clone(), number: c.number, name: c.name.clone() };
        let stop = plan.add(Action::StopContainer { container: container.clone() });
        let remove = plan.add(Action::RemoveContainer { container, reason: RemoveReason::Down });
        plan.order_after(stop, remove);
        stops.entry(c.service.as_str()).or_default().push(stop);
        removes.push(remove);
    }
    // A dependency stops only after everything that depends on it has stopped.
    for c in &containers {
        let Some(mine) = stops.get(c.service.as_str()).cloned() else { continue };
        for dep in c.depends_on.iter().filter(|d| **d != c.service) {
            for theirs in stops.get(dep.as_str()).into_iter().flatten() {
                for m in &mine {
                    plan.order_after_if_acyclic(*m, *theirs);
                }
            }
        }
    }
    let owned = |p: &Option<String>, external: bool| p.as_deref() == Some(project) && !external;
    let mut last = Vec::new();
    for n in actual.networks.values().filter(|n| owned(&n.project, n.external)) {
        last.push(plan.add(Action::RemoveNetwork { name: n.name.clone() }));
    }
    if opts.volumes {
        for v in actual.volumes.values().filter(|v| owned(&v.project, v.external)) {
            last.push(plan.add(Action::RemoveVolume { name: v.name.clone() }));
        }
    }
    for l in last {
        for r in &removes {
            plan.order_after(*r, l);
        }
    }
    plan
}
