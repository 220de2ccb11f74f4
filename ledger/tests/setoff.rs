//! Property tests of the multilateral set-off: the result is a circulation within the
//! invoices, keeps every net position, leaves no cycle, is optimal (no negative cycle in the
//! residual graph, and equal to a brute force on tiny instances) and does not depend on the
//! input order.
//!
//! The number of cases comes from `PROPTEST_CASES` (CI sets 1,000).

use std::collections::BTreeMap;

use ledger::{set_off, Obligation, Setoff};
use proptest::prelude::*;

/// Arbitrary, sparse ids: multiplying by an odd constant is a bijection of u64.
fn sparse(n: u64, salt: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt
}

/// Obligations among `companies` companies, with distinct sparse ids.
fn obligations(
    companies: u64,
    count: std::ops::RangeInclusive<usize>,
    amount_max: i64,
) -> impl Strategy<Value = Vec<Obligation>> {
    proptest::collection::vec((0..companies, 1..companies, 1..=amount_max), count).prop_map(
        move |triples| {
            triples
                .into_iter()
                .enumerate()
                .map(|(i, (debtor, offset, amount))| Obligation {
                    id: sparse(i as u64 + 1, 0x5EED),
                    debtor: sparse(debtor, 0xC0DE),
                    // Never the debtor itself.
                    creditor: sparse((debtor + offset) % companies, 0xC0DE),
                    amount,
                })
                .collect()
        },
    )
}

/// What is left of each obligation, by id.
fn remaining(obligations: &[Obligation], result: &Setoff) -> BTreeMap<u64, i64> {
    let mut left: BTreeMap<u64, i64> = obligations.iter().map(|o| (o.id, o.amount)).collect();
    for cleared in &result.cleared {
        *left.get_mut(&cleared.id).expect("a cleared id exists") -= cleared.amount;
    }
    left
}

/// Net positions (owed minus owes) of the given amounts per obligation.
fn net_positions(
    obligations: &[Obligation],
    amount: impl Fn(&Obligation) -> i64,
) -> BTreeMap<u64, i64> {
    let mut net = BTreeMap::new();
    for o in obligations {
        *net.entry(o.debtor).or_insert(0) -= amount(o);
        *net.entry(o.creditor).or_insert(0) += amount(o);
    }
    net
}

fn dense_companies(obligations: &[Obligation]) -> BTreeMap<u64, usize> {
    let mut companies = BTreeMap::new();
    for o in obligations {
        for company in [o.debtor, o.creditor] {
            let next = companies.len();
            companies.entry(company).or_insert(next);
        }
    }
    companies
}

/// Whether the directed graph of `arcs` (over `nodes` nodes) has a cycle (Kahn's algorithm).
fn has_cycle(nodes: usize, arcs: &[(usize, usize)]) -> bool {
    let mut indegree = vec![0usize; nodes];
    for &(_, to) in arcs {
        indegree[to] += 1;
    }
    let mut ready: Vec<usize> = (0..nodes).filter(|&v| indegree[v] == 0).collect();
    let mut removed = 0;
    while let Some(v) = ready.pop() {
        removed += 1;
        for &(from, to) in arcs {
            if from == v {
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.push(to);
                }
            }
        }
    }
    removed < nodes
}

/// Whether the weighted graph has a negative cycle (Bellman-Ford from a virtual source).
fn has_negative_cycle(nodes: usize, arcs: &[(usize, usize, i64)]) -> bool {
    let mut distance = vec![0i64; nodes];
    // Without a negative cycle, `nodes - 1` rounds settle every distance.
    for _ in 0..=nodes {
        let mut changed = false;
        for &(from, to, cost) in arcs {
            if distance[from] + cost < distance[to] {
                distance[to] = distance[from] + cost;
                changed = true;
            }
        }
        if !changed {
            return false;
        }
    }
    // Still relaxing after `nodes + 1` rounds.
    true
}

/// The largest total over every cleared vector that is a circulation within the amounts.
fn brute_force_total(obligations: &[Obligation]) -> i64 {
    let mut cleared = vec![0i64; obligations.len()];
    let mut best = 0;
    loop {
        let positions = net_positions(obligations, |o| {
            let k = obligations.iter().position(|p| p.id == o.id).unwrap();
            cleared[k]
        });
        if positions.values().all(|&p| p == 0) {
            best = best.max(cleared.iter().sum());
        }
        // The next vector, as an odometer.
        let mut k = 0;
        loop {
            if k == cleared.len() {
                return best;
            }
            if cleared[k] < obligations[k].amount {
                cleared[k] += 1;
                break;
            }
            cleared[k] = 0;
            k += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // CI sets PROPTEST_CASES=1000; locally the default is 256.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        max_shrink_iters: 2_000,
        .. ProptestConfig::default()
    })]

    #[test]
    fn the_set_off_is_a_valid_optimal_circulation(
        obligations in obligations(12, 0..=60, 10_000),
    ) {
        let result = set_off(&obligations).unwrap();

        // (1) Within the invoices, existing ids, sorted, the total is the sum.
        let amount_of: BTreeMap<u64, i64> =
            obligations.iter().map(|o| (o.id, o.amount)).collect();
        for cleared in &result.cleared {
            let amount = amount_of.get(&cleared.id).copied();
            prop_assert!(amount.is_some(), "cleared id {} exists", cleared.id);
            prop_assert!(cleared.amount > 0 && cleared.amount <= amount.unwrap());
        }
        prop_assert!(result.cleared.windows(2).all(|w| w[0].id < w[1].id));
        prop_assert_eq!(result.total, result.cleared.iter().map(|c| c.amount).sum::<i64>());

        // (2) Every company's net position is unchanged.
        let left = remaining(&obligations, &result);
        prop_assert_eq!(
            net_positions(&obligations, |o| o.amount),
            net_positions(&obligations, |o| left[&o.id])
        );

        // (3) No cycle remains among what is left: the set-off is at least maximal.
        let companies = dense_companies(&obligations);
        let left_arcs: Vec<(usize, usize)> = obligations
            .iter()
            .filter(|o| left[&o.id] > 0)
            .map(|o| (companies[&o.debtor], companies[&o.creditor]))
            .collect();
        prop_assert!(!has_cycle(companies.len(), &left_arcs), "a cycle is left");

        // (4) Optimal: what is left (a flow of cost 1 per unit) has no negative cycle in its
        // residual graph (more left on an invoice costs +1, less left costs −1).
        let mut residual = Vec::new();
        for o in &obligations {
            let (debtor, creditor) = (companies[&o.debtor], companies[&o.creditor]);
            if left[&o.id] < o.amount {
                residual.push((debtor, creditor, 1));
            }
            if left[&o.id] > 0 {
                residual.push((creditor, debtor, -1));
            }
        }
        prop_assert!(
            !has_negative_cycle(companies.len(), &residual),
            "more could be cleared"
        );
    }

    #[test]
    fn the_input_order_does_not_matter(
        (obligations, shuffled) in obligations(12, 0..=60, 10_000)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
    ) {
        prop_assert_eq!(set_off(&obligations).unwrap(), set_off(&shuffled).unwrap());
    }

    #[test]
    fn tiny_set_offs_match_a_brute_force(
        obligations in obligations(4, 0..=6, 5),
    ) {
        let result = set_off(&obligations).unwrap();
        prop_assert_eq!(result.total, brute_force_total(&obligations));
    }
}
