//! What a batch of changes does to one service, as Compose decides it: a `rebuild` hit
//! rebuilds the image and recreates the service's containers (nothing else is done, the new
//! image has the files); otherwise the sync rules copy their files into every running
//! container of the service, then `sync+restart`/`restart` restart those containers and
//! `sync+exec` runs its command in each.

use std::path::{Path, PathBuf};

use super::error::{Result, WatchError};
use super::rules::Trigger;
use super::sync::{self, Change};
use crate::paths::Roots;
use crate::reconciler::container::Ctx;
use crate::reconciler::ops::{control, select};
use crate::reconciler::ProjectContainer;
use crate::runtime::{ExecConfig, Runtime};
use crate::spec::model::{Stack, WatchAction};

/// The hits of one batch on one service: (trigger, changed host path).
pub struct ServiceHits<'t> {
    pub service: String,
    pub hits: Vec<(&'t Trigger, PathBuf)>,
}

/// Group `paths` by service, keeping the stack's service order.
pub fn group<'t>(triggers: &'t [Trigger], paths: &[PathBuf]) -> Vec<ServiceHits<'t>> {
    let mut out: Vec<ServiceHits<'t>> = Vec::new();
    for t in triggers {
        for p in paths.iter().filter(|p| t.matches(p)) {
            match out.iter_mut().find(|s| s.service == t.service) {
                Some(s) => s.hits.push((t, p.clone())),
                None => out.push(ServiceHits { service: t.service.clone(), hits: vec![(t, p.clone())] }),
            }
        }
    }
    out
}

/// The service's running containers (none is not an error: nothing to sync into).
pub fn running(roots: &Roots, project: &str, service: &str) -> Result<Vec<ProjectContainer>> {
    let all = select::all(roots, project, false).map_err(|e| WatchError::service(service, e))?;
    Ok(all.into_iter().filter(|c| c.service == service && c.is_running()).collect())
}

/// Sync the hits of sync rules into every running container of the service.
pub fn sync_hits(roots: &Roots, project: &str, hits: &ServiceHits<'_>) -> Result<usize> {
    let syncing: Vec<&(&Trigger, PathBuf)> = hits.hits.iter().filter(|(t, _)| t.syncs()).collect();
    if syncing.is_empty() {
        return Ok(0);
    }
    let changes: Vec<(Change, &Trigger)> = syncing
        .iter()
        .filter_map(|(t, p)| t.container_path(p).map(|c| (Change { host: p.clone(), container: c }, *t)))
        .collect();
    let rt = Runtime::new(roots);
    for c in running(roots, project, &hits.service)? {
        // Changes of one rule together, so its ignore patterns filter directory walks.
        for t in unique_triggers(&changes) {
            let mine: Vec<Change> =
                changes.iter().filter(|(_, tt)| std::ptr::eq(*tt, t)).map(|(c, _)| c.clone()).collect();
            let keep = |p: &Path| t.matches(p);
            sync::apply(&rt, &c.id, &c.name, &mine, &keep)
                .map_err(|e| WatchError::service(&hits.service, format!("sync {}: {e}", t.rule.path)))?;
        }
    }
    Ok(changes.len())
}

fn unique_triggers<'t>(changes: &[(Change, &'t Trigger)]) -> Vec<&'t Trigger> {
    let mut out: Vec<&Trigger> = Vec::new();
    for (_, t) in changes {
        if !out.iter().any(|o| std::ptr::eq(*o, *t)) {
            out.push(t);
        }
    }
    out
}

/// Restart the service's containers (stop, then start, as `berth restart SERVICE`).
pub fn restart(roots: &Roots, stack: &Stack, service: &str) -> Result<()> {
    let all = select::all(roots, &stack.name, false).map_err(|e| WatchError::service(service, e))?;
    let targets: Vec<ProjectContainer> = all.into_iter().filter(|c| c.service == service).collect();
    let rt = Runtime::new(roots);
    let ctx = Ctx::new(roots, &rt, &stack.name, Some(stack), None);
    control::restart_all(&ctx, &targets).map_err(|e| WatchError::service(service, e))?;
    Ok(())
}

/// Run a `sync+exec` rule's `exec` hook in every running container of the service.
pub fn exec_hook(roots: &Roots, project: &str, service: &str, trigger: &Trigger) -> Result<()> {
    let Some(hook) = &trigger.rule.exec else {
        return Err(WatchError::service(service, format!("sync+exec rule for {} has no `exec`", trigger.rule.path)));
    };
    let ec = exec_config(hook).map_err(|e| WatchError::service(service, e))?;
    let rt = Runtime::new(roots);
    for c in running(roots, project, service)? {
        let code = rt
            .exec_command(&c.id, &ec)
            .map_err(|e| WatchError::container(&c.name, e))?
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|e| WatchError::container(&c.name, format!("spawn exec helper: {e}")))?;
        if !code.success() {
            return Err(WatchError::container(&c.name, format!("exec `{}` failed: {code}", ec.args.join(" "))));
        }
    }
    Ok(())
}

/// The Compose `exec` hook (`command`, `user`, `working_dir`, `environment`) as an exec.
pub fn exec_config(hook: &serde_json::Value) -> std::result::Result<ExecConfig, String> {
    let args = match hook.get("command") {
        Some(serde_json::Value::String(s)) => crate::spec::canonical::shellwords::split(s)?,
        Some(serde_json::Value::Array(a)) => {
            a.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect()
        }
        _ => return Err("exec hook needs a `command`".into()),
    };
    if args.is_empty() {
        return Err("exec hook has an empty `command`".into());
    }
    let env = match hook.get("environment") {
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let text = |k: &str| hook.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(ExecConfig { args, env, cwd: text("working_dir"), user: text("user"), ..Default::default() })
}

/// Whether any hit is of one of `actions`.
pub fn any_of(hits: &ServiceHits<'_>, actions: &[WatchAction]) -> bool {
    hits.hits.iter().any(|(t, _)| actions.contains(&t.rule.action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_hooks_take_both_command_forms() {
        let ec =
            exec_config(&serde_json::json!({"command": "sh -c 'echo hi'", "user": "0", "environment": {"A": "1"}}))
                .unwrap();
        assert_eq!(ec.args, ["sh", "-c", "echo hi"]);
        assert_eq!(ec.user.as_deref(), Some("0"));
        assert_eq!(ec.env, ["A=1"]);
        let ec = exec_config(&serde_json::json!({"command": ["touch", "/x"], "working_dir": "/app"})).unwrap();
        assert_eq!(ec.args, ["touch", "/x"]);
        assert_eq!(ec.cwd.as_deref(), Some("/app"));
        assert!(exec_config(&serde_json::json!({})).is_err());
    }
}
