//! The handler lives in the library (`kundpuls::events::schedule`), so the
//! end-to-end suite can drive it too; these tests use the function's own fixture.

pub use kundpuls::events::schedule::handle;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;
    use jiff::Timestamp;
    use kundpuls::domain::policy::SurveyPolicy;
    use kundpuls_tests::events::{event, example_json};
    use kundpuls_tests::{Harness, app};

    const SCHEDULED: &str = include_str!("../fixtures/scheduled-event.json");

    #[tokio::test]
    async fn a_scheduled_event_sends_the_surveys_that_are_due() {
        // GIVEN a survey scheduled on Sunday for Monday morning
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        let sunday: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        services
            .handle_case_step(
                &event(&example_json("evt-sched", "call_completed", "+46701112233")),
                sunday,
            )
            .await
            .unwrap();
        assert!(outbox.read_all().unwrap().is_empty());
        // WHEN EventBridge's scheduled event arrives on Monday at 10:00 local
        let tick: EventBridgeEvent<serde_json::Value> = serde_json::from_str(SCHEDULED).unwrap();
        let report = handle(
            &services,
            tick,
            "2026-11-23T09:00:00Z".parse().unwrap(),
            kundpuls::app::schedule::TickBudget::contacts(100),
        )
        .await
        .unwrap();
        // THEN the SMS goes out
        assert_eq!(report.sent, 1);
        assert_eq!(outbox.read_all().unwrap().len(), 1);
    }
}
