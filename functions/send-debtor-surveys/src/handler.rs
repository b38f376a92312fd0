//! The handler lives in the library (`kundpuls::events::case_steps`), so the
//! end-to-end suite can drive it too; these tests use the function's own fixtures.

pub use kundpuls::events::case_steps::handle;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_lambda_events::event::sqs::SqsEvent;
    use jiff::Timestamp;
    use kundpuls::domain::policy::SurveyPolicy;
    use kundpuls_tests::{Harness, app};

    const BATCH: &str = include_str!("../fixtures/sqs-batch.json");

    fn monday() -> Timestamp {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn one_poison_message_among_nine_good_ones_fails_alone() {
        // GIVEN a real SQS batch: nine valid case steps and one malformed one
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        let event: SqsEvent = serde_json::from_str(BATCH).unwrap();
        assert_eq!(event.records.len(), 10);
        // WHEN the function handles it
        let response = handle(&services, event, monday()).await;
        // THEN only the poison message is reported, and the nine got their SMS
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["msg-04"]);
        assert_eq!(outbox.read_all().unwrap().len(), 9);
    }

    #[tokio::test]
    async fn a_batch_delivered_twice_sends_nothing_twice() {
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        for _ in 0..2 {
            let event: SqsEvent = serde_json::from_str(BATCH).unwrap();
            handle(&services, event, monday()).await;
        }
        assert_eq!(outbox.read_all().unwrap().len(), 9);
    }
}
