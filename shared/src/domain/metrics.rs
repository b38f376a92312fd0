//! The methodology from DESIGN.md, encoded exactly. Inputs are exact counts
//! (histograms of scores); only the derived figures are floating point.

use serde::{Deserialize, Serialize};

/// Segments with fewer answers than this are marked as low-sample.
pub const LOW_SAMPLE_N: u64 = 30;

/// NPS answers by score: `counts[s]` is the number of answers with score `s`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsHistogram(pub [u64; 11]);

/// CSAT answers by score: `counts[s - 1]` is the number of answers with score `s`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatHistogram(pub [u64; 5]);

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NpsSummary {
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// −100…+100.
    pub nps: f64,
    /// Half-width of the 95 % confidence interval, in NPS points.
    pub margin: f64,
    pub low_sample: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CsatSummary {
    pub n: u64,
    /// Mean score on 1–5.
    pub mean: f64,
    /// Share of 4s and 5s among all answers, 0…1.
    pub top2_share: f64,
    pub low_sample: bool,
}

impl NpsHistogram {
    pub fn n(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `None` when there are no answers: an NPS of nothing is not zero.
    pub fn summary(&self) -> Option<NpsSummary> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let detractors: u64 = self.0[0..=6].iter().sum();
        let passives: u64 = self.0[7..=8].iter().sum();
        let promoters: u64 = self.0[9..=10].iter().sum();
        let nf = n as f64;
        let p = promoters as f64 / nf;
        let d = detractors as f64 / nf;
        let variance = (p + d - (p - d).powi(2)).max(0.0);
        Some(NpsSummary {
            n,
            promoters,
            passives,
            detractors,
            nps: 100.0 * (p - d),
            margin: 1.96 * 100.0 * (variance / nf).sqrt(),
            low_sample: n < LOW_SAMPLE_N,
        })
    }
}

impl CsatHistogram {
    pub fn n(&self) -> u64 {
        self.0.iter().sum()
    }

    pub fn summary(&self) -> Option<CsatSummary> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let total: u64 = self
            .0
            .iter()
            .zip(1u64..)
            .map(|(count, score)| count * score)
            .sum();
        let top2 = self.0[3] + self.0[4];
        Some(CsatSummary {
            n,
            mean: total as f64 / n as f64,
            top2_share: top2 as f64 / n as f64,
            low_sample: n < LOW_SAMPLE_N,
        })
    }
}

/// Answered ÷ sent; `None` when nothing was sent.
pub fn response_rate(answered: u64, sent: u64) -> Option<f64> {
    (sent > 0).then(|| answered as f64 / sent as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nps_of(scores: &[u8]) -> Option<NpsSummary> {
        let mut h = NpsHistogram::default();
        for &s in scores {
            h.0[usize::from(s)] += 1;
        }
        h.summary()
    }

    #[test]
    fn nps_of_nothing_is_none_not_zero() {
        assert!(NpsHistogram::default().summary().is_none());
        assert!(CsatHistogram::default().summary().is_none());
    }

    #[test]
    fn nps_worked_example() {
        // 5 promoters, 3 passives, 2 detractors of 10: NPS = 50 − 20 = 30.
        let s = nps_of(&[10, 9, 9, 10, 9, 8, 7, 7, 3, 0]).expect("answers");
        assert_eq!((s.promoters, s.passives, s.detractors), (5, 3, 2));
        assert!((s.nps - 30.0).abs() < 1e-9);
        // margin = 1.96·100·sqrt((0.5 + 0.2 − 0.09) / 10)
        let expected = 196.0 * ((0.5f64 + 0.2 - 0.09) / 10.0).sqrt();
        assert!((s.margin - expected).abs() < 1e-9);
        assert!(s.low_sample);
    }

    #[test]
    fn unanimous_answers_have_no_margin() {
        let s = nps_of(&[10; 40]).expect("answers");
        assert_eq!(s.nps, 100.0);
        assert_eq!(s.margin, 0.0);
        assert!(!s.low_sample);
    }

    #[test]
    fn csat_mean_and_top_two_box() {
        let s = CsatHistogram([1, 0, 1, 1, 2]).summary().expect("answers");
        assert!((s.mean - (1.0 + 3.0 + 4.0 + 10.0) / 5.0).abs() < 1e-9);
        assert!((s.top2_share - 0.6).abs() < 1e-9);
    }

    #[test]
    fn response_rate_needs_something_sent() {
        assert_eq!(response_rate(0, 0), None);
        assert_eq!(response_rate(1, 4), Some(0.25));
    }

    proptest! {
        #[test]
        fn nps_matches_a_direct_computation(scores in proptest::collection::vec(0u8..=10, 1..500)) {
            let s = nps_of(&scores).expect("non-empty");
            let n = scores.len() as f64;
            let promoters = scores.iter().filter(|&&x| x >= 9).count() as f64;
            let detractors = scores.iter().filter(|&&x| x <= 6).count() as f64;
            let direct = (promoters - detractors) / n * 100.0;
            prop_assert!((s.nps - direct).abs() < 1e-9);
            prop_assert!((-100.0..=100.0).contains(&s.nps));
            // The margin is the normal approximation of the trinomial variance.
            let mean = (promoters - detractors) / n;
            let var = scores.iter().map(|&x| {
                let v = if x >= 9 { 1.0 } else if x <= 6 { -1.0 } else { 0.0 };
                (v - mean) * (v - mean)
            }).sum::<f64>() / n;
            prop_assert!((s.margin - 196.0 * (var / n).sqrt()).abs() < 1e-6);
            prop_assert_eq!(s.promoters + s.passives + s.detractors, s.n);
            prop_assert_eq!(s.low_sample, scores.len() < 30);
        }

        #[test]
        fn csat_matches_a_direct_computation(scores in proptest::collection::vec(1u8..=5, 1..500)) {
            let mut h = CsatHistogram::default();
            for &s in &scores { h.0[usize::from(s - 1)] += 1; }
            let s = h.summary().expect("non-empty");
            let n = scores.len() as f64;
            let mean = scores.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
            let top2 = scores.iter().filter(|&&x| x >= 4).count() as f64 / n;
            prop_assert!((s.mean - mean).abs() < 1e-9);
            prop_assert!((s.top2_share - top2).abs() < 1e-9);
            prop_assert!((1.0..=5.0).contains(&s.mean));
        }
    }
}
