//! Aligned, width-bounded text tables for `report.txt`. Every cell passes
//! through [`crate::text::display_cut`], so host strings are escaped and cut
//! with a visible marker before they reach the page.

use crate::text::display_cut;

/// A table being built: headers, per-column maximum widths, rows.
pub struct Table {
    headers: Vec<&'static str>,
    max: Vec<usize>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as `(header, maximum width)`. The last column may be wide
    /// (command lines); it is still cut at its maximum.
    pub fn new(columns: &[(&'static str, usize)]) -> Self {
        Table {
            headers: columns.iter().map(|c| c.0).collect(),
            max: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of raw (untrusted) cell values.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        let row = cells
            .iter()
            .zip(&self.max)
            .map(|(c, &max)| display_cut(c.as_ref(), max))
            .collect();
        self.rows.push(row);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True with no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders with two spaces between columns, each line indented by two.
    pub fn render(&self, out: &mut String) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut s = String::from("  ");
            let cells: Vec<&str> = cells.collect();
            for (i, cell) in cells.iter().enumerate() {
                s.push_str(cell);
                if i + 1 < cells.len() {
                    let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&mut self.headers.iter().copied());
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_escapes() {
        let mut t = Table::new(&[("PID", 8), ("NAME", 10)]);
        t.row(&["1", "systemd"]);
        t.row(&["4242", "evil\n[*] Fake"]);
        let mut out = String::new();
        t.render(&mut out);
        assert_eq!(out, "  PID   NAME\n  1     systemd\n  4242  evil\\n[*]…\n");
        assert_eq!(out.lines().count(), 3);
    }
}
