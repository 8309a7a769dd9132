//! A service's lifecycle hooks (`post_start`, `pre_stop`), read from the keys the model keeps
//! as written (`Service::other`, and the normalized config a container's record keeps): a
//! list of `{command, user, privileged, working_dir, environment}`, as compose-go's
//! `ServiceHook`. `command` is a list or a string split into words as Compose splits it;
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
}

impl HookKind {
    /// The service key.
    pub fn key(self) -> &'static str {
        match self {
            HookKind::PostStart => "post_start",
            HookKind::PreStop => "pre_stop",
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
}

/// The hooks of `kind` in `keys` (a service's `other`, or a normalized service config);
/// none when the key is absent. An entry that cannot be run is an error naming it
/// (`post_start[1]: …`).
pub fn hooks<'a>(kind: HookKind, get: impl Fn(&str) -> Option<&'a Value>) -> Result<Vec<Hook>, String> {
    match get(kind.key()) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, v)| hook(v).map_err(|e| format!("{}[{i}]: {e}", kind.key()))).collect()
        }
        Some(_) => Err(format!("{}: expected a list of hooks", kind.key())),
    }
}

/// One `{command, user, privileged, working_dir, environment}` entry.
pub fn hook(v: &Value) -> Result<Hook, String> {
    let command = match v.get("command") {
        Some(Value::String(s)) => shellwords::split(s).map_err(|e| format!("cannot split `{s}` into words: {e}"))?,
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        _ => return Err("a hook needs a `command`".into()),
    };
    if command.is_empty() {
        return Err("a hook needs a non-empty `command`".into());
    }
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
}
