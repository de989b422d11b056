//! Running an attack in time slices, so that a single-threaded front end (the browser's main
//! thread, later a worker) stays responsive: steps run until a slice's time is up, then the
//! driver yields to its event loop, shows progress and the trajectory so far, and looks for a
//! cancel request. The clock is a parameter, so the schedule is tested natively with a fake one.

use super::{AttackOutcome, AttackRun, Step, TrajectoryPoint};

/// Milliseconds from some fixed origin (the browser's `performance.now()`, a test's counter).
pub trait Clock {
    fn now_ms(&self) -> f64;
}

/// What one call to [`Slicer::next`] produced.
pub enum Slice {
    /// The slice is used up: yield to the event loop, then call `next` again.
    Yield {
        /// The attack's own progress rule at the latest step, in [0, 1].
        progress: f64,
        /// Iteration of the latest step.
        iteration: usize,
        /// Trajectory points for the chart: everything since the last hand-out, at most every
        /// `flush_ms` (empty in between).
        points: Vec<TrajectoryPoint>,
    },
    /// The run ended: finished, or cancelled (then the best result so far).
    Done {
        outcome: AttackOutcome,
        /// The trajectory points not handed out yet (the whole trajectory for a run that never
        /// yielded, e.g. FGSM's single step).
        points: Vec<TrajectoryPoint>,
        cancelled: bool,
        /// From the cancel request's time stamp to the end of the run.
        cancel_latency_ms: Option<f64>,
        /// Time spent in steps, the yields excluded.
        compute_ms: f64,
    },
}

/// Drives one attack run in slices.
pub struct Slicer {
    run: Option<Box<dyn AttackRun>>,
    progress: Box<dyn Fn(&TrajectoryPoint) -> f64>,
    slice_ms: f64,
    flush_ms: f64,
    last_flush: Option<f64>,
    pending: Vec<TrajectoryPoint>,
    handed_out: usize,
    compute_ms: f64,
    cancel_at: Option<f64>,
}

impl Slicer {
    /// `progress`: the attack's progress rule ([`super::Attack::progress`]); `slice_ms`: the
    /// longest stretch of steps before a yield (one step may run past it); `flush_ms`: the
    /// shortest interval between two trajectory hand-outs.
    pub fn new(run: Box<dyn AttackRun>, progress: impl Fn(&TrajectoryPoint) -> f64 + 'static, slice_ms: f64, flush_ms: f64) -> Self {
        Self {
            run: Some(run),
            progress: Box::new(progress),
            slice_ms,
            flush_ms,
            last_flush: None,
            pending: Vec::new(),
            handed_out: 0,
            compute_ms: 0.0,
            cancel_at: None,
        }
    }

    /// Ask the run to stop; `at_ms` is when the user asked (e.g. the click's time stamp). It
    /// takes effect at the start of the next slice.
    pub fn cancel(&mut self, at_ms: f64) {
        self.cancel_at.get_or_insert(at_ms);
    }

    /// Has the run ended (a `Done` was returned)?
    pub fn is_done(&self) -> bool {
        self.run.is_none()
    }

    /// Run one slice. Panics if called after `Done`.
    pub fn next(&mut self, clock: &dyn Clock) -> Slice {
        let start = clock.now_ms();
        if let Some(at) = self.cancel_at {
            let run = self.run.take().expect("Slicer::next after Done");
            let outcome = run.finish();
            let now = clock.now_ms();
            self.compute_ms += now - start;
            return self.done(outcome, true, Some(now - at));
        }
        let run = self.run.as_mut().expect("Slicer::next after Done");
        loop {
            match run.step() {
                Step::Done(outcome) => {
                    self.run = None;
                    self.compute_ms += clock.now_ms() - start;
                    return self.done(outcome, false, None);
                }
                Step::Running(point) => self.pending.push(point),
            }
            let now = clock.now_ms();
            if now - start >= self.slice_ms {
                self.compute_ms += now - start;
                let last = self.pending.last().expect("a step was just pushed");
                let (progress, iteration) = ((self.progress)(last).clamp(0.0, 1.0), last.iteration);
                let flush = self.last_flush.is_none_or(|t| now - t >= self.flush_ms);
                let points = if flush {
                    self.last_flush = Some(now);
                    self.handed_out += self.pending.len();
                    std::mem::take(&mut self.pending)
                } else {
                    Vec::new()
                };
                return Slice::Yield { progress, iteration, points };
            }
        }
    }

    fn done(&mut self, outcome: AttackOutcome, cancelled: bool, cancel_latency_ms: Option<f64>) -> Slice {
        let mut points = std::mem::take(&mut self.pending);
        // A run that never handed out a point still draws a line from the clean image.
        if self.handed_out == 0 && points.is_empty() {
            points = outcome.trajectory.clone();
        }
        Slice::Done { outcome, points, cancelled, cancel_latency_ms, compute_ms: self.compute_ms }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::attacks::Goal;
    use crate::metrics::Distances;

    /// A clock the fake attack advances.
    #[derive(Clone, Default)]
    struct FakeClock(Rc<Cell<f64>>);

    impl Clock for FakeClock {
        fn now_ms(&self) -> f64 {
            self.0.get()
        }
    }

    /// `steps` iterations of `step_ms` each; `finish` returns the iterations done so far.
    struct FakeRun {
        clock: FakeClock,
        steps: usize,
        step_ms: f64,
        done: usize,
        finish_ms: f64,
    }

    fn point(iteration: usize) -> TrajectoryPoint {
        TrajectoryPoint { iteration, objective: 0.0, goal_prob: 0.0, best_other_prob: 0.0, l2: 0.0, linf: 0.0, gap: 0.0, perceptual_distance: None }
    }

    fn outcome(iterations: usize) -> AttackOutcome {
        AttackOutcome {
            attack: "fake".into(),
            adversarial: vec![],
            goal: Goal { label: 0, target: None },
            predicted: 0,
            success: false,
            iterations,
            trajectory: (1..=iterations.max(1)).map(point).collect(),
            distances: Distances::between(&[], &[]),
            perceptual_distance: 0.0,
            gap: 0.0,
            quantization: Default::default(),
        }
    }

    impl AttackRun for FakeRun {
        fn step(&mut self) -> Step {
            self.clock.0.set(self.clock.0.get() + self.step_ms);
            self.done += 1;
            if self.done >= self.steps {
                Step::Done(outcome(self.done))
            } else {
                Step::Running(point(self.done))
            }
        }

        fn finish(self: Box<Self>) -> AttackOutcome {
            self.clock.0.set(self.clock.0.get() + self.finish_ms);
            outcome(self.done)
        }
    }

    fn slicer(clock: &FakeClock, steps: usize, step_ms: f64) -> Slicer {
        let run = FakeRun { clock: clock.clone(), steps, step_ms, done: 0, finish_ms: 2.0 };
        Slicer::new(Box::new(run), move |p| p.iteration as f64 / steps as f64, 30.0, 250.0)
    }

    #[test]
    fn slices_end_within_one_step_of_the_budget_and_lose_no_point() {
        let clock = FakeClock::default();
        let mut s = slicer(&clock, 1000, 7.0);
        let (mut yields, mut got, mut last_progress) = (0, Vec::new(), 0.0);
        loop {
            let t0 = clock.now_ms();
            match s.next(&clock) {
                Slice::Yield { progress, iteration, points } => {
                    let spent = clock.now_ms() - t0;
                    assert!((30.0..30.0 + 7.0).contains(&spent), "a slice took {spent} ms");
                    assert!(progress >= last_progress && progress < 1.0);
                    assert_eq!(progress, iteration as f64 / 1000.0);
                    last_progress = progress;
                    got.extend(points.iter().map(|p| p.iteration));
                    yields += 1;
                    clock.0.set(clock.0.get() + 4.0); // the browser paints
                }
                Slice::Done { outcome, points, cancelled, compute_ms, .. } => {
                    assert!(!cancelled);
                    assert_eq!(outcome.iterations, 1000);
                    got.extend(points.iter().map(|p| p.iteration));
                    assert_eq!(compute_ms, 7000.0, "the yields are not compute time");
                    break;
                }
            }
        }
        // 5 steps of 7 ms per 30 ms slice: 199 yields before the 1000th step ends the run.
        assert_eq!(yields, 199);
        assert_eq!(got, (1..1000).collect::<Vec<_>>(), "every running point reaches the chart once, in order");
        assert!(s.is_done());
    }

    #[test]
    fn the_chart_gets_points_at_most_every_flush_interval() {
        let clock = FakeClock::default();
        let mut s = slicer(&clock, 400, 10.0);
        let mut handouts = Vec::new();
        while let Slice::Yield { points, .. } = s.next(&clock) {
            if !points.is_empty() {
                handouts.push(clock.now_ms());
            }
        }
        assert!(handouts.len() > 3);
        for w in handouts.windows(2) {
            assert!(w[1] - w[0] >= 250.0, "{handouts:?}");
        }
    }

    #[test]
    fn cancel_stops_at_the_next_slice_with_the_best_so_far_and_its_latency() {
        let clock = FakeClock::default();
        let mut s = slicer(&clock, 1_000_000, 5.0);
        for _ in 0..3 {
            assert!(matches!(s.next(&clock), Slice::Yield { .. }));
        }
        let clicked = clock.now_ms() - 12.0; // the click waited 12 ms for the yield
        s.cancel(clicked);
        s.cancel(clicked + 100.0); // a second click does not move the time stamp
        match s.next(&clock) {
            Slice::Done { outcome, cancelled, cancel_latency_ms, .. } => {
                assert!(cancelled);
                assert_eq!(outcome.iterations, 18, "three slices of six 5-ms steps");
                assert_eq!(cancel_latency_ms, Some(12.0 + 2.0), "wait for the yield + finish()");
            }
            Slice::Yield { .. } => panic!("cancel must end the run at the next slice"),
        }
        assert!(s.is_done());
    }

    #[test]
    fn a_single_step_run_ends_in_its_first_slice_with_its_trajectory() {
        let clock = FakeClock::default();
        let mut s = slicer(&clock, 1, 3.0);
        match s.next(&clock) {
            Slice::Done { outcome, points, cancelled, .. } => {
                assert!(!cancelled);
                assert_eq!(points, outcome.trajectory);
                assert_eq!(points.len(), 1);
            }
            Slice::Yield { .. } => panic!("one step fits in a slice"),
        }
    }
}
