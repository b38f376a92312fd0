//! Early warnings and the weekly digest, on both stores. Answers go through the
//! real routing (so the day-by-day counters are the ones production writes); the
//! warnings are read from the store, claimed once, and published through the real
//! channel: the outbox on the embedded store, SNS on moto.

#![allow(clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};
use kundpuls::app::Services;
use kundpuls::domain::backlog::AlertState;
use kundpuls::domain::ids::{ClientId, TeamId};
use kundpuls::domain::stats::Dimension;
use kundpuls::domain::survey::{Answer, SurveyKind};
use kundpuls::domain::warnings::WarningReason;
use kundpuls_tests::answers::always;
use kundpuls_tests::faults::Lead;
use kundpuls_tests::{Harness, app, generated, moto};
use std::collections::BTreeSet;

/// Monday 7 December 2026, mid-morning.
fn now() -> Timestamp {
    "2026-12-07T10:00:00Z".parse().unwrap()
}

/// A team of its own per test: notices on moto's shared topic are told apart by it.
fn fresh_team() -> TeamId {
    TeamId::parse(&format!(
        "t-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
    .unwrap()
}

fn window(team: &TeamId, handler: &str, counts: &[(u8, usize)], end_days_ago: i64) -> Vec<Answer> {
    generated::csat_window(team, handler, counts, end_days_ago, now())
}

/// The generated month: `h-fall` goes from 4.4 to 3.6 with n = 40 in each window;
/// `h-few` has 12 answers of 3 (below target, too few to say); `h-rise` goes from
/// 4.5 to 5.0, which keeps the team and the client above target and steady.
fn generated_month(team: &TeamId) -> Vec<Answer> {
    let mut all = Vec::new();
    all.extend(window(team, "h-fall", &[(4, 24), (5, 16)], 30));
    all.extend(window(team, "h-fall", &[(3, 16), (4, 24)], 0));
    all.extend(window(team, "h-few", &[(3, 12)], 30));
    all.extend(window(team, "h-few", &[(3, 12)], 0));
    all.extend(window(team, "h-rise", &[(4, 40), (5, 40)], 30));
    all.extend(window(team, "h-rise", &[(5, 80)], 0));
    all
}

async fn route_all(services: &Services, answers: &[Answer]) {
    for a in answers {
        services.route_answer(a).await.unwrap();
    }
}

fn touched(team: &TeamId) -> BTreeSet<(SurveyKind, TeamId)> {
    BTreeSet::from([(SurveyKind::Csat, team.clone())])
}

/// The generated month raises one warning (the handler who fell), once however
/// often the figures are read; the handler with 12 answers raises none.
async fn one_handler_falling_warns_once(services: &Services, team: &TeamId) -> String {
    route_all(services, &generated_month(team)).await;

    let first = services
        .early_warnings(&touched(team), now())
        .await
        .unwrap();
    assert_eq!((first.teams, first.raised, first.published), (1, 1, 1));
    for _ in 0..2 {
        let again = services
            .early_warnings(&touched(team), now())
            .await
            .unwrap();
        assert_eq!(again.raised, 0, "one warning per scope and month");
    }
    let later = now() + SignedDuration::from_hours(30);
    let daily = services.daily_warnings(later).await.unwrap();
    assert!(daily.as_ref().is_some_and(|d| d.raised == 0), "{daily:?}");
    assert_eq!(
        services.daily_warnings(later).await.unwrap(),
        None,
        "once a day"
    );

    let warnings = services.recent_warnings(team, now()).await.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(
        (w.dimension, w.value.as_str()),
        (Dimension::Handler, "h-fall")
    );
    assert_eq!((w.n, w.previous_n), (40, 40));
    assert!((w.figure - 3.6).abs() < 1e-9, "{}", w.figure);
    assert!((w.previous.unwrap() - 4.4).abs() < 1e-9);
    assert_eq!(w.target, 4.0);
    assert_eq!(
        w.reasons,
        vec![WarningReason::BelowTarget, WarningReason::Dropped]
    );
    let record = services.backlog.get_notice(&w.id()).await.unwrap().unwrap();
    assert_eq!(record.delivery.state, AlertState::Published);
    w.id()
}

#[tokio::test]
async fn embedded_a_handler_falling_from_4_4_to_3_6_warns_once_in_the_outbox() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    let team = fresh_team();
    one_handler_falling_warns_once(&services, &team).await;
    let lines: Vec<_> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "warning")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].to, format!("lead:{team}"));
    assert_eq!(
        lines[0].subject.as_deref(),
        Some("Early warning: handler h-fall, CSAT 3.6 over 30 days (target 4.0)")
    );
    assert!(
        lines[0]
            .text
            .contains("The 30 days before: CSAT 4.4 (n = 40)")
    );
}

#[tokio::test]
async fn dynamodb_a_handler_falling_from_4_4_to_3_6_warns_once_on_the_sns_topic() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    let team = fresh_team();
    let id = one_handler_falling_warns_once(&services, &team).await;
    let published: Vec<_> = moto::topic_notifications(app::ALERT_TOPIC)
        .into_iter()
        .filter(|n| n[3]["notice_id"]["Value"] == id.as_str())
        .collect();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0][3]["kind"]["Value"], "warning");
    assert_eq!(published[0][3]["team"]["Value"], team.as_str());
}

/// One handler alone in a team falling from 4.4 to 3.6: the handler, the team and
/// the client (the same answers) each warn.
fn lone_fall(team: &TeamId) -> Vec<Answer> {
    let mut all = window(team, "h-solo", &[(4, 24), (5, 16)], 30);
    all.extend(window(team, "h-solo", &[(3, 16), (4, 24)], 0));
    all
}

/// Warnings whose publish did not go out are tried again by the timer and
/// delivered once each; one whose outcome is unknown is never repeated.
async fn failed_warnings_are_retried_once(mut services: Services) {
    let lead = Lead::answering(&["not_sent", "not_sent", "not_sent"]);
    services.alerts = Some(lead.clone());
    let team = fresh_team();
    route_all(&services, &lone_fall(&team)).await;
    let first = services
        .early_warnings(&touched(&team), now())
        .await
        .unwrap();
    assert_eq!((first.raised, first.published), (3, 0));
    assert!(lead.delivered().is_empty());

    let soon = now() + SignedDuration::from_secs(1);
    assert_eq!(
        services.retry_notices(soon).await.unwrap().retried,
        0,
        "not yet due"
    );
    let later = now() + SignedDuration::from_hours(2);
    let retried = services.retry_notices(later).await.unwrap();
    assert_eq!((retried.retried, retried.published), (3, 3));
    for _ in 0..2 {
        let again = services
            .retry_notices(later + SignedDuration::from_hours(2))
            .await
            .unwrap();
        assert_eq!(again.retried, 0);
    }
    let mut delivered = lead.delivered();
    delivered.sort();
    let month = "2026-12";
    assert_eq!(
        delivered,
        vec![
            format!("warning:csat:{team}:client:acme-energy:{month}"),
            format!("warning:csat:{team}:handler:h-solo:{month}"),
            format!("warning:csat:{team}:team:{team}:{month}"),
        ]
    );
}

/// A warning whose publish may have gone out is never sent again.
#[tokio::test]
async fn a_warning_whose_outcome_is_unknown_is_never_repeated() {
    let h = Harness::embedded().await;
    let (mut services, _) = app::local(&h, always());
    let lead = Lead::answering(&["unknown", "unknown", "unknown"]);
    services.alerts = Some(lead.clone());
    let team = fresh_team();
    route_all(&services, &lone_fall(&team)).await;
    let first = services
        .early_warnings(&touched(&team), now())
        .await
        .unwrap();
    assert_eq!((first.raised, first.published), (3, 0));
    let far = now() + SignedDuration::from_hours(48);
    assert_eq!(services.retry_notices(far).await.unwrap().retried, 0);
    assert!(lead.delivered().is_empty());
    for w in services.recent_warnings(&team, now()).await.unwrap() {
        let record = services.backlog.get_notice(&w.id()).await.unwrap().unwrap();
        assert_eq!(record.delivery.state, AlertState::Unknown);
    }
}

#[tokio::test]
async fn embedded_a_warning_that_did_not_go_out_is_retried_and_delivered_once() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    failed_warnings_are_retried_once(services).await;
}

#[tokio::test]
async fn dynamodb_a_warning_that_did_not_go_out_is_retried_and_delivered_once() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    failed_warnings_are_retried_once(services).await;
}

/// A client with its own CSAT target of 4.5 warns at 4.4, where the agency's 4.0
/// would not.
#[tokio::test]
async fn a_client_is_read_against_its_own_target() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    let team = fresh_team();
    let settings = serde_json::json!({"display_name": "Acme Energi", "csat_target": 4.5});
    services
        .update_client_settings(
            ClientId::parse("acme-energy").unwrap(),
            serde_json::from_value(settings).unwrap(),
            0,
            "admin-1",
            now(),
        )
        .await
        .unwrap();
    route_all(&services, &window(&team, "h-one", &[(4, 24), (5, 16)], 0)).await;
    services
        .early_warnings(&touched(&team), now())
        .await
        .unwrap();
    let warnings = services.recent_warnings(&team, now()).await.unwrap();
    let scopes: Vec<_> = warnings
        .iter()
        .map(|w| (w.dimension, w.value.as_str(), w.target))
        .collect();
    assert_eq!(scopes, vec![(Dimension::Client, "acme-energy", 4.5)]);
}

/// The weekly digest goes out once per team and week, through the outbox, with
/// the team's figures against target, the week's warnings and overdue items.
#[tokio::test]
async fn the_weekly_digest_goes_out_once_per_team_and_week() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    let team = fresh_team();
    route_all(&services, &generated_month(&team)).await;
    services
        .early_warnings(&touched(&team), now())
        .await
        .unwrap();

    let next_monday = now() + SignedDuration::from_hours(24 * 7);
    let sent = services.weekly_digests(next_monday).await.unwrap();
    assert_eq!(
        (sent.week.as_str(), sent.composed, sent.published),
        ("2026-W50", 1, 1)
    );
    let again = services
        .weekly_digests(next_monday + SignedDuration::from_hours(3))
        .await
        .unwrap();
    assert_eq!(again.composed, 0, "once per team and week");

    let digests: Vec<_> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "digest")
        .collect();
    assert_eq!(digests.len(), 1);
    let d = &digests[0];
    assert_eq!(d.to, format!("lead:{team}"));
    assert_eq!(
        d.subject.as_deref(),
        Some(format!("Kundpuls weekly digest: team {team}, 2026-W50").as_str())
    );
    for expected in [
        "2026-12-07 to 2026-12-13",
        "target CSAT 4.0",
        "NPS: no answers",
        "Early warnings: handler h-fall: CSAT 3.6 (below target and fell by more than the margin of error)",
        "Improvements moved: none.",
    ] {
        assert!(d.text.contains(expected), "{expected:?} in\n{}", d.text);
    }
}

/// Settled notices leave with the retention period (the embedded sweep; TTL on
/// DynamoDB); one still waiting for a retry stays until it settles.
#[tokio::test]
async fn settled_notices_leave_with_the_retention_sweep() {
    let h = Harness::embedded().await;
    let kundpuls_tests::Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let (mut services, _) = app::local(&h, always());
    let team = fresh_team();
    route_all(&services, &generated_month(&team)).await;
    services
        .early_warnings(&touched(&team), now())
        .await
        .unwrap();
    let waiting = fresh_team();
    services.alerts = Some(Lead::answering(&["not_sent"; 3]));
    route_all(&services, &lone_fall(&waiting)).await;
    services
        .early_warnings(&touched(&waiting), now())
        .await
        .unwrap();

    let before_cutoff = store.sweep_retention(now()).await.unwrap();
    assert_eq!(before_cutoff.notices, 0);
    let later = store
        .sweep_retention(now() + SignedDuration::from_hours(24))
        .await
        .unwrap();
    assert_eq!(
        later.notices, 1,
        "the published warning; three wait for a retry"
    );
    assert!(
        services
            .recent_warnings(&team, now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        services
            .recent_warnings(&waiting, now())
            .await
            .unwrap()
            .len(),
        3
    );
}

/// Eight checks racing over the same figures (a stream batch delivered again, the
/// day's check, another instance) raise and publish each warning once.
async fn racing_checks_publish_each_warning_once(mut services: Services) {
    let lead = Lead::answering(&[]);
    services.alerts = Some(lead.clone());
    let team = fresh_team();
    route_all(&services, &lone_fall(&team)).await;
    let services = std::sync::Arc::new(services);
    let checks: Vec<_> = (0..8)
        .map(|_| {
            let (services, touched) = (services.clone(), touched(&team));
            tokio::spawn(async move { services.early_warnings(&touched, now()).await })
        })
        .collect();
    let mut raised = 0;
    for check in checks {
        raised += check.await.unwrap().unwrap().raised;
    }
    assert_eq!(raised, 3, "handler, team and client, each raised once");
    let mut delivered = lead.delivered();
    delivered.sort();
    delivered.dedup();
    assert_eq!(lead.delivered().len(), 3, "{:?}", lead.delivered());
    assert_eq!(delivered.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_racing_checks_publish_each_warning_once() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    racing_checks_publish_each_warning_once(services).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_racing_checks_publish_each_warning_once() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    racing_checks_publish_each_warning_once(services).await;
}
