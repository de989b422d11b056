//! plotly charts (plotly.js is vendored: `vendor/plotly-quiver.min.js`).

use plotly::box_plot::BoxPoints;
use plotly::common::{AxisSide, DashType, ErrorData, ErrorType, Line, Marker, Mode, Title};
use plotly::configuration::DisplayModeBar;
use plotly::layout::{Axis, BarMode, BoxMode, Layout, Margin};
use plotly::{Bar, BoxPlot, Configuration, Plot, Scatter};
use quiver_core::attacks::TrajectoryPoint;
use quiver_core::mc_dropout::McSummary;
use wasm_bindgen::JsValue;

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
    finish(plot, base_layout(&format!("Mean softmax ± std, T = {}", s.passes), "probability"))
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
    finish(plot, base_layout(&format!("Every pass (T = {})", s.passes), "probability"))
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
/// At most this many points per trajectory line: a chart a few hundred pixels wide shows no
/// more, and each redraw stays short however long the run.
pub const TRAJECTORY_POINTS: usize = 1000;

/// Every `k`-th point (k the smallest stride that keeps at most `max`), always with the last
/// point, which is the run's result.
pub fn thinned(points: &[TrajectoryPoint], max: usize) -> Vec<TrajectoryPoint> {
    if points.len() <= max {
        return points.to_vec();
    }
    let stride = points.len().div_ceil(max.saturating_sub(1).max(1));
    let mut out: Vec<TrajectoryPoint> = points.iter().step_by(stride).cloned().collect();
    let last = points.last().expect("more points than max ≥ 0");
    if out.last().map(|p| p.iteration) != Some(last.iteration) {
        out.push(last.clone());
    }
    out
}

/// One line of the trajectory chart.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    /// plotly's dash style, also the legend's (`solid`, `dot`, `dash`, `dashdot`).
    pub dash: &'static str,
    /// The right-hand axis (distances) rather than the left (probabilities).
    pub right: bool,
    pub value: fn(&TrajectoryPoint) -> f32,
}

/// The trajectory chart's lines: the goal's and the best other class's probability, the gap,
/// L2 and, for attacks that track it (IAA), the perceptual distance D. The chart draws them and
/// the page's legend lists them (plotly's own legend is most of a redraw's time).
pub fn trajectory_series(goal_name: &str, perceptual: bool) -> Vec<Series> {
    let s = |name: String, color, dash, right, value| Series { name, color, dash, right, value };
    let mut v = vec![
        s(format!("P({goal_name})"), "#3b6fd8", "solid", false, |p: &TrajectoryPoint| p.goal_prob),
        s("best other P".into(), "#d8643b", "solid", false, |p| p.best_other_prob),
        s("gap (> 0: goal reached)".into(), "#2a9d4b", "dot", false, |p| p.gap),
        s("L2 distance".into(), "#7a4bb0", "dash", true, |p| p.l2),
    ];
    if perceptual {
        v.push(s("perceptual distance D".into(), "#b0447a", "dashdot", true, |p| p.perceptual_distance.unwrap_or(0.0)));
    }
    v
}

pub fn trajectory_chart(points: &[TrajectoryPoint], goal_name: &str, title: &str) -> Plot {
    let points = &thinned(points, TRAJECTORY_POINTS)[..];
    let x: Vec<usize> = points.iter().map(|p| p.iteration).collect();
    let mut plot = Plot::new();
    for line in trajectory_series(goal_name, points.iter().any(|p| p.perceptual_distance.is_some())) {
        let dash = match line.dash {
            "dot" => DashType::Dot,
            "dash" => DashType::Dash,
            "dashdot" => DashType::DashDot,
            _ => DashType::Solid,
        };
        plot.add_trace(
            Scatter::new(x.clone(), points.iter().map(line.value).collect::<Vec<f32>>())
                .name(&line.name)
                .mode(Mode::Lines)
                .line(Line::new().color(line.color).dash(dash))
                .y_axis(if line.right { "y2" } else { "y" }),
        );
    }
    // Axis ranges in steps of 1, 2, 5 × 10^k from at least 10 iterations and a distance of 1, so
    // that most redraws of a growing trajectory, the first included, repeat the tick labels of the
    // one before: plotly measures each new label's size (most of a redraw's time) and caches it.
    let last = points.iter().map(|p| p.iteration).max().unwrap_or(0).max(10);
    let far = points.iter().flat_map(|p| [p.l2, p.perceptual_distance.unwrap_or(0.0)]).filter(|v| v.is_finite()).fold(1.0 / 1.05, f32::max);
    let layout = Layout::new()
        .title(Title::with_text(title))
        .show_legend(false)
        .height(320)
        .margin(Margin::new().top(40).bottom(40).left(50).right(50))
        .x_axis(Axis::new().title(Title::with_text("iteration")).range(vec![0.0, nice_ceiling(last as f64)]))
        .y_axis(Axis::new().title(Title::with_text("probability / gap")).range(vec![-1.05, 1.05]))
        .y_axis2(Axis::new().title(Title::with_text("distance")).overlaying("y").side(AxisSide::Right).range(vec![0.0, nice_ceiling(far as f64 * 1.05)]));
    finish(plot, layout)
}

/// The smallest of 1, 2, 5 × 10^k (k any integer) at or above `v`; 1 for `v` ≤ 0 or not finite.
pub fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mut decade = 10f64.powf(v.log10().floor());
    // log10 can land one decade off near exact powers of ten.
    if decade > v {
        decade /= 10.0;
    }
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * decade).find(|c| *c >= v * (1.0 - 1e-12)).unwrap_or(10.0 * decade)
}

/// The trajectory chart before its first point: its axes and title (one point at iteration 0
/// whose values are NaN, which plotly draws as nothing). plotly's first drawing in an element is
/// its slowest; drawing the frame before a run keeps that cost out of the run.
pub fn trajectory_frame(goal_name: &str, title: &str, perceptual: bool) -> Plot {
    let nan = TrajectoryPoint {
        iteration: 0,
        objective: f32::NAN,
        goal_prob: f32::NAN,
        best_other_prob: f32::NAN,
        l2: f32::NAN,
        linf: f32::NAN,
        gap: f32::NAN,
        perceptual_distance: perceptual.then_some(f32::NAN),
    };
    trajectory_chart(&[nan], goal_name, title)
}

fn plotly_loaded() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"Plotly".into()).ok())
        .map(|p| !p.is_undefined())
        .unwrap_or(false)
}

/// Whether plotly has drawn in the element with `id` (it marks the element it draws in).
pub fn drawn(id: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .map(|e| e.class_list().contains("js-plotly-plot"))
        .unwrap_or(false)
}

/// plotly.js's file: loaded on the first chart, not with the page, so that its evaluation (a
/// third of a second on one core) does not stand between the page and the first MC result.
const PLOTLY_SRC: &str = "vendor/plotly-quiver.min.js";

thread_local! {
    static PLOTLY: std::cell::RefCell<Option<js_sys::Promise>> = const { std::cell::RefCell::new(None) };
}

/// Load plotly.js once (a `<script>` the page adds; every caller awaits the same load).
async fn ensure_plotly() -> Result<(), String> {
    if plotly_loaded() {
        return Ok(());
    }
    let unavailable = || format!("charts are unavailable: {PLOTLY_SRC} did not load");
    let promise = PLOTLY.with(|p| {
        p.borrow_mut()
            .get_or_insert_with(|| {
                js_sys::Promise::new(&mut |resolve, reject| {
                    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
                        let _ = reject.call0(&JsValue::NULL);
                        return;
                    };
                    let Ok(script) = document.create_element("script") else {
                        let _ = reject.call0(&JsValue::NULL);
                        return;
                    };
                    let _ = script.set_attribute("src", PLOTLY_SRC);
                    let _ = script.add_event_listener_with_callback("load", &resolve);
                    let _ = script.add_event_listener_with_callback("error", &reject);
                    if let Some(head) = document.head() {
                        let _ = head.append_child(&script);
                    }
                })
            })
            .clone()
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|_| unavailable())?;
    if plotly_loaded() {
        Ok(())
    } else {
        Err(unavailable())
    }
}

/// Draw (or update) a chart in the element with `id`, loading plotly.js first if need be.
/// Returns an error message when plotly.js cannot be had instead of failing.
pub async fn render(id: &str, plot: &Plot) -> Result<(), String> {
    render_if(id, plot, || true).await
}

/// [`render`], unless `wanted()` says no once the chart's turn has come (after the next frame):
/// a redraw decided before a click (a cancel) is then dropped instead of delaying it.
pub async fn render_if(id: &str, plot: &Plot, wanted: impl Fn() -> bool) -> Result<(), String> {
    let _drawing = Drawing::start();
    ensure_plotly().await?;
    // Each chart in a task of its own: a plotly draw takes 20–60 ms, and the charts that one
    // result redraws together made one long task of up to 90 ms (the page must answer within 50).
    // The task comes after the next frame, so that what changed with the chart's data (a result's
    // numbers, an attack's "cancelled") is painted first, not after the drawing.
    crate::runtime::painted().await;
    if !wanted() {
        return Ok(());
    }
    if web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)).is_none() {
        return Ok(());
    }
    // plotly's JS bindings exist only on wasm; native builds (the state tests) draw nothing.
    #[cfg(target_arch = "wasm32")]
    {
        let figure = plot.to_js_object();
        allow_tick_label_overflow(&figure);
        set_height_from_element(id, &figure);
        js::react(id, &figure).await.map_err(|e| format!("a chart could not be drawn: {}", js_sys::JSON::stringify(&e).map(String::from).unwrap_or_default()))?;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = plot;
    Ok(())
}

thread_local! {
    /// Charts asked for and not yet drawn (see [`settled`]).
    static DRAWING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts a [`render`] from its call to its end, however it ends.
struct Drawing;

impl Drawing {
    fn start() -> Self {
        DRAWING.with(|n| n.set(n.get() + 1));
        Drawing
    }
}

impl Drop for Drawing {
    fn drop(&mut self) {
        DRAWING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Resolve once no chart is waiting to be drawn (or after `max_ms`). A long run (an attack)
/// awaits it before its first step: the page's first charts (plotly's first drawing in an
/// element is its slowest, 60–250 ms) then come before the run, not between its steps, where a
/// click on "cancel" would wait behind them.
pub async fn settled(max_ms: f64) {
    let until = crate::runtime::now_ms() + max_ms;
    while DRAWING.with(|n| n.get()) > 0 && crate::runtime::now_ms() < until {
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
}

/// A clicked point of a chart: its trace (`curveNumber`) and its index in that trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clicked {
    pub trace: usize,
    pub point: usize,
}

/// Call `f` when a point or bar of the chart in `id` is clicked (plotly's `plotly_click`). Call it
/// after the chart's first [`render`]: plotly keeps the listener across redraws, and a second
/// call on the same element adds nothing.
pub fn on_click(id: &str, f: impl Fn(Clicked) + 'static) {
    #[cfg(target_arch = "wasm32")]
    {
        use js_sys::Reflect;
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;
        let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) else { return };
        if el.get_attribute("data-click").is_some() {
            return;
        }
        let Ok(on) = Reflect::get(&el, &"on".into()).and_then(|o| o.dyn_into::<js_sys::Function>()) else { return };
        let handler = Closure::<dyn Fn(JsValue)>::new(move |ev: JsValue| {
            let point = Reflect::get(&ev, &"points".into()).ok().map(|p| Reflect::get(&p, &0.into()).unwrap_or(JsValue::UNDEFINED));
            let Some(p) = point.filter(|p| p.is_object()) else { return };
            let num = |k: &str| Reflect::get(&p, &k.into()).ok().and_then(|v| v.as_f64()).map(|v| v as usize);
            if let (Some(trace), Some(point)) = (num("curveNumber"), num("pointNumber")) {
                f(Clicked { trace, point });
            }
        });
        if on.call2(&el, &"plotly_click".into(), handler.as_ref().unchecked_ref()).is_ok() {
            let _ = el.set_attribute("data-click", "1");
            // The element lives as long as the page's view; so does its listener.
            handler.forget();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (id, f);
}

/// plotly's default for tick labels is to hide those past the page's edge, which measures every
/// label on every redraw (up to half of a redraw's time); our labels (numbers, class names) fit.
#[cfg(target_arch = "wasm32")]
fn allow_tick_label_overflow(figure: &js_sys::Object) {
    use js_sys::Reflect;
    let Ok(layout) = Reflect::get(figure, &"layout".into()) else { return };
    for axis in ["xaxis", "yaxis", "yaxis2"] {
        if let Ok(a) = Reflect::get(&layout, &axis.into()) {
            if a.is_object() {
                let _ = Reflect::set(&a, &"ticklabeloverflow".into(), &"allow".into());
            }
        }
    }
}

/// Save the chart in the element `id` as a PNG named `name` (plotly's own export).
pub async fn download_chart_png(id: &str, name: &str) -> Result<(), String> {
    ensure_plotly().await?;
    #[cfg(target_arch = "wasm32")]
    {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"format".into(), &"png".into());
        let _ = js_sys::Reflect::set(&opts, &"filename".into(), &name.into());
        let _ = js_sys::Reflect::set(&opts, &"scale".into(), &2.into());
        js::download_image(id, &opts).await.map_err(|e| format!("the chart could not be saved: {}", js_sys::JSON::stringify(&e).map(String::from).unwrap_or_default()))?;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (id, name);
    Ok(())
}

/// A chart element may ask for another height than the chart's own (`data-height`, in px: the
/// compact embed layout does).
#[cfg(target_arch = "wasm32")]
fn set_height_from_element(id: &str, figure: &js_sys::Object) {
    use js_sys::Reflect;
    let height = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.get_attribute("data-height"))
        .and_then(|h| h.parse::<f64>().ok())
        .filter(|h| (100.0..=2000.0).contains(h));
    if let (Some(h), Ok(layout)) = (height, Reflect::get(figure, &"layout".into())) {
        if layout.is_object() {
            let _ = Reflect::set(&layout, &"height".into(), &h.into());
        }
    }
}

/// `Plotly.react`, with its failure returned (plotly's crate panics on one).
#[cfg(target_arch = "wasm32")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = Plotly, js_name = react)]
        pub async fn react(id: &str, figure: &js_sys::Object) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(catch, js_namespace = Plotly, js_name = downloadImage)]
        pub async fn download_image(id: &str, options: &js_sys::Object) -> Result<JsValue, JsValue>;
    }
}

#[cfg(test)]
mod tests {
    use super::{nice_ceiling, thinned, whiskers};
    use quiver_core::attacks::TrajectoryPoint;

    fn point(iteration: usize) -> TrajectoryPoint {
        TrajectoryPoint { iteration, objective: 0.0, goal_prob: 0.5, best_other_prob: 0.4, l2: iteration as f32, linf: 0.1, gap: -0.1, perceptual_distance: None }
    }

    #[test]
    fn nice_ceilings_are_one_two_five_steps_at_or_above() {
        for (v, want) in [(0.0, 1.0), (-3.0, 1.0), (f64::NAN, 1.0), (1.0, 1.0), (1.01, 2.0), (2.0, 2.0), (3.0, 5.0), (7.5, 10.0), (10.0, 10.0), (0.003, 0.005), (999.0, 1000.0), (1001.0, 2000.0)] {
            let got = nice_ceiling(v);
            assert!((got - want).abs() <= want * 1e-9, "nice_ceiling({v}) = {got}, want {want}");
        }
        for v in [0.37, 4.2, 63.0, 12345.0] {
            assert!(nice_ceiling(v) >= v && nice_ceiling(v) < 2.5 * v, "{v} → {}", nice_ceiling(v));
        }
    }

    #[test]
    fn a_long_trajectory_is_thinned_to_the_limit_and_keeps_its_ends() {
        let points: Vec<_> = (1..=10_007).map(point).collect();
        for max in [2, 3, 10, 1000] {
            let t = thinned(&points, max);
            assert!(t.len() <= max, "{} points for max {max}", t.len());
            assert!(t.len() >= max / 2, "{} points for max {max}: thinned too far", t.len());
            assert_eq!(t.first().unwrap().iteration, 1);
            assert_eq!(t.last().unwrap().iteration, 10_007, "the result is kept");
            assert!(t.windows(2).all(|w| w[0].iteration < w[1].iteration));
        }
        assert_eq!(thinned(&points[..1000], 1000).len(), 1000, "a short one is kept whole");
    }

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
