//! `berth convert --to kubernetes`: the stack as Kubernetes manifests, one file per object
//! in `-o DIR` (with a kustomization.yaml and the loss report), or all on stdout.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::convert::{self, render, Converted, Options, ServiceType};

use super::load::{load_options, load_with};
use super::GlobalOpts;

/// The report's file name in the output directory.
pub const REPORT_FILE: &str = "berth-convert-report.txt";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Kubernetes,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceTypeArg {
    #[value(name = "ClusterIP", alias = "clusterip")]
    ClusterIp,
    #[value(name = "NodePort", alias = "nodeport")]
    NodePort,
    #[value(name = "LoadBalancer", alias = "loadbalancer")]
    LoadBalancer,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// What to convert to.
    #[arg(long, value_enum)]
    pub to: Target,
    /// Write one file per object, a kustomization.yaml and the loss report into DIR
    /// (default: every object on stdout).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    /// The namespace of every object.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Manifest format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Fail (exit 1, writing nothing) when anything of the stack cannot be converted.
    #[arg(long)]
    pub strict: bool,
    /// The Service type for published ports (default ClusterIP, reported).
    #[arg(long, value_enum)]
    pub service_type: Option<ServiceTypeArg>,
    /// The image of the initContainers waiting for dependencies (needs `sh` and `nc`).
    #[arg(long, default_value = "busybox:1.36")]
    pub wait_image: String,
    /// The image of the initContainers waiting for a Job (`service_completed_successfully`;
    /// needs `sh`, `curl` and `grep`).
    #[arg(long, default_value = convert::JOB_WAIT_IMAGE)]
    pub job_wait_image: String,
    /// The size of a named volume's PersistentVolumeClaim when the stack does not say.
    #[arg(long, default_value = "1Gi")]
    pub volume_size: String,
    /// The storage class of the PersistentVolumeClaims when the stack does not say
    /// (default: the cluster's default class).
    #[arg(long)]
    pub storage_class: Option<String>,
    /// Convert bind mounts to hostPath volumes (files of the node the pod runs on) instead
    /// of reporting them.
    #[arg(long)]
    pub host_path: bool,
    /// Only these services.
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub fn run(g: &GlobalOpts, a: &ConvertArgs) -> anyhow::Result<ExitCode> {
    if let Some(ns) = &a.namespace {
        anyhow::ensure!(
            convert::names::dns_label(ns) == *ns,
            "namespace `{ns}` is not a valid DNS label ([a-z0-9-], at most 63)"
        );
    }
    let loaded = load_with(load_options(g, &a.services)?)?;
    let opts = Options {
        namespace: a.namespace.clone(),
        service_type: a.service_type.map(|t| match t {
            ServiceTypeArg::ClusterIp => ServiceType::ClusterIp,
            ServiceTypeArg::NodePort => ServiceType::NodePort,
            ServiceTypeArg::LoadBalancer => ServiceType::LoadBalancer,
        }),
        wait_image: a.wait_image.clone(),
        job_wait_image: a.job_wait_image.clone(),
        services: a.services.clone(),
        volume_size: a.volume_size.clone(),
        storage_class: a.storage_class.clone(),
        host_path: a.host_path,
    };
    let converted = convert::convert(&loaded.stack, &opts)?;
    let report = converted.report.render();
    eprint!("{report}");
    let losses = converted.report.losses().count();
    if a.strict && losses > 0 {
        eprintln!(
            "error: --strict: {losses} key{} of the stack cannot be converted (listed above); nothing written",
            if losses == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::FAILURE);
    }
    match &a.output {
        Some(dir) => write_dir(dir, &converted, a, &report)?,
        None => {
            let text = match a.format {
                Format::Yaml => render::yaml_stream(&converted.manifests),
                Format::Json => render::json_list(&converted.manifests)?,
            };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_dir(dir: &Path, c: &Converted, a: &ConvertArgs, report: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ext = match a.format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let mut files = Vec::new();
    for m in &c.manifests {
        let file = m.file_name(ext);
        let text = match a.format {
            Format::Yaml => render::yaml(&m.body),
            Format::Json => render::json(&m.body)?,
        };
        let path = dir.join(&file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        files.push(file);
    }
    remove_stale(dir, &files);
    let k = dir.join("kustomization.yaml");
    std::fs::write(&k, render::kustomization(&files, a.namespace.as_deref()))
        .with_context(|| format!("writing {}", k.display()))?;
    let r = dir.join(REPORT_FILE);
    std::fs::write(&r, report).with_context(|| format!("writing {}", r.display()))?;
    eprintln!("wrote {} manifests, kustomization.yaml and {REPORT_FILE} to {}", files.len(), dir.display());
    Ok(())
}

/// Remove the manifests a previous conversion into `dir` listed in its kustomization.yaml
/// and this one no longer makes (a service removed from the stack), so `kubectl apply -f
/// DIR` does not apply them. Only plain file names of that list are touched, nothing else.
fn remove_stale(dir: &Path, files: &[String]) {
    let Ok(text) = std::fs::read_to_string(dir.join("kustomization.yaml")) else { return };
    let Ok(old) = serde_yaml::from_str::<serde_json::Value>(&text) else { return };
    for name in old["resources"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str) {
        let plain = !name.contains('/') && (name.ends_with(".yaml") || name.ends_with(".json"));
        if plain && !files.iter().any(|f| f == name) {
            match std::fs::remove_file(dir.join(name)) {
                Ok(()) => eprintln!("removed {name}: the stack no longer makes it"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => eprintln!("warning: removing stale {}: {e}", dir.join(name).display()),
            }
        }
    }
}
