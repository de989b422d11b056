//! The study's charts (plotly), one trace per dropout p overlaid as the seed report draws them;
//! the precomputed full-test-set figures, when shipped, as dashed traces beside the live subset.

use plotly::common::{DashType, Line, Marker, Mode, Title};
use plotly::configuration::DisplayModeBar;
use plotly::common::Orientation;
use plotly::layout::{Axis, AxisType, Layout, Legend, Margin};
use plotly::{Configuration, Plot, Scatter};
use quiver_core::study::{ClassRow, Reliability, Tables};

/// Which uncertainty measure the "confidence vs class" chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// The report's measure: the true class's MC variance, averaged per class.
    Variance,
    Entropy,
    MutualInformation,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Measure::Variance, Measure::Entropy, Measure::MutualInformation];

    pub fn key(self) -> &'static str {
        match self {
            Measure::Variance => "variance",
            Measure::Entropy => "entropy",
            Measure::MutualInformation => "mi",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Measure::Variance => "MC variance of the true class (the report's confidence)",
            Measure::Entropy => "predictive entropy (nats)",
            Measure::MutualInformation => "mutual information (nats)",
        }
    }

    /// The axis title.
    pub fn short(self) -> &'static str {
        match self {
            Measure::Variance => "MC variance of the true class",
            Measure::Entropy => "entropy (nats)",
            Measure::MutualInformation => "mutual information (nats)",
        }
    }

    /// The detector's score for this measure (for variance: the predicted class's).
    pub fn score(self) -> quiver_core::study::Score {
        match self {
            Measure::Variance => quiver_core::study::Score::Variance,
            Measure::Entropy => quiver_core::study::Score::Entropy,
            Measure::MutualInformation => quiver_core::study::Score::MutualInformation,
        }
    }

    pub fn of(self, r: &ClassRow) -> f64 {
        match self {
            Measure::Variance => r.variance,
            Measure::Entropy => r.entropy,
            Measure::MutualInformation => r.mutual_information,
        }
    }
}

/// One series: its name (e.g. "p = 0.25"), its tables, whether it is the precomputed full set,
/// and its colour (the subject's index: a precomputed series shares its live subject's).
pub struct Series<'a> {
    pub name: String,
    pub tables: &'a Tables,
    pub full: bool,
    pub colour: usize,
}

// One colour per subject (three dropout rates, then the ensembles); a precomputed series takes
// its live subject's colour.
const COLOURS: [&str; 6] = ["#3b6fd8", "#d8643b", "#2a9d4b", "#8e44ad", "#b8860b", "#555555"];

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn layout(title: &str, x: &str, y: &str, category: bool) -> Layout {
    let mut xa = Axis::new().title(Title::with_text(x));
    if category {
        xa = xa.type_(AxisType::Category);
    }
    Layout::new().title(Title::with_text(title)).height(320).margin(Margin::new().top(40).bottom(45).left(60).right(10)).x_axis(xa).y_axis(Axis::new().title(Title::with_text(y)))
}

fn finish(mut plot: Plot, layout: Layout) -> Plot {
    // The legend under the chart: the plot keeps the panel's width.
    // A click picks the point under the pointer (the drill-down follows it).
    plot.set_layout(layout.height(420).hover_mode(plotly::layout::HoverMode::Closest).legend(Legend::new().orientation(Orientation::Horizontal).y(-0.25)));
    plot.set_configuration(Configuration::new().display_mode_bar(DisplayModeBar::False).responsive(true));
    plot
}

fn line(s: &Series, name: String, x: Vec<String>, y: Vec<f64>, dash: DashType) -> Box<Scatter<String, f64>> {
    let i = s.colour;
    Scatter::new(x, y)
        .name(name)
        .mode(Mode::LinesMarkers)
        .line(Line::new().color(colour(i)).dash(if s.full { DashType::Dash } else { dash }))
        .marker(Marker::new().color(colour(i)).size(if s.full { 4 } else { 6 }))
}

fn classes(rows: &[ClassRow], names: &[String]) -> Vec<String> {
    rows.iter().map(|r| names.get(r.class).cloned().unwrap_or_else(|| r.class.to_string())).collect()
}

/// Confidence vs class: the chosen measure per class, one line per series.
pub fn confidence_chart(series: &[Series], measure: Measure, names: &[String]) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        let rows = &s.tables.per_class;
        plot.add_trace(line(s, s.name.clone(), classes(rows, names), rows.iter().map(|r| measure.of(r)).collect(), DashType::Solid));
    }
    finish(plot, layout(&format!("Confidence vs class: {}", measure.short()), "class", measure.short(), true))
}

/// Accuracy vs class: the report's accuracy (mean softmax of the true class) and top-1.
pub fn accuracy_chart(series: &[Series], names: &[String]) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        let rows = &s.tables.per_class;
        plot.add_trace(line(s, format!("{}: mean softmax of the true class", s.name), classes(rows, names), rows.iter().map(|r| r.true_prob).collect(), DashType::Solid));
        plot.add_trace(line(s, format!("{}: top-1 accuracy", s.name), classes(rows, names), rows.iter().map(|r| r.top1).collect(), DashType::Dot));
    }
    finish(plot, layout("Accuracy vs class", "class", "accuracy", true))
}

/// Confidence vs accuracy: one point per class (the report's §3.3 plot).
pub fn confidence_accuracy_chart(series: &[Series], names: &[String]) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        let rows = &s.tables.per_class;
        plot.add_trace(
            Scatter::new(rows.iter().map(|r| r.variance).collect::<Vec<f64>>(), rows.iter().map(|r| r.true_prob).collect::<Vec<f64>>())
                .name(s.name.clone())
                .mode(Mode::MarkersText)
                .text_array(classes(rows, names))
                .marker(Marker::new().color(colour(s.colour)).size(if s.full { 6 } else { 9 }).opacity(if s.full { 0.5 } else { 1.0 })),
        );
    }
    finish(plot, layout("Confidence vs accuracy, per class (large) and per image (small)", "MC variance of the true class", "mean softmax of the true class", false))
}

/// The per-image points of the live series, added after the chart's per-class traces: one small,
/// faint trace per series (its points in record order), the image index in the hover text.
pub fn with_images(mut plot: Plot, images: &[(String, Vec<(f64, f64, usize)>)]) -> Plot {
    for (i, (name, pts)) in images.iter().enumerate() {
        plot.add_trace(
            Scatter::new(pts.iter().map(|p| p.0).collect::<Vec<f64>>(), pts.iter().map(|p| p.1).collect::<Vec<f64>>())
                .name(format!("{name}: each image"))
                .mode(Mode::Markers)
                .text_array(pts.iter().map(|p| format!("image #{}", p.2)).collect::<Vec<String>>())
                .marker(Marker::new().color(colour(i)).size(4).opacity(0.3)),
        );
    }
    plot
}

/// Reliability diagram: accuracy against confidence per bin, MC-averaged (solid) and
/// deterministic (dotted), with the diagonal of perfect calibration.
pub fn reliability_chart(series: &[Series]) -> Plot {
    let mut plot = Plot::new();
    plot.add_trace(Scatter::new(vec![0.0, 1.0], vec![0.0, 1.0]).name("perfectly calibrated").mode(Mode::Lines).line(Line::new().color("#999999").dash(DashType::Dash)));
    let bins = |r: &Reliability| -> (Vec<f64>, Vec<f64>) { r.bins.iter().filter(|b| b.count > 0).map(|b| (b.confidence, b.accuracy)).unzip() };
    for s in series {
        let (x, y) = bins(&s.tables.reliability);
        plot.add_trace(Scatter::new(x, y).name(format!("{}: MC mean, ECE {:.4}", s.name, s.tables.reliability.ece)).mode(Mode::LinesMarkers).line(Line::new().color(colour(s.colour))));
        let (x, y) = bins(&s.tables.det_reliability);
        plot.add_trace(
            Scatter::new(x, y)
                .name(format!("{}: deterministic, ECE {:.4}", s.name, s.tables.det_reliability.ece))
                .mode(Mode::LinesMarkers)
                .line(Line::new().color(colour(s.colour)).dash(DashType::Dot)),
        );
    }
    let l = Layout::new()
        .title(Title::with_text("Reliability: accuracy vs confidence (15 bins)"))
        .height(320)
        .margin(Margin::new().top(40).bottom(45).left(60).right(10))
        .x_axis(Axis::new().title(Title::with_text("confidence (top mean probability)")).range(vec![0.0, 1.0]))
        .y_axis(Axis::new().title(Title::with_text("accuracy")).range(vec![0.0, 1.02]));
    finish(plot, l)
}

fn score_name(s: quiver_core::study::Score) -> &'static str {
    match s {
        quiver_core::study::Score::Variance => "variance of the predicted class",
        quiver_core::study::Score::Entropy => "entropy",
        quiver_core::study::Score::MutualInformation => "mutual information",
    }
}

/// ROC curves of each uncertainty score as a detector of the adversarial images, with AUROC.
pub fn roc_chart(study: &quiver_core::study::AttackStudy, title: &str) -> Plot {
    let mut plot = Plot::new();
    plot.add_trace(Scatter::new(vec![0.0, 1.0], vec![0.0, 1.0]).name("chance (AUROC 0.5)").mode(Mode::Lines).line(Line::new().color("#999999").dash(DashType::Dash)));
    for (i, d) in study.detection.iter().enumerate() {
        plot.add_trace(Scatter::new(d.roc.fpr.clone(), d.roc.tpr.clone()).name(format!("{}: AUROC {:.3}", score_name(d.score), d.auroc)).mode(Mode::Lines).line(Line::new().color(colour(i))));
    }
    let l = Layout::new()
        .title(Title::with_text(title))
        .margin(Margin::new().top(40).bottom(45).left(60).right(10))
        .x_axis(Axis::new().title(Title::with_text("false positive rate (benign flagged)")).range(vec![0.0, 1.0]))
        .y_axis(Axis::new().title(Title::with_text("true positive rate (adversarial flagged)")).range(vec![0.0, 1.02]));
    finish(plot, l)
}

/// Histograms of one score on benign and adversarial images (shared bins).
pub fn histogram_chart(study: &quiver_core::study::AttackStudy, measure: Measure, title: &str) -> Plot {
    let score = measure.score();
    let mut plot = Plot::new();
    if let Some(d) = study.detection.iter().find(|d| d.score == score) {
        let h = &d.histogram;
        let mids: Vec<f64> = h.edges.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
        plot.add_trace(plotly::Bar::new(mids.clone(), h.benign.iter().map(|&c| c as f64).collect::<Vec<f64>>()).name("benign").marker(Marker::new().color("#3b6fd8").opacity(0.6)));
        plot.add_trace(plotly::Bar::new(mids, h.adversarial.iter().map(|&c| c as f64).collect::<Vec<f64>>()).name("adversarial").marker(Marker::new().color("#d83b5a").opacity(0.6)));
    }
    let l = Layout::new()
        .title(Title::with_text(title))
        .bar_mode(plotly::layout::BarMode::Overlay)
        .margin(Margin::new().top(40).bottom(45).left(60).right(10))
        .x_axis(Axis::new().title(Title::with_text(score_name(score))))
        .y_axis(Axis::new().title(Title::with_text("images")));
    finish(plot, l)
}

/// One subject's curve as (ε, tables, attack study): ε = 0 is the benign images.
fn curve_points(s: &super::curve::SubjectCurve) -> Vec<(f64, &Tables, Option<&quiver_core::study::AttackStudy>)> {
    let benign = s.points.first().map(|(_, a)| (0.0, &a.benign, None));
    benign.into_iter().chain(s.points.iter().map(|(e, a)| (*e, &a.adversarial, Some(a)))).collect()
}

fn curve_layout(title: &str, y: &str, range: Option<Vec<f64>>) -> Layout {
    let mut ya = Axis::new().title(Title::with_text(y));
    if let Some(r) = range {
        ya = ya.range(r);
    }
    Layout::new().title(Title::with_text(title)).margin(Margin::new().top(40).bottom(45).left(60).right(10)).x_axis(Axis::new().title(Title::with_text("ε (L∞, pixel units)"))).y_axis(ya)
}

/// Robustness curve: top-1 accuracy (solid) and the report's accuracy (dotted) against ε.
pub fn curve_accuracy_chart(c: &super::curve::Curve) -> Plot {
    let mut plot = Plot::new();
    for (i, s) in c.subjects.iter().enumerate() {
        let pts = curve_points(s);
        let x: Vec<f64> = pts.iter().map(|p| p.0).collect();
        plot.add_trace(Scatter::new(x.clone(), pts.iter().map(|p| p.1.top1).collect::<Vec<f64>>()).name(format!("{}: top-1", s.label)).mode(Mode::LinesMarkers).line(Line::new().color(colour(i))));
        plot.add_trace(
            Scatter::new(x, pts.iter().map(|p| p.1.true_prob).collect::<Vec<f64>>())
                .name(format!("{}: mean softmax of the true class", s.label))
                .mode(Mode::LinesMarkers)
                .line(Line::new().color(colour(i)).dash(DashType::Dot)),
        );
    }
    finish(plot, curve_layout(&format!("Accuracy against ε ({} images)", c.images), "accuracy", Some(vec![0.0, 1.02])))
}

/// Robustness curve: the chosen uncertainty measure (mean over the images) against ε.
pub fn curve_uncertainty_chart(c: &super::curve::Curve, measure: Measure) -> Plot {
    let mut plot = Plot::new();
    for (i, s) in c.subjects.iter().enumerate() {
        let pts = curve_points(s);
        let y: Vec<f64> = pts
            .iter()
            .map(|p| match measure {
                Measure::Variance => p.1.variance,
                Measure::Entropy => p.1.entropy,
                Measure::MutualInformation => p.1.mutual_information,
            })
            .collect();
        plot.add_trace(Scatter::new(pts.iter().map(|p| p.0).collect::<Vec<f64>>(), y).name(s.label.clone()).mode(Mode::LinesMarkers).line(Line::new().color(colour(i))));
    }
    finish(plot, curve_layout("Uncertainty against ε", measure.short(), None))
}

/// Robustness curve: AUROC of the chosen measure (the predicted class's variance for
/// "variance") as a detector of the adversarial images, against ε.
pub fn curve_auroc_chart(c: &super::curve::Curve, measure: Measure) -> Plot {
    let score = measure.score();
    let mut plot = Plot::new();
    plot.add_trace(Scatter::new(vec![EPS_MIN, EPS_MAX], vec![0.5, 0.5]).name("chance (0.5)").mode(Mode::Lines).line(Line::new().color("#999999").dash(DashType::Dash)));
    for (i, s) in c.subjects.iter().enumerate() {
        let (x, y): (Vec<f64>, Vec<f64>) = s.points.iter().filter_map(|(e, a)| a.detection.iter().find(|d| d.score == score).map(|d| (*e, d.auroc))).unzip();
        plot.add_trace(Scatter::new(x, y).name(s.label.clone()).mode(Mode::LinesMarkers).line(Line::new().color(colour(i))));
    }
    let short = match measure {
        Measure::Variance => "variance",
        Measure::Entropy => "entropy",
        Measure::MutualInformation => "MI",
    };
    finish(plot, curve_layout(&format!("Detecting the attack: AUROC of {short}"), "AUROC", Some(vec![0.0, 1.02])))
}

const EPS_MIN: f64 = 0.0;
const EPS_MAX: f64 = 0.3;
