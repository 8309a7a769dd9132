//! Tables aligned as docker prints them: upper-case headers, columns padded to their widest
//! cell and separated by three spaces, no trailing blanks.

/// Render `header` and `rows` as aligned text, one line per row, ending in a newline.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count()) + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let rows =
            vec![vec!["demo-web-1".to_string(), "web".into(), "".into()], vec!["x".into(), "db".into(), "5".into()]];
        let text = render(&["NAME", "SERVICE", "PORTS"], &rows);
        assert_eq!(text, "NAME         SERVICE   PORTS\ndemo-web-1   web\nx            db        5\n");
    }
}
