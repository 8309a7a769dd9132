//! A service's lifecycle hooks (`post_start`, `pre_stop`, `pre_start`), read from the keys the
//! model keeps as written (`Service::other`, and the normalized config a container's record
//! keeps): a list of `{command, user, privileged, working_dir, environment}`, as compose-go's
//! `ServiceHook`; a `pre_start` hook is a container of its own, so it also has an `image`
//! (the service's when absent, see convert's `normalize_other`), its `command` is optional
//! (the image's default), and `per_replica: true` is loaded but refused when run, as Compose does. `command` is a list or a string split into words as Compose splits it;
//! `environment` a list of `KEY=VALUE` or a mapping (a `KEY` without a value is left out:
//! there is nothing to pass on).

use serde_json::Value;

use super::canonical::shellwords;

/// Which hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// Run in the container right after it starts; a failure stops it and fails `up`.
    PostStart,
    /// Run in the container before it is stopped; a failure aborts the stop.
    PreStop,
    /// Run as containers of their own, sharing the service container's volumes and networks,
    /// before the service's first container starts; a failure keeps the service from starting.
    PreStart,
}

impl HookKind {
    /// The service key.
    pub fn key(self) -> &'static str {
        match self {
            HookKind::PostStart => "post_start",
            HookKind::PreStop => "pre_stop",
            HookKind::PreStart => "pre_start",
        }
    }
}

/// One hook, ready to exec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hook {
    pub command: Vec<String>,
    pub user: Option<String>,
    pub privileged: bool,
    pub working_dir: Option<String>,
    /// `KEY=VALUE` entries over the container's environment.
    pub environment: Vec<String>,
    /// `pre_start`: the image its container runs (None: the service's).
    pub image: Option<String>,
    /// `pre_start` `per_replica: true`: loaded, refused when run (as docker compose does).
    pub per_replica: bool,
}

/// The hooks of `kind` in `keys` (a service's `other`, or a normalized service config);
/// none when the key is absent. An entry that cannot be run is an error naming it
/// (`post_start[1]: …`).
pub fn hooks<'a>(kind: HookKind, get: impl Fn(&str) -> Option<&'a Value>) -> Result<Vec<Hook>, String> {
    match get(kind.key()) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| hook(kind, v).map_err(|e| format!("{}[{i}]: {e}", kind.key())))
            .collect(),
        Some(_) => Err(format!("{}: expected a list of hooks", kind.key())),
    }
}

/// One `{command, user, privileged, working_dir, environment}` entry (and `image`,
/// `per_replica` for `pre_start`).
pub fn hook(kind: HookKind, v: &Value) -> Result<Hook, String> {
    let container = kind == HookKind::PreStart;
    let command = match v.get("command") {
        Some(Value::String(s)) => shellwords::split(s).map_err(|e| format!("cannot split `{s}` into words: {e}"))?,
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        None | Some(Value::Null) if container => Vec::new(),
        _ => return Err("a hook needs a `command`".into()),
    };
    if command.is_empty() && !container {
        return Err("a hook needs a non-empty `command`".into());
    }
    let per_replica = match v.get("per_replica") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };

    let environment = match v.get("environment") {
        Some(Value::Object(m)) => {
            m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k}={}", text(v))).collect()
        }
        Some(Value::Array(a)) => a.iter().map(text).filter(|e| e.contains('=')).collect(),
        _ => Vec::new(),
    };
    let opt = |k: &str| v.get(k).filter(|v| !v.is_null()).map(text).filter(|s| !s.is_empty());
    Ok(Hook {
        command,
        user: opt("user"),
        privileged: v.get("privileged").and_then(Value::as_bool).unwrap_or(false),
        working_dir: opt("working_dir"),
        environment,
        image: if container { opt("image") } else { None },
        per_replica: container && per_replica,
    })
}

/// A scalar as text (`1` and `true` as written).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn of(v: Value, kind: HookKind) -> Result<Vec<Hook>, String> {
        hooks(kind, |k| v.get(k))
    }

    #[test]
    fn both_command_forms_and_environment_forms() {
        let v = json!({
            "post_start": [
                {"command": "sh -c 'echo hi'", "user": "0", "privileged": true, "environment": ["A=1", "B"]},
                {"command": ["touch", "/x"], "working_dir": "/app", "environment": {"N": 1, "U": null}}
            ]
        });
        let hs = of(v, HookKind::PostStart).unwrap();
        assert_eq!(hs[0].command, ["sh", "-c", "echo hi"]);
        assert_eq!((hs[0].user.as_deref(), hs[0].privileged), (Some("0"), true));
        assert_eq!(hs[0].environment, ["A=1"]);
        assert_eq!(hs[1].command, ["touch", "/x"]);
        assert_eq!(hs[1].working_dir.as_deref(), Some("/app"));
        assert_eq!(hs[1].environment, ["N=1"]);
    }

    #[test]
    fn absent_is_none_and_a_bad_entry_is_named() {
        assert_eq!(of(json!({}), HookKind::PreStop).unwrap(), []);
        let err = of(json!({"pre_stop": [{"command": "ok"}, {"user": "x"}]}), HookKind::PreStop).unwrap_err();
        assert_eq!(err, "pre_stop[1]: a hook needs a `command`");
        let err = of(json!({"pre_stop": [{"command": "echo 'x"}]}), HookKind::PreStop).unwrap_err();
        assert!(err.starts_with("pre_stop[0]: cannot split"), "{err}");
    }

    #[test]
    fn pre_start_hooks_have_an_image_and_an_optional_command() {
        let v = json!({"pre_start": [{"image": "busybox", "command": "sh -c 'echo x'"}, {"image": "init"}]});
        let hs = of(v, HookKind::PreStart).unwrap();
        assert_eq!((hs[0].image.as_deref(), hs[0].command.len()), (Some("busybox"), 3));
        assert_eq!((hs[1].image.as_deref(), hs[1].command.len()), (Some("init"), 0));
        let hs = of(json!({"pre_start": [{"image": "x", "per_replica": "true"}]}), HookKind::PreStart).unwrap();
        assert!(hs[0].per_replica);
    }
}
