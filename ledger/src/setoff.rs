//! # Multilateral set-off of outside invoices (MTCS)
//!
//! Member companies declare the unpaid euro invoices they owe each other ("obligations":
//! debtor → creditor, an amount in cents). [`set_off`] says how much of each invoice can be
//! cancelled so that every company's **net position** (what it is owed minus what it owes)
//! is unchanged, and the **total cancelled is as large as possible**: multilateral trade
//! credit set-off, as in Fleischman et al., on Sardex data. The cancelled amounts form a
//! circulation: for every company, what is cleared on the invoices it owes equals what is
//! cleared on the invoices it is owed.
//!
//! What it does *not* do: store anything, check who may declare or accept an invoice, or move
//! any money (euros or credit). It only answers "how much of each invoice is cancelled"; the
//! caller records that and tells the companies.
//!
//! ## Algorithm
//!
//! The remaining debt `r_e ∈ [0, amount_e]` on the same invoices must still carry every
//! company's net position; set-off maximises `Σ (amount_e − r_e)`, i.e. minimises `Σ r_e`.
//! That is a minimum-cost flow: a super source `S` → every net debtor (capacity: what it owes
//! net), every net creditor → a super sink `T` (capacity: its net), and every obligation an
//! arc debtor → creditor with capacity `amount_e` and cost 1 (parallel invoices are separate
//! arcs). The whole net flow `D` (the sum of the net debts) is sent at minimum cost, and
//! `cleared_e = amount_e − flow_e`. A feasible flow always exists: the invoices themselves,
//! at full amount.
//!
//! The flow is sent by the primal-dual method (successive shortest paths, a phase per
//! distance): each phase runs Dijkstra on reduced costs (node potentials keep them
//! non-negative; all costs start at 0 or 1), then Dinic's maximum flow on the arcs of reduced
//! cost 0, which augments along every shortest `S`–`T` path at once. The shortest distance
//! is an integer that grows by at least 1 per phase, starts at 1 and stays below the number
//! of companies `n` (a shortest path is simple, and each of its company-to-company arcs costs
//! ±1), so there are fewer than `n` phases.
//!
//! Complexity: with `m ≤` [`SETOFF_OBLIGATIONS_MAX`] obligations, `n ≤ 2m` companies,
//! `V = n + 2` nodes and `E ≤ 2(m + n)` arcs, at most `n − 1` phases, each
//! `O(E log V)` (Dijkstra) plus `O(V² E)` (Dinic); so `O(n · V² · E)` in the worst case,
//! independent of the amounts. On random networks the distances are short and a set-off of
//! 5,000 invoices takes milliseconds; long chains of companies (many distinct path lengths,
//! hence many phases) are the slow case, at about a tenth of a second
//! (`cargo bench -p ledger --bench setoff`). Every loop asserts its bound.
//!
//! Determinism: the obligations are sorted by id (then by their other fields) before
//! anything else, and company ids (arbitrary `u64`) are mapped to dense indices in increasing
//! order, so the result does not depend on the order of the input slice. When several
//! set-offs reach the maximum, the same one is always returned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Most obligations one set-off takes.
pub const SETOFF_OBLIGATIONS_MAX: usize = 5_000;
/// Largest amount of one obligation, in minor units (cents): 100 million euros.
pub const SETOFF_AMOUNT_MAX: i64 = 10_000_000_000;

// Every sum of amounts (a company's net position, the total owed, the flow) fits in an i64.
const _: () =
    assert!((SETOFF_OBLIGATIONS_MAX as i128) * (SETOFF_AMOUNT_MAX as i128) <= i64::MAX as i128);

/// One unpaid invoice: `debtor` owes `amount` cents to `creditor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obligation {
    /// Unique among the obligations of one set-off.
    pub id: u64,
    /// The company that owes.
    pub debtor: u64,
    /// The company that is owed.
    pub creditor: u64,
    /// In minor units (cents), `1..=SETOFF_AMOUNT_MAX`.
    pub amount: i64,
}

/// How much of one obligation is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    /// The obligation's id.
    pub id: u64,
    /// In minor units (cents), `1..=` the obligation's amount.
    pub amount: i64,
}

/// The result of a set-off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Setoff {
    /// Only obligations with something cleared (amount > 0), sorted by id.
    pub cleared: Vec<Cleared>,
    /// Sum of `cleared`.
    pub total: i64,
}

/// Why a set-off was refused (nothing is computed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetoffError {
    #[error("too many obligations for one set-off: {count} (at most {max})")]
    TooMany { count: usize, max: usize },
    #[error(
        "obligation {id}: the amount must be at least 1 cent and at most {SETOFF_AMOUNT_MAX} cents"
    )]
    AmountOutOfRange { id: u64 },
    #[error("obligation {id}: a company cannot owe itself")]
    OwnDebt { id: u64 },
    #[error("obligation {id} appears more than once")]
    DuplicateId { id: u64 },
}

/// Cancels as much as possible of the obligations without changing any company's net
/// position (see the [module documentation](self)).
pub fn set_off(obligations: &[Obligation]) -> Result<Setoff, SetoffError> {
    if obligations.len() > SETOFF_OBLIGATIONS_MAX {
        return Err(SetoffError::TooMany {
            count: obligations.len(),
            max: SETOFF_OBLIGATIONS_MAX,
        });
    }
    // Sorted on every field, so that even the error reported does not depend on the order.
    let mut sorted = obligations.to_vec();
    sorted.sort_unstable_by_key(|o| (o.id, o.debtor, o.creditor, o.amount));
    for (index, obligation) in sorted.iter().enumerate() {
        if !(1..=SETOFF_AMOUNT_MAX).contains(&obligation.amount) {
            return Err(SetoffError::AmountOutOfRange { id: obligation.id });
        }
        if obligation.debtor == obligation.creditor {
            return Err(SetoffError::OwnDebt { id: obligation.id });
        }
        if index > 0 && sorted[index - 1].id == obligation.id {
            return Err(SetoffError::DuplicateId { id: obligation.id });
        }
    }
    if sorted.is_empty() {
        return Ok(Setoff::default());
    }

    // Dense company indices, in increasing order of company id.
    let mut companies: Vec<u64> = sorted.iter().flat_map(|o| [o.debtor, o.creditor]).collect();
    companies.sort_unstable();
    companies.dedup();
    let company_count = companies.len();
    assert!(company_count >= 2 && company_count <= 2 * sorted.len());
    let index_of = |company: u64| -> usize {
        companies
            .binary_search(&company)
            .expect("every company of an obligation is indexed")
    };
    let ends: Vec<(usize, usize)> = sorted
        .iter()
        .map(|o| (index_of(o.debtor), index_of(o.creditor)))
        .collect();

    // Net positions: what a company is owed minus what it owes (no overflow: see the const
    // assertion above).
    let mut net = vec![0i64; company_count];
    for (obligation, &(debtor, creditor)) in sorted.iter().zip(&ends) {
        net[debtor] -= obligation.amount;
        net[creditor] += obligation.amount;
    }

    let source = company_count;
    let sink = company_count + 1;
    let mut builder =
        NetworkBuilder::with_capacity(company_count + 2, sorted.len() + company_count);
    // Obligation k is arc 2k (its reverse 2k + 1): the flow on it is the reverse's residual.
    for (obligation, &(debtor, creditor)) in sorted.iter().zip(&ends) {
        builder.arc(debtor, creditor, obligation.amount, 1);
    }
    let mut demand = 0i64;
    for (company, &position) in net.iter().enumerate() {
        if position < 0 {
            builder.arc(source, company, -position, 0);
            demand += -position;
        } else if position > 0 {
            builder.arc(company, sink, position, 0);
        }
    }
    assert_eq!(net.iter().sum::<i64>(), 0, "net positions sum to zero");
    let mut network = builder.build();
    let sent = network.min_cost_flow(source, sink, demand, company_count);
    assert_eq!(sent, demand, "the whole net flow is sent");

    let mut cleared = Vec::new();
    let mut total = 0i64;
    // Per company: cleared as debtor minus cleared as creditor; zero for a circulation.
    let mut balance = vec![0i64; company_count];
    for (k, (obligation, &(debtor, creditor))) in sorted.iter().zip(&ends).enumerate() {
        let flow = network.cap[2 * k + 1];
        assert!(
            (0..=obligation.amount).contains(&flow),
            "the flow on an obligation is within its amount"
        );
        let amount = obligation.amount - flow;
        if amount > 0 {
            assert!(amount <= obligation.amount);
            cleared.push(Cleared {
                id: obligation.id,
                amount,
            });
            total += amount;
            balance[debtor] += amount;
            balance[creditor] -= amount;
        }
    }
    assert!(
        balance.iter().all(|&b| b == 0),
        "the cleared amounts keep every company's net position"
    );
    assert!(cleared.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(cleared.iter().map(|c| c.amount).sum::<i64>(), total);
    Ok(Setoff { cleared, total })
}

/// Arcs in insertion order (arc `2k` and its reverse `2k + 1`), before the adjacency is
/// built.
struct NetworkBuilder {
    nodes: usize,
    tail: Vec<usize>,
    head: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i64>,
}

impl NetworkBuilder {
    fn with_capacity(nodes: usize, arcs: usize) -> Self {
        NetworkBuilder {
            nodes,
            tail: Vec::with_capacity(2 * arcs),
            head: Vec::with_capacity(2 * arcs),
            cap: Vec::with_capacity(2 * arcs),
            cost: Vec::with_capacity(2 * arcs),
        }
    }

    fn arc(&mut self, from: usize, to: usize, capacity: i64, cost: i64) {
        assert!(from < self.nodes && to < self.nodes && from != to);
        assert!(capacity > 0);
        for (tail, head, cap, cost) in [(from, to, capacity, cost), (to, from, 0, -cost)] {
            self.tail.push(tail);
            self.head.push(head);
            self.cap.push(cap);
            self.cost.push(cost);
        }
    }

    fn build(self) -> Network {
        // Compressed adjacency: the arcs leaving node v are adjacency[start[v]..start[v + 1]],
        // in insertion order.
        let mut start = vec![0usize; self.nodes + 1];
        for &tail in &self.tail {
            start[tail + 1] += 1;
        }
        for v in 0..self.nodes {
            start[v + 1] += start[v];
        }
        let mut fill = start.clone();
        let mut adjacency = vec![0usize; self.tail.len()];
        for (arc, &tail) in self.tail.iter().enumerate() {
            adjacency[fill[tail]] = arc;
            fill[tail] += 1;
        }
        Network {
            start,
            adjacency,
            head: self.head,
            cap: self.cap,
            // With every potential at 0, the reduced costs are the costs.
            reduced: self.cost.clone(),
            cost: self.cost,
            potential: vec![0; self.nodes],
        }
    }
}

/// A residual network: `cap` is what each arc can still carry.
struct Network {
    start: Vec<usize>,
    adjacency: Vec<usize>,
    head: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    /// Node potentials: the reduced cost `cost + potential[tail] − potential[head]` of every
    /// arc with residual capacity is non-negative.
    potential: Vec<i64>,
    /// The reduced cost of every arc, for the current potentials (they change once a phase;
    /// the arcs are scanned many times in between).
    reduced: Vec<i64>,
}

const UNREACHED: i64 = i64::MAX;
const NO_LEVEL: u32 = u32::MAX;

impl Network {
    fn nodes(&self) -> usize {
        self.potential.len()
    }

    fn arcs(&self, v: usize) -> &[usize] {
        &self.adjacency[self.start[v]..self.start[v + 1]]
    }

    fn tail(&self, arc: usize) -> usize {
        self.head[arc ^ 1]
    }

    /// Recomputes the reduced costs after the potentials changed.
    fn update_reduced_costs(&mut self) {
        for arc in 0..self.reduced.len() {
            self.reduced[arc] = self.cost[arc] + self.potential[self.head[arc ^ 1]]
                - self.potential[self.head[arc]];
        }
    }

    /// Sends up to `demand` from `source` to `sink` at minimum cost; returns what was sent.
    /// `companies` bounds the shortest path's cost (and so the number of phases).
    fn min_cost_flow(&mut self, source: usize, sink: usize, demand: i64, companies: usize) -> i64 {
        let companies = companies as i64;
        let phases_max = companies;
        let mut phases = 0i64;
        let mut sent = 0i64;
        let mut distance_last = 0i64;
        while sent < demand {
            assert!(phases < phases_max, "at most n - 1 phases");
            phases += 1;
            if !self.shortest_paths(source, sink) {
                break;
            }
            // The cost of a shortest path from source to sink: it grows every phase and a
            // simple path has at most n - 1 arcs of cost ±1 between companies.
            let distance = self.potential[sink] - self.potential[source];
            assert!(distance > distance_last && distance < companies);
            distance_last = distance;
            let pushed = self.max_flow_on_shortest_paths(source, sink);
            assert!(pushed > 0, "a phase with a path sends something");
            sent += pushed;
            assert!(sent <= demand);
        }
        sent
    }

    /// Dijkstra on reduced costs from `source`, then the potentials are raised by the
    /// distances (capped at the sink's, which keeps every reduced cost non-negative and makes
    /// the arcs of shortest paths cost 0). Returns whether the sink is reachable.
    fn shortest_paths(&mut self, source: usize, sink: usize) -> bool {
        let nodes = self.nodes();
        let mut distance = vec![UNREACHED; nodes];
        let mut heap = BinaryHeap::new();
        distance[source] = 0;
        heap.push(Reverse((0i64, source)));
        // Each arc is relaxed at most once (when its tail is settled): a push per arc, plus
        // the source's.
        let pops_max = self.adjacency.len() + 1;
        let mut pops = 0usize;
        while let Some(Reverse((d, v))) = heap.pop() {
            pops += 1;
            assert!(pops <= pops_max);
            if d > distance[v] {
                continue;
            }
            for &arc in self.arcs(v) {
                if self.cap[arc] == 0 {
                    continue;
                }
                let reduced = self.reduced[arc];
                debug_assert!(reduced >= 0, "potentials keep reduced costs non-negative");
                let w = self.head[arc];
                let through = d + reduced;
                if through < distance[w] {
                    distance[w] = through;
                    heap.push(Reverse((through, w)));
                }
            }
        }
        let to_sink = distance[sink];
        if to_sink == UNREACHED {
            return false;
        }
        for (potential, &d) in self.potential.iter_mut().zip(&distance) {
            *potential += d.min(to_sink);
        }
        self.update_reduced_costs();
        true
    }

    /// Dinic's maximum flow from `source` to `sink` on the arcs of reduced cost 0 (every
    /// path there is a shortest path). Returns what was sent.
    fn max_flow_on_shortest_paths(&mut self, source: usize, sink: usize) -> i64 {
        let nodes = self.nodes();
        // The arcs of reduced cost 0 (the potentials do not change in this phase; an arc's
        // reverse has the opposite reduced cost, so the set is closed under reversal), in
        // the same compressed layout as the network's.
        let mut zero_start = Vec::with_capacity(nodes + 1);
        let mut zero = Vec::new();
        zero_start.push(0);
        for v in 0..nodes {
            zero.extend(
                self.arcs(v)
                    .iter()
                    .copied()
                    .filter(|&arc| self.reduced[arc] == 0),
            );
            zero_start.push(zero.len());
        }
        let mut level = vec![NO_LEVEL; nodes];
        let mut next = vec![0usize; nodes];
        let mut queue = Vec::with_capacity(nodes);
        let mut path: Vec<usize> = Vec::with_capacity(nodes);
        let mut pushed = 0i64;
        // The sink's level grows every round and is below the number of nodes.
        let rounds_max = nodes;
        let mut rounds = 0usize;
        loop {
            // Levels by breadth-first search over admissible arcs.
            level.fill(NO_LEVEL);
            queue.clear();
            level[source] = 0;
            queue.push(source);
            let mut at = 0usize;
            while at < queue.len() {
                assert!(queue.len() <= nodes);
                let v = queue[at];
                at += 1;
                if level[v] >= level[sink] {
                    // Breadth-first: every node left is as far as the sink or farther, and
                    // cannot be on a shortest path to it.
                    break;
                }
                for &arc in &zero[zero_start[v]..zero_start[v + 1]] {
                    let w = self.head[arc];
                    if self.cap[arc] > 0 && level[w] == NO_LEVEL {
                        level[w] = level[v] + 1;
                        queue.push(w);
                    }
                }
            }
            if level[sink] == NO_LEVEL {
                return pushed;
            }
            rounds += 1;
            assert!(rounds <= rounds_max, "Dinic: at most V rounds");

            // A blocking flow, by depth-first search with a current arc per node (iterative:
            // paths can be thousands of arcs long).
            next.copy_from_slice(&zero_start[..nodes]);
            path.clear();
            let mut v = source;
            // Each augmentation saturates an arc of the level graph (at most E of them) after
            // at most V advances; each retreat removes a node.
            let steps_max = (zero.len() + 2) * (nodes + 1);
            let mut steps = 0usize;
            loop {
                steps += 1;
                assert!(steps <= steps_max, "Dinic: blocking flow bounded");
                if v == sink {
                    let bottleneck = path
                        .iter()
                        .map(|&arc| self.cap[arc])
                        .min()
                        .expect("a path to the sink has arcs");
                    assert!(bottleneck > 0);
                    for &arc in &path {
                        self.cap[arc] -= bottleneck;
                        self.cap[arc ^ 1] += bottleneck;
                    }
                    pushed += bottleneck;
                    // Retreat to the tail of the first saturated arc.
                    let saturated = path
                        .iter()
                        .position(|&arc| self.cap[arc] == 0)
                        .expect("the bottleneck arc is saturated");
                    v = self.tail(path[saturated]);
                    path.truncate(saturated);
                    continue;
                }
                let end = zero_start[v + 1];
                let mut advanced = false;
                while next[v] < end {
                    let arc = zero[next[v]];
                    let w = self.head[arc];
                    if self.cap[arc] > 0 && level[w] == level[v] + 1 {
                        path.push(arc);
                        v = w;
                        advanced = true;
                        break;
                    }
                    next[v] += 1;
                }
                if !advanced {
                    // A dead end: no more flow through v in this round.
                    level[v] = NO_LEVEL;
                    if v == source {
                        break;
                    }
                    let arc = path.pop().expect("a node other than the source has a path");
                    v = self.tail(arc);
                    next[v] += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ob(id: u64, debtor: u64, creditor: u64, amount: i64) -> Obligation {
        Obligation {
            id,
            debtor,
            creditor,
            amount,
        }
    }

    fn cleared(pairs: &[(u64, i64)]) -> Vec<Cleared> {
        pairs
            .iter()
            .map(|&(id, amount)| Cleared { id, amount })
            .collect()
    }

    const A: u64 = 1_000;
    const B: u64 = 20;
    const C: u64 = u64::MAX;
    const D: u64 = 7;

    #[test]
    fn a_triangle_clears_its_smallest_side_on_each_side() {
        let result = set_off(&[ob(1, A, B, 100), ob(2, B, C, 70), ob(3, C, A, 50)]).unwrap();
        assert_eq!(result.cleared, cleared(&[(1, 50), (2, 50), (3, 50)]));
        assert_eq!(result.total, 150);
    }

    #[test]
    fn a_chain_without_a_cycle_clears_nothing() {
        let result = set_off(&[ob(1, A, B, 100), ob(2, B, C, 70), ob(3, C, D, 50)]).unwrap();
        assert_eq!(result, Setoff::default());
        assert_eq!(set_off(&[]).unwrap(), Setoff::default());
    }

    #[test]
    fn two_companies_owing_each_other_clear_the_smaller_debt() {
        let result = set_off(&[ob(1, A, B, 30), ob(2, B, A, 20)]).unwrap();
        assert_eq!(result.cleared, cleared(&[(1, 20), (2, 20)]));
        assert_eq!(result.total, 40);
    }

    #[test]
    fn the_number_of_obligations_is_bounded() {
        // A ring of 5,000 companies: everything clears.
        let ring = |count: u64| -> Vec<Obligation> {
            (0..count)
                .map(|i| ob(i, i, (i + 1) % count, 1 + (i % 3) as i64))
                .collect()
        };
        let result = set_off(&ring(SETOFF_OBLIGATIONS_MAX as u64)).unwrap();
        assert_eq!(result.cleared.len(), SETOFF_OBLIGATIONS_MAX);
        assert_eq!(result.total, SETOFF_OBLIGATIONS_MAX as i64);
        assert_eq!(
            set_off(&ring(SETOFF_OBLIGATIONS_MAX as u64 + 1)),
            Err(SetoffError::TooMany {
                count: SETOFF_OBLIGATIONS_MAX + 1,
                max: SETOFF_OBLIGATIONS_MAX
            })
        );
    }

    #[test]
    fn the_amounts_are_bounded() {
        let result = set_off(&[
            ob(1, A, B, SETOFF_AMOUNT_MAX),
            ob(2, B, A, SETOFF_AMOUNT_MAX),
        ])
        .unwrap();
        assert_eq!(
            result.cleared,
            cleared(&[(1, SETOFF_AMOUNT_MAX), (2, SETOFF_AMOUNT_MAX)])
        );
        assert_eq!(result.total, 2 * SETOFF_AMOUNT_MAX);
        for amount in [SETOFF_AMOUNT_MAX + 1, 0, -1, i64::MIN, i64::MAX] {
            assert_eq!(
                set_off(&[ob(1, A, B, 10), ob(2, B, A, amount)]),
                Err(SetoffError::AmountOutOfRange { id: 2 })
            );
        }
        assert_eq!(
            set_off(&[ob(1, A, B, 1)]).unwrap(),
            Setoff::default(),
            "one cent is an amount"
        );
    }

    #[test]
    fn the_largest_set_off_does_not_overflow() {
        // 5,000 invoices of the largest amount, in a ring: 5 × 10^13 cents cleared.
        let count = SETOFF_OBLIGATIONS_MAX as u64;
        let ring: Vec<Obligation> = (0..count)
            .map(|i| ob(i, i, (i + 1) % count, SETOFF_AMOUNT_MAX))
            .collect();
        let result = set_off(&ring).unwrap();
        assert_eq!(
            result.total,
            SETOFF_OBLIGATIONS_MAX as i64 * SETOFF_AMOUNT_MAX
        );
    }

    #[test]
    fn a_company_cannot_owe_itself() {
        assert_eq!(
            set_off(&[ob(1, A, B, 10), ob(2, C, C, 10)]),
            Err(SetoffError::OwnDebt { id: 2 })
        );
    }

    #[test]
    fn an_id_appears_once() {
        assert_eq!(
            set_off(&[ob(5, A, B, 10), ob(3, B, A, 10), ob(5, A, B, 10)]),
            Err(SetoffError::DuplicateId { id: 5 })
        );
    }

    #[test]
    fn the_errors_say_what_is_wrong() {
        assert_eq!(
            SetoffError::TooMany {
                count: 5_001,
                max: 5_000
            }
            .to_string(),
            "too many obligations for one set-off: 5001 (at most 5000)"
        );
        assert_eq!(
            SetoffError::AmountOutOfRange { id: 4 }.to_string(),
            "obligation 4: the amount must be at least 1 cent and at most 10000000000 cents"
        );
        assert_eq!(
            SetoffError::OwnDebt { id: 4 }.to_string(),
            "obligation 4: a company cannot owe itself"
        );
        assert_eq!(
            SetoffError::DuplicateId { id: 4 }.to_string(),
            "obligation 4 appears more than once"
        );
    }

    /// Greedy cycle cancelling in id order: for the first obligation (by id) with something
    /// left that closes a cycle, cancel the minimum along the shortest cycle through it;
    /// repeat. Returns the total cleared.
    fn greedy_cycle_cancelling(obligations: &[Obligation]) -> i64 {
        let mut left: Vec<i64> = obligations.iter().map(|o| o.amount).collect();
        let mut total = 0;
        'cancel: for _ in 0..=obligations.len() {
            for (first, o) in obligations.iter().enumerate() {
                if left[first] == 0 {
                    continue;
                }
                // Breadth-first from the creditor back to the debtor, over what is left.
                let mut reached_by: Vec<(u64, Option<usize>)> = vec![(o.creditor, None)];
                let mut at = 0;
                while at < reached_by.len() {
                    let company = reached_by[at].0;
                    if company == o.debtor {
                        let mut cycle = vec![first];
                        let mut back = at;
                        while let Some(arc) = reached_by[back].1 {
                            cycle.push(arc);
                            let debtor = obligations[arc].debtor;
                            back = reached_by.iter().position(|r| r.0 == debtor).unwrap();
                        }
                        let least = cycle.iter().map(|&k| left[k]).min().unwrap();
                        for &k in &cycle {
                            left[k] -= least;
                            total += least;
                        }
                        continue 'cancel;
                    }
                    for (k, next) in obligations.iter().enumerate() {
                        if next.debtor == company
                            && left[k] > 0
                            && !reached_by.iter().any(|r| r.0 == next.creditor)
                        {
                            reached_by.push((next.creditor, Some(k)));
                        }
                    }
                    at += 1;
                }
            }
            return total;
        }
        unreachable!("each cancellation empties an obligation")
    }

    #[test]
    fn the_optimum_beats_greedy_cycle_cancelling() {
        // A→B is shared by the 2-cycle A→B→A and the 4-cycle A→B→C→D→A. Cancelling the
        // shortest cycle through the first invoice (the 2-cycle) clears 2 and leaves no
        // cycle; the optimum cancels the 4-cycle and clears 4 (B's net debt of 1 to A must
        // stay somewhere; leaving it on the direct invoice 2 is the cheapest).
        let obligations = [
            ob(1, A, B, 1),
            ob(2, B, A, 1),
            ob(3, B, C, 1),
            ob(4, C, D, 1),
            ob(5, D, A, 1),
        ];
        assert_eq!(greedy_cycle_cancelling(&obligations), 2);
        let result = set_off(&obligations).unwrap();
        assert_eq!(result.total, 4);
        assert_eq!(result.cleared, cleared(&[(1, 1), (3, 1), (4, 1), (5, 1)]));
    }

    #[test]
    fn the_input_order_does_not_matter() {
        let obligations = [
            ob(9, A, B, 40),
            ob(2, B, C, 40),
            ob(4, C, A, 40),
            ob(7, A, C, 40),
            ob(1, C, B, 25),
            ob(3, B, A, 10),
        ];
        let mut reversed = obligations;
        reversed.reverse();
        assert_eq!(set_off(&obligations), set_off(&reversed));
    }
}
