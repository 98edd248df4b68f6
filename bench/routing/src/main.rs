//! Routing benchmark: builds a synthetic market (tasks with modes, skills and shares;
//! candidates with skills, rates, reputation, community standing and open load), scores every
//! pair with the production scoring, and assigns the tasks under each candidate's load cap
//! three ways: greedy (each task in turn takes its best candidate with capacity left), joint
//! (`domain::task::assign::joint`, the auction production uses, on the candidates production
//! keeps per task; also with a finer ε and on all pairs) and the exact optimum
//! (Kuhn-Munkres from `pathfinding`, over one column per capacity slot). Prints each total
//! score, its share of the optimum and the time taken (median of `--runs`).
//!
//! `cargo run --release -p routing -- --tasks 1000 --candidates 1000`
#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use clap::Parser;
use entity::{profile::ProfileKind, task::TaskMode};
use pathfinding::{kuhn_munkres::kuhn_munkres, matrix::Matrix};
use semasocial::domain::task::{
    assign::{self, Edges},
    routing::{self, CandidateFacts},
};

#[derive(Parser)]
#[command(about = "Greedy vs joint vs optimal routing on a synthetic market")]
struct Args {
    /// Tasks to route at once.
    #[arg(long, default_value_t = 1_000)]
    tasks: usize,
    /// Candidates in the market.
    #[arg(long, default_value_t = 1_000)]
    candidates: usize,
    /// Distinct skills in the market.
    #[arg(long, default_value_t = 30)]
    skills: usize,
    /// Load cap: open tasks a candidate may hold.
    #[arg(long, default_value_t = 5)]
    cap: u64,
    /// Candidates kept per task, best first, as production does (`work::JOINT_CANDIDATES`);
    /// 0 keeps them all.
    #[arg(long, default_value_t = semasocial::domain::task::work::JOINT_CANDIDATES)]
    top: usize,
    /// Timed runs of greedy and joint (the median is printed).
    #[arg(long, default_value_t = 9)]
    runs: usize,
    /// ε of the "joint, fine ε" row, to compare with production's `assign::EPSILON`.
    #[arg(long, default_value_t = 1e-4)]
    fine: f64,
    /// Seed of the market.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Skip the exact optimum (it takes seconds on large markets).
    #[arg(long)]
    no_optimum: bool,
}

/// A small deterministic generator (SplitMix64): the same seed builds the same market.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
    fn skills(&mut self, count: u64, of: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        while (out.len() as u64) < count.min(of as u64) {
            let s = format!("skill-{}", self.below(of as u64));
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

struct Task {
    mode: TaskMode,
    required: Vec<String>,
    share_cents: i64,
}

fn market(a: &Args) -> (Vec<Task>, Vec<CandidateFacts>) {
    let mut rng = Rng(a.seed);
    let candidates = (0..a.candidates)
        .map(|_| {
            let kind = if rng.below(2) == 0 { ProfileKind::Agent } else { ProfileKind::Human };
            let count = 2 + rng.below(4);
            let skills = rng.skills(count, a.skills).into_iter().map(|s| (s, 1 + rng.below(5) as i16)).collect();
            CandidateFacts {
                kind,
                skills,
                reputation: 1.5 + 3.3 * rng.unit(),
                open_tasks: rng.below(a.cap + 1),
                rate_cents: (rng.below(5) != 0).then(|| 5_000 + rng.below(45_000) as i64),
                community: if rng.below(10) < 3 { 0.5 + 0.5 * rng.unit() } else { 0.0 },
            }
        })
        .collect();
    let tasks = (0..a.tasks)
        .map(|_| {
            let mode = match rng.below(5) {
                0 | 1 => TaskMode::Automated,
                2 | 3 => TaskMode::Judgment,
                _ => TaskMode::Any,
            };
            let count = 1 + rng.below(2);
            Task { mode, required: rng.skills(count, a.skills), share_cents: 5_000 + rng.below(35_000) as i64 }
        })
        .collect();
    (tasks, candidates)
}

/// Every eligible (task, candidate) pair with its score, best first per task.
fn edges(tasks: &[Task], candidates: &[CandidateFacts], top: usize) -> Vec<Edges> {
    tasks
        .iter()
        .map(|t| {
            let mut options: Edges = candidates
                .iter()
                .enumerate()
                .filter_map(|(i, c)| routing::score(t.mode, &t.required, t.share_cents, c).map(|s| (i, s.total)))
                .collect();
            options.sort_by(|x, y| y.1.total_cmp(&x.1));
            if top > 0 {
                options.truncate(top);
            }
            options
        })
        .collect()
}

/// The exact optimum: Kuhn-Munkres on tasks × (capacity slots + one "unassigned" column per
/// task), weights in micro-points.
fn optimum(edges: &[Edges], capacity: &[u64]) -> Vec<Option<usize>> {
    let tasks = edges.len();
    let mut owner: Vec<usize> = Vec::new();
    for (c, cap) in capacity.iter().enumerate() {
        owner.extend(std::iter::repeat_n(c, (*cap as usize).min(tasks)));
    }
    let columns = owner.len() + tasks;
    let mut weights = Matrix::new(tasks, columns, 0_i64);
    let mut first_slot = vec![usize::MAX; capacity.len()];
    for (slot, c) in owner.iter().enumerate().rev() {
        first_slot[*c] = slot;
    }
    for (t, options) in edges.iter().enumerate() {
        for &(c, score) in options {
            if first_slot[c] == usize::MAX {
                continue;
            }
            let w = (score * 1e6).round() as i64;
            for slot in first_slot[c]..first_slot[c] + (capacity[c] as usize).min(tasks) {
                weights[(t, slot)] = w;
            }
        }
    }
    let (_, chosen) = kuhn_munkres(&weights);
    chosen
        .into_iter()
        .enumerate()
        .map(|(t, col)| {
            let c = owner.get(col).copied()?;
            edges[t].iter().any(|(o, _)| *o == c).then_some(c)
        })
        .collect()
}

fn timed(runs: usize, f: impl Fn() -> Vec<Option<usize>>) -> (Vec<Option<usize>>, Duration) {
    let mut times = Vec::with_capacity(runs.max(1));
    let mut result = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        result = f();
        times.push(start.elapsed());
    }
    times.sort();
    (result, times[times.len() / 2])
}

fn max_load(assignment: &[Option<usize>], capacity: &[u64]) -> Result<usize, String> {
    let mut load = vec![0_u64; capacity.len()];
    for c in assignment.iter().flatten() {
        load[*c] += 1;
        if load[*c] > capacity[*c] {
            return Err(format!("candidate {c} over its cap"));
        }
    }
    Ok(assignment.iter().flatten().count())
}

fn main() -> Result<(), String> {
    let a = Args::parse();
    let (tasks, candidates) = market(&a);
    let capacity: Vec<u64> = candidates.iter().map(|c| a.cap.saturating_sub(c.open_tasks)).collect();
    let start = Instant::now();
    let all = edges(&tasks, &candidates, 0);
    let scoring = start.elapsed();
    let kept = edges(&tasks, &candidates, a.top);
    let pairs: usize = all.iter().map(Vec::len).sum();
    println!(
        "market: {} tasks × {} candidates, {} skills, cap {}, {} slots free, {} eligible pairs (scored in {:.1} ms), top {} kept per task",
        a.tasks,
        a.candidates,
        a.skills,
        a.cap,
        capacity.iter().sum::<u64>(),
        pairs,
        scoring.as_secs_f64() * 1e3,
        a.top
    );

    let (greedy, greedy_time) = timed(a.runs, || assign::greedy(&kept, &capacity));
    let (joint, joint_time) = timed(a.runs, || assign::joint(&kept, &capacity));
    let (fine, fine_time) = timed(a.runs, || assign::joint_within(&kept, &capacity, a.fine));
    let (joint_all, joint_all_time) = timed(a.runs, || assign::joint(&all, &capacity));
    let rows = [
        ("greedy (top kept)", &greedy, greedy_time),
        ("joint (top kept)", &joint, joint_time),
        ("joint, fine ε (top)", &fine, fine_time),
        ("joint (all pairs)", &joint_all, joint_all_time),
    ];
    let best = if a.no_optimum {
        None
    } else {
        let start = Instant::now();
        let best = optimum(&all, &capacity);
        Some((best, start.elapsed()))
    };
    let optimal_total = best.as_ref().map(|(b, _)| assign::total(&all, b));
    println!("{:<22} {:>12} {:>11} {:>9} {:>12}", "method", "total score", "of optimum", "assigned", "time (ms)");
    for (name, result, time) in rows {
        let total = assign::total(&all, result);
        let share = optimal_total.map_or("-".to_owned(), |o| format!("{:.2}%", 100.0 * total / o));
        let assigned = max_load(result, &capacity)?;
        println!("{name:<22} {total:>12.3} {share:>11} {assigned:>9} {:>12.2}", time.as_secs_f64() * 1e3);
    }
    if let Some((best, time)) = &best {
        let assigned = max_load(best, &capacity)?;
        let total = assign::total(&all, best);
        println!(
            "{:<22} {total:>12.3} {:>11} {assigned:>9} {:>12.2}",
            "optimum (all pairs)",
            "100.00%",
            time.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
