//! Text from outside (a file's keys and name, a node's answer) is escaped for
//! the medium it is shown in, so it can only ever be read, never act: on a
//! terminal, control characters (ESC sequences, a carriage return that
//! rewrites the line, BEL) are shown as `\u{1b}`-style escapes; in markdown,
//! such text is only ever shown inside a code span, where GitHub renders no
//! HTML, no links and no mentions, on one line; in HTML (the status page),
//! as text whose markup characters are entities.

use std::borrow::Cow;

/// `text` with every control character but newline and tab shown as an
/// escape (`\u{1b}`), so it cannot move the cursor, recolour, retitle or
/// clear a terminal.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as a markdown code span that holds it literally, on one line:
/// control characters escaped, newlines shown as `\n`, a fence longer than
/// any run of backticks in it; in a table cell (`in_table`), `|` escaped so
/// it cannot end the cell.
pub fn code_span(text: &str, in_table: bool) -> String {
    let one_line = terminal(text).replace('\n', "\\n").replace('\t', " ");
    let one_line = if in_table { one_line.replace('|', "\\|") } else { one_line };
    let longest = one_line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') || one_line.is_empty() { " " } else { "" };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// `text` for HTML element content or a quoted attribute value: `&`, `<`,
/// `>`, `"` and `'` as entities, controls escaped as on a terminal, so it
/// can never open a tag, end an attribute or run a script.
pub fn html(text: &str) -> String {
    let safe = terminal(text);
    let mut out = String::with_capacity(safe.len() + 16);
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// C0 and C1 controls (newline and tab excepted), DEL, and the bidirectional
/// overrides that make text read differently from what it is.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_carriage_returns_are_shown_not_run() {
        assert_eq!(terminal("a\u{1b}[2J\rb\u{7}"), "a\\u{1b}[2J\\u{d}b\\u{7}");
        assert!(matches!(terminal("plain\ttext\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_markup_in_outside_text_is_shown_not_parsed() {
        assert_eq!(
            html("<script>alert('x')</script>&\"\u{1b}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\\u{1b}"
        );
        assert_eq!(html("state/a.yaml"), "state/a.yaml");
    }

    #[test]
    fn a_code_span_outlasts_the_backticks_and_lines_inside_it() {
        assert_eq!(code_span("a.yaml", false), "`a.yaml`");
        assert_eq!(code_span("a``b\n<!--", false), "```a``b\\n<!--```");
        assert_eq!(code_span("`x|y", true), "`` `x\\|y ``");
    }
}
