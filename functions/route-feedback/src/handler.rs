//! The handler lives in the library (`kundpuls::events::answers`), so the
//! end-to-end suite can drive it too; these tests read real stream records.

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use kundpuls::events::answers::{Wake, handle};

    #[test]
    fn the_function_wakes_for_a_stream_batch_or_its_timer_and_nothing_else() {
        let timer = serde_json::json!({
            "version": "0", "id": "x", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": "2026-11-23T10:00:00Z", "region": "eu-north-1",
            "resources": [], "detail": {}
        });
        assert!(matches!(Wake::from_payload(timer), Ok(Wake::Timer)));
        assert!(matches!(
            Wake::from_payload(serde_json::json!({"Records": []})),
            Ok(Wake::Answers(_))
        ));
        for other in [
            serde_json::json!({"source": "someone", "detail-type": "Scheduled Event"}),
            serde_json::json!({"hello": "world"}),
        ] {
            assert!(Wake::from_payload(other).is_err());
        }
    }

    #[tokio::test]
    async fn the_timer_retries_alerts_and_applies_the_retention_ceiling() {
        let h = Harness::embedded().await;
        let (services, _) = app::local(&h, always());
        let done = kundpuls::events::answers::handle_wake(&services, Wake::Timer)
            .await
            .unwrap();
        assert_eq!(done["retention_ceiling"]["stripped"], 0, "{done}");
        assert!(done["alerts"].is_object(), "{done}");
    }

    use aws_lambda_events::event::dynamodb::Event;
    use kundpuls::domain::ids::FeedbackId;
    use kundpuls::domain::stats::CounterField;
    use kundpuls::domain::survey::SurveyKind;
    use kundpuls_tests::answers::{always, answer};
    use kundpuls_tests::{Backend, Harness, app, moto, stream};

    fn table(h: &Harness) -> String {
        let Backend::Dynamo { store, .. } = &h.backend else {
            panic!("a DynamoDB harness")
        };
        store.table().to_string()
    }

    /// Alerts on the moto topic about this item (by its `feedback_id` attribute).
    fn alerts_for(feedback: &FeedbackId) -> Vec<serde_json::Value> {
        moto::topic_notifications(app::ALERT_TOPIC)
            .into_iter()
            .filter(|n| n[3]["feedback_id"]["Value"] == feedback.as_str())
            .collect()
    }

    #[tokio::test]
    async fn real_stream_records_route_once_even_when_the_batch_comes_three_times() {
        // GIVEN three answers recorded on DynamoDB: a CSAT 1 with a comment, a CSAT 5
        // without one, and a CSAT 4 with a comment
        let h = Harness::dynamodb().await;
        let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
        let severe = answer(
            &h,
            &services,
            101,
            1,
            Some("Otrevlig och hotfull ton"),
            false,
        )
        .await;
        let happy = answer(&h, &services, 102, 5, None, false).await;
        let remark = answer(&h, &services, 103, 4, Some("Bra men lång kö"), false).await;
        // AND the table's stream as Lambda would deliver it
        let json = stream::lambda_event(&table(&h));
        let event: Event = serde_json::from_value(json.clone()).unwrap();
        let answer_records = event
            .records
            .iter()
            .filter(|r| {
                r.event_name == "INSERT"
                    && r.change
                        .keys
                        .get("sk")
                        .is_some_and(|sk| format!("{sk:?}").contains("ANSWER"))
            })
            .count();
        assert_eq!(
            answer_records, 3,
            "the stream holds the three answer inserts"
        );
        assert!(
            event.records.len() > 3,
            "and the other changes of the table"
        );

        // (moto's topic outlives tables: count only what this test adds)
        let alerts_before = alerts_for(&severe.feedback_id()).len();
        let remark_before = alerts_for(&remark.feedback_id()).len();

        // WHEN the function gets the same batch three times
        for _ in 0..3 {
            let event: Event = serde_json::from_value(json.clone()).unwrap();
            let response = handle(&services, event).await;
            assert!(response.batch_item_failures.is_empty());
        }

        // THEN every answer is counted once
        let total = kundpuls_tests::november(h.store.as_ref(), SurveyKind::Csat).await;
        assert_eq!(
            (
                total.get(&CounterField::Answered),
                total.get(&CounterField::Score(1)),
                total.get(&CounterField::Score(4)),
                total.get(&CounterField::Score(5))
            ),
            (3, 1, 1, 1)
        );
        // AND the two that need a human have exactly one item each, the happy one none
        for (a, expected) in [(&severe, true), (&happy, false), (&remark, true)] {
            let item = h.store.get_feedback(&a.feedback_id()).await.unwrap();
            assert_eq!(item.is_some(), expected);
            if let Some(item) = item {
                assert_eq!(item.version, 1, "never rewritten");
                assert_eq!(h.store.feedback_activity(&item.id).await.unwrap().len(), 1);
            }
        }
        // AND the lead got one alert, for the CSAT 1 only, with no personal data in it
        let alerts = alerts_for(&severe.feedback_id());
        assert_eq!(alerts.len() - alerts_before, 1);
        assert_eq!(alerts_for(&remark.feedback_id()).len(), remark_before);
        let alert = alerts.last().unwrap();
        assert_eq!(alert[3]["team"]["Value"], "energy");
        let alert = alert.to_string();
        assert!(!alert.contains("Otrevlig"), "no comment text in an alert");
        assert!(!alert.contains("+4674"), "no phone number in an alert");
    }

    #[tokio::test]
    async fn an_undecodable_answer_record_fails_alone_and_the_batch_resumes_there() {
        let h = Harness::dynamodb().await;
        let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
        answer(
            &h,
            &services,
            111,
            2,
            Some("Svårt att förstå brevet"),
            false,
        )
        .await;
        let mut json = stream::lambda_event(&table(&h));
        let records = json["Records"].as_array_mut().unwrap();
        let at = records
            .iter()
            .position(|r| r["dynamodb"]["Keys"]["sk"]["S"] == "ANSWER")
            .unwrap();
        records[at]["dynamodb"]["NewImage"]["score"] = serde_json::json!({"S": "not a score"});
        let sequence = records[at]["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_string();
        let event: Event = serde_json::from_value(json).unwrap();
        let response = handle(&services, event).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone().unwrap())
            .collect();
        assert_eq!(failed, vec![sequence]);
    }
}
