//! Reports against an independent computation: generated answers (and sends) are
//! counted through the real routing path's increments, then every figure of every row
//! is recomputed directly from the generated list. Runs on the embedded store and on
//! DynamoDB (moto), where the number of requests per report is also counted.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::app::reports::{GroupBy, Report, ReportQuery};
use kundpuls::domain::ids::TeamId;
use kundpuls::domain::reports::Month;
use kundpuls::domain::stats::{
    CounterField, Dimension, answer_effect_id, increments_for_answer, survey_increments,
};
use kundpuls::domain::survey::{Answer, SurveyKind};
use kundpuls_tests::answers::always;
use kundpuls_tests::generated::{self, Lcg};
use kundpuls_tests::{Backend, Harness, app};

async fn services(h: &Harness) -> Services {
    match &h.backend {
        Backend::Embedded { .. } => app::local(h, always()).0,
        Backend::Dynamo { .. } => app::aws(h, always(), "surveys@nordkredit.se").await,
    }
}

/// Counts `n` generated answers of `kind` over three months (Sep–Nov 2026), and a
/// "sent" for each plus one unanswered send in four.
async fn load(h: &Harness, kind: SurveyKind, n: u64) -> Vec<Answer> {
    let mut rng = Lcg::new(7);
    let first: Timestamp = "2026-09-02T08:00:00Z".parse().unwrap();
    let mut answers = Vec::new();
    for i in 0..n {
        let a = generated::answer(&mut rng, i, kind, first, 3);
        let sent_at = a.answered_at - jiff::SignedDuration::from_hours(2);
        h.store
            .apply_once(
                &format!("sent:{}", a.survey_id),
                &survey_increments(kind, &a.subject, a.channel, sent_at, &CounterField::Sent),
            )
            .await
            .unwrap();
        if i % 4 == 0 {
            h.store
                .apply_once(
                    &format!("sent-extra:{}", a.survey_id),
                    &survey_increments(kind, &a.subject, a.channel, sent_at, &CounterField::Sent),
                )
                .await
                .unwrap();
        }
        h.store
            .apply_once(&answer_effect_id(&a), &increments_for_answer(&a))
            .await
            .unwrap();
        answers.push(a);
    }
    answers
}

fn month(s: &str) -> Month {
    Month::parse(s).unwrap()
}

fn in_months(a: &Answer, from: &str, to: &str) -> bool {
    let m = Month::of(a.answered_at);
    m >= month(from) && m <= month(to)
}

/// The figures recomputed from the answers themselves.
struct Direct {
    n: u64,
    suspect: u64,
    sent: u64,
    mean: Option<f64>,
    top2: Option<f64>,
    nps: Option<f64>,
    margin: Option<f64>,
    fcr: Option<f64>,
}

fn direct(answers: &[&Answer]) -> Direct {
    let counted: Vec<&&Answer> = answers.iter().filter(|a| a.suspect.is_empty()).collect();
    let n = counted.len() as u64;
    let values: Vec<f64> = counted.iter().map(|a| f64::from(a.score.value())).collect();
    let nf = n as f64;
    let mean = (n > 0).then(|| values.iter().sum::<f64>() / nf);
    let top2 = (n > 0).then(|| values.iter().filter(|v| **v >= 4.0).count() as f64 / nf);
    // NPS as the mean of +100/0/−100 per respondent; margin from that variable's variance.
    let per: Vec<f64> = values
        .iter()
        .map(|v| {
            if *v >= 9.0 {
                100.0
            } else if *v <= 6.0 {
                -100.0
            } else {
                0.0
            }
        })
        .collect();
    let nps = (n > 0).then(|| per.iter().sum::<f64>() / nf);
    let margin = nps.map(|m| {
        let var = per.iter().map(|x| (x - m).powi(2)).sum::<f64>() / nf;
        1.96 * (var / nf).sqrt()
    });
    let fcr_answers: Vec<bool> = counted
        .iter()
        .filter_map(|a| a.resolved_first_contact)
        .collect();
    let fcr = (!fcr_answers.is_empty())
        .then(|| fcr_answers.iter().filter(|x| **x).count() as f64 / fcr_answers.len() as f64);
    let sent = answers.len() as u64;
    Direct {
        n,
        suspect: answers.len() as u64 - n,
        sent,
        mean,
        top2,
        nps,
        margin,
        fcr,
    }
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}"),
        (None, None) => {}
        other => panic!("{what}: {other:?}"),
    }
}

fn check_row(report: &Report, key: &str, answers: &[&Answer], kind: SurveyKind, extra_sent: u64) {
    let Some(row) = report.rows.iter().find(|r| r.key == key) else {
        // Nothing was sent or answered for this value: no row, and nothing expected.
        assert!(
            answers.is_empty(),
            "no row for {key} but {} answers",
            answers.len()
        );
        return;
    };
    let d = direct(answers);
    assert_eq!((row.n, row.suspect), (d.n, d.suspect), "{key}");
    assert_eq!(row.sent, d.sent + extra_sent, "{key} sent");
    let sent = d.sent + extra_sent;
    close(
        row.response_rate,
        (sent > 0).then(|| d.n as f64 / sent as f64),
        "response rate",
    );
    assert_eq!(row.low_sample, d.n < 30, "{key}");
    match kind {
        SurveyKind::Csat => {
            close(row.csat.map(|c| c.mean), d.mean, "CSAT mean");
            close(row.csat.map(|c| c.top2_share), d.top2, "top-2-box");
            close(row.fcr_rate, d.fcr, "first-contact resolution");
        }
        SurveyKind::Nps => {
            close(row.nps.map(|s| s.nps), d.nps, "NPS");
            close(row.nps.map(|s| s.margin), d.margin, "NPS margin");
        }
    }
}

async fn every_figure_matches_a_direct_computation(h: &Harness, kind: SurveyKind, n: u64) {
    let services = services(h).await;
    let answers = load(h, kind, n).await;
    let extra = |subset: &[&Answer]| -> u64 {
        // the generator sent one extra survey for every fourth answer
        subset
            .iter()
            .filter(|a| {
                let idx = answers
                    .iter()
                    .position(|b| b.survey_id == a.survey_id)
                    .unwrap();
                idx % 4 == 0
            })
            .count() as u64
    };
    // By client over Oct–Nov, agency-wide.
    let q = ReportQuery {
        kind,
        group_by: GroupBy::Dimension(Dimension::Client),
        from: month("2026-10"),
        to: month("2026-11"),
        team: None,
        filter: None,
    };
    let report = services.report(&q).await.unwrap();
    for client in generated::CLIENTS {
        let subset: Vec<&Answer> = answers
            .iter()
            .filter(|a| {
                a.subject.client_id.as_str() == client && in_months(a, "2026-10", "2026-11")
            })
            .collect();
        check_row(&report, client, &subset, kind, extra(&subset));
    }
    // The previous period (Aug–Sep) has September only: the trend is against it.
    let row = &report.rows[0];
    let sept: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.subject.client_id.as_str() == row.key && in_months(a, "2026-09", "2026-09"))
        .collect();
    let before = match kind {
        SurveyKind::Csat => direct(&sept).mean,
        SurveyKind::Nps => direct(&sept).nps,
    };
    close(row.previous, before, "previous period");
    close(
        row.trend,
        row.value().zip(before).map(|(a, b)| a - b),
        "trend",
    );
    // Rolling 12 months to November: every answer of that client.
    let all: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.subject.client_id.as_str() == row.key)
        .collect();
    assert_eq!(row.rolling_12_n, direct(&all).n);

    // By handler inside the energy team: only energy's answers count.
    let energy = TeamId::parse("energy").unwrap();
    let q = ReportQuery {
        kind,
        group_by: GroupBy::Dimension(Dimension::Handler),
        from: month("2026-09"),
        to: month("2026-11"),
        team: Some(energy.clone()),
        filter: None,
    };
    let report = services.report(&q).await.unwrap();
    for handler in generated::HANDLERS {
        let subset: Vec<&Answer> = answers
            .iter()
            .filter(|a| {
                a.subject.team == energy
                    && a.subject.handler_id.as_ref().unwrap().as_str() == handler
            })
            .collect();
        check_row(&report, handler, &subset, kind, extra(&subset));
    }
    let team_total: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.subject.team == energy)
        .collect();
    assert_eq!(report.total.n, direct(&team_total).n);

    // By month for one client: three rows, each month's own figures.
    let q = ReportQuery {
        kind,
        group_by: GroupBy::Month,
        from: month("2026-09"),
        to: month("2026-11"),
        team: None,
        filter: Some((Dimension::Client, "nordtel".into())),
    };
    let report = services.report(&q).await.unwrap();
    assert_eq!(
        report
            .rows
            .iter()
            .map(|r| r.key.as_str())
            .collect::<Vec<_>>(),
        ["2026-09", "2026-10", "2026-11"]
    );
    for m in ["2026-09", "2026-10", "2026-11"] {
        let subset: Vec<&Answer> = answers
            .iter()
            .filter(|a| a.subject.client_id.as_str() == "nordtel" && in_months(a, m, m))
            .collect();
        check_row(&report, m, &subset, kind, extra(&subset));
    }
}

#[tokio::test]
async fn embedded_csat_figures_match_a_direct_computation() {
    let h = Harness::embedded().await;
    every_figure_matches_a_direct_computation(&h, SurveyKind::Csat, 2_000).await;
}

#[tokio::test]
async fn embedded_nps_figures_match_a_direct_computation() {
    let h = Harness::embedded().await;
    every_figure_matches_a_direct_computation(&h, SurveyKind::Nps, 2_000).await;
}

#[tokio::test]
async fn dynamodb_csat_figures_match_and_a_report_costs_one_query_per_month_read() {
    let h = Harness::dynamodb().await;
    every_figure_matches_a_direct_computation(&h, SurveyKind::Csat, 16).await;
    let Backend::Dynamo { requests, .. } = &h.backend else {
        unreachable!()
    };
    let services = services(&h).await;
    requests.clear();
    let report = services
        .report(&ReportQuery {
            kind: SurveyKind::Csat,
            group_by: GroupBy::Dimension(Dimension::Client),
            from: month("2026-10"),
            to: month("2026-11"),
            team: None,
            filter: None,
        })
        .await
        .unwrap();
    // Oct–Nov, the previous Aug–Sep and the rolling Dec 2025–Nov 2026 are 12 distinct
    // months, each read once for the client group and once for the agency-wide total.
    assert_eq!(report.group_reads, 24);
    let counts = requests.by_operation();
    // And one listing of the clients' settings, for each client's own target.
    assert_eq!(
        counts.get("Query").copied().unwrap_or(0),
        24 + 1,
        "{counts:?}"
    );
    assert_eq!(counts.len(), 1, "queries only: {counts:?}");
    println!("DynamoDB requests for a by-client report over 2 months: {counts:?}");
}
