//! Line charts as inline SVG, rendered on the server: no chart library, no script,
//! readable printed. Each series is a line with a point per month; a dashed line marks
//! the target and a shaded band the 95 % margin where one is known. The numbers are
//! also in the table under every chart, which is what screen readers get.

use std::fmt::Write;

pub struct Series {
    pub label: String,
    /// One value per x label; `None` where there were no answers.
    pub values: Vec<Option<f64>>,
    /// Half-widths of the 95 % band, per point (drawn for the first series only).
    pub margins: Vec<Option<f64>>,
}

pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub y_min: f64,
    pub y_max: f64,
    pub target: f64,
    pub target_label: String,
}

const W: f64 = 1100.0;
const H: f64 = 340.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;
/// Colour-blind-safe (Okabe–Ito), dark enough on white.
const COLOURS: [&str; 6] = [
    "#0b57a4", "#b35806", "#1b7837", "#762a83", "#8c510a", "#01665e",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl LineChart<'_> {
    fn x(&self, i: usize) -> f64 {
        let n = self.x_labels.len().max(2) - 1;
        LEFT + (W - LEFT - RIGHT) * i as f64 / n as f64
    }

    fn y(&self, v: f64) -> f64 {
        let v = v.clamp(self.y_min, self.y_max);
        TOP + (H - TOP - BOTTOM) * (1.0 - (v - self.y_min) / (self.y_max - self.y_min))
    }

    pub fn svg(&self, id: &str) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-t" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title>"#,
            esc(self.title)
        );
        // Grid and y axis labels: five steps.
        for k in 0..=4 {
            let v = self.y_min + (self.y_max - self.y_min) * k as f64 / 4.0;
            let y = self.y(v);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#dde2e8"/><text x="{}" y="{:.1}" text-anchor="end" font-size="12" fill="#3a434d">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                if self.y_max - self.y_min > 10.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                }
            );
        }
        // x labels (every other one when crowded).
        let step = if self.x_labels.len() > 12 { 2 } else { 1 };
        for (i, label) in self.x_labels.iter().enumerate().step_by(step) {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="12" fill="#3a434d">{}</text>"##,
                self.x(i),
                H - BOTTOM + 18.0,
                esc(label)
            );
        }
        // The margin band of the first series.
        if let Some(first) = self.series.first() {
            let pts: Vec<(usize, f64, f64)> = first
                .values
                .iter()
                .zip(&first.margins)
                .enumerate()
                .filter_map(|(i, (v, m))| Some((i, (*v)?, (*m)?)))
                .collect();
            if pts.len() >= 2 {
                let mut path = String::new();
                for (k, (i, v, m)) in pts.iter().enumerate() {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if k == 0 { "M" } else { "L" },
                        self.x(*i),
                        self.y(v + m)
                    );
                }
                for (i, v, m) in pts.iter().rev() {
                    let _ = write!(path, "L{:.1},{:.1} ", self.x(*i), self.y(v - m));
                }
                let _ = write!(
                    s,
                    r##"<path d="{path}Z" fill="#0b57a4" fill-opacity="0.12" stroke="none"><title>95 % margin</title></path>"##
                );
            }
        }
        // Target.
        let ty = self.y(self.target);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{ty:.1}" y2="{ty:.1}" stroke="#8a1c1c" stroke-width="2" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" font-size="12" fill="#8a1c1c">{}</text>"##,
            W - RIGHT,
            W - RIGHT + 8.0,
            ty + 4.0,
            esc(&self.target_label)
        );
        // Lines and points.
        for (k, series) in self.series.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let mut path = String::new();
            let mut pen_down = false;
            for (i, v) in series.values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let _ = write!(
                            path,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            self.x(i),
                            self.y(*v)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let width = if k == 0 { 3 } else { 2 };
            let _ = write!(
                s,
                r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}"/>"#
            );
            for (i, v) in series.values.iter().enumerate() {
                if let Some(v) = v {
                    let _ = write!(
                        s,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{} {}: {:.2}</title></circle>"#,
                        self.x(i),
                        self.y(*v),
                        esc(&series.label),
                        esc(&self.x_labels[i]),
                        v
                    );
                }
            }
            let ly = TOP + 18.0 * (k as f64 + 2.0);
            let _ = write!(
                s,
                r##"<rect x="{}" y="{:.1}" width="14" height="4" fill="{colour}"/><text x="{}" y="{:.1}" font-size="12" fill="#1b1f24">{}</text>"##,
                W - RIGHT + 8.0,
                ly - 4.0,
                W - RIGHT + 28.0,
                ly,
                esc(&series.label)
            );
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_escapes_labels_and_skips_gaps() {
        let chart = LineChart {
            title: "CSAT <by month>",
            x_labels: vec!["2026-09".into(), "2026-10".into(), "2026-11".into()],
            series: vec![Series {
                label: "a&b".into(),
                values: vec![Some(4.2), None, Some(3.9)],
                margins: vec![None, None, None],
            }],
            y_min: 1.0,
            y_max: 5.0,
            target: 4.0,
            target_label: "target 4.0".into(),
        };
        let svg = chart.svg("c");
        assert!(svg.contains("CSAT &lt;by month&gt;") && svg.contains("a&amp;b"));
        // Two separate pen-downs: the gap is not bridged.
        assert_eq!(
            svg.matches(" M").count() + usize::from(svg.contains("d=\"M")),
            2
        );
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
