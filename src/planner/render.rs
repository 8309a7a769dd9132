//! Rendering a plan: a readable diff (the form golden tests compare) and JSON.
//!
//! Text: one line per action, in level order, as `SIGN VERB TARGET (DETAIL)`:
//! `+` creates, `~` changes in place (recreate, restart, firewall repair), `>` starts, `=` waits, `-` removes,
//! `!` notes (orphans left in place). A start right after its own create or recreate is
//! implied and not printed; so is the stop before a remove.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::action::{Action, ContainerRef, RemoveReason};
use super::plan::{ActionId, Note, Plan};

/// What `berth plan` prints when there is nothing to do.
pub const NOTHING_TO_DO: &str = "nothing to do: the stack is up to date";

/// The plan as a diff, one line per action, ending with a newline.
pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    let implied = implied(plan);
    for id in plan.order() {
        if implied.contains(&id) {
            continue;
        }
        let (sign, verb, detail) = describe(plan.action(id));
        line(&mut out, sign, verb, plan.action(id).target(), &detail);
    }
    for Note { target, message } in plan.notes() {
        line(&mut out, '!', "orphan", target, message);
    }
    if plan.is_empty() {
        out.push_str(NOTHING_TO_DO);
        out.push('\n');
    }
    out
}

/// The levels, one line each (`0: + network demo_default, …`), for tests and `--verbose`.
pub fn render_levels(plan: &Plan) -> String {
    let mut out = String::new();
    for (n, ids) in plan.levels().iter().enumerate() {
        let items: Vec<String> = ids
            .iter()
            .map(|id| {
                let a = plan.action(*id);
                format!("{} {}", describe(a).1, a.target())
            })
            .collect();
        let _ = writeln!(out, "{n}: {}", items.join(", "));
    }
    out
}

fn line(out: &mut String, sign: char, verb: &str, target: &str, detail: &str) {
    let text = if detail.is_empty() {
        format!("{sign} {verb:<8} {target}")
    } else {
        format!("{sign} {verb:<8} {target:<16} ({detail})")
    };
    out.push_str(text.trim_end());
    out.push('\n');
}

/// Starts that follow their own create/recreate, and stops that precede their own remove.
fn implied(plan: &Plan) -> HashSet<ActionId> {
    let mut made: HashSet<&ContainerRef> = HashSet::new();
    let mut removed: HashSet<&ContainerRef> = HashSet::new();
    for id in plan.ids() {
        match plan.action(id) {
            Action::CreateContainer { container, .. } | Action::RecreateContainer { container, .. } => {
                made.insert(container);
            }
            Action::RemoveContainer { container, .. } => {
                removed.insert(container);
            }
            _ => {}
        }
    }
    plan.ids()
        .filter(|id| match plan.action(*id) {
            Action::StartContainer { container } => made.contains(container),
            Action::StopContainer { container } => removed.contains(container),
            _ => false,
        })
        .collect()
}

/// Sign, verb and detail of one action.
fn describe(action: &Action) -> (char, &'static str, String) {
    match action {
        Action::EnsureImage { services, .. } => ('+', "pull", services.join(", ")),
        Action::BuildImage { service, .. } => ('+', "build", format!("service {service}")),
        Action::CreateNetwork { .. } => ('+', "network", String::new()),
        Action::CreateVolume { .. } => ('+', "volume", String::new()),
        Action::RepairFirewall { missing, misordered, .. } => {
            ('~', "network", firewall_detail(missing.len(), *misordered))
        }
        Action::CreateContainer { image, .. } => ('+', "create", format!("image {image}")),
        Action::RecreateContainer { changed, replaces, inherit_volumes, renew_volumes, .. } => {
            let mut detail = changed.join(", ");
            if let Some(old) = replaces {
                detail.push_str(&format!("; replaces {old}"));
            }
            let targets =
                |m: &std::collections::BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>().join(", ");
            if !inherit_volumes.is_empty() {
                detail.push_str(&format!("; keeps anonymous volumes at {}", targets(inherit_volumes)));
            }
            if !renew_volumes.is_empty() {
                detail.push_str(&format!("; new anonymous volumes at {}", targets(renew_volumes)));
            }
            ('~', "recreate", detail)
        }
        Action::StartContainer { .. } => ('>', "start", String::new()),
        Action::RestartContainer { cause, .. } => ('~', "restart", cause.clone()),
        Action::AwaitHealthy { .. } => ('=', "wait", "healthy".into()),
        Action::AwaitCompleted { .. } => ('=', "wait", "completed".into()),
        Action::StopContainer { .. } => ('-', "stop", String::new()),
        Action::RemoveContainer { reason, .. } => {
            let why = match reason {
                RemoveReason::Orphan => "orphan",
                RemoveReason::ScaleDown => "scale down",
                RemoveReason::Down => "",
            };
            ('-', "remove", why.into())
        }
        Action::RemoveNetwork { .. } => ('-', "network", String::new()),
        Action::RemoveVolume { .. } => ('-', "volume", String::new()),
    }
}

/// `restore firewall rules (3 missing)`, `(1 missing, out of order)`.
fn firewall_detail(missing: usize, misordered: bool) -> String {
    let what = match (missing, misordered) {
        (0, _) => "out of order".to_string(),
        (n, false) => format!("{n} missing"),
        (n, true) => format!("{n} missing, out of order"),
    };
    format!("restore firewall rules: {what}")
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    project: &'a str,
    actions: Vec<JsonAction<'a>>,
    levels: Vec<Vec<ActionId>>,
    notes: &'a [Note],
}

#[derive(Serialize)]
struct JsonAction<'a> {
    id: ActionId,
    level: usize,
    target: &'a str,
    depends_on: Vec<ActionId>,
    #[serde(flatten)]
    action: &'a Action,
}

/// The plan as pretty JSON: every action with its kind, target, fields, dependencies and
/// level, plus the levels and the notes.
pub fn render_json(plan: &Plan) -> Result<String, serde_json::Error> {
    let level = plan.level_of();
    let actions = plan
        .ids()
        .map(|id| JsonAction {
            id,
            level: level[id.0],
            target: plan.action(id).target(),
            depends_on: plan.dependencies(id),
            action: plan.action(id),
        })
        .collect();
    let doc = JsonPlan { project: plan.project(), actions, levels: plan.levels(), notes: plan.notes() };
    serde_json::to_string_pretty(&doc)
}
