//! `--format` as Docker reads it: `table` (aligned columns), `json` (JSON Lines: one object per
//! line, as `docker compose ps --format json` since Compose 2.21), or a Go-template-like text
//! where `{{.Field}}` is replaced by the row's field (`{{json .Field}}` by its JSON), with
//! `table ` in front for aligned columns under upper-case headers. Only these simple forms:
//! no pipelines, conditionals or functions beyond `json`, `upper` and `lower`.

use anyhow::{bail, Context as _};
use serde::Serialize;
use serde_json::Value;

/// What `--format` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFormat {
    /// The command's own table.
    Table,
    /// One JSON object per line.
    Json,
    /// A template, rendered once per row; with `table` in front, as aligned columns.
    Template { text: String, table: bool },
}

impl std::str::FromStr for OutputFormat {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "" | "table" => OutputFormat::Table,
            "json" => OutputFormat::Json,
            t => match t.strip_prefix("table ") {
                Some(rest) => OutputFormat::Template { text: unescape(rest), table: true },
                None => OutputFormat::Template { text: unescape(t), table: false },
            },
        })
    }
}

/// Docker's CLI reads `\t` and `\n` typed in a shell's single quotes as tab and newline.
fn unescape(s: &str) -> String {
    s.replace("\\t", "\t").replace("\\n", "\n")
}

/// One `{{…}}` action of a template, or literal text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { name: String, func: Option<String> },
}

fn parse(template: &str) -> anyhow::Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").with_context(|| format!("--format {template:?}: `{{{{` without `}}}}`"))?;
        let action = after[..end].trim().trim_start_matches('-').trim_end_matches('-').trim();
        let words: Vec<&str> = action.split_whitespace().collect();
        let (func, field) = match words.as_slice() {
            [field] => (None, *field),
            [func, field] if matches!(*func, "json" | "upper" | "lower") => (Some(func.to_string()), *field),
            _ => bail!("--format {template:?}: `{{{{{action}}}}}` is not supported (use `{{{{.Field}}}}` or `{{{{json .Field}}}}`)"),
        };
        let name = match field {
            "." => String::new(),
            f => f
                .strip_prefix('.')
                .with_context(|| format!("--format {template:?}: `{f}` is not a field (write `.{f}`)"))?
                .to_string(),
        };
        out.push(Piece::Field { name, func });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

/// A value as a template prints it: strings bare, null as empty, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn render_row(pieces: &[Piece], row: &Value, fields: &[String]) -> anyhow::Result<String> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Field { name, func } => {
                let v = if name.is_empty() {
                    row
                } else {
                    row.get(name).with_context(|| {
                        format!("--format: no field `.{name}`; the fields are: {}", fields.join(", "))
                    })?
                };
                match func.as_deref() {
                    Some("json") => out.push_str(&serde_json::to_string(v)?),
                    Some("upper") => out.push_str(&plain(v).to_uppercase()),
                    Some("lower") => out.push_str(&plain(v).to_lowercase()),
                    _ => out.push_str(&plain(v)),
                }
            }
        }
    }
    Ok(out)
}

/// The column header Docker prints for a field: `CreatedAt` → `CREATED AT`, `ID` → `ID`.
fn header_of(field: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = field.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && (prev_lower || next_lower) {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// Render `rows` with `template` (see [`OutputFormat::Template`]): one line per row, or with
/// `table`, aligned columns (cells split at tabs) under a header line.
pub fn render_template<T: Serialize>(template: &str, table: bool, rows: &[T]) -> anyhow::Result<String> {
    let pieces = parse(template)?;
    let values: Vec<Value> = rows.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    let fields: Vec<String> =
        values.first().and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let mut lines = Vec::new();
    for v in &values {
        lines.push(render_row(&pieces, v, &fields)?);
    }
    if !table {
        return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
    }
    let header_line: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Field { name, .. } => header_of(name),
        })
        .collect();
    let header: Vec<&str> = header_line.split('\t').collect();
    let cells: Vec<Vec<String>> = lines.iter().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    Ok(crate::reconciler::ops::table::render(&header, &cells))
}

/// Rows as JSON Lines: one compact object per line.
pub fn json_lines<T: Serialize>(rows: &[T]) -> anyhow::Result<String> {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct R {
        name: String,
        state: String,
        exit_code: i32,
    }

    fn rows() -> Vec<R> {
        vec![
            R { name: "p-web-1".into(), state: "running".into(), exit_code: 0 },
            R { name: "p-job-1".into(), state: "exited".into(), exit_code: 3 },
        ]
    }

    #[test]
    fn formats_parse_as_docker_reads_them() {
        assert_eq!("table".parse::<OutputFormat>().unwrap(), OutputFormat::Table);
        assert_eq!("json".parse::<OutputFormat>().unwrap(), OutputFormat::Json);
        assert_eq!(
            "table {{.Name}}\\t{{.State}}".parse::<OutputFormat>().unwrap(),
            OutputFormat::Template { text: "{{.Name}}\t{{.State}}".into(), table: true }
        );
    }

    #[test]
    fn templates_fill_fields_per_row() {
        let out = render_template("{{.Name}}={{.State}} ({{json .ExitCode}})", false, &rows()).unwrap();
        assert_eq!(out, "p-web-1=running (0)\np-job-1=exited (3)\n");
        assert_eq!(render_template("{{upper .State}}", false, &rows()).unwrap(), "RUNNING\nEXITED\n");
    }

    #[test]
    fn table_templates_align_under_headers() {
        let out = render_template("{{.Name}}\t{{.ExitCode}}", true, &rows()).unwrap();
        assert_eq!(out, "NAME      EXIT CODE\np-web-1   0\np-job-1   3\n");
    }

    #[test]
    fn unknown_fields_and_actions_are_named() {
        let e = render_template("{{.Nope}}", false, &rows()).unwrap_err().to_string();
        assert!(e.contains("no field `.Nope`") && e.contains("Name, State, ExitCode"), "{e}");
        let e = render_template("{{if .Name}}x{{end}}", false, &rows()).unwrap_err().to_string();
        assert!(e.contains("not supported"), "{e}");
        assert!(render_template("{{.Name", false, &rows()).is_err());
    }

    #[test]
    fn json_lines_are_one_object_a_line() {
        let out = json_lines(&rows()).unwrap();
        assert_eq!(out.lines().count(), 2);
        for l in out.lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            assert!(v.get("Name").is_some());
        }
    }
}
