//! A service's `develop.watch` rules, compiled: which host paths each rule watches, which
//! changes it ignores, and where a changed file lands in the container.
//!
//! As in Compose: `ignore` patterns are dockerignore patterns relative to the rule's `path`
//! (the last match wins, `!` re-includes, a matching directory excludes what is below it);
//! `include` keeps only matching paths; a `rebuild` rule also honours the build context's
//! `.dockerignore` (a change the build cannot see needs no rebuild); and editor droppings
//! (swap and backup files) and `.git` never trigger anything.

use std::path::{Path, PathBuf};

use crate::common::patterns::{glob_match, Ignore};
use crate::spec::model::{Stack, WatchAction, WatchRule};

/// Names that never trigger a rule (Compose's ephemeral-file list: vim swap and backup files,
/// emacs lock and backup files, vim's `4913` write probe).
const EPHEMERAL: [&str; 8] = ["*.swp", "*.swx", ".*.sw?", "*~", ".#*", "#*#", "4913", ".DS_Store"];

/// One compiled rule of one service.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub service: String,
    pub rule: WatchRule,
    /// The watched host path (absolute).
    pub root: PathBuf,
    ignore: Ignore,
    include: Option<Ignore>,
    /// For `rebuild`: the build context and its `.dockerignore`.
    context_ignore: Option<(PathBuf, Ignore)>,
}

impl Trigger {
    /// Compile `rule` of `service` (`context`: the service's build context, for `rebuild`).
    pub fn new(service: &str, rule: &WatchRule, context: Option<(&Path, Option<&Path>)>) -> Trigger {
        let include = (!rule.include.is_empty()).then(|| Ignore::parse(&rule.include.join("\n")));
        let context_ignore = match (rule.action, context) {
            (WatchAction::Rebuild, Some((ctx, dockerfile))) => {
                crate::builder::ignore::load(ctx, dockerfile).ok().map(|ig| (ctx.to_path_buf(), ig))
            }
            _ => None,
        };
        Trigger {
            service: service.to_string(),
            rule: rule.clone(),
            root: PathBuf::from(&rule.path),
            ignore: Ignore::parse(&rule.ignore.join("\n")),
            include,
            context_ignore,
        }
    }

    /// Whether a change of host path `path` concerns this rule.
    pub fn matches(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else { return false };
        let rel = rel.to_string_lossy();
        if is_ephemeral(path) || rel.split('/').any(|s| s == ".git") {
            return false;
        }
        if !rel.is_empty() && self.ignore.excluded(&rel) {
            return false;
        }
        if let Some(include) = &self.include {
            if !rel.is_empty() && !include.excluded(&rel) {
                return false;
            }
        }
        if let Some((ctx, ig)) = &self.context_ignore {
            if let Ok(in_ctx) = path.strip_prefix(ctx) {
                let in_ctx = in_ctx.to_string_lossy();
                if !in_ctx.is_empty() && ig.excluded(&in_ctx) {
                    return false;
                }
            }
        }
        true
    }

    /// Where host path `path` (under the rule's path) lands in the container: the rule's
    /// `target` joined with the path relative to the rule's path. None without a target.
    pub fn container_path(&self, path: &Path) -> Option<String> {
        let target = self.rule.target.as_deref()?;
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_string_lossy();
        let base = target.trim_end_matches('/');
        Some(if rel.is_empty() { target.to_string() } else { format!("{base}/{rel}") })
    }

    /// Whether the rule copies files (sync, sync+restart, sync+exec).
    pub fn syncs(&self) -> bool {
        matches!(self.rule.action, WatchAction::Sync | WatchAction::SyncRestart | WatchAction::SyncExec)
    }
}

fn is_ephemeral(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else { return false };
    EPHEMERAL.iter().any(|p| glob_match(p, &name))
}

/// The compiled rules of `services` (all of the stack's when empty), in file order.
pub fn triggers(stack: &Stack, services: &[String]) -> Vec<Trigger> {
    let mut out = Vec::new();
    for (name, svc) in &stack.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        let Some(dev) = &svc.develop else { continue };
        let context = svc.build.as_ref().map(|b| {
            let ctx = PathBuf::from(&b.context);
            let dockerfile = b.dockerfile.as_ref().map(|d| ctx.join(d));
            (ctx, dockerfile)
        });
        for rule in &dev.watch {
            let ctx = context.as_ref().map(|(c, d)| (c.as_path(), d.as_deref()));
            out.push(Trigger::new(name, rule, ctx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: WatchAction, path: &str, target: Option<&str>, ignore: &[&str]) -> WatchRule {
        WatchRule {
            path: path.into(),
            action,
            target: target.map(str::to_string),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            include: Vec::new(),
            initial_sync: false,
            exec: None,
        }
    }

    #[test]
    fn ignore_patterns_are_relative_to_the_rule_path() {
        let r = rule(WatchAction::Sync, "/p/src", Some("/app/src"), &["*.log", "tmp/", "node_modules"]);
        let t = Trigger::new("web", &r, None);
        assert!(t.matches(Path::new("/p/src/index.html")));
        assert!(t.matches(Path::new("/p/src/a/b.txt")));
        assert!(!t.matches(Path::new("/p/src/x.log")));
        assert!(!t.matches(Path::new("/p/src/tmp/f")));
        assert!(!t.matches(Path::new("/p/src/node_modules/m/i.js")));
        assert!(!t.matches(Path::new("/p/other/x")));
        assert!(!t.matches(Path::new("/p/srcx/x")));
        assert!(!t.matches(Path::new("/p/src/.index.html.swp")));
        assert!(!t.matches(Path::new("/p/src/.git/HEAD")));
        assert_eq!(t.container_path(Path::new("/p/src/a/b.txt")).unwrap(), "/app/src/a/b.txt");
        assert_eq!(t.container_path(Path::new("/p/src")).unwrap(), "/app/src");
    }

    #[test]
    fn include_keeps_only_matching_paths() {
        let mut r = rule(WatchAction::SyncRestart, "/p/cfg", Some("/etc/app"), &[]);
        r.include = vec!["*.conf".into()];
        let t = Trigger::new("web", &r, None);
        assert!(t.matches(Path::new("/p/cfg/app.conf")));
        assert!(!t.matches(Path::new("/p/cfg/notes.txt")));
    }

    #[test]
    fn rebuild_rules_honour_the_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "docs/\n").unwrap();
        let root = dir.path().to_string_lossy().to_string();
        let r = rule(WatchAction::Rebuild, &root, None, &[]);
        let t = Trigger::new("web", &r, Some((dir.path(), None)));
        assert!(t.matches(&dir.path().join("Dockerfile")));
        assert!(!t.matches(&dir.path().join("docs/readme.md")));
        assert!(!t.syncs());
    }
}
