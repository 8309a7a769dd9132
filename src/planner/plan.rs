//! The plan: a petgraph DAG of [`Action`]s (an edge runs from an action to one that must wait
//! for it), with the two views the reconciler needs to run it concurrently: the ready set
//! ([`Plan::ready`]) and the levels ([`Plan::levels`]).

use std::collections::HashSet;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::{Incoming, Outgoing};
use serde::Serialize;

use super::action::Action;

/// An action's id inside its plan (stable: the order actions were added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ActionId(pub usize);

/// Something the user should know that is not an action (e.g. an orphan left in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub target: String,
    pub message: String,
}

/// A plan for one project.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    project: String,
    graph: DiGraph<Action, ()>,
    /// The edges as (from, to) ids: petgraph's own duplicate check walks a node's edge list,
    /// quadratic for a network that hundreds of containers wait for.
    edges: HashSet<(usize, usize)>,
    notes: Vec<Note>,
}

impl Plan {
    pub(crate) fn new(project: &str) -> Self {
        Plan { project: project.to_string(), ..Plan::default() }
    }

    pub(crate) fn add(&mut self, action: Action) -> ActionId {
        ActionId(self.graph.add_node(action).index())
    }

    pub(crate) fn action_mut(&mut self, id: ActionId) -> &mut Action {
        &mut self.graph[NodeIndex::new(id.0)]
    }

    /// `after` waits for `before`. Duplicate edges are merged.
    pub(crate) fn order_after(&mut self, before: ActionId, after: ActionId) {
        if before != after && self.edges.insert((before.0, after.0)) {
            self.graph.add_edge(NodeIndex::new(before.0), NodeIndex::new(after.0), ());
        }
    }

    /// Like [`Plan::order_after`], but skipped when `before` already waits for `after` (used
    /// where the ordering comes from recorded data that may itself be cyclic).
    pub(crate) fn order_after_if_acyclic(&mut self, before: ActionId, after: ActionId) {
        let (b, a) = (NodeIndex::new(before.0), NodeIndex::new(after.0));
        if !petgraph::algo::has_path_connecting(&self.graph, a, b, None) {
            self.order_after(before, after);
        }
    }

    pub(crate) fn note(&mut self, target: String, message: String) {
        self.notes.push(Note { target, message });
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// True when there is nothing to do (notes may still exist).
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// The action with this id. Ids come from this plan, so the lookup cannot miss.
    pub fn action(&self, id: ActionId) -> &Action {
        &self.graph[NodeIndex::new(id.0)]
    }

    /// All ids, in the order the actions were added.
    pub fn ids(&self) -> impl Iterator<Item = ActionId> {
        (0..self.graph.node_count()).map(ActionId)
    }

    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The underlying DAG (edges run from prerequisite to dependent).
    pub fn graph(&self) -> &DiGraph<Action, ()> {
        &self.graph
    }

    /// What `id` waits for, sorted.
    pub fn dependencies(&self, id: ActionId) -> Vec<ActionId> {
        self.neighbors(id, Incoming)
    }

    /// What waits for `id`, sorted.
    pub fn dependents(&self, id: ActionId) -> Vec<ActionId> {
        self.neighbors(id, Outgoing)
    }

    fn neighbors(&self, id: ActionId, dir: petgraph::Direction) -> Vec<ActionId> {
        let mut v: Vec<ActionId> =
            self.graph.neighbors_directed(NodeIndex::new(id.0), dir).map(|n| ActionId(n.index())).collect();
        v.sort();
        v
    }

    /// The actions not in `done` whose prerequisites are all in `done`: what may run now,
    /// concurrently. The caller removes the ones it has already started.
    pub fn ready(&self, done: &HashSet<ActionId>) -> Vec<ActionId> {
        self.ids()
            .filter(|id| !done.contains(id))
            .filter(|id| {
                self.graph
                    .neighbors_directed(NodeIndex::new(id.0), Incoming)
                    .all(|p| done.contains(&ActionId(p.index())))
            })
            .collect()
    }

    /// Actions grouped by depth: level 0 waits for nothing, an action in level n waits only for
    /// actions in levels below n. Everything in one level may run concurrently.
    pub fn levels(&self) -> Vec<Vec<ActionId>> {
        let mut level = vec![0usize; self.graph.node_count()];
        for id in self.topo_ids() {
            let node = NodeIndex::new(id.0);
            level[id.0] =
                self.graph.neighbors_directed(node, Incoming).map(|p| level[p.index()] + 1).max().unwrap_or(0);
        }
        let mut levels: Vec<Vec<ActionId>> = Vec::new();
        for (i, l) in level.into_iter().enumerate() {
            if levels.len() <= l {
                levels.resize(l + 1, Vec::new());
            }
            levels[l].push(ActionId(i));
        }
        levels
    }

    /// A topological order: the levels, one after the other.
    pub fn order(&self) -> Vec<ActionId> {
        self.levels().into_iter().flatten().collect()
    }

    /// A topological order of the ids. The builder only adds edges from prerequisites to
    /// actions of services later in dependency order, so the graph is acyclic; were it not,
    /// the ids would come in insertion order rather than panicking.
    fn topo_ids(&self) -> Vec<ActionId> {
        match petgraph::algo::toposort(&self.graph, None) {
            Ok(nodes) => nodes.into_iter().map(|n| ActionId(n.index())).collect(),
            Err(_) => self.ids().collect(),
        }
    }

    /// The level of every action (for rendering), indexed by id.
    pub fn level_of(&self) -> Vec<usize> {
        let mut out = vec![0; self.len()];
        for (l, ids) in self.levels().into_iter().enumerate() {
            for id in ids {
                out[id.0] = l;
            }
        }
        out
    }
}
