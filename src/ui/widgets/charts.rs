//! plotly charts (plotly.js is vendored: `vendor/plotly-cartesian.min.js`).

use plotly::box_plot::BoxPoints;
use plotly::common::{AxisSide, DashType, ErrorData, ErrorType, Line, Marker, Mode, Title};
use plotly::configuration::DisplayModeBar;
use plotly::layout::{Axis, BarMode, BoxMode, Layout, Margin, RangeMode};
use plotly::{Bar, BoxPlot, Configuration, Plot, Scatter};
use quiver_core::attacks::TrajectoryPoint;
use quiver_core::mc_dropout::McSummary;

fn base_layout(title: &str, y: &str) -> Layout {
    Layout::new()
        .title(Title::with_text(title))
        .height(300)
        .margin(Margin::new().top(40).bottom(40).left(50).right(10))
        .x_axis(Axis::new().title(Title::with_text("class")).type_(plotly::layout::AxisType::Category))
        .y_axis(Axis::new().title(Title::with_text(y)).range(vec![0.0, 1.05]))
}

fn finish(mut plot: Plot, layout: Layout) -> Plot {
    plot.set_layout(layout);
    plot.set_configuration(Configuration::new().display_mode_bar(DisplayModeBar::False).responsive(true));
    plot
}

/// The ± one-standard-deviation whiskers of a probability, cut at 0 and 1 (a probability cannot
/// leave [0, 1], so neither may the bar drawn around it): `(up, down)`.
pub fn whiskers(mean: &[f32], std: &[f32]) -> (Vec<f64>, Vec<f64>) {
    mean.iter()
        .zip(std)
        .map(|(&m, &s)| ((s.min(1.0 - m).max(0.0)) as f64, (s.min(m).max(0.0)) as f64))
        .unzip()
}

/// Mean softmax per class with ± one standard deviation over the passes (cut at 0 and 1).
pub fn mean_bars(s: &McSummary, classes: &[String], name: &str) -> Box<Bar<String, f32>> {
    let (up, down) = whiskers(&s.mean, &s.std);
    Bar::new(classes.to_vec(), s.mean.clone())
        .name(name)
        .error_y(ErrorData::new(ErrorType::Data).symmetric(false).array(up).array_minus(down))
}

pub fn mean_chart(s: &McSummary, classes: &[String]) -> Plot {
    let mut plot = Plot::new();
    plot.add_trace(mean_bars(s, classes, "mean softmax").marker(Marker::new().color("#3b6fd8")));
    finish(plot, base_layout(&format!("Mean softmax over T = {} passes (± std)", s.passes), "probability"))
}

/// Every pass's softmax per class, as a box with all points.
pub fn passes_chart(s: &McSummary, classes: &[String]) -> Plot {
    let mut x = Vec::with_capacity(s.probs.len());
    let mut y = Vec::with_capacity(s.probs.len());
    for t in 0..s.passes {
        for (k, &v) in s.pass(t).iter().enumerate() {
            x.push(classes[k].clone());
            y.push(v);
        }
    }
    let mut plot = Plot::new();
    plot.add_trace(
        BoxPlot::new_xy(x, y)
            .name("passes")
            .box_points(BoxPoints::All)
            .jitter(0.4)
            .point_pos(0.0)
            .marker(Marker::new().color("#d8643b").size(4)),
    );
    finish(plot, base_layout(&format!("All {} passes per class", s.passes), "probability"))
}

/// Before/after comparison of two MC predictions.
pub fn compare_chart(before: &McSummary, after: &McSummary, classes: &[String]) -> Plot {
    let mut plot = Plot::new();
    plot.add_trace(mean_bars(before, classes, "original").marker(Marker::new().color("#3b6fd8")));
    plot.add_trace(mean_bars(after, classes, "adversarial").marker(Marker::new().color("#d83b5a")));
    finish(
        plot,
        base_layout("MC-dropout mean softmax (± std): original vs adversarial", "probability").bar_mode(BarMode::Group).box_mode(BoxMode::Group),
    )
}

/// An attack's trajectory: goal and best-other probabilities and the success gap (left axis),
/// L2 and, for IAA, the perceptual distance D (right axis) against the iteration.
pub fn trajectory_chart(points: &[TrajectoryPoint], goal_name: &str, title: &str) -> Plot {
    let x: Vec<usize> = points.iter().map(|p| p.iteration).collect();
    let series = |f: &dyn Fn(&TrajectoryPoint) -> f32| points.iter().map(f).collect::<Vec<f32>>();
    let line = |name: &str, y: Vec<f32>, color: &'static str, dash: DashType, axis: &str| {
        Scatter::new(x.clone(), y)
            .name(name)
            .mode(if points.len() < 3 { Mode::LinesMarkers } else { Mode::Lines })
            .line(Line::new().color(color).dash(dash))
            .y_axis(axis)
    };
    let mut plot = Plot::new();
    plot.add_trace(line(&format!("P({goal_name})"), series(&|p| p.goal_prob), "#3b6fd8", DashType::Solid, "y"));
    plot.add_trace(line("best other P", series(&|p| p.best_other_prob), "#d8643b", DashType::Solid, "y"));
    plot.add_trace(line("gap (> 0: goal reached)", series(&|p| p.gap), "#2a9d4b", DashType::Dot, "y"));
    plot.add_trace(line("L2 distance", series(&|p| p.l2), "#7a4bb0", DashType::Dash, "y2"));
    if points.iter().any(|p| p.perceptual_distance.is_some()) {
        plot.add_trace(line("perceptual distance D", series(&|p| p.perceptual_distance.unwrap_or(0.0)), "#b0447a", DashType::DashDot, "y2"));
    }
    let layout = Layout::new()
        .title(Title::with_text(title))
        .height(320)
        .margin(Margin::new().top(40).bottom(40).left(50).right(50))
        .x_axis(Axis::new().title(Title::with_text("iteration")))
        .y_axis(Axis::new().title(Title::with_text("probability / gap")).range(vec![-1.05, 1.05]))
        .y_axis2(Axis::new().title(Title::with_text("distance")).overlaying("y").side(AxisSide::Right).range_mode(RangeMode::ToZero));
    finish(plot, layout)
}

fn plotly_loaded() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"Plotly".into()).ok())
        .map(|p| !p.is_undefined())
        .unwrap_or(false)
}

/// Draw (or update) a chart in the element with `id`. Returns an error message when plotly.js
/// is missing instead of failing.
pub async fn render(id: &str, plot: &Plot) -> Result<(), String> {
    if !plotly_loaded() {
        return Err("charts are unavailable: vendor/plotly-cartesian.min.js did not load".into());
    }
    if web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)).is_none() {
        return Ok(());
    }
    // plotly's JS bindings exist only on wasm; native builds (the state tests) draw nothing.
    #[cfg(target_arch = "wasm32")]
    plotly::bindings::react(id, plot).await;
    #[cfg(not(target_arch = "wasm32"))]
    let _ = plot;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::whiskers;

    #[test]
    fn whiskers_stay_within_zero_and_one() {
        let (up, down) = whiskers(&[0.95, 0.02, 0.5], &[0.2, 0.1, 0.1]);
        for (v, want) in up.iter().zip([0.05, 0.1, 0.1]) {
            assert!((v - want).abs() < 1e-6, "{up:?}");
        }
        for (v, want) in down.iter().zip([0.2, 0.02, 0.1]) {
            assert!((v - want).abs() < 1e-6, "{down:?}");
        }
    }
}
