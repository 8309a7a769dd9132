//! `berth config --variables` and `berth config --environment`: what the stack files are
//! interpolated with, read from the files as written (so a file with errors elsewhere still
//! answers), as docker compose prints it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use super::config::{ConfigArgs, Format};
use super::load::load_options;
use super::GlobalOpts;
use crate::spec::variables::{extract, Variable};

pub fn run(g: &GlobalOpts, a: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let opts = load_options(g, &a.only)?;
    let (files, vars) = crate::spec::load::interpolation_inputs(&opts)?;
    let text = if a.environment {
        let mut lines: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        lines.sort();
        lines.concat()
    } else {
        if !a.only.is_empty() {
            eprintln!("warning: service filtering is not applied with --variables: the variables of every service are printed");
        }
        let mut found = BTreeMap::new();
        for (path, text) in &files {
            let shown = path.display().to_string();
            let docs = crate::spec::yaml::parse_all(text, &shown)
                .map_err(|d| anyhow::anyhow!("{d}"))
                .with_context(|| format!("read the variables of {shown}"))?;
            extract(&docs, &mut found);
        }
        render(&found, a.format)?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A table (NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE), or the map by name in JSON (with
/// compose-go's field names) or YAML (with the lower-cased names Go's YAML gives them).
fn render(found: &BTreeMap<String, Variable>, format: Option<Format>) -> anyhow::Result<String> {
    Ok(match format {
        None => {
            let rows: Vec<Vec<String>> = found
                .values()
                .map(|v| {
                    vec![v.name.clone(), v.required.to_string(), v.default_value.clone(), v.presence_value.clone()]
                })
                .collect();
            crate::reconciler::ops::table::render(&["NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"], &rows)
        }
        Some(Format::Json) => serde_json::to_string_pretty(found)? + "\n",
        Some(Format::Yaml) => {
            let lower: BTreeMap<&String, serde_json::Value> = found
                .iter()
                .map(|(k, v)| {
                    let fields = serde_json::json!({
                        "name": v.name, "defaultvalue": v.default_value,
                        "presencevalue": v.presence_value, "required": v.required,
                    });
                    (k, fields)
                })
                .collect();
            serde_yaml::to_string(&lower)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_variable_once_sorted() {
        let mut found = BTreeMap::new();
        let docs = crate::spec::yaml::parse_all("a: ${B:-x}\nb: $A ${C:?}\n", "c.yaml").unwrap();
        extract(&docs, &mut found);
        let table = render(&found, None).unwrap();
        assert_eq!(
            table,
            "NAME   REQUIRED   DEFAULT VALUE   ALTERNATE VALUE\nA      false\nB      false      x\nC      true\n"
        );
        let json: serde_json::Value = serde_json::from_str(&render(&found, Some(Format::Json)).unwrap()).unwrap();
        assert_eq!(json["B"]["DefaultValue"], "x");
        let yaml: serde_json::Value = serde_yaml::from_str(&render(&found, Some(Format::Yaml)).unwrap()).unwrap();
        assert_eq!(yaml["C"]["required"], true);
    }
}
