//! A YAML tree that remembers where each node was written.
//!
//! serde stops at the first error and forgets positions, but the loader must
//! report every problem with its line and column. So the text is first read into
//! this small tree (from yaml-rust2's event parser, without recursion), keeping
//! each scalar's exact text: `150000000000000000000` and `1.5e18` stay exact
//! instead of becoming floats.

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting accepted; a desired-state file needs four levels.
const MAX_DEPTH: usize = 32;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl From<Marker> for Mark {
    fn from(marker: Marker) -> Self {
        Self { line: marker.line(), column: marker.col() + 1 }
    }
}

/// A value and where it starts.
#[derive(Debug)]
pub(crate) struct Node {
    pub mark: Mark,
    pub value: Value,
}

/// The shape of a node.
#[derive(Debug)]
pub(crate) enum Value {
    /// A scalar with its exact text; `plain` is false when quoted, a block or `!!str`.
    Scalar { text: String, plain: bool },
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in file order, duplicates kept (the reader reports them).
    Map(Vec<Entry>),
    /// Something the loader refuses to interpret (an alias, a custom tag).
    Unsupported(&'static str),
}

/// One `key: value` of a mapping.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The key's text, or `None` when the key is not a scalar.
    pub key: Option<String>,
    /// Where the key starts.
    pub key_mark: Mark,
    pub value: Node,
}

/// A YAML syntax error and where the parser noticed it.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub mark: Mark,
    pub message: String,
}

impl Node {
    /// Whether the node is YAML's null (`~`, `null` or nothing at all).
    pub(crate) fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar { text, plain: true } => {
                matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    /// A short description of what the node holds, for "found …" messages.
    pub(crate) fn describe(&self) -> String {
        match &self.value {
            _ if self.is_null() => "an empty value".to_owned(),
            Value::Scalar { text, .. } => format!("`{}`", shorten(text)),
            Value::List(_) => "a list".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
            Value::Unsupported(what) => (*what).to_owned(),
        }
    }

    /// The position of a key path such as `arena.orchestrators[2]`: the key's own
    /// position for a mapping key, the item's for a list index.
    pub(crate) fn locate(&self, path: &str) -> Option<Mark> {
        self.at(path).and_then(|(_, mark)| mark)
    }

    /// The node at `path` below this one, and its mark (`None` for this
    /// node itself, an empty path).
    pub(crate) fn at(&self, path: &str) -> Option<(&Node, Option<Mark>)> {
        let mut node = self;
        let mut mark = None;
        for segment in segments(path) {
            let (next, at) = node.child(segment)?;
            node = next;
            mark = Some(at);
        }
        Some((node, mark))
    }

    fn child(&self, segment: Segment<'_>) -> Option<(&Node, Mark)> {
        match (&self.value, segment) {
            (Value::Map(entries), Segment::Key(key)) => {
                entries.iter().find(|e| e.key.as_deref() == Some(key)).map(|e| (&e.value, e.key_mark))
            }
            (Value::List(items), Segment::Index(i)) => items.get(i).map(|n| (n, n.mark)),
            _ => None,
        }
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into `a`, `b`, `[2]`, `c`.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            out.push(Segment::Key(key));
        }
        for index in pieces {
            match index.trim_end_matches(']').parse() {
                Ok(i) => out.push(Segment::Index(i)),
                Err(_) => out.push(Segment::Key(index)),
            }
        }
    }
    out
}

/// Parses one YAML document; `Ok(None)` when the text holds no document at all.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    loop {
        let (event, marker) = parser.next_token().map_err(|e| SyntaxError {
            mark: Mark::from(*e.marker()),
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        if event == Event::StreamEnd {
            return Ok(builder.root);
        }
        builder.on_event(event, Mark::from(marker))?;
    }
}

/// A collection being built.
#[derive(Debug)]
struct Frame {
    mark: Mark,
    /// Set when the collection carries a tag the loader does not accept.
    unsupported: Option<&'static str>,
    kind: FrameKind,
}

#[derive(Debug)]
enum FrameKind {
    List(Vec<Node>),
    /// Entries so far, and a key waiting for its value.
    Map(Vec<Entry>, Option<(Option<String>, Mark)>),
}

/// Turns parser events into a [`Node`] tree with an explicit stack.
#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn on_event(&mut self, event: Event, mark: Mark) -> Result<(), SyntaxError> {
        match event {
            Event::DocumentStart => self.start_document(mark),
            Event::Scalar(text, style, _, tag) => self.push(scalar(text, style, tag.as_ref()), mark),
            Event::Alias(_) => self.push(Value::Unsupported(ALIAS), mark),
            Event::SequenceStart(_, tag) => self.open(FrameKind::List(Vec::new()), tag, mark),
            Event::MappingStart(_, tag) => self.open(FrameKind::Map(Vec::new(), None), tag, mark),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            _ => Ok(()),
        }
    }

    fn start_document(&mut self, mark: Mark) -> Result<(), SyntaxError> {
        self.documents += 1;
        if self.documents > 1 {
            return Err(SyntaxError {
                mark,
                message: "a second YAML document starts here; a desired-state file holds exactly one".to_owned(),
            });
        }
        Ok(())
    }

    fn open(&mut self, kind: FrameKind, tag: Option<Tag>, mark: Mark) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError { mark, message: format!("nested deeper than {MAX_DEPTH} levels") });
        }
        let unsupported = tag.filter(|t| !is_core_collection(t)).map(|_| CUSTOM_TAG);
        self.stack.push(Frame { mark, unsupported, kind });
        Ok(())
    }

    fn close(&mut self) -> Result<(), SyntaxError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match (frame.unsupported, frame.kind) {
            (Some(why), _) => Value::Unsupported(why),
            (None, FrameKind::List(items)) => Value::List(items),
            (None, FrameKind::Map(entries, _)) => Value::Map(entries),
        };
        self.push(value, frame.mark)
    }

    fn push(&mut self, value: Value, mark: Mark) -> Result<(), SyntaxError> {
        let node = Node { mark, value };
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut frame.kind {
            FrameKind::List(items) => items.push(node),
            FrameKind::Map(entries, pending) => match pending.take() {
                None => *pending = Some((key_text(node.value), node.mark)),
                Some((key, key_mark)) => entries.push(Entry { key, key_mark, value: node }),
            },
        }
        Ok(())
    }
}

const ALIAS: &str = "an alias (`*name`); anchors and aliases are not supported, write the value out";
const CUSTOM_TAG: &str = "a tagged value (`!tag`); tags other than `!!str` are not supported";
const CORE: &str = "tag:yaml.org,2002:";

fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    match tag {
        None => Value::Scalar { text, plain: style == TScalarStyle::Plain },
        Some(t) if t.handle == CORE && t.suffix == "str" => Value::Scalar { text, plain: false },
        Some(_) => Value::Unsupported(CUSTOM_TAG),
    }
}

fn is_core_collection(tag: &Tag) -> bool {
    tag.handle == CORE && matches!(tag.suffix.as_str(), "map" | "seq")
}

fn key_text(value: Value) -> Option<String> {
    match value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        match parse(text) {
            Ok(Some(node)) => node,
            other => panic!("expected a document, got {other:?}"),
        }
    }

    #[test]
    fn big_integers_keep_their_exact_text() {
        let node = root("a: 150000000000000000000\nb: 1.5e18\n");
        let Value::Map(entries) = node.value else { panic!("not a map") };
        let texts: Vec<_> = entries
            .iter()
            .map(|e| match &e.value.value {
                Value::Scalar { text, plain } => (text.as_str(), *plain),
                _ => ("?", false),
            })
            .collect();
        assert_eq!(texts, [("150000000000000000000", true), ("1.5e18", true)]);
    }

    #[test]
    fn locate_finds_keys_and_list_items() {
        let node = root("arena:\n  orchestrators:\n    - a\n    - b\n");
        assert_eq!(node.locate("arena"), Some(Mark { line: 1, column: 1 }));
        assert_eq!(node.locate("arena.orchestrators"), Some(Mark { line: 2, column: 3 }));
        assert_eq!(node.locate("arena.orchestrators[1]"), Some(Mark { line: 4, column: 7 }));
        assert_eq!(node.locate("arena.missing"), None);
    }

    #[test]
    fn syntax_error_carries_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").err();
        assert!(err.is_some_and(|e| e.mark.line >= 1 && e.message.contains("syntax")));
    }

    #[test]
    fn empty_text_and_comments_hold_no_document() {
        assert!(matches!(parse(""), Ok(None)));
        assert!(matches!(parse("# only a comment\n"), Ok(None)));
    }

    #[test]
    fn a_second_document_is_refused() {
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn aliases_and_custom_tags_are_marked_unsupported() {
        let node = root("a: &x 1\nb: *x\nc: !secret 2\nd: !!str 3\n");
        let Value::Map(entries) = node.value else { panic!("not a map") };
        assert!(matches!(entries[1].value.value, Value::Unsupported(_)));
        assert!(matches!(entries[2].value.value, Value::Unsupported(_)));
        assert!(matches!(entries[3].value.value, Value::Scalar { plain: false, .. }));
    }
}
