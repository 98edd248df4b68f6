//! Routing many tasks at once as an assignment problem: each task goes to at most one
//! candidate, each candidate takes at most its capacity (load cap minus open tasks), and the
//! total score is as high as possible — instead of each task taking its best candidate in
//! turn, which lets an early task take the only candidate a later one could use.
//!
//! Solved with the forward auction algorithm (Bertsekas): tasks bid for candidate
//! slots, prices rise, and a task whose every slot is too dear stays unassigned. With final ε
//! the total is within `tasks × ε` of the optimum. Pure functions, tested on their own;
//! `bench/routing` compares it with greedy routing and the exact optimum on a synthetic market.

/// One task's options: (candidate index, score ≥ 0).
pub type Edges = Vec<(usize, f64)>;

/// ε: the total is within `tasks × EPSILON` of the optimum (scores are 0–1). On the
/// 1,000 × 1,000 benchmark market 1e-2 loses under 0.1% against 1e-4 and ends bidding wars
/// 25–50 times sooner.
pub const EPSILON: f64 = 1e-2;

/// Assigns tasks to candidates jointly. `edges[t]` lists task `t`'s candidates with their
/// scores; `capacity[c]` is how many tasks candidate `c` may still take. Returns, per task,
/// its candidate or `None`.
pub fn joint(edges: &[Edges], capacity: &[u64]) -> Vec<Option<usize>> {
    joint_within(edges, capacity, EPSILON)
}

/// [`joint`] with a chosen ε: the total is within `tasks × eps` of the optimum; a larger ε
/// ends bidding wars sooner (the benchmark compares).
pub fn joint_within(edges: &[Edges], capacity: &[u64], eps: f64) -> Vec<Option<usize>> {
    let tasks = edges.len();
    // One slot per unit of capacity; slots of one candidate are alike.
    let mut slot_of: Vec<Vec<usize>> = Vec::with_capacity(capacity.len());
    let mut slots = 0_usize;
    for cap in capacity {
        let n = usize::try_from(*cap).unwrap_or(usize::MAX).min(tasks);
        slot_of.push((slots..slots.saturating_add(n)).collect());
        slots = slots.saturating_add(n);
    }
    // One forward auction from zero prices: a slot gains a price only when bid for, and is
    // held from then on, so slots nobody holds cost nothing and the result is within
    // `tasks × EPSILON` of the optimum. (ε-scaling would carry prices from a coarse phase onto
    // slots that end up unheld, which breaks that bound when tasks may stay unassigned.)
    let mut price = vec![0.0_f64; slots];
    auction_round(edges, &slot_of, &mut price, eps).0
}

/// One ε phase: every task bids until each holds a slot or prefers none.
fn auction_round(
    edges: &[Edges],
    slot_of: &[Vec<usize>],
    price: &mut [f64],
    eps: f64,
) -> (Vec<Option<usize>>, Vec<bool>) {
    let tasks = edges.len();
    let mut owner: Vec<Option<usize>> = vec![None; price.len()];
    let mut holds: Vec<Option<usize>> = vec![None; tasks];
    let mut unassigned: Vec<usize> = (0..tasks).rev().collect();
    while let Some(t) = unassigned.pop() {
        // Best and second-best net value (score − price) over real slots; staying
        // unassigned is worth 0.
        let (mut best, mut best_value, mut second) = (None, 0.0_f64, 0.0_f64);
        for &(c, score) in &edges[t] {
            let Some(list) = slot_of.get(c) else { continue };
            // The two cheapest slots of the candidate are all that matter.
            let (mut lo, mut lo2) = (None::<usize>, f64::INFINITY);
            for &s in list {
                match lo {
                    Some(l) if price[s] >= price[l] => lo2 = lo2.min(price[s]),
                    Some(l) => {
                        lo2 = price[l];
                        lo = Some(s);
                    }
                    None => lo = Some(s),
                }
            }
            let Some(lo) = lo else { continue };
            let value = score - price[lo];
            if best.is_none() || value > best_value {
                if best.is_some() {
                    second = second.max(best_value);
                }
                best = Some(lo);
                best_value = value;
            } else {
                second = second.max(value);
            }
            second = second.max(score - lo2);
        }
        match best {
            Some(slot) if best_value >= 0.0 => {
                price[slot] += best_value - second.min(best_value) + eps;
                if let Some(previous) = owner[slot].replace(t) {
                    holds[previous] = None;
                    unassigned.push(previous);
                }
                holds[t] = Some(slot);
            }
            // Every slot costs more than it is worth to this task: it stays out.
            _ => {}
        }
    }
    let candidate_of_slot: Vec<usize> =
        slot_of.iter().enumerate().flat_map(|(c, list)| list.iter().map(move |_| c)).collect();
    let owned = owner.iter().map(Option::is_some).collect();
    (holds.into_iter().map(|h| h.map(|s| candidate_of_slot[s])).collect(), owned)
}

/// Greedy routing, for comparison: tasks in order, each to its best candidate with capacity left.
pub fn greedy(edges: &[Edges], capacity: &[u64]) -> Vec<Option<usize>> {
    let mut left = capacity.to_vec();
    edges
        .iter()
        .map(|options| {
            let best = options
                .iter()
                .filter(|(c, _)| left.get(*c).is_some_and(|l| *l > 0))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(c, _)| *c);
            if let Some(c) = best
                && let Some(l) = left.get_mut(c)
            {
                *l = l.saturating_sub(1);
            }
            best
        })
        .collect()
}

/// Total score of an assignment.
pub fn total(edges: &[Edges], assignment: &[Option<usize>]) -> f64 {
    edges
        .iter()
        .zip(assignment)
        .filter_map(|(options, a)| a.and_then(|c| options.iter().find(|(o, _)| *o == c)).map(|(_, s)| *s))
        .sum()
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn loads(assignment: &[Option<usize>], candidates: usize) -> Vec<u64> {
        let mut l = vec![0; candidates];
        for c in assignment.iter().flatten() {
            l[*c] += 1;
        }
        l
    }

    #[test]
    fn joint_beats_greedy_when_an_early_task_takes_the_only_candidate_of_a_later_one() {
        // Task 0 slightly prefers A but B is nearly as good; task 1 can only use A.
        let edges = vec![vec![(0, 0.9), (1, 0.85)], vec![(0, 0.8)]];
        let capacity = [1, 1];
        let g = greedy(&edges, &capacity);
        let j = joint(&edges, &capacity);
        assert_eq!(g, [Some(0), None]);
        assert_eq!(j, [Some(1), Some(0)]);
        assert!(total(&edges, &j) > total(&edges, &g));
    }

    #[test]
    fn no_candidate_ever_gets_more_than_its_capacity() {
        // 30 tasks all wanting the same three candidates, capacities 2, 1 and 0.
        let edges: Vec<Edges> = (0..30).map(|t| vec![(0, 0.9 - f64::from(t) * 0.01), (1, 0.5), (2, 0.99)]).collect();
        let capacity = [2, 1, 0];
        let j = joint(&edges, &capacity);
        assert!(loads(&j, 3).iter().zip(capacity).all(|(l, c)| *l <= c), "{j:?}");
        assert_eq!(j.iter().flatten().count(), 3, "every slot is used");
        assert_eq!(loads(&j, 3), [2, 1, 0]);
    }

    #[test]
    fn joint_is_within_epsilon_of_the_brute_force_optimum_on_small_markets() {
        // Deterministic pseudo-random small markets, checked against every assignment.
        let mut seed = 7_u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1_u64 << 31) as f64
        };
        for _ in 0..200 {
            let (tasks, candidates) = (4, 3);
            let edges: Vec<Edges> = (0..tasks)
                .map(|_| {
                    let mut options = Vec::new();
                    for c in 0..candidates {
                        if next() < 0.7 {
                            options.push((c, next()));
                        }
                    }
                    options
                })
                .collect();
            let capacity: Vec<u64> = (0..candidates).map(|_| (next() * 3.0) as u64).collect();
            let best = brute_force(&edges, &capacity, 0, &mut vec![0; candidates]);
            let j = joint(&edges, &capacity);
            assert!(loads(&j, candidates).iter().zip(&capacity).all(|(l, c)| l <= c));
            assert!(total(&edges, &j) >= best - tasks as f64 * EPSILON - 1e-9, "{edges:?} {capacity:?} {j:?}");
            assert!(total(&edges, &j) >= total(&edges, &greedy(&edges, &capacity)) - 1e-9);
        }
    }

    fn brute_force(edges: &[Edges], capacity: &[u64], t: usize, used: &mut Vec<u64>) -> f64 {
        if t == edges.len() {
            return 0.0;
        }
        let mut best = brute_force(edges, capacity, t + 1, used);
        for &(c, s) in &edges[t] {
            if used[c] < capacity[c] {
                used[c] += 1;
                best = best.max(s + brute_force(edges, capacity, t + 1, used));
                used[c] -= 1;
            }
        }
        best
    }
}
