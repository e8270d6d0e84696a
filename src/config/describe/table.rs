//! Plain-text tables for the console: columns as wide as their widest cell (counted in
//! characters, so `m²` and `→` count as one), two spaces between, numbers right-aligned, and no
//! trailing spaces. No tabs, whose width depends on the terminal.

/// How a column's cells line up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

/// The gap between two columns.
const GAP: &str = "  ";

/// `header` and `rows` as lines, each ending in `\n`; `align` has one entry per column.
pub(super) fn render(align: &[Align], header: &[&str], rows: &[Vec<String>]) -> String {
    let widths = widths(header, rows);
    let mut out = line(align, &widths, header.iter().copied());
    for row in rows {
        out.push_str(&line(align, &widths, row.iter().map(String::as_str)));
    }
    out
}

fn widths(header: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    widths
}

fn line<'a>(align: &[Align], widths: &[usize], cells: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push_str(GAP);
        }
        let pad = " ".repeat(widths[i].saturating_sub(cell.chars().count()));
        match align[i] {
            Align::Right => {
                out.push_str(&pad);
                out.push_str(cell);
            }
            Align::Left => {
                out.push_str(cell);
                out.push_str(&pad);
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_in_characters() {
        let rows = vec![
            vec!["oslo".to_owned(), "9".to_owned(), "48 m² → 12".to_owned()],
            vec!["bergen-sentrum".to_owned(), "10".to_owned(), "–".to_owned()],
        ];
        let text = render(
            &[Align::Left, Align::Right, Align::Left],
            &["station", "cap", "area"],
            &rows,
        );
        assert_eq!(
            text,
            "station         cap  area\n\
             oslo              9  48 m² → 12\n\
             bergen-sentrum   10  –\n"
        );
    }
}
