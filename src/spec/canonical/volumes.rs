//! `volumes:` short syntax (`[SOURCE:]TARGET[:MODE]`) → long form, as compose-go's
//! `ParseVolume` reads it: a source starting with `.`, `/` or `~` is a bind mount (whose
//! missing host path is created, as Compose does for the short syntax); any other source is a
//! named volume; no source is an anonymous volume. MODE is a comma list of ro/rw, z/Z,
//! nocopy, a propagation mode or a consistency.

use super::super::diag::Diagnostics;
use super::super::yaml::{Node, Value};
use super::{map_node, str_node};

/// A parsed short-syntax volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeSpec {
    /// "bind" or "volume".
    pub kind: &'static str,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub propagation: Option<String>,
    pub selinux: Option<String>,
    pub nocopy: bool,
    pub consistency: Option<String>,
    /// Options compose-go ignores (it reads only the ones it knows): warned about.
    pub ignored: Vec<String>,
}

const PROPAGATION: [&str; 6] = ["shared", "slave", "private", "rshared", "rslave", "rprivate"];

/// Parse one short-syntax volume spec.
pub fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err("empty volume spec".into());
    }
    let parts = split_colons(spec);
    if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
        return Err("empty section between colons".into());
    }
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => return Err("too many colons; expected SOURCE:TARGET[:MODE]".into()),
    };
    let source = source.filter(|s| !s.is_empty());
    // An uninterpolated `${VAR:-./dir}` (`config --no-interpolate`) is a path when it
    // mentions one.
    let is_path = source.is_some_and(|s| s.starts_with(['.', '/', '~']) || (s.starts_with('$') && s.contains('/')));
    let mut v = VolumeSpec {
        kind: if is_path { "bind" } else { "volume" },
        source: source.map(str::to_string),
        target: clean_target(target),
        ..VolumeSpec::default()
    };
    for opt in mode.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => v.read_only = true,
            "rw" => v.read_only = false,
            "z" | "Z" => v.selinux = Some(opt.to_string()),
            "nocopy" => v.nocopy = true,
            "cached" | "delegated" | "consistent" => v.consistency = Some(opt.to_string()),
            p if PROPAGATION.contains(&p) => v.propagation = Some(p.to_string()),
            other => v.ignored.push(other.to_string()),
        }
    }
    Ok(v)
}

/// A container path cleaned lexically, as compose-go's Normalize does (`path.Clean`):
/// `/data/../data/x/` is `/data/x`.
pub fn clean_target(target: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if target.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Split at the colons that are not inside a `${…}` (left there by `config --no-interpolate`,
/// where `${SRC:-./data}` has a colon of its own).
fn split_colons(spec: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth) = (Vec::new(), 0, 0usize);
    let bytes = spec.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[start..]);
    parts
}

/// Rewrite the `volumes:` list of one service.
pub(super) fn canonicalize(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    let Value::Seq(items) = &mut node.value else { return };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in std::mem::take(items).into_iter().enumerate() {
        let Value::Str(text) = &item.value else {
            let m = item.as_map();
            // A Windows named pipe (`type: npipe`) has a Windows path; berth warns about the
            // type when it converts the mount.
            let npipe = m.and_then(|m| m.get("type")).and_then(Node::as_str) == Some("npipe");
            if let Some(target) = m.and_then(|m| m.get("target")).filter(|_| !npipe) {
                if let Some(t) = target.as_str() {
                    relative_target(t, &target.pos, &format!("{path}[{i}].target"), diags);
                }
            }
            out.push(long_form(item, &format!("{path}[{i}]"), diags));
            continue;
        };
        match parse_volume(text) {
            Ok(spec) => {
                relative_target(&spec.target, &item.pos, &format!("{path}[{i}]"), diags);
                for opt in &spec.ignored {
                    let msg = format!(
                        "unknown volume option `{opt}` is ignored (known: ro, rw, z, Z, nocopy, a propagation \
                         such as rslave, cached/delegated/consistent)"
                    );
                    diags.warning(Some(&item.pos), format!("{path}[{i}]"), msg);
                }
                out.push(spec_node(spec, &item))
            }
            Err(e) => diags.error(Some(&item.pos), format!("{path}[{i}]"), format!("invalid volume `{text}`: {e}")),
        }
    }
    *items = out;
}

/// A container path must be absolute to be mounted; compose-go loads the file anyway (the engine
/// refuses the container), so berth warns.
fn relative_target(target: &str, pos: &super::super::diag::Pos, path: &str, diags: &mut Diagnostics) {
    if !target.starts_with('/') && !target.starts_with("${") {
        let msg = format!("container path `{target}` is not absolute: the container cannot be created");
        diags.warning(Some(pos), path, msg);
    }
}

/// A long-form mount, as compose-go reads it: a `bind:` section defaults `create_host_path`
/// to true (transform/volume.go defaultVolumeBind); `tmpfs.size` is a whole number of bytes
/// or a size string, never a fraction (the schema's `integer`).
fn long_form(mut item: Node, path: &str, diags: &mut Diagnostics) -> Node {
    let Some(m) = item.as_map_mut() else { return item };
    if let Some(target) = m.get_mut("target") {
        if let Value::Str(t) = &mut target.value {
            if t.starts_with('/') {
                *t = clean_target(t);
            }
        }
    }
    if let Some(bind) = m.get_mut("bind") {
        let at = bind.pos.clone();
        if let Some(b) = bind.as_map_mut() {
            super::set_default(b, "create_host_path", Node::new(Value::Bool(true), at));
        }
    }
    if let Some(size) = m.get("tmpfs").and_then(|t| t.as_map()).and_then(|t| t.get("size")) {
        if let Value::Float(f) = &size.value {
            let msg = format!("`{f}` is not a whole number of bytes; write an integer or a size such as 64m");
            diags.error(Some(&size.pos), format!("{path}.tmpfs.size"), msg);
        }
    }
    item
}

fn spec_node(v: VolumeSpec, at: &Node) -> Node {
    let pos = &at.pos;
    let mut entries = vec![("type", str_node(v.kind, pos))];
    if let Some(s) = v.source {
        entries.push(("source", str_node(s, pos)));
    }
    entries.push(("target", str_node(v.target, pos)));
    if v.read_only {
        entries.push(("read_only", Node::new(Value::Bool(true), pos.clone())));
    }
    if v.kind == "bind" || v.propagation.is_some() || v.selinux.is_some() {
        let mut bind = Vec::new();
        if v.kind == "bind" {
            bind.push(("create_host_path", Node::new(Value::Bool(true), pos.clone())));
        }
        if let Some(p) = v.propagation {
            bind.push(("propagation", str_node(p, pos)));
        }
        if let Some(z) = v.selinux {
            bind.push(("selinux", str_node(z, pos)));
        }
        entries.push(("bind", map_node(bind, pos)));
    }
    if v.nocopy {
        entries.push(("volume", map_node(vec![("nocopy", Node::new(Value::Bool(true), pos.clone()))], pos)));
    }
    if let Some(c) = v.consistency {
        entries.push(("consistency", str_node(c, pos)));
    }
    map_node(entries, pos)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{canon, svc_key};
    use serde_json::json;

    fn vols(items: &str) -> serde_json::Value {
        svc_key(&format!("services:\n  a:\n    volumes: {items}\n"), "a", "volumes")
    }

    #[test]
    fn bind_mounts() {
        assert_eq!(
            vols("['/host:/ctr:ro', './rel:/ctr', '~/x:/y']"),
            json!([
                {"type": "bind", "source": "/host", "target": "/ctr", "read_only": true, "bind": {"create_host_path": true}},
                {"type": "bind", "source": "./rel", "target": "/ctr", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "~/x", "target": "/y", "bind": {"create_host_path": true}}
            ])
        );
    }

    #[test]
    fn named_and_anonymous_volumes() {
        assert_eq!(
            vols("['named:/data', '/anon', 'cache:/c:nocopy']"),
            json!([
                {"type": "volume", "source": "named", "target": "/data"},
                {"type": "volume", "target": "/anon"},
                {"type": "volume", "source": "cache", "target": "/c", "volume": {"nocopy": true}}
            ])
        );
    }

    #[test]
    fn selinux_and_propagation_modes() {
        assert_eq!(
            vols("['./a:/a:rw,z', './b:/b:Z', '/c:/c:ro,rshared', './d:/d:cached']"),
            json!([
                {"type": "bind", "source": "./a", "target": "/a", "bind": {"create_host_path": true, "selinux": "z"}},
                {"type": "bind", "source": "./b", "target": "/b", "bind": {"create_host_path": true, "selinux": "Z"}},
                {"type": "bind", "source": "/c", "target": "/c", "read_only": true,
                 "bind": {"create_host_path": true, "propagation": "rshared"}},
                {"type": "bind", "source": "./d", "target": "/d", "bind": {"create_host_path": true}, "consistency": "cached"}
            ])
        );
    }

    #[test]
    fn long_form_kept() {
        let long = "[{type: tmpfs, target: /t, tmpfs: {size: 64m}}, {type: image, source: alpine, target: /img}]";
        assert_eq!(
            vols(long),
            json!([
                {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "64m"}},
                {"type": "image", "source": "alpine", "target": "/img"}
            ])
        );
    }

    #[test]
    fn invalid_volumes_have_path_and_position() {
        let src = "services:\n  a:\n    volumes:\n      - ./x:rel\n      - /a:/b:bogus\n      - a:b:c:d\n      - {type: bind, source: /x, target: y}\n";
        let (_, d) = canon(src);
        let msgs: Vec<String> = d.items.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "c.yaml:4:9: warning: services.a.volumes[0]: container path `rel` is not absolute: the container cannot be created",
                "c.yaml:5:9: warning: services.a.volumes[1]: unknown volume option `bogus` is ignored (known: ro, rw, z, Z, nocopy, a propagation such as rslave, cached/delegated/consistent)",
                "c.yaml:6:9: services.a.volumes[2]: invalid volume `a:b:c:d`: too many colons; expected SOURCE:TARGET[:MODE]",
                "c.yaml:7:42: warning: services.a.volumes[3].target: container path `y` is not absolute: the container cannot be created",
            ]
        );
    }
}
