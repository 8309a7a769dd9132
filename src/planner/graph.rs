//! The service dependency graph: depends_on plus the implicit edges (`network_mode`,
//! `ipc` and `pid` of `service:NAME`, `volumes_from`, `links`). A petgraph DAG with an edge from
//! each dependency to its dependent; a cycle is an error naming every service on it, in order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use indexmap::{IndexMap, IndexSet};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::PlanError;
pub use crate::spec::deps::{Edge, EdgeKind};
use crate::spec::model::{Service, Stack};

/// The services of a stack and their dependencies, sorted topologically.
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    graph: DiGraph<String, EdgeKind>,
    deps: IndexMap<String, Vec<Edge>>,
    order: Vec<String>,
}

impl ServiceGraph {
    /// Build the graph of `stack`; an unknown dependency or a cycle is an error.
    pub fn new(stack: &Stack) -> Result<Self, PlanError> {
        let mut graph = DiGraph::new();
        let nodes: IndexMap<&str, NodeIndex> =
            stack.services.keys().map(|name| (name.as_str(), graph.add_node(name.clone()))).collect();
        let mut deps = IndexMap::new();
        for (name, service) in &stack.services {
            let edges = service_edges(name, service, stack)?;
            for e in &edges {
                graph.add_edge(nodes[e.dependency.as_str()], nodes[name.as_str()], e.kind);
            }
            deps.insert(name.clone(), edges);
        }
        topo_order(&graph).map_err(|_| PlanError::Cycle(find_cycle(&graph, &deps)))?;
        let mut g = ServiceGraph { graph, deps, order: Vec::new() };
        // Level by level, file order within a level: a dependency order that reads naturally.
        g.order = g.levels().into_iter().flatten().collect();
        Ok(g)
    }

    /// Services in dependency order (dependencies first; file order among equals).
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// What `service` depends on, in declaration order.
    pub fn dependencies(&self, service: &str) -> &[Edge] {
        self.deps.get(service).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The services that depend on `service`, with the kind of each edge.
    pub fn dependents<'a>(&'a self, service: &'a str) -> impl Iterator<Item = (&'a str, EdgeKind)> + 'a {
        self.deps.iter().flat_map(move |(name, edges)| {
            edges.iter().filter(move |e| e.dependency == service).map(move |e| (name.as_str(), e.kind))
        })
    }

    /// Services grouped by depth: level 0 has no dependencies, level n depends on level n-1.
    /// Within a level, services keep their file order.
    pub fn levels(&self) -> Vec<Vec<String>> {
        let topo = topo_order(&self.graph).unwrap_or_default();
        let mut depth: IndexMap<&str, usize> = IndexMap::new();
        for name in &topo {
            let d = self.dependencies(name).iter().map(|e| depth[e.dependency.as_str()] + 1).max().unwrap_or(0);
            depth.insert(name, d);
        }
        let mut levels: Vec<Vec<String>> = Vec::new();
        depth.sort_by_cached_key(|name, _| self.deps.get_index_of(*name));
        for (name, d) in depth {
            if levels.len() <= d {
                levels.resize(d + 1, Vec::new());
            }
            levels[d].push(name.to_string());
        }
        levels
    }

    /// `targets` plus everything they depend on, transitively (the one rule:
    /// [`crate::spec::deps::with_dependencies`]), in dependency order.
    pub fn with_dependencies(&self, stack: &Stack, targets: &[String]) -> IndexSet<String> {
        let wanted = crate::spec::deps::with_dependencies(stack, targets);
        self.order.iter().filter(|s| wanted.contains(s.as_str())).cloned().collect()
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }
}

/// The dependencies one service declares (src/spec/deps.rs), checked: an unknown required
/// one is an error, an unknown optional one is skipped, duplicates count once.
fn service_edges(name: &str, service: &Service, stack: &Stack) -> Result<Vec<Edge>, PlanError> {
    let mut edges: Vec<Edge> = Vec::new();
    for d in crate::spec::deps::declared(service) {
        if stack.services.contains_key(d.dependency) {
            if !edges.iter().any(|e| e.dependency == d.dependency && e.kind == d.kind) {
                edges.push(Edge { dependency: d.dependency.to_string(), kind: d.kind });
            }
        } else if d.required {
            let (service, dependency) = (name.to_string(), d.dependency.to_string());
            return Err(PlanError::UnknownDependency { service, dependency, via: d.via });
        }
    }
    Ok(edges)
}

/// Kahn's algorithm, taking the earliest-declared ready service first so the order is stable.
fn topo_order(graph: &DiGraph<String, EdgeKind>) -> Result<Vec<String>, ()> {
    let mut indegree: Vec<usize> =
        graph.node_indices().map(|n| graph.neighbors_directed(n, petgraph::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        indegree.iter().enumerate().filter(|(_, d)| **d == 0).map(|(i, _)| Reverse(i)).collect();
    let mut order = Vec::with_capacity(indegree.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(graph[NodeIndex::new(i)].clone());
        for next in graph.neighbors_directed(NodeIndex::new(i), petgraph::Outgoing) {
            // Parallel edges (depends_on and links to the same service) count once each.
            indegree[next.index()] -= 1;
            if indegree[next.index()] == 0 {
                ready.push(Reverse(next.index()));
            }
        }
    }
    if order.len() == indegree.len() {
        Ok(order)
    } else {
        Err(())
    }
}

/// One cycle, as service names from the earliest-declared service on it back to itself,
/// following "depends on" (`a -> b` = a depends on b).
fn find_cycle(graph: &DiGraph<String, EdgeKind>, deps: &IndexMap<String, Vec<Edge>>) -> Vec<String> {
    let cyclic = tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .min_by_key(|scc| scc.iter().map(|n| n.index()).min());
    let Some(scc) = cyclic else { return Vec::new() };
    let members: IndexSet<&str> = scc.iter().map(|n| graph[*n].as_str()).collect();
    let start = scc.iter().min_by_key(|n| n.index()).map(|n| graph[*n].as_str()).unwrap_or_default();
    // Breadth-first from `start` along dependencies inside the component, back to `start`.
    let mut parent: IndexMap<&str, &str> = IndexMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(s) = queue.pop_front() {
        for e in deps.get(s).into_iter().flatten() {
            let d = e.dependency.as_str();
            if d == start {
                // Walk back from `s` to `start`, then read forwards and close the loop.
                let mut path = vec![s.to_string()];
                let mut cur = s;
                while let Some(p) = parent.get(cur) {
                    path.push(p.to_string());
                    cur = p;
                }
                path.reverse();
                path.push(start.to_string());
                return path;
            }
            if members.contains(d) && !parent.contains_key(d) {
                parent.insert(d, s);
                queue.push_back(d);
            }
        }
    }
    vec![start.to_string(), start.to_string()]
}
