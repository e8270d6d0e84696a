//! The seat term of the cap: the largest set of chairs that are pairwise at
//! least `d` apart, found exactly.
//!
//! This is a maximum independent set in the "too close" graph (an edge joins
//! two chairs closer than the rule). Rows of chairs make that graph dense and
//! regular, which is where the obvious shortcuts go wrong (see the parent
//! module), so the answer is searched for exactly: dominated chairs are
//! dropped, each group of interacting chairs is solved on its own by a
//! bit-set branch and bound, and all groups share one deterministic node
//! budget. Pure and deterministic: the same plan and budget always give the
//! same chairs (a caller that goes away may stop the search early; it then
//! gets no answer it could compare).

use std::sync::atomic::{AtomicBool, Ordering};

use super::bitgraph::{
    BitGraph, BitIter, and_count, bit_clear, bit_set, bit_test, first_bit, is_subset,
};

/// Seats this much closer than `d` still count as `d` apart, so chairs placed
/// exactly on the rule (1.2 m pitch under a 1.2 m rule) are compatible despite
/// floating-point noise in `c * pitch`.
const SEAT_EPS_M: f64 = 1e-9;

/// Total number of branch-and-bound nodes the seat search may visit, across
/// all groups of a room, when the operator's own config is solved. A node
/// count, never wall-clock time, so the result is the same on every machine
/// and under any load. Real waiting rooms need from one to a few thousand
/// nodes; the budget is only reached by plans with hundreds of chairs in one
/// dense block at 2-3 m (a few seconds in a release build), and then the best
/// set found so far, still valid, is returned.
const SEAT_SEARCH_NODE_BUDGET: u64 = 2_000_000;

/// The default node budget of an anonymous request to the calculator
/// (`[limits] capacity_search_nodes`): every realistic waiting room is still
/// solved exactly (they need at most a few thousand nodes), and the densest
/// 500-chair plans stop after 20–85 ms of CPU in a release build on the 2-core
/// development machine (they took 1.7–7 s with the config budget), mostly
/// with the same number of chairs.
pub const REQUEST_NODE_BUDGET: u64 = 20_000;

/// How often (in nodes) the search looks at its stop flag: rarely enough to
/// cost nothing, often enough to stop within a millisecond or so.
const STOP_CHECK_EVERY: u64 = 1024;

/// How much searching a caller allows: a deterministic number of nodes, and
/// for a caller that may go away (an HTTP request), a flag that, once set,
/// stops the search at its next check.
#[derive(Debug, Clone, Copy)]
pub struct SearchBudget<'a> {
    pub nodes: u64,
    pub stop: Option<&'a AtomicBool>,
}

impl SearchBudget<'static> {
    /// For the operator's own rooms (config and rule changes): answers stay
    /// exact wherever they were before the calculator had a budget of its own.
    pub const CONFIG: SearchBudget<'static> = SearchBudget {
        nodes: SEAT_SEARCH_NODE_BUDGET,
        stop: None,
    };
}

impl<'a> SearchBudget<'a> {
    /// For an anonymous request: a small node budget, stopped by `stop`.
    pub fn request(nodes: u64, stop: &'a AtomicBool) -> Self {
        SearchBudget {
            nodes,
            stop: Some(stop),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|flag| flag.load(Ordering::Relaxed))
    }
}

/// A set of usable seats: indices into the seat list, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSet {
    pub seats: Vec<usize>,
    /// `false` if the search ran out of budget before proving optimality.
    pub exact: bool,
}

/// Whether a seat has a usable position. Validation rejects non-finite
/// coordinates; the solvers skip them too, because a NaN compares as "not too
/// close" to everything and would otherwise always be offered.
fn is_placed(seat: &[f64; 2]) -> bool {
    seat[0].is_finite() && seat[1].is_finite()
}

/// Two seats conflict when they are closer than the rule (with tolerance).
fn too_close(a: &[f64; 2], b: &[f64; 2], distancing_m: f64) -> bool {
    (a[0] - b[0]).hypot(a[1] - b[1]) < distancing_m - SEAT_EPS_M
}

/// Takes seats in index order whenever they keep the distance to every seat
/// already taken. Fast and simple, but can be far from the best; used as the
/// starting point of the exact search and as a lower bound in tests.
pub fn greedy_seat_set(seats: &[[f64; 2]], distancing_m: f64) -> Vec<usize> {
    let mut taken: Vec<usize> = Vec::new();
    for (i, seat) in seats.iter().enumerate() {
        if is_placed(seat)
            && taken
                .iter()
                .all(|&j| !too_close(seat, &seats[j], distancing_m))
        {
            taken.push(i);
        }
    }
    taken
}

/// A largest set of seats that are pairwise at least `distancing_m` apart
/// (seats exactly `d` apart are compatible), indices ascending.
///
/// This is a maximum independent set in the conflict graph (an edge joins two
/// seats closer than `d`). Seats that some other seat dominates are dropped
/// first (see `drop_dominated`); then each connected component is solved on
/// its own by an exact branch and bound (see `CliqueSearch`) seeded with
/// two greedy answers. All components share one deterministic node budget;
/// if it runs out, the best set found is returned with `exact: false`. The
/// answer is never smaller than [`greedy_seat_set`].
pub fn max_seat_set(seats: &[[f64; 2]], distancing_m: f64) -> SeatSet {
    seat_set_within(seats, distancing_m, SearchBudget::CONFIG)
}

/// [`max_seat_set`] within `budget`: a smaller node budget for anonymous
/// requests (and for tests of the out-of-budget path), and a stop flag. A
/// search that is stopped or runs out returns the best set found so far,
/// valid and never below greedy, with `exact: false`.
pub fn seat_set_within(seats: &[[f64; 2]], distancing_m: f64, budget: SearchBudget<'_>) -> SeatSet {
    let n = seats.len();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        if !is_placed(&seats[i]) {
            continue;
        }
        for j in (i + 1)..n {
            if is_placed(&seats[j]) && too_close(&seats[i], &seats[j], distancing_m) {
                neighbours[i].push(j);
                neighbours[j].push(i);
            }
        }
    }

    let kept = drop_dominated(&neighbours, seats);
    for list in &mut neighbours {
        list.retain(|&w| kept[w]);
    }

    let mut chosen: Vec<usize> = Vec::new();
    let mut exact = true;
    let mut budget = budget;
    let mut seen = vec![false; n];
    for start in 0..n {
        if seen[start] || !kept[start] {
            continue;
        }
        let component = collect_component(start, &neighbours, &mut seen);
        let (best, proved) = solve_component(&component, &neighbours, seats, &mut budget);
        chosen.extend(best);
        exact &= proved;
    }
    chosen.sort_unstable();
    // The search starts from greedy on the reduced plan, so it can only fall
    // below greedy on the full plan if it ran out of budget.
    let greedy = greedy_seat_set(seats, distancing_m);
    if greedy.len() > chosen.len() {
        chosen = greedy;
    }
    SeatSet {
        seats: chosen,
        exact,
    }
}

/// Which seats survive the dominance rule, applied until nothing changes.
///
/// If a seat `u` conflicts with `v` and everything `u` conflicts with also
/// conflicts with `v`, some largest set avoids `v`: swap `v` for `u` in any
/// set using `v`. So `v` can go without changing the answer. In rows of
/// chairs this peels the ends of every row and splits blocks apart, which
/// makes the exact search far smaller. Of two seats with identical
/// conflicts, the lower index is kept.
fn drop_dominated(neighbours: &[Vec<usize>], seats: &[[f64; 2]]) -> Vec<bool> {
    let n = neighbours.len();
    let mut closed = BitGraph::new(n);
    let mut alive = vec![0u64; closed.words];
    for (v, list) in neighbours.iter().enumerate() {
        if is_placed(&seats[v]) {
            bit_set(&mut alive, v);
            closed.add_edge(v, v);
            for &w in list {
                closed.add_edge(v, w);
            }
        }
    }
    // A drop can make further seats dominated, so repeat until a pass drops
    // nothing. Passes are O(n · degree · n/64), and real plans need a few.
    let mut changed = true;
    while changed {
        changed = false;
        for (v, list) in neighbours.iter().enumerate() {
            if !bit_test(&alive, v) {
                continue;
            }
            let dominated_by = |u: usize| {
                let (row_u, row_v) = (closed.row(u), closed.row(v));
                let u_within_v = row_u
                    .iter()
                    .zip(row_v)
                    .zip(&alive)
                    .all(|((a, b), live)| a & live & !b == 0);
                let twins = || {
                    row_v
                        .iter()
                        .zip(row_u)
                        .zip(&alive)
                        .all(|((a, b), live)| a & live & !b == 0)
                };
                u_within_v && (u < v || !twins())
            };
            let drop = list.iter().any(|&u| bit_test(&alive, u) && dominated_by(u));
            if drop {
                bit_clear(&mut alive, v);
                changed = true;
            }
        }
    }
    (0..n).map(|v| bit_test(&alive, v)).collect()
}

/// The connected component of `start` in the conflict graph, ascending.
fn collect_component(start: usize, neighbours: &[Vec<usize>], seen: &mut [bool]) -> Vec<usize> {
    let mut component = vec![start];
    seen[start] = true;
    let mut next = 0;
    while let Some(&v) = component.get(next) {
        next += 1;
        for &w in &neighbours[v] {
            if !seen[w] {
                seen[w] = true;
                component.push(w);
            }
        }
    }
    component.sort_unstable();
    component
}

/// Best seats of one conflict component (original indices) and whether the
/// answer is proven optimal.
fn solve_component(
    component: &[usize],
    neighbours: &[Vec<usize>],
    seats: &[[f64; 2]],
    budget: &mut SearchBudget<'_>,
) -> (Vec<usize>, bool) {
    // Lone seats and conflicting pairs are by far the most common components;
    // the lowest index is what greedy would pick, so keep that.
    if component.len() <= 2 {
        return (component[..1].to_vec(), true);
    }

    // Local numbering 0..m keeps the bitsets as short as the component.
    let m = component.len();
    let local_of = |v: usize| component.binary_search(&v).ok();
    let mut conflict = BitGraph::new(m);
    for (a, &v) in component.iter().enumerate() {
        for &w in &neighbours[v] {
            if let Some(b) = local_of(w) {
                conflict.add_edge(a, b);
            }
        }
    }

    // Incumbent: the better of index-order greedy and min-degree greedy
    // (usually better). A good start prunes most of the tree at once.
    let by_index = greedy_local(&conflict, (0..m).collect());
    let by_degree = min_degree_greedy(&conflict);
    let incumbent = if by_degree.len() > by_index.len() {
        by_degree
    } else {
        by_index
    };

    // The search works on the compatibility graph (complement of the
    // conflict graph), where a seat set is a clique. Its vertex order drives
    // the colouring bound, so try a few natural orders and keep the one with
    // the tightest bound at the root.
    if budget.stopped() {
        // The caller has gone: skip the search (the flag is only looked at
        // every few thousand nodes inside it, and there may be many groups).
        let best = incumbent.iter().map(|&a| component[a]).collect();
        return (best, false);
    }
    let order = pick_order(&conflict, component, seats);
    let mut search = CliqueSearch::new(&conflict, &order, *budget);
    let position: Vec<usize> = {
        let mut pos = vec![0; m];
        for (p, &a) in order.iter().enumerate() {
            pos[a] = p;
        }
        pos
    };
    search.best = incumbent.iter().map(|&a| position[a]).collect();
    let proved = search.run();
    budget.nodes = search.budget.nodes;

    let best = search.best.iter().map(|&p| component[order[p]]).collect();
    (best, proved)
}

/// Greedy independent set taking vertices in the given order.
fn greedy_local(conflict: &BitGraph, order: Vec<usize>) -> Vec<usize> {
    let mut blocked = vec![0u64; conflict.words];
    let mut taken = Vec::new();
    for v in order {
        if !bit_test(&blocked, v) {
            taken.push(v);
            bit_set(&mut blocked, v);
            for (b, r) in blocked.iter_mut().zip(conflict.row(v)) {
                *b |= r;
            }
        }
    }
    taken
}

/// Greedy independent set that repeatedly takes the seat with the fewest
/// remaining conflicts (ties: lowest index), then drops it and its
/// neighbours. Edge and corner seats come first, which is what a person
/// would do by hand.
fn min_degree_greedy(conflict: &BitGraph) -> Vec<usize> {
    let m = conflict.len;
    let mut alive = vec![0u64; conflict.words];
    for v in 0..m {
        bit_set(&mut alive, v);
    }
    let mut taken = Vec::new();
    loop {
        let mut pick: Option<(u32, usize)> = None;
        for v in BitIter::new(&alive) {
            let degree = and_count(conflict.row(v), &alive);
            if pick.is_none_or(|(best, _)| degree < best) {
                pick = Some((degree, v));
            }
        }
        let Some((_, v)) = pick else { break };
        taken.push(v);
        bit_clear(&mut alive, v);
        for (a, r) in alive.iter_mut().zip(conflict.row(v)) {
            *a &= !r;
        }
    }
    taken
}

/// Chooses the vertex order for the search: the candidate whose greedy
/// clique cover of the whole component is smallest (first one on ties).
///
/// Row-major orders are the interesting ones: sweeping a grid of chairs row
/// by row builds "window" cliques that tile it, often giving a cover equal to
/// the optimum, so the search proves optimality almost at once.
fn pick_order(conflict: &BitGraph, component: &[usize], seats: &[[f64; 2]]) -> Vec<usize> {
    let m = component.len();
    let by_index: Vec<usize> = (0..m).collect();
    let position = |a: usize| seats[component[a]];

    let mut by_y_then_x = by_index.clone();
    by_y_then_x.sort_by(|&a, &b| {
        let (pa, pb) = (position(a), position(b));
        pa[1]
            .total_cmp(&pb[1])
            .then(pa[0].total_cmp(&pb[0]))
            .then(a.cmp(&b))
    });
    let mut by_x_then_y = by_index.clone();
    by_x_then_y.sort_by(|&a, &b| {
        let (pa, pb) = (position(a), position(b));
        pa[0]
            .total_cmp(&pb[0])
            .then(pa[1].total_cmp(&pb[1]))
            .then(a.cmp(&b))
    });
    // Classic MCQ order: most conflicts first, so they are covered early.
    let mut by_degree = by_index.clone();
    by_degree.sort_by_key(|&a| (std::cmp::Reverse(conflict.degree(a)), a));

    let mut best: Option<(usize, Vec<usize>)> = None;
    for order in [by_index, by_y_then_x, by_x_then_y, by_degree] {
        let cover = root_cover_size(conflict, &order);
        if best.as_ref().is_none_or(|(size, _)| cover < *size) {
            best = Some((cover, order));
        }
    }
    best.map(|(_, order)| order).unwrap_or_default()
}

/// Number of cliques in the first-fit clique cover of the conflict graph
/// when seats are taken in `order`: an upper bound on the seat set.
fn root_cover_size(conflict: &BitGraph, order: &[usize]) -> usize {
    let mut cliques: Vec<Vec<u64>> = Vec::new();
    for &v in order {
        // A clique accepts v when every member conflicts with v.
        match cliques
            .iter_mut()
            .find(|members| is_subset(members, conflict.row(v)))
        {
            Some(members) => bit_set(members, v),
            None => {
                let mut members = vec![0u64; conflict.words];
                bit_set(&mut members, v);
                cliques.push(members);
            }
        }
    }
    cliques.len()
}

/// Exact maximum clique in the compatibility graph of one component, by
/// bitset branch and bound in the style of Tomita's MCQ/MCS and San Segundo's
/// BBMC.
///
/// At each node the candidate seats are greedily split into classes of
/// mutually conflicting seats (a colouring of the compatibility graph, i.e.
/// a clique cover of the conflict graph). At most one seat per class can be
/// used, so `current + classes` bounds what this branch can reach. Seats are
/// branched on from the last class backwards, and a branch is cut as soon as
/// the bound cannot beat the incumbent.
struct CliqueSearch<'a> {
    /// Compatibility rows in search order (`order[p]` is local vertex `p`).
    compat: BitGraph,
    best: Vec<usize>,
    current: Vec<usize>,
    budget: SearchBudget<'a>,
    out_of_budget: bool,
    /// Per-depth candidate bitsets and branching lists, kept between nodes
    /// so that a node costs no allocation once the search has warmed up.
    candidates: Vec<Vec<u64>>,
    branches: Vec<Vec<(usize, usize)>>,
    /// Scratch bitsets for the colouring; only used between recursions.
    uncoloured: Vec<u64>,
    class: Vec<u64>,
}

impl<'a> CliqueSearch<'a> {
    fn new(conflict: &BitGraph, order: &[usize], budget: SearchBudget<'a>) -> Self {
        let m = order.len();
        let mut compat = BitGraph::new(m);
        for p in 0..m {
            for q in (p + 1)..m {
                if !conflict.has_edge(order[p], order[q]) {
                    compat.add_edge(p, q);
                }
            }
        }
        let words = compat.words;
        Self {
            compat,
            best: Vec::new(),
            current: Vec::new(),
            budget,
            out_of_budget: false,
            candidates: Vec::new(),
            branches: Vec::new(),
            uncoloured: vec![0; words],
            class: vec![0; words],
        }
    }

    /// Runs the search; returns whether `best` is proven optimal.
    fn run(&mut self) -> bool {
        let mut all = vec![0u64; self.compat.words];
        for p in 0..self.compat.len {
            bit_set(&mut all, p);
        }
        self.candidates = vec![all];
        self.expand(0);
        !self.out_of_budget
    }

    /// Explores the node whose candidates are `self.candidates[depth]`
    /// (seats compatible with everything in `current`).
    fn expand(&mut self, depth: usize) {
        let stopped = self.budget.nodes % STOP_CHECK_EVERY == 0 && self.budget.stopped();
        if self.budget.nodes == 0 || stopped {
            self.out_of_budget = true;
            return;
        }
        self.budget.nodes -= 1;

        // Take this depth's buffers out of `self` while we work, so the
        // recursion below can use the deeper ones; they go back at the end.
        let mut candidates = std::mem::take(&mut self.candidates[depth]);
        if self.branches.len() <= depth {
            self.branches.resize_with(depth + 1, Vec::new);
        }
        let mut branches = std::mem::take(&mut self.branches[depth]);
        self.colour_sort(&candidates, &mut branches);

        if self.candidates.len() <= depth + 1 {
            self.candidates.push(vec![0; self.compat.words]);
        }
        for &(v, colour) in branches.iter().rev() {
            // Colours are non-decreasing along `branches`, so once the bound
            // fails here it fails for every remaining vertex too.
            if self.current.len() + colour <= self.best.len() {
                break;
            }
            self.current.push(v);
            let mut any = false;
            for ((n, c), r) in self.candidates[depth + 1]
                .iter_mut()
                .zip(&candidates)
                .zip(self.compat.row(v))
            {
                *n = c & r;
                any |= *n != 0;
            }
            if any {
                self.expand(depth + 1);
            } else if self.current.len() > self.best.len() {
                // `current` cannot grow; the colour bound was optimistic,
                // so it only replaces the incumbent if it really is larger.
                self.best.clone_from(&self.current);
            }
            self.current.pop();
            if self.out_of_budget {
                break;
            }
            bit_clear(&mut candidates, v);
        }

        self.candidates[depth] = candidates;
        self.branches[depth] = branches;
    }

    /// Greedy sequential colouring of `candidates` (BBMC style): builds one
    /// class at a time from the lowest remaining vertex, adding every later
    /// vertex that is incompatible with all class members so far. Fills
    /// `branches` with the vertices worth branching on and their colour,
    /// colours ascending. Vertices whose colour cannot lift `current` above
    /// `best` are left out: they are never branched on, though they stay
    /// candidates below.
    fn colour_sort(&mut self, candidates: &[u64], branches: &mut Vec<(usize, usize)>) {
        branches.clear();
        let needed = (self.best.len() + 1).saturating_sub(self.current.len());
        let uncoloured = &mut self.uncoloured;
        let class = &mut self.class;
        uncoloured.copy_from_slice(candidates);
        let mut colour = 0;
        while uncoloured.iter().any(|&w| w != 0) {
            colour += 1;
            class.copy_from_slice(uncoloured);
            while let Some(v) = first_bit(class) {
                bit_clear(uncoloured, v);
                // Keep only vertices that conflict with v (not compatible).
                for (c, r) in class.iter_mut().zip(self.compat.row(v)) {
                    *c &= !r;
                }
                bit_clear(class, v);
                if colour >= needed {
                    branches.push((v, colour));
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Chairs in straight rows, row-major: `per_row` chairs `pitch` apart,
    /// rows `row_gap` apart.
    pub(in crate::capacity) fn rows(
        count: usize,
        per_row: usize,
        pitch: f64,
        row_gap: f64,
    ) -> Vec<[f64; 2]> {
        (0..count)
            .flat_map(|r| (0..per_row).map(move |c| [c as f64 * pitch, r as f64 * row_gap]))
            .collect()
    }

    fn is_valid(seats: &[[f64; 2]], chosen: &[usize], d: f64) -> bool {
        let ascending = chosen.windows(2).all(|w| w[0] < w[1]);
        let apart = chosen.iter().enumerate().all(|(k, &i)| {
            chosen[k + 1..].iter().all(|&j| {
                let (a, b) = (seats[i], seats[j]);
                (a[0] - b[0]).hypot(a[1] - b[1]) >= d - 1e-9
            })
        });
        ascending && apart
    }

    /// Largest valid subset by trying all of them (n ≤ ~16).
    fn brute_force(seats: &[[f64; 2]], d: f64) -> usize {
        let n = seats.len();
        let conflicts: Vec<u32> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i && too_close(&seats[i], &seats[j], d))
                    .fold(0, |mask, j| mask | 1 << j)
            })
            .collect();
        (0u32..1 << n)
            .filter(|&subset| (0..n).all(|i| subset & 1 << i == 0 || conflicts[i] & subset == 0))
            .map(|subset| subset.count_ones() as usize)
            .max()
            .unwrap_or(0)
    }

    /// Independent oracle for seats in rows: dynamic programming over rows,
    /// remembering the chosen pattern of every earlier row still within `d`.
    fn row_dp(count: usize, per_row: usize, pitch: f64, row_gap: f64, d: f64) -> usize {
        let apart = |c1: usize, c2: usize, dr: usize| {
            let dx = (c1 as f64 - c2 as f64) * pitch;
            let dy = dr as f64 * row_gap;
            dx.hypot(dy) >= d - 1e-9
        };
        let patterns: Vec<u32> = (0u32..1 << per_row)
            .filter(|&p| {
                (0..per_row).all(|a| {
                    (a + 1..per_row).all(|b| p & 1 << a == 0 || p & 1 << b == 0 || apart(a, b, 0))
                })
            })
            .collect();
        let fits = |p: u32, q: u32, dr: usize| {
            (0..per_row).all(|a| {
                p & 1 << a == 0 || (0..per_row).all(|b| q & 1 << b == 0 || apart(a, b, dr))
            })
        };
        // Rows further back than this are at least `d` away whatever is chosen.
        let reach = (1..count).take_while(|&k| !apart(0, 0, k)).count();
        // State: the patterns of the last `reach` rows, newest last.
        let mut states: HashMap<Vec<u32>, usize> = HashMap::from([(Vec::new(), 0)]);
        for _ in 0..count {
            let mut next: HashMap<Vec<u32>, usize> = HashMap::new();
            for (history, total) in &states {
                for &p in &patterns {
                    let ok = history
                        .iter()
                        .rev()
                        .enumerate()
                        .all(|(k, &q)| fits(p, q, k + 1));
                    if ok {
                        let mut key = history.clone();
                        key.push(p);
                        if key.len() > reach {
                            key.remove(0);
                        }
                        let value = total + p.count_ones() as usize;
                        let entry = next.entry(key).or_insert(0);
                        *entry = (*entry).max(value);
                    }
                }
            }
            states = next;
        }
        states.values().copied().max().unwrap_or(0)
    }

    #[test]
    fn three_rows_of_eight_at_55_cm_give_12_seats_at_1_m_and_4_at_2_m() {
        let seats = rows(3, 8, 0.55, 1.0);
        for (d, expected) in [(1.0, 12), (2.0, 4)] {
            let set = max_seat_set(&seats, d);
            assert_eq!(set.seats.len(), expected, "d = {d}");
            assert!(set.exact && is_valid(&seats, &set.seats, d));
            assert_eq!(row_dp(3, 8, 0.55, 1.0, d), expected);
        }
    }

    #[test]
    fn four_rows_of_six_at_60_cm_give_12_seats_at_1_m_and_4_at_2_m() {
        let seats = rows(4, 6, 0.6, 1.2);
        for (d, expected) in [(1.0, 12), (2.0, 4)] {
            let set = max_seat_set(&seats, d);
            assert_eq!(set.seats.len(), expected, "d = {d}");
            assert!(set.exact && is_valid(&seats, &set.seats, d));
            assert_eq!(row_dp(4, 6, 0.6, 1.2, d), expected);
        }
    }

    #[test]
    fn every_other_chair_overstates_at_2_m() {
        // The shortcut would offer 12 of these 24 chairs; only 4 are usable.
        let seats = rows(3, 8, 0.55, 1.0);
        let every_other: Vec<usize> = (0..seats.len()).step_by(2).collect();
        assert!(!is_valid(&seats, &every_other, 2.0));
        assert_eq!(max_seat_set(&seats, 2.0).seats.len(), 4);
    }

    #[test]
    fn seats_exactly_the_rule_apart_are_compatible() {
        let seats = rows(1, 6, 0.4, 1.0);
        // 0.4 * 3 is 1.2000000000000002 or so; either way it is on the rule.
        assert_eq!(max_seat_set(&seats, 1.2).seats, vec![0, 3]);
        assert_eq!(greedy_seat_set(&seats, 1.2), vec![0, 3]);
    }

    #[test]
    fn exact_answers_are_valid_and_never_below_greedy() {
        let layouts = [
            rows(3, 8, 0.55, 1.0),
            rows(4, 6, 0.6, 1.2),
            rows(6, 10, 0.5, 0.9),
            rows(5, 7, 0.45, 0.8),
        ];
        for seats in &layouts {
            for d in [0.5, 1.0, 1.5, 2.0, 3.0] {
                let set = max_seat_set(seats, d);
                let greedy = greedy_seat_set(seats, d);
                assert!(is_valid(seats, &set.seats, d));
                assert!(is_valid(seats, &greedy, d));
                assert!(set.exact && set.seats.len() >= greedy.len());
            }
        }
    }

    #[test]
    fn sixty_seats_are_solved_exactly_at_each_common_rule() {
        let seats = rows(6, 10, 0.5, 0.9);
        for (d, expected) in [(1.0, 30), (1.5, 12), (2.0, 8)] {
            let set = max_seat_set(&seats, d);
            assert!(set.exact, "d = {d}");
            assert!(is_valid(&seats, &set.seats, d));
            assert_eq!(set.seats.len(), expected, "d = {d}");
            assert_eq!(row_dp(6, 10, 0.5, 0.9, d), expected, "d = {d}");
        }
    }

    #[test]
    fn a_hundred_and_twenty_seats_are_solved_exactly_at_2_m() {
        let seats = rows(10, 12, 0.55, 1.0);
        let set = max_seat_set(&seats, 2.0);
        assert!(set.exact);
        assert!(is_valid(&seats, &set.seats, 2.0));
        assert_eq!(set.seats.len(), row_dp(10, 12, 0.55, 1.0, 2.0));
        assert_eq!(set.seats.len(), 15);
    }

    #[test]
    fn running_out_of_budget_still_gives_a_valid_set_at_least_greedy() {
        // Greedy finds 12 here, the optimum is 15; no search is allowed.
        let seats = rows(6, 10, 0.5, 0.9);
        let set = seat_set_within(
            &seats,
            1.25,
            SearchBudget {
                nodes: 0,
                stop: None,
            },
        );
        assert!(!set.exact);
        assert!(is_valid(&seats, &set.seats, 1.25));
        assert!(set.seats.len() >= greedy_seat_set(&seats, 1.25).len());
        assert_eq!(max_seat_set(&seats, 1.25).seats.len(), 15);
    }

    #[test]
    fn a_request_budget_still_solves_realistic_rooms_exactly() {
        let stop = AtomicBool::new(false);
        for (seats, d) in [
            (rows(10, 12, 0.55, 1.0), 2.0),
            (rows(6, 10, 0.5, 0.9), 1.0),
            (rows(6, 10, 0.5, 0.9), 1.5),
            (rows(6, 10, 0.5, 0.9), 2.0),
            (rows(6, 10, 0.5, 0.9), 1.25),
            (rows(4, 6, 0.6, 1.2), 2.0),
        ] {
            let within =
                seat_set_within(&seats, d, SearchBudget::request(REQUEST_NODE_BUDGET, &stop));
            assert!(within.exact, "{} seats at {d} m", seats.len());
            assert_eq!(within, max_seat_set(&seats, d));
        }
    }

    #[test]
    fn a_dense_500_chair_plan_exhausts_a_request_budget_with_a_valid_set_at_least_greedy() {
        let seats = rows(20, 25, 0.5, 0.9);
        let stop = AtomicBool::new(false);
        let set = seat_set_within(
            &seats,
            2.5,
            SearchBudget::request(REQUEST_NODE_BUDGET, &stop),
        );
        assert!(!set.exact);
        assert!(is_valid(&seats, &set.seats, 2.5));
        assert!(set.seats.len() >= greedy_seat_set(&seats, 2.5).len());
        // Deterministic: the same plan and budget give the same chairs.
        assert_eq!(
            seat_set_within(
                &seats,
                2.5,
                SearchBudget::request(REQUEST_NODE_BUDGET, &stop)
            ),
            set
        );
    }

    #[test]
    fn a_set_stop_flag_ends_the_search_early_with_a_valid_set_at_least_greedy() {
        // Solved exactly with the room's budget (optimum 15, greedy 12) …
        let seats = rows(6, 10, 0.5, 0.9);
        assert!(max_seat_set(&seats, 1.25).exact);
        // … but not once the caller has gone, however large the budget.
        let stop = AtomicBool::new(true);
        let budget = SearchBudget {
            nodes: u64::MAX,
            stop: Some(&stop),
        };
        let set = seat_set_within(&seats, 1.25, budget);
        assert!(!set.exact);
        assert!(is_valid(&seats, &set.seats, 1.25));
        assert!(set.seats.len() >= greedy_seat_set(&seats, 1.25).len());
    }

    #[test]
    fn identical_input_gives_the_identical_answer() {
        let seats = rows(6, 10, 0.5, 0.9);
        let first = max_seat_set(&seats, 1.5);
        assert_eq!(max_seat_set(&seats, 1.5), first);
    }

    #[test]
    fn separate_groups_are_solved_independently() {
        // Two rows of chairs in opposite corners of a large room.
        let mut seats = rows(2, 8, 0.55, 1.0);
        seats.extend(
            rows(2, 8, 0.55, 1.0)
                .iter()
                .map(|[x, y]| [x + 20.0, y + 20.0]),
        );
        let set = max_seat_set(&seats, 2.0);
        assert!(set.exact && is_valid(&seats, &set.seats, 2.0));
        assert_eq!(
            set.seats.len(),
            2 * max_seat_set(&seats[..16], 2.0).seats.len()
        );
    }

    #[test]
    fn empty_and_single_seat_plans_work() {
        assert_eq!(
            max_seat_set(&[], 2.0),
            SeatSet {
                seats: vec![],
                exact: true
            }
        );
        assert_eq!(max_seat_set(&[[1.0, 1.0]], 2.0).seats, vec![0]);
        assert_eq!(max_seat_set(&[[1.0, 1.0], [1.0, 1.0]], 2.0).seats, vec![0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn small_rooms_match_brute_force(
            cells in prop::collection::vec((0u32..=80, 0u32..=80), 0..=14),
            d in 0.5f64..3.0,
        ) {
            let seats: Vec<[f64; 2]> = cells
                .iter()
                .map(|&(x, y)| [f64::from(x) * 0.05, f64::from(y) * 0.05])
                .collect();
            let set = max_seat_set(&seats, d);
            prop_assert!(set.exact);
            prop_assert!(is_valid(&seats, &set.seats, d));
            prop_assert_eq!(set.seats.len(), brute_force(&seats, d));
        }

        #[test]
        fn larger_rooms_are_valid_and_at_least_greedy(
            cells in prop::collection::vec((0u32..=160, 0u32..=160), 0..=60),
            d in 0.5f64..3.0,
        ) {
            let seats: Vec<[f64; 2]> = cells
                .iter()
                .map(|&(x, y)| [f64::from(x) * 0.05, f64::from(y) * 0.05])
                .collect();
            let set = max_seat_set(&seats, d);
            let greedy = greedy_seat_set(&seats, d);
            prop_assert!(is_valid(&seats, &set.seats, d));
            prop_assert!(set.seats.len() >= greedy.len());
        }
    }
}
