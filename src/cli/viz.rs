//! `berth alpha viz`: the stack as a Graphviz graph (DOT), as `docker compose alpha viz`:
//! a node per service, an edge per dependency (`depends_on`, links, `network_mode`/namespace
//! `service:`), optionally with images, networks and ports. Pipe it to `dot -Tsvg`.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::GlobalOpts;
use crate::spec::Stack;

#[derive(Debug, Args)]
pub struct AlphaArgs {
    #[command(subcommand)]
    pub command: AlphaCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
    /// Print the stack as a Graphviz graph (DOT): services and their dependencies.
    Viz(VizArgs),
}

#[derive(Debug, Args)]
pub struct VizArgs {
    /// Show each service's image.
    #[arg(long = "image")]
    pub image: bool,
    /// Show each service's networks.
    #[arg(long)]
    pub networks: bool,
    /// Show each service's published ports.
    #[arg(long)]
    pub ports: bool,
    /// Spaces per indentation level (instead of a tab).
    #[arg(long = "indentation-size", value_name = "N")]
    pub indentation_size: Option<usize>,
}

pub fn run(g: &GlobalOpts, a: &AlphaArgs) -> anyhow::Result<ExitCode> {
    let AlphaCommand::Viz(v) = &a.command;
    let loaded = super::load::load_stack(g)?;
    print!("{}", dot(&loaded.stack, v)?);
    Ok(ExitCode::SUCCESS)
}

/// A DOT string literal: quotes and backslashes escaped.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dot(stack: &Stack, v: &VizArgs) -> anyhow::Result<String> {
    let ind = v.indentation_size.map(|n| " ".repeat(n)).unwrap_or_else(|| "\t".into());
    let graph = crate::planner::ServiceGraph::new(stack)?;
    let mut out = format!("digraph {} {{\n{ind}layout=dot;\n", quoted(&stack.name));
    for (name, svc) in &stack.services {
        let mut label = name.clone();
        if v.image {
            label.push_str(&format!("\\nimage: {}", crate::planner::image_ref(stack, name, svc)));
        }
        if v.networks && !svc.networks.is_empty() {
            label.push_str(&format!("\\nnetworks: {}", svc.networks.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
        if v.ports && !svc.ports.is_empty() {
            let ports: Vec<String> = svc
                .ports
                .iter()
                .map(|p| match &p.published {
                    Some(h) => format!("{h}:{}", p.target),
                    None => p.target.to_string(),
                })
                .collect();
            label.push_str(&format!("\\nports: {}", ports.join(", ")));
        }
        let label = label.replace('"', "\\\"");
        writeln!(out, "{ind}{} [shape=box label=\"{label}\"];", quoted(name))?;
    }
    for name in stack.services.keys() {
        for e in graph.dependencies(name) {
            writeln!(out, "{ind}{} -> {};", quoted(name), quoted(&e.dependency))?;
        }
    }
    out.push_str("}\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_dependencies_as_dot() {
        let stack: Stack = serde_yaml::from_str(
            "name: demo\nservices:\n  web: {image: nginx, depends_on: {db: {condition: service_started}}, ports: [{target: 80, published: '8080'}]}\n  db: {image: pg}\n",
        )
        .unwrap();
        let v = VizArgs { image: true, networks: false, ports: true, indentation_size: Some(2) };
        let out = dot(&stack, &v).unwrap();
        assert!(out.starts_with("digraph \"demo\" {\n  layout=dot;\n"), "{out}");
        assert!(out.contains("  \"web\" [shape=box label=\"web\\nimage: nginx\\nports: 8080:80\"];"), "{out}");
        assert!(out.contains("  \"web\" -> \"db\";\n"), "{out}");
        assert!(out.ends_with("}\n"));
    }
}
