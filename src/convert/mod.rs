//! `berth convert --to kubernetes`: a pure translation of a [`Stack`] into Kubernetes
//! manifests (as JSON values with sorted keys), plus a loss report naming every key that
//! could not be carried over. Knows nothing of the kernel or of a cluster; the only I/O is
//! reading the files of `secrets:`/`configs:` so their content can go into the manifests.
//!
//! One file per concern: [`names`] (DNS-1123 names and labels), [`workload`] (Deployment,
//! Job, DaemonSet and the pod spec), [`resources`], [`security`] (securityContext),
//! [`probes`], [`jobwait`] (waiting for a Job), [`service`], [`policy`] (NetworkPolicy), [`storage`] (PVC, Secret,
//! ConfigMap), [`report`], [`render`] and [`yaml`] (output, kustomization), [`checks`]
//! (semantic checks the tests run on every output).

pub mod checks;
pub mod jobwait;
pub mod names;
pub mod policy;
pub mod probes;
pub mod render;
pub mod report;
pub mod resources;
pub mod security;
pub mod service;
pub mod storage;
pub mod workload;
pub mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::Stack;

pub use report::{Finding, Report, Severity};

/// The key holding berth's Kubernetes-specific settings, on a service or at the top level.
pub const EXTENSION: &str = "x-berth-kubernetes";

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("service `{0}` is not in the stack")]
    UnknownService(String),
    #[error("{kind} `{name}` would be generated twice (from `{first}` and `{second}`); rename one of them")]
    NameClash { kind: String, name: String, first: String, second: String },
    #[error("reading the content of {what} `{name}` from {path}: {source}")]
    ReadFile {
        what: &'static str,
        name: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, ConvertError>;

/// The default image waiting for a Job: curl with a shell, verifying the API server's
/// certificate against the cluster CA.
pub const JOB_WAIT_IMAGE: &str = "curlimages/curl:8.10.1";

/// How a published port is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceType {
    #[default]
    ClusterIp,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIp => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// `metadata.namespace` of every object (and the kustomization's namespace).
    pub namespace: Option<String>,
    /// The Service type for published ports; None = ClusterIP, with a report line.
    pub service_type: Option<ServiceType>,
    /// The image of the initContainers that wait for dependencies (needs `sh` and `nc`).
    pub wait_image: String,
    /// The image of the initContainers that wait for a Job to complete (needs `sh`, `curl`
    /// and `grep`).
    pub job_wait_image: String,
    /// Only these services (empty: all).
    pub services: Vec<String>,
    /// The PVC size when neither the stack nor a flag says.
    pub volume_size: String,
    /// The PVCs' storage class when the stack does not say (None: the cluster's default).
    pub storage_class: Option<String>,
    /// Bind mounts become hostPath volumes (node-local) instead of being reported.
    pub host_path: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: None,
            service_type: None,
            wait_image: "busybox:1.36".into(),
            job_wait_image: JOB_WAIT_IMAGE.into(),
            services: Vec::new(),
            volume_size: "1Gi".into(),
            storage_class: None,
            host_path: false,
        }
    }
}

/// One Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub kind: String,
    pub name: String,
    /// The whole object, keys sorted.
    pub body: Value,
}

impl Manifest {
    /// `<name>-<kind>.yaml` (or .json): unique, since (kind, name) is.
    pub fn file_name(&self, ext: &str) -> String {
        format!("{}-{}.{ext}", self.name, self.kind.to_lowercase())
    }
}

/// The result of a conversion: objects in a stable order, and what was lost.
#[derive(Debug, Default)]
pub struct Converted {
    pub manifests: Vec<Manifest>,
    pub report: Report,
}

/// The order objects are listed in: what pods need first.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "ConfigMap" => 0,
        "Secret" => 1,
        "PersistentVolumeClaim" => 2,
        "ServiceAccount" => 3,
        "Role" => 4,
        "RoleBinding" => 5,
        "Service" => 6,
        "NetworkPolicy" => 7,
        "Deployment" => 8,
        "StatefulSet" => 9,
        "DaemonSet" => 10,
        "Job" => 11,
        _ => 12,
    }
}

/// Convert `stack` (the services in `opts.services`, or all).
pub fn convert(stack: &Stack, opts: &Options) -> Result<Converted> {
    for name in &opts.services {
        if !stack.services.contains_key(name) {
            return Err(ConvertError::UnknownService(name.clone()));
        }
    }
    let mut ctx = Context::new(stack, opts);
    for (name, svc) in &stack.services {
        if !opts.services.is_empty() && !opts.services.contains(name) {
            continue;
        }
        workload::convert_service(&mut ctx, name, svc)?;
        service::convert_ports(&mut ctx, name, svc)?;
    }
    service::convert_aliases(&mut ctx)?;
    policy::convert_networks(&mut ctx)?;
    storage::finish(&mut ctx)?;
    let mut manifests = ctx.objects.into_values().collect::<Vec<_>>();
    manifests.sort_by(|a, b| (kind_rank(&a.kind), &a.kind, &a.name).cmp(&(kind_rank(&b.kind), &b.kind, &b.name)));
    Ok(Converted { manifests, report: ctx.report })
}

/// Compose labels → annotations of an object (Kubernetes labels select; annotations
/// describe): keys Kubernetes refuses are reported under `at.KEY`.
pub fn annotations(
    ctx: &mut Context,
    at: &str,
    labels: &indexmap::IndexMap<String, String>,
) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (k, v) in labels {
        if names::is_qualified_name(k) {
            out.insert(k.clone(), Value::String(v.clone()));
        } else {
            ctx.report.loss(format!("{at}.{k}"), "not a valid Kubernetes annotation key: not converted");
        }
    }
    out
}

/// What the per-concern converters share while one stack is converted.
pub struct Context<'a> {
    pub stack: &'a Stack,
    pub opts: &'a Options,
    pub report: Report,
    /// (kind, name) → (object, the stack key it came from).
    objects: BTreeMap<(String, String), Manifest>,
    origins: BTreeMap<(String, String), String>,
    /// Named volumes used, with the services using them (for PVC creation and sharing checks).
    pub volumes_used: BTreeMap<String, Vec<String>>,
    /// Networks used by the converted services → DNS names of those services.
    pub networks_used: BTreeMap<String, Vec<String>>,
    /// Services with published ports → their target ports and protocols.
    pub published: BTreeMap<String, Vec<(u16, String)>>,
}

impl<'a> Context<'a> {
    fn new(stack: &'a Stack, opts: &'a Options) -> Self {
        Context {
            stack,
            opts,
            report: Report::default(),
            objects: BTreeMap::new(),
            origins: BTreeMap::new(),
            volumes_used: BTreeMap::new(),
            networks_used: BTreeMap::new(),
            published: BTreeMap::new(),
        }
    }

    /// Add an object made from the stack key `origin`; the same (kind, name) from two
    /// different keys is an error (two services whose names sanitize alike).
    pub fn add(&mut self, origin: &str, body: Value) -> Result<()> {
        let kind = body["kind"].as_str().unwrap_or_default().to_string();
        let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let key = (kind.clone(), name.clone());
        if let Some(first) = self.origins.get(&key) {
            if first != origin {
                return Err(ConvertError::NameClash { kind, name, first: first.clone(), second: origin.into() });
            }
        }
        self.origins.insert(key.clone(), origin.to_string());
        let body = render::sorted(body);
        self.objects.insert(key, Manifest { kind, name, body });
        Ok(())
    }

    /// The object of that kind and name, if one was added.
    pub fn get(&self, kind: &str, name: &str) -> Option<&Manifest> {
        self.objects.get(&(kind.to_string(), name.to_string()))
    }

    /// `metadata` for an object: name, namespace, labels.
    pub fn metadata(&self, name: &str, labels: Value) -> Value {
        let mut m = serde_json::json!({ "name": name, "labels": labels });
        if let Some(ns) = &self.opts.namespace {
            m["namespace"] = Value::String(ns.clone());
        }
        m
    }

    /// The labels every object of the project carries.
    pub fn project_labels(&self) -> serde_json::Map<String, Value> {
        let mut l = serde_json::Map::new();
        l.insert("app.kubernetes.io/part-of".into(), names::label_value(&self.stack.name).into());
        l.insert("app.kubernetes.io/managed-by".into(), "berth".into());
        l
    }

    /// The labels of a service's objects (pods included).
    pub fn service_labels(&self, dns: &str) -> Value {
        let mut l = self.project_labels();
        l.insert("app.kubernetes.io/name".into(), dns.into());
        l.insert("app.kubernetes.io/component".into(), dns.into());
        Value::Object(l)
    }

    /// The labels selecting a service's pods (a subset of [`Self::service_labels`]).
    pub fn selector(&self, dns: &str) -> Value {
        serde_json::json!({
            "app.kubernetes.io/name": dns,
            "app.kubernetes.io/part-of": names::label_value(&self.stack.name),
        })
    }

    /// The `x-berth-kubernetes` settings of a service (an empty object when absent).
    pub fn service_ext(&self, svc: &crate::spec::Service) -> Value {
        svc.other.get(EXTENSION).cloned().unwrap_or(Value::Null)
    }

    /// The top-level `x-berth-kubernetes` settings.
    pub fn stack_ext(&self) -> Value {
        self.stack.extensions.get(EXTENSION).cloned().unwrap_or(Value::Null)
    }
}
