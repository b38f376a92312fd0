//! The respondent's pages over HTTP: what a person sees, and what gets stored.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::{SignedDuration, Timestamp};
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows};
use kundpuls::domain::sending::SurveyChange;
use kundpuls::domain::survey::{Survey, SurveyState, SuspectReason};
use kundpuls::domain::token::SurveyToken;
use kundpuls::ports::CreateOutcome;
use kundpuls::web::auth::LocalKey;
use kundpuls::web::stamp::StampKey;
use kundpuls::web::survey::CSS_PATH;
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::events::{event, recent_json};
use kundpuls_tests::fixtures::now as fixtures_now;
use kundpuls_tests::{Backend, Harness, app};
use tower::ServiceExt;

const STAMP_SECRET: &[u8] = b"stamp-secret-for-tests-0123456789";

struct Site {
    router: axum::Router,
    h: Harness,
    stamp: StampKey,
}

fn always() -> SurveyPolicy {
    SurveyPolicy {
        send_windows: WeekWindows::always(),
        ..SurveyPolicy::default()
    }
}

async fn site(h: Harness) -> Site {
    let (services, outbox) = match &h.backend {
        Backend::Embedded { .. } => {
            let (s, o) = app::local(&h, always());
            (s, Some(o))
        }
        Backend::Dynamo { .. } => {
            let from = format!(
                "survey-{}@nordkredit.example",
                uuid::Uuid::new_v4().simple()
            );
            (app::aws(&h, always(), &from).await, None)
        }
    };
    let key_dir = tempfile::tempdir().unwrap();
    let router = local_router(AppState {
        services,
        auth: Authenticator::Local(LocalKey::load_or_create(key_dir.path()).unwrap()),
        stamp: StampKey::new(STAMP_SECRET),
        outbox,
        sign_in: None,
        demo: false,
    });
    Site {
        router,
        h,
        stamp: StampKey::new(STAMP_SECRET),
    }
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Site {
    async fn send(&self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(
            Request::get(path)
                .header("host", "survey.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, form: &str) -> Page {
        self.send(
            Request::post(path)
                .header("host", "survey.test")
                .header("origin", "http://survey.test")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form.to_string()))
                .unwrap(),
        )
        .await
    }

    /// A sent CSAT survey after a call, in `lang`, and its token.
    async fn survey(&self, lang: &str) -> (Survey, SurveyToken) {
        let services = match &self.h.backend {
            Backend::Embedded { .. } => app::local(&self.h, always()).0,
            Backend::Dynamo { .. } => {
                let from = format!(
                    "survey-{}@nordkredit.example",
                    uuid::Uuid::new_v4().simple()
                );
                app::aws(&self.h, always(), &from).await
            }
        };
        let phone = format!("+4672{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
        let mut v = recent_json(
            &format!("evt-{}", uuid::Uuid::new_v4().simple()),
            "call_completed",
            &phone,
        );
        v["debtor"]["language"] = lang.into();
        let StepOutcome::Sent { survey_id } = services
            .handle_case_step(&event(&v), Timestamp::now())
            .await
            .unwrap()
        else {
            panic!("sent")
        };
        // The link token was drawn inside the use case; add one we know.
        let token = SurveyToken::generate();
        let survey = self.h.store.get(&survey_id).await.unwrap().unwrap();
        self.h
            .store
            .add_token(&survey, &token.hash())
            .await
            .unwrap();
        (survey, token)
    }

    /// A stamp as if the page had been rendered `ago` earlier.
    fn stamp(&self, survey: &Survey, ago: SignedDuration) -> String {
        self.stamp
            .issue(&survey.id, Timestamp::now() - ago, false, false)
    }
}

fn human_form(site: &Site, survey: &Survey, extra: &str) -> String {
    format!(
        "stamp={}&{extra}",
        site.stamp(survey, SignedDuration::from_secs(20))
    )
}

#[tokio::test]
async fn the_page_speaks_the_respondents_language_is_small_and_locked_down() {
    let site = site(Harness::embedded().await).await;
    let css = site.get(CSS_PATH).await;
    for (lang, question) in [
        ("sv", "Hur nöjd är du"),
        ("pl", "Jak bardzo jesteś zadowolony"),
        ("en", "How satisfied are you"),
    ] {
        let (_, token) = site.survey(lang).await;
        let page = site.get(&format!("/s/{}?score=4", token.expose())).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(&format!("lang=\"{lang}\"")) && page.body.contains(question),
            "{lang}"
        );
        assert!(
            page.body.contains(r#"value="4" id="s4" checked"#),
            "score preselected"
        );
        assert!(
            page.body.contains("name=\"fcr\""),
            "after a call, first-contact resolution is asked"
        );
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
        assert_eq!(page.headers["referrer-policy"], "no-referrer");
        assert_eq!(page.headers["cache-control"], "no-store");
        assert!(
            !page.body.contains("<script") && !page.body.contains("style=\""),
            "no script, no inline style"
        );
        let total = page.body.len() + css.body.len();
        println!(
            "{lang}: page {} bytes + stylesheet {} bytes = {total} bytes",
            page.body.len(),
            css.body.len()
        );
        assert!(total <= 16 * 1024, "{lang}: {total} bytes");
    }
}

#[tokio::test]
async fn get_never_writes_and_post_records_once() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("sv").await;
    let path = format!("/s/{}", token.expose());
    for _ in 0..5 {
        site.get(&format!("{path}?score=1")).await;
    }
    assert!(
        site.h.store.answer(&survey.id).await.unwrap().is_none(),
        "GET stored nothing"
    );
    let page = site
        .post(
            &path,
            &human_form(
                &site,
                &survey,
                "score=2&fcr=no&comment=L%C3%A5ng+v%C3%A4ntan",
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Tack!"), "{}", page.body);
    let again = site
        .post(&path, &human_form(&site, &survey, "score=5"))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("Redan besvarad"));
    let answer = site.h.store.answer(&survey.id).await.unwrap().unwrap();
    assert_eq!(answer.score.value(), 2);
    assert_eq!(answer.comment.as_deref(), Some("Lång väntan"));
    assert_eq!(answer.resolved_first_contact, Some(false));
    assert!(answer.suspect.is_empty());
    // Opening the link again says it is answered.
    assert!(site.get(&path).await.body.contains("Redan besvarad"));
}

async fn concurrent_submits_record_one_answer(site: Site) {
    let (survey, token) = site.survey("en").await;
    let path = format!("/s/{}", token.expose());
    let site = std::sync::Arc::new(site);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let site = site.clone();
            let path = path.clone();
            let form = human_form(&site, &survey, &format!("score={}", 1 + i % 5));
            tokio::spawn(async move { site.post(&path, &form).await })
        })
        .collect();
    let mut thanks = 0;
    let mut already = 0;
    for t in tasks {
        let page = t.await.unwrap();
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains("Thank you!") {
            thanks += 1;
        } else if page.body.contains("Already answered") {
            already += 1;
        }
    }
    assert_eq!((thanks, already), (1, 39));
    assert_eq!(
        site.h.store.get(&survey.id).await.unwrap().unwrap().state,
        SurveyState::Answered
    );
}

#[tokio::test]
async fn forty_concurrent_submits_record_one_answer_on_the_embedded_store() {
    concurrent_submits_record_one_answer(site(Harness::embedded().await).await).await;
}

#[tokio::test]
async fn forty_concurrent_submits_record_one_answer_on_dynamodb() {
    concurrent_submits_record_one_answer(site(Harness::dynamodb().await).await).await;
}

#[tokio::test]
async fn unknown_malformed_and_expired_links_get_a_friendly_page() {
    let site = site(Harness::embedded().await).await;
    let unknown = site
        .get(&format!("/s/{}", SurveyToken::generate().expose()))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("We cannot find this survey"));
    let malformed = site
        .send(
            Request::get("/s/abc'%3Cscript%3E")
                .header("accept-language", "pl-PL,pl;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    assert!(
        malformed.body.contains("Nie możemy znaleźć ankiety")
            && !malformed.body.contains("<script")
    );
    // Expired: a survey sent on 2026-11-22 with a seven-day link, expired by the
    // schedule once its lifetime was over.
    let (mut new, token) = kundpuls_tests::fixtures::csat_survey("evt-expired", 77);
    new.subject.language = kundpuls::domain::locale::Language::Da;
    let CreateOutcome::Created(survey) = site.h.store.create(new, None).await.unwrap() else {
        panic!("created")
    };
    kundpuls_tests::fixtures::mark_sent(site.h.store.as_ref(), &survey.id, fixtures_now()).await;
    assert!(survey.is_expired_at(Timestamp::now()));
    site.h
        .store
        .apply(
            &survey.id,
            SurveyChange::Expire {
                now: survey.expires_at,
            },
        )
        .await
        .unwrap();
    let page = site.get(&format!("/s/{}", token.expose())).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("Undersøgelsen er lukket"));
    let post = site
        .post(
            &format!("/s/{}", token.expose()),
            &human_form(&site, &survey, "score=3"),
        )
        .await;
    assert_eq!(post.status, StatusCode::GONE);
}

#[tokio::test]
async fn machines_are_recorded_but_flagged() {
    let site = site(Harness::embedded().await).await;
    let cases = [
        (
            "too fast",
            SignedDuration::from_millis(300),
            false,
            "",
            vec![SuspectReason::TooFast],
        ),
        (
            "honeypot link",
            SignedDuration::from_secs(20),
            true,
            "",
            vec![SuspectReason::Honeypot],
        ),
        (
            "hidden field filled",
            SignedDuration::from_secs(20),
            false,
            "&website=http%3A%2F%2Fspam",
            vec![SuspectReason::Honeypot],
        ),
    ];
    for (what, ago, via_honeypot, extra, expected) in cases {
        let (survey, token) = site.survey("en").await;
        let stamp = site
            .stamp
            .issue(&survey.id, Timestamp::now() - ago, via_honeypot, false);
        site.post(
            &format!("/s/{}", token.expose()),
            &format!("stamp={stamp}&score=5{extra}"),
        )
        .await;
        let answer = site.h.store.answer(&survey.id).await.unwrap().unwrap();
        assert_eq!(answer.suspect, expected, "{what}");
    }
    // No stamp at all.
    let (survey, token) = site.survey("en").await;
    site.post(&format!("/s/{}", token.expose()), "score=5")
        .await;
    assert_eq!(
        site.h
            .store
            .answer(&survey.id)
            .await
            .unwrap()
            .unwrap()
            .suspect,
        vec![SuspectReason::BadRenderStamp]
    );
    // The honeypot link renders a stamp that marks the submit.
    let (survey, token) = site.survey("en").await;
    let page = site
        .get(&format!("/s/{}?via=preview", token.expose()))
        .await;
    let stamp = page
        .body
        .split("name=\"stamp\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        site.stamp
            .check(
                &survey.id,
                Some(stamp),
                Timestamp::now() + SignedDuration::from_secs(10)
            )
            .contains(&SuspectReason::Honeypot)
    );
}

/// A person who chose the score in the email and sends at once is a person: the
/// page opened with `?score=` is stamped as preselected, and a submit 0.4 s later
/// is recorded without suspicion, so its comment reaches the backlog.
#[tokio::test]
async fn a_score_chosen_in_the_email_and_sent_at_once_is_not_suspect() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("sv").await;
    let page = site.get(&format!("/s/{}?score=1", token.expose())).await;
    let stamp = page
        .body
        .split("name=\"stamp\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // Sent 0.4 s after the page was rendered.
    assert!(
        site.stamp
            .check(
                &survey.id,
                Some(&stamp),
                Timestamp::now() + SignedDuration::from_millis(400)
            )
            .is_empty()
    );
    site.post(
        &format!("/s/{}", token.expose()),
        &format!("stamp={stamp}&score=1&comment=Ingen+lyssnade"),
    )
    .await;
    let answer = site.h.store.answer(&survey.id).await.unwrap().unwrap();
    assert!(answer.suspect.is_empty(), "{:?}", answer.suspect);
    assert!(answer.needs_follow_up());
    // The same speed on a page without a chosen score is still too fast.
    let (survey, token) = site.survey("sv").await;
    let plain = site.get(&format!("/s/{}", token.expose())).await;
    let stamp = plain
        .body
        .split("name=\"stamp\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        site.stamp.check(
            &survey.id,
            Some(&stamp),
            Timestamp::now() + SignedDuration::from_millis(400)
        ),
        vec![SuspectReason::TooFast]
    );
}

#[tokio::test]
async fn bad_input_is_shown_again_with_the_reason_and_nothing_is_stored() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("fi").await;
    let path = format!("/s/{}", token.expose());
    let no_score = site
        .post(&path, &human_form(&site, &survey, "comment=hei"))
        .await;
    assert_eq!(no_score.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_score.body.contains("Valitse arvio.") && no_score.body.contains(">hei</textarea>"));
    let out_of_range = site
        .post(&path, &human_form(&site, &survey, "score=9"))
        .await;
    assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = "ä".repeat(1001);
    let too_long = site
        .post(
            &path,
            &human_form(&site, &survey, &format!("score=3&comment={long}")),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(site.h.store.answer(&survey.id).await.unwrap().is_none());
    // 1000 characters (2000 bytes) are fine: the limit counts characters.
    let ok = site
        .post(
            &path,
            &human_form(
                &site,
                &survey,
                &format!("score=3&comment={}", "ä".repeat(1000)),
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn opt_out_takes_one_step_and_can_be_undone() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("nb").await;
    let path = format!("/s/{}/opt-out", token.expose());
    let confirm = site.get(&path).await;
    assert!(confirm.body.contains("Ingen flere undersøkelser?"));
    assert!(
        site.h
            .store
            .opted_out_at(&survey.contact_key)
            .await
            .unwrap()
            .is_none(),
        "GET changes nothing"
    );
    // The mail client's one-click unsubscribe (RFC 8058) is a POST like this.
    let done = site.post(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Du får ingen flere undersøkelser"));
    assert!(
        site.h
            .store
            .opted_out_at(&survey.contact_key)
            .await
            .unwrap()
            .is_some()
    );
    let undone = site.post(&path, "undo=1").await;
    assert!(undone.body.contains("Endret"));
    assert!(
        site.h
            .store
            .opted_out_at(&survey.contact_key)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("en").await;
    let page = site
        .send(
            Request::post(format!("/s/{}", token.expose()))
                .header("host", "survey.test")
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(human_form(&site, &survey, "score=1")))
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(site.h.store.answer(&survey.id).await.unwrap().is_none());
}

#[tokio::test]
async fn framework_refusals_are_pages_in_the_respondents_language_with_the_house_rules() {
    let site = site(Harness::embedded().await).await;
    let (survey, token) = site.survey("sv").await;
    let path = format!("/s/{}", token.expose());
    let send = |body: String, content_type: &'static str| {
        Request::post(path.clone())
            .header("host", "survey.test")
            .header("origin", "http://survey.test")
            .header("accept-language", "sv-SE,sv;q=0.9")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let twice = format!("{}&score=2", human_form(&site, &survey, "score=1"));
    for (what, request) in [
        (
            "a field twice",
            send(twice, "application/x-www-form-urlencoded"),
        ),
        (
            "a body too large",
            send("x".repeat(64 * 1024), "application/x-www-form-urlencoded"),
        ),
        (
            "another content type",
            send("{}".into(), "application/json"),
        ),
    ] {
        let page = site.send(request).await;
        assert!(page.status.is_client_error(), "{what}: {}", page.status);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
        assert!(page.body.contains("lang=\"sv\""), "{what}: {}", page.body);
        assert!(page.body.contains("Försök igen"), "{what}: {}", page.body);
        for h in [
            "content-security-policy",
            "x-content-type-options",
            "cache-control",
        ] {
            assert!(page.headers.contains_key(h), "{what}: no {h}");
        }
    }
    assert!(site.h.store.answer(&survey.id).await.unwrap().is_none());
}

#[tokio::test]
async fn one_link_is_limited_to_sixty_requests_a_minute_locally() {
    let site = site(Harness::embedded().await).await;
    let (_, token) = site.survey("en").await;
    let path = format!("/s/{}", token.expose());
    for _ in 0..kundpuls::web::LOCAL_LINK_REQUESTS_PER_MINUTE {
        assert_eq!(site.get(&path).await.status, StatusCode::OK);
    }
    let over = site.get(&path).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(over.headers["retry-after"], "60");
    // A page, with the house rules, not the framework's text.
    assert!(
        over.body.contains("<html") && over.body.contains("try again"),
        "{}",
        over.body
    );
    assert!(over.headers.contains_key("content-security-policy"));
    // Spelling the token percent-encoded is the same link.
    let first = token.expose().chars().next().unwrap();
    let encoded = format!("/s/%{:02X}{}", first as u32, &token.expose()[1..]);
    assert_eq!(
        site.get(&encoded).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another link is not affected.
    let (_, other) = site.survey("en").await;
    assert_eq!(
        site.get(&format!("/s/{}", other.expose())).await.status,
        StatusCode::OK
    );
}

/// Every DynamoDB request of the survey pages (a page view, an answer, the opt-out
/// page, an opt-out and its undo) is one answer-survey's IAM statements allow.
#[tokio::test]
async fn the_survey_pages_are_allowed_every_request_they_make() {
    use kundpuls_tests::template::refused;
    let site = site(Harness::dynamodb().await).await;
    let (survey, token) = site.survey("sv").await;
    let Backend::Dynamo { requests, .. } = &site.h.backend else {
        unreachable!()
    };
    requests.clear();
    let path = format!("/s/{}", token.expose());
    assert_eq!(site.get(&path).await.status, StatusCode::OK);
    let answered = site
        .post(
            &path,
            &human_form(&site, &survey, "score=4&fcr=yes&comment=Bra"),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK);
    let opt_out = format!("{path}/opt-out");
    assert_eq!(site.get(&opt_out).await.status, StatusCode::OK);
    assert_eq!(
        site.post(&opt_out, "List-Unsubscribe=One-Click")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(site.post(&opt_out, "undo=1").await.status, StatusCode::OK);

    let used = requests.resources();
    for expected in ["GetItem", "TransactWriteItems", "UpdateItem"] {
        assert!(
            used.contains(&(expected.to_string(), "table".to_string())),
            "{expected} in {used:?}"
        );
    }
    let refused = refused("AnswerSurveyFunction", &used);
    assert!(
        refused.is_empty(),
        "answer-survey would be refused: {refused:?} of {used:?}"
    );
}
