//! Weights: `WeightTable` picks a task by weight; `UserMix` splits N users over classes
//! exactly and decides the order users start in.
//!
//! Rounding rule (documented in docs/plan-reference.md): largest remainder. Each class first gets
//! the whole part of `N × weight / total`; the users left over go one each to the classes
//! with the largest fractional parts, earlier-declared classes first on ties. So 10 users
//! at 70/20/10 are 7/2/1, and 3 users are 2/1/0.

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

/// Picks an index with probability proportional to its weight.
#[derive(Debug, Clone)]
pub(crate) struct WeightTable {
    index: WeightedIndex<u32>,
    weights: Vec<u32>,
}

impl WeightTable {
    /// `None` when there are no weights or they are all zero.
    pub(crate) fn new(weights: Vec<u32>) -> Option<Self> {
        let index = WeightedIndex::new(weights.iter().copied()).ok()?;
        Some(Self { index, weights })
    }

    pub(crate) fn pick(&self, rng: &mut impl Rng) -> usize {
        self.index.sample(rng)
    }

    /// Each entry's expected share of picks, in 0..=1.
    pub(crate) fn shares(&self) -> Vec<f64> {
        let total: f64 = self.weights.iter().map(|&w| f64::from(w)).sum();
        self.weights.iter().map(|&w| f64::from(w) / total).collect()
    }
}

/// How the users of a run are split over classes.
#[derive(Debug, Clone, PartialEq)]
pub struct UserMix {
    /// Users per class at the schedule's peak.
    pub per_class: Vec<u32>,
    /// The class of the k-th user started; users stop in reverse order.
    pub(crate) order: Vec<usize>,
}

impl UserMix {
    pub fn new(peak_users: u32, weights: &[u32]) -> Self {
        let per_class = apportion(peak_users, weights);
        let order = interleave(&per_class);
        Self { per_class, order }
    }

    /// Users per class when the first `active` users of `order` are running.
    #[cfg(test)]
    fn counts_at(&self, active: usize) -> Vec<u32> {
        let mut counts = vec![0; self.per_class.len()];
        for &class in &self.order[..active.min(self.order.len())] {
            counts[class] += 1;
        }
        counts
    }
}

/// Splits `total` users by `weights` with the largest-remainder rule.
pub(crate) fn apportion(total: u32, weights: &[u32]) -> Vec<u32> {
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<(u64, u64)> = weights
        .iter()
        .map(|&w| {
            let scaled = u64::from(total) * u64::from(w);
            (scaled / sum, scaled % sum)
        })
        .collect();
    let mut counts: Vec<u32> = quotas.iter().map(|&(whole, _)| whole as u32).collect();
    let given: u32 = counts.iter().sum();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    // Stable sort: equal remainders keep declaration order.
    by_remainder.sort_by(|&a, &b| quotas[b].1.cmp(&quotas[a].1));
    for &class in by_remainder.iter().take((total - given) as usize) {
        counts[class] += 1;
    }
    counts
}

/// An start order in which every prefix is as close to the final mix as possible:
/// each next user goes to the class furthest behind its share.
fn interleave(counts: &[u32]) -> Vec<usize> {
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let mut started = vec![0u64; counts.len()];
    let mut order = Vec::with_capacity(total as usize);
    for k in 1..=total {
        // Deficit of class i after k users: counts[i]*k/total - started[i], compared
        // exactly by multiplying through by `total`.
        let class = (0..counts.len())
            .filter(|&i| started[i] < u64::from(counts[i]))
            .max_by(|&a, &b| {
                let deficit =
                    |i: usize| (u64::from(counts[i]) * k) as i128 - (started[i] * total) as i128;
                deficit(a).cmp(&deficit(b)).then(b.cmp(&a))
            })
            .unwrap_or(0);
        started[class] += 1;
        order.push(class);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn seed_mix_is_exact() {
        assert_eq!(apportion(10, &[70, 20, 10]), vec![7, 2, 1]);
        assert_eq!(apportion(100, &[70, 20, 10]), vec![70, 20, 10]);
        assert_eq!(apportion(200, &[70, 20, 10]), vec![140, 40, 20]);
        assert_eq!(apportion(50, &[70, 20, 10]), vec![35, 10, 5]);
    }

    #[test]
    fn uneven_splits_follow_largest_remainder() {
        assert_eq!(apportion(3, &[70, 20, 10]), vec![2, 1, 0]);
        assert_eq!(apportion(1, &[1, 1]), vec![1, 0]);
        assert_eq!(apportion(5, &[1, 1, 1]), vec![2, 2, 1]);
    }

    #[test]
    fn ramp_keeps_the_mix_at_every_prefix() {
        let mix = UserMix::new(100, &[70, 20, 10]);
        assert_eq!(mix.counts_at(10), vec![7, 2, 1]);
        assert_eq!(mix.counts_at(50), vec![35, 10, 5]);
        assert_eq!(mix.counts_at(100), vec![70, 20, 10]);
    }

    #[test]
    fn picks_follow_weights() {
        let table = WeightTable::new(vec![5, 3, 2, 1]).unwrap();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut counts = [0u32; 4];
        for _ in 0..110_000 {
            counts[table.pick(&mut rng)] += 1;
        }
        for (count, expected) in counts.iter().zip([50_000.0, 30_000.0, 20_000.0, 10_000.0]) {
            assert!(
                (f64::from(*count) - expected).abs() / expected < 0.03,
                "{counts:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn apportion_sums_to_total_and_stays_within_one_of_quota(
            total in 0u32..5000,
            weights in proptest::collection::vec(1u32..1000, 1..8),
        ) {
            let counts = apportion(total, &weights);
            prop_assert_eq!(counts.iter().sum::<u32>(), total);
            let sum: f64 = weights.iter().map(|&w| f64::from(w)).sum();
            for (count, weight) in counts.iter().zip(&weights) {
                let quota = f64::from(total) * f64::from(*weight) / sum;
                prop_assert!((f64::from(*count) - quota).abs() < 1.0);
            }
        }

        #[test]
        fn every_prefix_is_within_one_user_of_its_share(
            total in 1u32..400,
            weights in proptest::collection::vec(1u32..100, 1..5),
        ) {
            let mix = UserMix::new(total, &weights);
            prop_assert_eq!(mix.counts_at(total as usize), mix.per_class.clone());
            for k in 1..=total as usize {
                let counts = mix.counts_at(k);
                for (i, &count) in counts.iter().enumerate() {
                    let share = f64::from(mix.per_class[i]) * k as f64 / f64::from(total);
                    prop_assert!((f64::from(count) - share).abs() <= 1.0, "k={} class={} {:?}", k, i, counts);
                }
            }
        }
    }
}
