//! A YAML document as a tree of nodes that remember where they came from (file:line:col).
//!
//! serde_yaml forgets positions, and precise errors need them, so the loader parses with
//! yaml-rust2's event API and builds this tree itself. Anchors and aliases are expanded, merge
//! keys (`<<: *base`, `<<: [*a, *b]`) are applied (explicit keys win, earlier sources win over
//! later ones, as in YAML 1.1's merge spec that Compose follows), and duplicate keys are errors.
//! Scalars are resolved by the YAML 1.2 core schema; quoted scalars are always strings.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diag::{Diagnostic, Diagnostics, Pos};

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// A compose-go merge tag (`!reset`, `!override`) written on this node, consumed by
    /// [`super::merge`].
    pub tag: Option<MergeTag>,
}

/// compose-go's merge tags (loader/reset.go): `!reset` removes what earlier files set at this
/// path (and the node itself); `!override` replaces it instead of merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeTag {
    Reset,
    Override,
}

impl MergeTag {
    fn from_tag(tag: Option<&yaml_rust2::parser::Tag>) -> Option<MergeTag> {
        let t = tag?;
        match (t.handle.as_str(), t.suffix.as_str()) {
            ("!", "reset") => Some(MergeTag::Reset),
            ("!", "override") => Some(MergeTag::Override),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A float keeps its source text, so `1.10` stays `1.10` when used as a string.
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Map),
}

/// A mapping in source order. Keys are strings (non-string scalar keys are stringified).
///
/// Lookups go through a hash index, not a scan of the entries: a file with tens of thousands
/// of keys in one mapping (crafted or generated) would otherwise make every duplicate check,
/// merge and validation step quadratic. The entries are private so the index cannot go stale.
#[derive(Debug, Clone, Default)]
pub struct Map {
    entries: Vec<(Key, Node)>,
    index: HashMap<String, usize>,
}

impl PartialEq for Map {
    // The index is derived from the entries.
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

impl Map {
    /// A map of `entries` in order; a repeated key keeps its first position and its last value.
    pub fn from_entries(entries: impl IntoIterator<Item = (Key, Node)>) -> Self {
        let mut map = Map::default();
        for (k, v) in entries {
            map.insert(k, v);
        }
        map
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let i = *self.index.get(key)?;
        Some(&mut self.entries[i].1)
    }

    pub fn get_entry(&self, key: &str) -> Option<(&Key, &Node)> {
        self.index.get(key).map(|&i| (&self.entries[i].0, &self.entries[i].1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Insert or replace, keeping the original position of the entry when it exists.
    pub fn insert(&mut self, key: Key, value: Node) {
        match self.index.get(&key.name) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.name.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// Remove an entry, keeping the order of the others (O(n): rare, unlike lookups).
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let idx = self.index.remove(key)?;
        let (_, node) = self.entries.remove(idx);
        for i in self.index.values_mut().filter(|i| **i > idx) {
            *i -= 1;
        }
        Some(node)
    }

    /// The entries in source order.
    pub fn entries(&self) -> &[(Key, Node)] {
        &self.entries
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The values, mutably, with their keys (keys cannot change: the index depends on them).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Key, &mut Node)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl IntoIterator for Map {
    type Item = (Key, Node);
    type IntoIter = std::vec::IntoIter<(Key, Node)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Self {
        Node { value, pos, tag: None }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar as text, as Compose would use it in a string context (`1` -> "1",
    /// `true` -> "true", null -> ""). None for sequences and maps.
    pub fn scalar_string(&self) -> Option<String> {
        match &self.value {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.clone()),
            Value::Str(s) => Some(s.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// An integer, also from a string (after interpolation `${N}` is a string).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A float, also from an integer or a string.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => f.parse().ok(),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean, also from the strings Compose accepts after interpolation.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A short word for the node's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Convert to a serde_json value (for JSON output and hashing); positions are dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => f.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.name.clone(), v.to_json())).collect()),
        }
    }
}

/// Nesting deeper than this is refused. Every later stage (interpolation, validation,
/// merge, output, even dropping the tree) walks it recursively, so depth is stack. Real
/// Compose files nest about 8 levels (`services.web.deploy.resources.limits.cpus`); 256 leaves
/// room for generated files and is far below what a thread's stack holds.
pub const MAX_DEPTH: usize = 256;

/// Nodes that anchors and aliases may copy in one document. An alias is expanded into a copy
/// of its anchor's node, so a few hundred bytes of nested aliases ("billion laughs") can ask
/// for billions of nodes. compose-go's parser (yaml.v3) refuses those with "excessive
/// aliasing"; berth counts the copies instead of guessing from a ratio. A million nodes is
/// about a hundred MB at worst, and a hundred times what heavy real use of `<<: *defaults`
/// across hundreds of services copies.
pub const MAX_ALIAS_NODES: u64 = 1_000_000;

/// Scalar text that anchors and aliases may copy in one document: one alias of a large
/// string, repeated, is the same attack with few nodes.
pub const MAX_ALIAS_BYTES: u64 = 64 << 20;

/// Parse one YAML document into a node tree. `file` names the source in positions.
/// An empty document gives a Null node. More than one document is an error.
pub fn parse(source: &str, file: &str) -> Result<Node, Diagnostics> {
    let file_name: Arc<str> = Arc::from(file);
    let mut docs = parse_all(source, file)?;
    match docs.len() {
        0 => Ok(Node::new(Value::Null, Pos::new(file_name, 1, 1))),
        1 => Ok(docs.remove(0)),
        _ => {
            let pos = docs[1].pos.clone();
            let mut d = Diagnostics::new();
            d.error(Some(&pos), "", "a stack file holds one YAML document; found a second `---` document");
            Err(d)
        }
    }
}

/// Parse every YAML document of a stream (`---` separated), in order; an empty stream gives
/// none. compose-go reads a multi-document file as that many files merged in order.
pub fn parse_all(source: &str, file: &str) -> Result<Vec<Node>, Diagnostics> {
    let file: Arc<str> = Arc::from(file);
    let mut builder = Builder::new(file.clone());
    let mut parser = Parser::new_from_str(source);
    // The parser's own `load` recurses once per nesting level, so a deep document would
    // overflow the stack before any limit could be checked: drive it one event at a time.
    loop {
        let (ev, mark) = match parser.next_token() {
            Ok(next) => next,
            Err(e) => {
                let m = e.marker();
                let pos = Pos::new(file, m.line(), m.col() + 1);
                let mut d = Diagnostics::new();
                d.push(Diagnostic::error(Some(&pos), "", format!("invalid YAML: {}", e.info())));
                return Err(d);
            }
        };
        if ev == Event::StreamEnd {
            break;
        }
        // A broken limit stops the parse at once: going on is what the limit prevents.
        if let Err(fatal) = builder.event(ev, mark) {
            let mut d = Diagnostics::new();
            d.push(fatal);
            return Err(d);
        }
    }
    if !builder.diags.is_empty() {
        return Err(builder.diags);
    }
    Ok(builder.docs)
}

/// What a finished node weighs: its nodes, its scalar bytes, its depth (0 for a scalar).
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
    depth: usize,
}

impl Size {
    fn add(&mut self, child: Size) {
        self.nodes += child.nodes;
        self.bytes += child.bytes;
        self.depth = self.depth.max(child.depth);
    }

    /// The size of a collection whose children add up to `self`.
    fn closed(self) -> Size {
        Size { nodes: self.nodes + 1, bytes: self.bytes, depth: self.depth + 1 }
    }
}

/// A collection being built: a sequence, or a mapping waiting for its next key or value.
/// `size` adds up its children so far.
enum Frame {
    Seq {
        anchor: usize,
        pos: Pos,
        tag: Option<MergeTag>,
        items: Vec<Node>,
        size: Size,
    },
    Map {
        anchor: usize,
        pos: Pos,
        tag: Option<MergeTag>,
        map: Map,
        pending_key: Option<Node>,
        merges: Vec<Node>,
        size: Size,
    },
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, (Node, Size)>,
    /// What anchors and aliases have copied so far (see [`MAX_ALIAS_NODES`]).
    copied: Size,
    diags: Diagnostics,
}

/// A limit was broken: the one diagnostic to report, parsing stops.
type Fatal = Diagnostic;

impl Builder {
    fn new(file: Arc<str>) -> Self {
        Builder {
            file,
            stack: Vec::new(),
            docs: Vec::new(),
            anchors: HashMap::new(),
            copied: Size::default(),
            diags: Diagnostics::new(),
        }
    }

    fn pos(&self, m: Marker) -> Pos {
        Pos::new(self.file.clone(), m.line(), m.col() + 1)
    }

    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), Fatal> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let pos = self.pos(mark);
                let size = Size { nodes: 1, bytes: text.len() as u64, depth: 0 };
                let merge_tag = MergeTag::from_tag(tag.as_ref());
                let value = resolve_scalar(text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                self.emit(Node { value, pos, tag: merge_tag }, anchor, size)?;
            }
            Event::SequenceStart(anchor, tag) => {
                let pos = self.open(mark)?;
                let tag = MergeTag::from_tag(tag.as_ref());
                self.stack.push(Frame::Seq { anchor, pos, tag, items: Vec::new(), size: Size::default() });
            }
            Event::MappingStart(anchor, tag) => {
                let pos = self.open(mark)?;
                let map = Map::default();
                let size = Size::default();
                let tag = MergeTag::from_tag(tag.as_ref());
                self.stack.push(Frame::Map { anchor, pos, tag, map, pending_key: None, merges: Vec::new(), size });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { anchor, pos, tag, items, size }) = self.stack.pop() {
                    self.emit(Node { value: Value::Seq(items), pos, tag }, anchor, size.closed())?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { anchor, pos, tag, mut map, merges, size, .. }) = self.stack.pop() {
                    self.apply_merges(&mut map, merges);
                    self.emit(Node { value: Value::Map(map), pos, tag }, anchor, size.closed())?;
                }
            }
            Event::Alias(id) => self.alias(id, mark)?,
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// A collection starts at `mark`: one level deeper.
    fn open(&mut self, mark: Marker) -> Result<Pos, Fatal> {
        let pos = self.pos(mark);
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(&pos));
        }
        Ok(pos)
    }

    /// An alias: a copy of its anchor's node, paid for from the aliasing budget first.
    fn alias(&mut self, id: usize, mark: Marker) -> Result<(), Fatal> {
        let pos = self.pos(mark);
        let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
            self.diags.error(Some(&pos), "", "alias refers to an unknown anchor");
            return self.emit(Node::new(Value::Null, pos), 0, Size { nodes: 1, bytes: 0, depth: 0 });
        };
        if self.stack.len() + size.depth > MAX_DEPTH {
            return Err(too_deep(&pos));
        }
        self.charge(size, &pos)?;
        let node = self.anchors.get(&id).map(|(node, _)| node.clone()).unwrap_or_else(|| Node::new(Value::Null, pos));
        self.emit(node, 0, size)
    }

    /// Count a copy made for an anchor or alias; past the budget the document is refused.
    fn charge(&mut self, size: Size, pos: &Pos) -> Result<(), Fatal> {
        self.copied.nodes += size.nodes;
        self.copied.bytes += size.bytes;
        if self.copied.nodes > MAX_ALIAS_NODES || self.copied.bytes > MAX_ALIAS_BYTES {
            let msg = format!(
                "excessive aliasing: anchors and aliases expand to more than {MAX_ALIAS_NODES} nodes or {} of text",
                crate::fsutil::human_size(MAX_ALIAS_BYTES)
            );
            let hint = "a document whose aliases nest aliases grows exponentially (\"billion laughs\"); \
                        Compose refuses it too";
            return Err(Diagnostic::error(Some(pos), "", msg).with_hint(hint));
        }
        Ok(())
    }

    /// A finished node goes into its parent (or becomes the document).
    fn emit(&mut self, node: Node, anchor: usize, size: Size) -> Result<(), Fatal> {
        if anchor > 0 {
            // The anchor keeps its own copy for later aliases: that copy counts too, or a deep
            // chain of anchored nodes would copy each level again.
            self.charge(size, &node.pos)?;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, size: total, .. }) => {
                total.add(size);
                items.push(node);
            }
            Some(Frame::Map { map, pending_key, merges, size: total, .. }) => {
                total.add(size);
                match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => Self::entry(&mut self.diags, map, merges, key, node),
                }
            }
        }
        Ok(())
    }

    /// A key and its value into a mapping being built (`<<` merge sources are kept aside).
    fn entry(diags: &mut Diagnostics, map: &mut Map, merges: &mut Vec<Node>, key: Node, node: Node) {
        let kpos = key.pos.clone();
        let Some(name) = key.scalar_string() else {
            diags.error(Some(&kpos), "", "mapping keys must be scalars, not lists or mappings");
            return;
        };
        if name == "<<" && matches!(key.value, Value::Str(_)) {
            merges.push(node);
            return;
        }
        if !matches!(key.value, Value::Str(_)) {
            // compose-go (loader.go convertToStringKeysRecursive) refuses them too.
            diags.push(
                Diagnostic::error(Some(&kpos), "", format!("non-string key `{name}` ({})", key.type_name()))
                    .with_hint(format!("quote it: \"{name}\"")),
            );
        }
        if map.contains_key(&name) {
            diags.push(
                Diagnostic::error(Some(&kpos), "", format!("duplicate key `{name}` in this mapping"))
                    .with_hint("each key may appear once; remove one of them"),
            );
        } else {
            map.insert(Key { name, pos: kpos }, node);
        }
    }

    /// Apply `<<` merge sources: keys already present win; earlier sources win over later.
    fn apply_merges(&mut self, map: &mut Map, merges: Vec<Node>) {
        for source in merges {
            let sources: Vec<Node> = match source.value {
                Value::Seq(items) => items,
                _ => vec![source],
            };
            for src in sources {
                match src.value {
                    Value::Map(m) => {
                        for (k, v) in m {
                            if !map.contains_key(&k.name) {
                                map.insert(k, v);
                            }
                        }
                    }
                    _ => self.diags.error(Some(&src.pos), "", "a merge key `<<` takes a mapping or a list of mappings"),
                }
            }
        }
    }
}

fn too_deep(pos: &Pos) -> Diagnostic {
    Diagnostic::error(Some(pos), "", format!("nesting deeper than {MAX_DEPTH} levels"))
        .with_hint("a stack file never needs that many; is the file generated wrongly?")
}

/// YAML 1.2 core schema resolution of a plain scalar; quoted scalars are strings.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::Str(text),
        Some("int") => return text.parse().map(Value::Int).unwrap_or(Value::Str(text)),
        Some("float") => return Value::Float(text),
        Some("bool") => return text.parse().map(Value::Bool).unwrap_or(Value::Str(text)),
        Some("null") => return Value::Null,
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | ".nan" | ".NaN" | ".NAN" => return Value::Float(text),
        _ => {}
    }
    if let Some(i) = parse_int(&text) {
        return Value::Int(i);
    }
    if is_float(&text) {
        return Value::Float(text);
    }
    Value::Str(text)
}

fn parse_int(t: &str) -> Option<i64> {
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // go-yaml (which Compose uses) reads a leading-zero integer as octal: `mode: 0440` is 288.
    if digits.len() > 1 && digits.starts_with('0') {
        let v = i64::from_str_radix(digits, 8).ok()?;
        return Some(if t.starts_with('-') { -v } else { v });
    }
    t.parse().ok()
}

fn is_float(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_dot => seen_dot = true,
            'e' | 'E' if seen_digit => {
                let rest: String = chars.collect();
                let exp = rest.strip_prefix(['-', '+']).unwrap_or(&rest);
                return !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit());
            }
            _ => return false,
        }
    }
    seen_digit && seen_dot
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn p(s: &str) -> Node {
        parse(s, "t.yaml").expect("parses")
    }

    #[test]
    fn positions_are_one_based() {
        let n = p("services:\n  web:\n    image: nginx\n");
        let web = n.as_map().unwrap().get("services").unwrap().as_map().unwrap().get_entry("web").unwrap();
        assert_eq!((web.0.pos.line, web.0.pos.col), (2, 3));
        let image = web.1.as_map().unwrap().get("image").unwrap();
        assert_eq!((image.pos.line, image.pos.col), (3, 12));
    }

    #[test]
    fn scalars_resolve_by_core_schema() {
        let n = p("a: 1\nb: '1'\nc: 1.10\nd: true\ne: ~\nf: yes\ng: 0x1F\nh: 8080:80\n");
        let m = n.as_map().unwrap();
        assert_eq!(m.get("a").unwrap().value, Value::Int(1));
        assert_eq!(m.get("b").unwrap().value, Value::Str("1".into()));
        assert_eq!(m.get("c").unwrap().scalar_string().unwrap(), "1.10");
        assert_eq!(m.get("d").unwrap().value, Value::Bool(true));
        assert!(m.get("e").unwrap().is_null());
        assert_eq!(m.get("f").unwrap().value, Value::Str("yes".into()));
        assert_eq!(m.get("g").unwrap().value, Value::Int(31));
        assert_eq!(p("m: 0440").as_map().unwrap().get("m").unwrap().value, Value::Int(0o440));
        assert_eq!(m.get("h").unwrap().value, Value::Str("8080:80".into()));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = p("x-base: &base\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *base\n    restart: 'no'\n  b: *base\n");
        let services = n.as_map().unwrap().get("services").unwrap().as_map().unwrap();
        let a = services.get("a").unwrap().as_map().unwrap();
        assert_eq!(a.get("restart").unwrap().as_str(), Some("no"));
        assert_eq!(a.get("image").unwrap().as_str(), Some("busybox"));
        assert_eq!(a.keys().collect::<Vec<_>>(), vec!["restart", "image"]);
        let b = services.get("b").unwrap().as_map().unwrap();
        assert_eq!(b.get("restart").unwrap().as_str(), Some("always"));
    }

    #[test]
    fn merge_list_earlier_source_wins() {
        let n = p("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
        let c = n.as_map().unwrap().get("c").unwrap().as_map().unwrap();
        assert_eq!(c.get("x").unwrap().value, Value::Int(1));
        assert_eq!(c.get("y").unwrap().value, Value::Int(2));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse("services:\n  a: {}\n  a: {}\n", "f.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.yaml:3:3: duplicate key `a` in this mapping (each key may appear once; remove one of them)"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("services:\n  web:\n    image: [unclosed\n", "f.yaml").unwrap_err();
        let s = err.to_string();
        assert!(s.starts_with("f.yaml:"), "{s}");
        assert!(s.contains("invalid YAML"), "{s}");
    }

    #[test]
    fn empty_document_is_null() {
        assert!(p("").is_null());
        assert!(p("# only a comment\n").is_null());
    }
    /// The classic: each level aliases the one above nine times (9^9 strings from 650 bytes).
    pub(crate) fn billion_laughs() -> String {
        let mut s = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (prev, name) in
            ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            s.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn billion_laughs_is_refused_naming_the_file() {
        let err = parse(&billion_laughs(), "compose.yaml").unwrap_err().to_string();
        assert!(err.starts_with("compose.yaml:"), "{err}");
        assert!(err.contains("excessive aliasing"), "{err}");
    }

    #[test]
    fn one_large_string_aliased_many_times_is_refused() {
        let big = "x".repeat(1 << 20);
        let refs = vec!["*s"; 100].join(", ");
        let err = parse(&format!("s: &s {big}\nl: [{refs}]\n"), "f.yaml").unwrap_err().to_string();
        assert!(err.contains("excessive aliasing"), "{err}");
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        // `- - - … x`: block sequences nested on one line (no flow-level cap applies).
        let ok = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert!(parse(&ok, "f.yaml").is_ok());
        let deep = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        let err = parse(&deep, "f.yaml").unwrap_err().to_string();
        assert!(err.starts_with("f.yaml:1:") && err.contains("nesting deeper than 256 levels"), "{err}");
        // Far deeper input fails the same way, without exhausting the stack.
        let err = parse(&format!("{}x\n", "- ".repeat(100_000)), "f.yaml").unwrap_err().to_string();
        assert!(err.contains("nesting deeper"), "{err}");
    }

    #[test]
    fn aliases_cannot_build_depth_past_the_limit() {
        let deep = format!("{}x", "[".repeat(200)) + &"]".repeat(200);
        let err = parse(&format!("a: &a {deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"), "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nesting deeper"), "{err}");
    }

    #[test]
    fn tens_of_thousands_of_keys_parse_and_index() {
        let n = 80_000;
        let mut src = String::from("x-big:\n");
        for i in 0..n {
            src.push_str(&format!("  k{i}: {i}\n"));
        }
        let root = p(&src);
        let big = root.as_map().unwrap().get("x-big").unwrap().as_map().unwrap();
        assert_eq!(big.len(), n);
        assert_eq!(big.get("k79999").unwrap().value, Value::Int(79_999));
        assert_eq!(big.keys().nth(12_345), Some("k12345"));
        // A duplicate among them is still found, at its position.
        let err = parse(&format!("{src}  k40000: again\n"), "f.yaml").unwrap_err().to_string();
        assert!(err.contains(&format!("f.yaml:{}:3: duplicate key `k40000`", n + 2)), "{err}");
    }

    #[test]
    fn merge_keys_across_many_services_stay_within_the_budget() {
        let mut src = String::from("x-defaults: &defaults\n  image: busybox\n  restart: always\n  environment: {A: '1', B: '2', C: '3'}\n  labels: [a, b, c, d]\nservices:\n");
        for i in 0..2000 {
            src.push_str(&format!("  s{i}:\n    <<: *defaults\n    command: [echo, '{i}']\n"));
        }
        let root = p(&src);
        let services = root.as_map().unwrap().get("services").unwrap().as_map().unwrap();
        assert_eq!(services.len(), 2000);
        let s = services.get("s1999").unwrap().as_map().unwrap();
        assert_eq!(s.get("restart").unwrap().as_str(), Some("always"));
        assert_eq!(s.keys().collect::<Vec<_>>(), ["command", "image", "restart", "environment", "labels"]);
    }

    #[test]
    fn map_index_follows_insert_and_remove() {
        let pos = Pos::new("t".into(), 1, 1);
        let key = |n: &str| Key { name: n.into(), pos: pos.clone() };
        let val = |i: i64| Node::new(Value::Int(i), pos.clone());
        let mut m = Map::from_entries([(key("a"), val(1)), (key("b"), val(2)), (key("c"), val(3))]);
        assert_eq!(m.remove("a").map(|n| n.value), Some(Value::Int(1)));
        assert_eq!(m.get("c").unwrap().value, Value::Int(3));
        m.insert(key("b"), val(20));
        m.insert(key("d"), val(4));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "c", "d"]);
        assert_eq!(m.get("b").unwrap().value, Value::Int(20));
        assert!(m.get("a").is_none() && m.contains_key("d"));
    }
}
