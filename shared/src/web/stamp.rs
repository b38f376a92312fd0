//! The signed render stamp in every survey form: when the page was rendered,
//! whether it was reached through the email's hidden honeypot link, and whether its
//! score came chosen from the email. A submit with a
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

    fn sign(&self, survey: &SurveyId, rendered_ms: i64, flags: u8) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(format!("{survey}|{rendered_ms}|{flags}").as_bytes());
        crate::domain::contact::hex(&mac.finalize().into_bytes()[..16])
    }

    /// `<rendered ms>.<flags>.<signature>`; flags: 1 reached through the honeypot
    /// link, 2 the score was already chosen (the email's score links), when sending
    /// at once is what a person does and is not suspect for speed.
    pub fn issue(
        &self,
        survey: &SurveyId,
        now: Timestamp,
        honeypot: bool,
        preselected: bool,
    ) -> String {
        let ms = now.as_millisecond();
        let flags = u8::from(honeypot) | (u8::from(preselected) << 1);
        format!("{ms}.{flags}.{}", self.sign(survey, ms, flags))
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
            let flags: u8 = match parts.next()? {
                f @ ("0" | "1" | "2" | "3") => f.parse().ok()?,
                _ => return None,
            };
            let sig = parts.next()?;
            // Constant-time comparison through the MAC's own verification is not
            // available on hex; the signature is short and compared in full.
            let expected = self.sign(survey, ms, flags);
            (expected.len() == sig.len()
                && expected
                    .bytes()
                    .zip(sig.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0)
                .then_some((ms, flags))
        });
        let Some((ms, flags)) = parsed else {
            return vec![SuspectReason::BadRenderStamp];
        };
        let (honeypot, preselected) = (flags & 1 == 1, flags & 2 == 2);
        let mut reasons = Vec::new();
        if honeypot {
            reasons.push(SuspectReason::Honeypot);
        }
        if !preselected && now.as_millisecond() - ms < MIN_HUMAN_MILLIS {
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
        let stamp = key.issue(&id, t(1_000_000), false, false);
        assert!(key.check(&id, Some(&stamp), t(1_005_000)).is_empty());
    }

    #[test]
    fn a_score_chosen_in_the_email_may_be_sent_at_once() {
        let key = StampKey::new(b"0123456789abcdef0123456789abcdef");
        let id = SurveyId::for_idempotency_key("k");
        let chosen = key.issue(&id, t(1_000_000), false, true);
        assert!(key.check(&id, Some(&chosen), t(1_000_400)).is_empty());
        // The flag is signed: claiming it on a plain page's stamp breaks the stamp.
        let plain = key.issue(&id, t(1_000_000), false, false);
        let claimed = plain.replace(".0.", ".2.");
        assert_eq!(
            key.check(&id, Some(&claimed), t(1_000_400)),
            vec![SuspectReason::BadRenderStamp]
        );
        // The honeypot still counts on a preselected page.
        let both = key.issue(&id, t(1_000_000), true, true);
        assert_eq!(
            key.check(&id, Some(&both), t(1_000_400)),
            vec![SuspectReason::Honeypot]
        );
    }

    #[test]
    fn too_fast_honeypot_forged_and_missing_stamps_are_flagged() {
        let key = StampKey::new(b"0123456789abcdef0123456789abcdef");
        let id = SurveyId::for_idempotency_key("k");
        let fast = key.issue(&id, t(1_000_000), false, false);
        assert_eq!(
            key.check(&id, Some(&fast), t(1_000_500)),
            vec![SuspectReason::TooFast]
        );
        let hp = key.issue(&id, t(1_000_000), true, false);
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
