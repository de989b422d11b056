//! Runs an attack in the compute worker (`crate::worker`), which steps it in slices and reports
//! progress after each; where there is no worker, here on the page with core's [`Slicer`]: steps
//! for at most [`SLICE_MS`], then a yield to the browser (it paints, the chart grows, a click on
//! cancel is seen). The schedule itself is plain Rust, tested natively in
//! `quiver_core::attacks::slices`.

use leptos::prelude::*;
use quiver_core::attacks::{argmax_of, probabilities, AttackKind, AttackOutcome, AttackSet, Clock, Goal, Slice, Slicer, Target, TrajectoryPoint};

use crate::runtime::{now_ms, yield_now, Engine};

/// Longest stretch of attack steps between two yields to the browser (ms).
pub const SLICE_MS: f64 = 30.0;
/// A run in the worker reports after every slice (20 ms); this long without a word, the worker
/// is taken to have stopped (ms), and the page takes over.
pub const SILENCE_MS: u32 = 10_000;
/// Shortest interval between two redraws of the trajectory chart (ms). A redraw is a main-thread
/// task of 40–120 ms here (plotly measures the page); a click on "cancel" that lands in one waits
/// for it, so fewer redraws mean fewer slow cancels (2.5 a second still show the run growing).
pub const CHART_MS: f64 = 400.0;

struct PageClock;

impl Clock for PageClock {
    fn now_ms(&self) -> f64 {
        now_ms()
    }
}

/// What decides an attack run: the panel reruns when it changes (MC settings are not part of
/// it: they change the uncertainty shown, not the attack).
#[derive(Clone, Debug, PartialEq)]
pub struct AttackKey {
    pub pixels: Vec<f32>,
    pub label: Option<usize>,
    pub model: crate::plan::Source,
    pub kind: AttackKind,
    pub attacks: AttackSet,
    pub target: Target,
    /// "run again" presses.
    pub rerun: u64,
}

/// A finished (or cancelled) run.
#[derive(Clone, Debug)]
pub struct Finished {
    pub original: Vec<f32>,
    pub outcome: AttackOutcome,
    /// Deterministic prediction on the original image.
    pub predicted_before: usize,
    pub compute_ms: f64,
    pub wall_ms: f64,
    pub cancelled: bool,
    /// From the cancel click to the run stopping.
    pub cancel_latency_ms: Option<f64>,
}

/// Live signals of a running attack.
#[derive(Clone, Copy)]
pub struct Live {
    pub progress: RwSignal<f64>,
    pub iteration: RwSignal<usize>,
    pub points: RwSignal<Vec<TrajectoryPoint>>,
    /// The cancel click's time stamp, when one is pending.
    pub cancel_at: StoredValue<Option<f64>>,
    /// The run in the compute worker, while one runs there.
    job: StoredValue<Option<u64>>,
}

impl Live {
    /// Signals for a run that has not started: no progress, no points, no cancel pending.
    pub fn new() -> Self {
        Live { progress: RwSignal::new(0.0), iteration: RwSignal::new(0), points: RwSignal::new(Vec::new()), cancel_at: StoredValue::new(None), job: StoredValue::new(None) }
    }

    /// Ask the run to stop (`at`: the click's time stamp): a run in the worker is told at once,
    /// a run on the page sees it at its next yield.
    pub fn cancel(&self, at: f64) {
        self.cancel_at.set_value(Some(at));
        if let Some(id) = self.job.get_value() {
            crate::worker::client::cancel(id);
        }
    }
}

/// Run the attack `key` describes. `stale()` says whether a newer key has replaced it (then the
/// run stops at its next yield and returns `None`).
pub async fn run(key: AttackKey, engine: Engine, live: Live, stale: impl Fn() -> bool) -> Option<Result<Finished, String>> {
    if let Some(job) = crate::worker::client::attack(&engine.weights, &key.pixels, key.label, key.target, key.kind, &key.attacks, CHART_MS) {
        match in_worker(&key, job, live, &stale).await {
            Ok(out) => return out,
            // The worker stopped (it is not used again): this run starts over here.
            Err(()) => live.points.set(Vec::new()),
        }
    }
    if stale() {
        return None;
    }
    on_page(key, engine, live, stale).await
}

/// Follow a run in the worker. `Err(())`: the worker stopped before the run ended.
async fn in_worker(key: &AttackKey, mut job: crate::worker::client::AttackJob, live: Live, stale: &impl Fn() -> bool) -> Result<Option<Result<Finished, String>>, ()> {
    use crate::worker::protocol::Reply;
    use futures::StreamExt;
    let wall0 = now_ms();
    live.job.set_value(Some(job.id));
    if let Some(t) = live.cancel_at.get_value() {
        live.cancel(t);
    }
    let mut dropped = false;
    let out = loop {
        let next = futures::future::select(job.replies.next(), gloo_timers::future::TimeoutFuture::new(SILENCE_MS)).await;
        let reply = match next {
            futures::future::Either::Left((Some(reply), _)) => reply,
            futures::future::Either::Left((None, _)) => break Err(()),
            futures::future::Either::Right(_) => {
                crate::worker::client::abandon(&format!("no word from a running attack for {} s", SILENCE_MS / 1000));
                break Err(());
            }
        };
        if stale() && !dropped {
            // A newer run replaces this one: stop it; its end is not shown.
            crate::worker::client::cancel(job.id);
            dropped = true;
        }
        match reply {
            Reply::Progress { progress, iteration, points, .. } if !dropped => {
                live.progress.set(progress);
                live.iteration.set(iteration);
                if !points.is_empty() {
                    live.points.update(|v| v.extend(points));
                }
            }
            Reply::Attack { result, .. } => {
                if dropped {
                    break Ok(None);
                }
                break Ok(Some(result.map(|d| {
                    live.points.update(|v| v.extend(d.points));
                    live.progress.set(1.0);
                    live.iteration.set(d.outcome.iterations);
                    Finished {
                        original: key.pixels.clone(),
                        predicted_before: d.predicted_before,
                        compute_ms: d.compute_ms,
                        wall_ms: now_ms() - wall0,
                        cancelled: d.cancelled,
                        // Measured by the panel, from the click to the frame that showed it.
                        cancel_latency_ms: None,
                        outcome: d.outcome,
                    }
                })));
            }
            _ => {}
        }
    };
    live.job.set_value(None);
    out
}

/// Run the attack here, in slices between which the page paints.
async fn on_page(key: AttackKey, engine: Engine, live: Live, stale: impl Fn() -> bool) -> Option<Result<Finished, String>> {
    let (set, kind) = (key.attacks, key.kind);
    let attack = set.get(kind);
    let model = &engine.cpu;
    let wall0 = now_ms();
    let predicted_before = argmax_of(&probabilities(model, &key.pixels));
    let started = Goal::for_image(model, &key.pixels, key.label, key.target).and_then(|goal| attack.start(model, &key.pixels, goal));
    let run = match started {
        Ok(r) => r,
        Err(e) => return Some(Err(format!("{} cannot run: {e}", kind.key().to_uppercase()))),
    };
    let mut slicer = Slicer::new(run, move |p| set.get(kind).progress(p), SLICE_MS, CHART_MS);
    loop {
        if let Some(t) = live.cancel_at.get_value() {
            slicer.cancel(t);
        }
        match slicer.next(&PageClock) {
            Slice::Yield { progress, iteration, points } => {
                live.progress.set(progress);
                live.iteration.set(iteration);
                if !points.is_empty() {
                    live.points.update(|v| v.extend(points));
                }
                yield_now().await;
                if stale() {
                    return None;
                }
            }
            Slice::Done { outcome, points, cancelled, cancel_latency_ms, compute_ms } => {
                live.points.update(|v| v.extend(points));
                live.progress.set(1.0);
                live.iteration.set(outcome.iterations);
                return Some(Ok(Finished {
                    original: key.pixels.clone(),
                    outcome,
                    predicted_before,
                    compute_ms,
                    wall_ms: now_ms() - wall0,
                    cancelled,
                    cancel_latency_ms,
                }));
            }
        }
    }
}
