//! `build --print`: the build as a `docker buildx bake` definition (JSON), in the shape
//! `docker compose build --print` writes it: a `default` group of the services to build, and a
//! target per service with a `build:` section (named after it, `.` made `_`), from the same
//! requests berth's builder is given (context, Dockerfile path, args as resolved, labels, tags
//! with the service's image name last, target, network) plus the `build:` keys bake knows that
//! berth's builder leaves to BuildKit (`cache_from`, `cache_to`, `platforms`,
//! `additional_contexts`, `no_cache`, `pull`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::builder::{compose, BuildNetwork};
use crate::spec::model::Stack;

#[derive(Debug, Serialize)]
struct Bake {
    group: BTreeMap<String, Group>,
    target: BTreeMap<String, Target>,
}

#[derive(Debug, Serialize)]
struct Group {
    targets: Vec<String>,
}

/// Field order and names as Compose's `bakeTarget`.
#[derive(Debug, Default, Serialize)]
struct Target {
    #[serde(skip_serializing_if = "String::is_empty")]
    context: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    contexts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    dockerfile: String,
    #[serde(rename = "dockerfile-inline", skip_serializing_if = "String::is_empty")]
    dockerfile_inline: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(rename = "cache-from", skip_serializing_if = "Vec::is_empty")]
    cache_from: Vec<String>,
    #[serde(rename = "cache-to", skip_serializing_if = "Vec::is_empty")]
    cache_to: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    platforms: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pull: bool,
    #[serde(rename = "no-cache", skip_serializing_if = "std::ops::Not::not")]
    no_cache: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    network: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    output: Vec<String>,
}

/// What the command line adds to every target.
pub struct PrintFlags<'a> {
    pub build_args: &'a BTreeMap<String, String>,
    pub no_cache: bool,
    pub pull: bool,
    pub push: bool,
}

/// The bake definition of `names` (the services to build, in order), pretty-printed.
pub fn bake_json(stack: &Stack, names: &[String], flags: &PrintFlags<'_>) -> anyhow::Result<String> {
    let target_names = target_names(stack);
    let mut bake = Bake { group: BTreeMap::new(), target: BTreeMap::new() };
    for (name, svc) in stack.services.iter().filter(|(_, s)| s.build.is_some()) {
        let req = compose::request(stack, name, svc, flags.build_args)?;
        let other = svc.build.as_ref().map(|b| &b.other);
        let list = |key: &str| -> Vec<String> {
            let v = other.and_then(|o| o.get(key));
            v.and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let flag = |key: &str| other.and_then(|o| o.get(key)).and_then(serde_json::Value::as_bool).unwrap_or(false);
        let contexts = other
            .and_then(|o| o.get("additional_contexts"))
            .and_then(|v| v.as_object())
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        // Compose: the build's own tags, then the service's image name.
        let mut tags = req.tags.clone();
        if !tags.is_empty() {
            tags.rotate_left(1);
        }
        let dockerfile = req.dockerfile_path().map(|p| p.display().to_string()).unwrap_or_default();
        let push = flags.push && svc.image.is_some();
        let target = Target {
            context: req.context.display().to_string(),
            contexts,
            dockerfile,
            dockerfile_inline: req.dockerfile_inline.clone().unwrap_or_default().replace("${", "$${"),
            args: req.args.iter().map(|(k, v)| (k.clone(), v.replace("${", "$${"))).collect(),
            labels: req.labels.clone(),
            tags,
            cache_from: list("cache_from"),
            cache_to: list("cache_to"),
            target: req.target.clone().unwrap_or_default(),
            platforms: list("platforms"),
            pull: flags.pull || flag("pull"),
            no_cache: flags.no_cache || flag("no_cache"),
            network: if req.network == BuildNetwork::Default { String::new() } else { req.network.as_str().into() },
            output: vec![if push { "type=registry" } else { "type=docker" }.to_string()],
        };
        bake.target.insert(target_names[name.as_str()].clone(), target);
    }
    let targets = names.iter().filter_map(|n| target_names.get(n.as_str()).cloned()).collect();
    bake.group.insert("default".into(), Group { targets });
    Ok(serde_json::to_string_pretty(&bake)?)
}

/// A bake target name per service, as Compose: `.` made `_`, and `_` added until unique, in
/// sorted service order.
fn target_names(stack: &Stack) -> BTreeMap<&str, String> {
    let mut names: Vec<&str> = stack.services.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut used = std::collections::HashSet::new();
    let mut out = BTreeMap::new();
    for n in names {
        let mut t = n.replace('.', "_");
        while used.contains(&t) {
            t.push('_');
        }
        used.insert(t.clone());
        out.insert(n, t);
    }
    out
}
