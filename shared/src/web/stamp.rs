//! The signed render stamp in every survey form: when the page was rendered, and
//! whether it was reached through the email's hidden honeypot link. A submit with a
//! missing or forged stamp, one faster than a person could read the page, or one
//! from a honeypot rendering is kept but flagged as suspect. GET never writes: the
//! honeypot visit is remembered only inside the stamp it renders.

use crate::domain::ids::SurveyId;
use crate::domain::survey::SuspectReason;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// Faster than this from render to submit is not a person.
pub const MIN_HUMAN_MILLIS: i64 = 2_000;

#[derive(Clone)]
pub struct StampKey(Vec<u8>);

impl std::fmt::Debug for StampKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StampKey(***)")
    }
}

impl StampKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    fn sign(&self, survey: &SurveyId, rendered_ms: i64, honeypot: bool) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(format!("{survey}|{rendered_ms}|{}", u8::from(honeypot)).as_bytes());
        crate::domain::contact::hex(&mac.finalize().into_bytes()[..16])
    }

    /// `<rendered ms>.<0|1>.<signature>`.
    pub fn issue(&self, survey: &SurveyId, now: Timestamp, honeypot: bool) -> String {
        let ms = now.as_millisecond();
        format!(
            "{ms}.{}.{}",
            u8::from(honeypot),
            self.sign(survey, ms, honeypot)
        )
    }

    /// What a submitted stamp says about the submitter.
    pub fn check(
        &self,
        survey: &SurveyId,
        stamp: Option<&str>,
        now: Timestamp,
    ) -> Vec<SuspectReason> {
        let parsed = stamp.and_then(|s| {
            let mut parts = s.splitn(3, '.');
            let ms: i64 = parts.next()?.parse().ok()?;
            let hp = match parts.next()? {
                "0" => false,
                "1" => true,
                _ => return None,
            };
            let sig = parts.next()?;
            // Constant-time comparison through the MAC's own verification is not
            // available on hex; the signature is short and compared in full.
            let expected = self.sign(survey, ms, hp);
            (expected.len() == sig.len()
                && expected
                    .bytes()
                    .zip(sig.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0)
                .then_some((ms, hp))
        });
        let Some((ms, honeypot)) = parsed else {
            return vec![SuspectReason::BadRenderStamp];
        };
        let mut reasons = Vec::new();
        if honeypot {
            reasons.push(SuspectReason::Honeypot);
        }
        if now.as_millisecond() - ms < MIN_HUMAN_MILLIS {
            reasons.push(SuspectReason::TooFast);
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).expect("valid")
    }

    #[test]
    fn a_person_who_reads_for_a_while_is_not_suspect() {
        let key = StampKey::new(b"0123456789abcdef0123456789abcdef");
        let id = SurveyId::for_idempotency_key("k");
        let stamp = key.issue(&id, t(1_000_000), false);
        assert!(key.check(&id, Some(&stamp), t(1_005_000)).is_empty());
    }

    #[test]
    fn too_fast_honeypot_forged_and_missing_stamps_are_flagged() {
        let key = StampKey::new(b"0123456789abcdef0123456789abcdef");
        let id = SurveyId::for_idempotency_key("k");
        let fast = key.issue(&id, t(1_000_000), false);
        assert_eq!(
            key.check(&id, Some(&fast), t(1_000_500)),
            vec![SuspectReason::TooFast]
        );
        let hp = key.issue(&id, t(1_000_000), true);
        assert_eq!(
            key.check(&id, Some(&hp), t(1_010_000)),
            vec![SuspectReason::Honeypot]
        );
        let forged = hp.replace(".1.", ".0.");
        assert_eq!(
            key.check(&id, Some(&forged), t(1_010_000)),
            vec![SuspectReason::BadRenderStamp]
        );
        let other = SurveyId::for_idempotency_key("other");
        assert_eq!(
            key.check(&other, Some(&fast), t(1_010_000)),
            vec![SuspectReason::BadRenderStamp]
        );
        assert_eq!(
            key.check(&id, None, t(1_010_000)),
            vec![SuspectReason::BadRenderStamp]
        );
    }
}
