//! The SAM template against the code: the table it declares is the one the code and
//! every test use (`schema::cloudformation_properties`), every function crate has a
//! function resource built from it and every function resource a crate, and the
//! event sources match what each handler expects.

#![allow(clippy::unwrap_used)]

use kundpuls::adapters::dynamo::schema;
use kundpuls_tests::template::{actions, functions, refused, statements, template};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_table_in_the_template_is_the_table_the_code_uses() {
    let t = template();
    let table = &t["Resources"]["Table"];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain", "answers outlive a stack");
    assert_eq!(table["Properties"], schema::cloudformation_properties());
}

#[test]
fn every_function_crate_has_a_resource_and_every_resource_a_crate() {
    let t = template();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    let built: BTreeSet<String> = functions(&t)
        .iter()
        .map(|(name, r)| {
            assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
            r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} names no binary"))
                .to_string()
        })
        .collect();
    assert_eq!(crates, built);
    assert_eq!(crates.len(), 7);
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], serde_json::json!(["arm64"]));
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
}

#[test]
fn event_sources_report_partial_batch_failures_and_fail_somewhere_visible() {
    let t = template();
    let r = &t["Resources"];
    let sqs = &r["SendDebtorSurveysFunction"]["Properties"]["Events"]["CaseSteps"];
    assert_eq!(sqs["Type"], "SQS");
    assert_eq!(
        sqs["Properties"]["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert!(
        r["CaseStepQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"].is_object(),
        "the case-step queue has a DLQ"
    );
    let stream = &r["RouteFeedbackFunction"]["Properties"]["Events"]["Answers"];
    assert_eq!(stream["Type"], "DynamoDB");
    let p = &stream["Properties"];
    assert_eq!(
        p["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert_eq!(p["BisectBatchOnFunctionError"], true);
    assert!(p["MaximumRetryAttempts"].as_u64().unwrap() <= 10);
    assert_eq!(p["DestinationConfig"]["OnFailure"]["Type"], "SQS");
    // The filter lets through exactly what the handler routes.
    let pattern: Value = serde_json::from_str(
        p["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["sk"]["S"],
        serde_json::json!([kundpuls::adapters::keys::ANSWER_SK])
    );
    assert_eq!(
        r["RunSurveyScheduleFunction"]["Properties"]["ReservedConcurrentExecutions"], 1,
        "one schedule tick at a time"
    );
}

#[test]
fn every_function_has_only_the_permissions_it_uses() {
    let t = template();
    for (name, f) in functions(&t) {
        assert!(
            f["Properties"]["Policies"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p.get("Statement").is_some()),
            "{name}: only explicit statements, no broad managed policies"
        );
        let statements = statements(f);
        for s in &statements {
            for a in actions(s) {
                assert!(
                    !a.ends_with('*')
                        && !["dynamodb:Scan", "dynamodb:BatchWriteItem"].contains(&a.as_str()),
                    "{name} allows {a}"
                );
                // Only the console deletes, for erasure requests by an admin.
                assert!(
                    a != "dynamodb:DeleteItem" || name == "ConsoleApiFunction",
                    "{name} allows {a}"
                );
            }
            if s["Effect"] == "Allow" && s["Resource"] == "*" {
                // Only SMS publishing (phone numbers have no ARN), with topics denied.
                assert_eq!(actions(s), vec!["sns:Publish"], "{name}");
                assert!(
                    statements
                        .iter()
                        .any(|d| d["Effect"] == "Deny" && actions(d) == vec!["sns:Publish"]),
                    "{name} may publish SMS but must not publish to topics"
                );
            }
        }
    }
    // Only route-feedback publishes to the alert topic, and it sends no SMS or email.
    let route = &t["Resources"]["RouteFeedbackFunction"];
    let publish: Vec<Value> = statements(route)
        .into_iter()
        .filter(|s| actions(s).contains(&"sns:Publish".to_string()))
        .collect();
    assert_eq!(publish.len(), 1);
    assert_eq!(
        publish[0]["Resource"],
        serde_json::json!({"!Ref": "AlertTopic"})
    );
    // The survey pages cannot send anything.
    let answer = statements(&t["Resources"]["AnswerSurveyFunction"]);
    assert!(answer.iter().all(|s| {
        actions(s)
            .iter()
            .all(|a| a.starts_with("dynamodb:") || a == "secretsmanager:GetSecretValue")
    }));
}

/// The contact-key secret is read from Secrets Manager at init: no function's
/// environment resolves it, and each may read that one secret only.
#[test]
fn the_contact_key_secret_stays_out_of_the_environment() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    assert!(
        !text.contains("resolve:secretsmanager"),
        "a secret resolved into the environment"
    );
    let t = template();
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["CONTACT_KEY_SECRET_ID"],
        serde_json::json!({"!Ref": "ContactKeySecretName"})
    );
    for (name, f) in functions(&t) {
        let reads: Vec<Value> = statements(f)
            .into_iter()
            .filter(|s| actions(s).iter().any(|a| a.starts_with("secretsmanager:")))
            .collect();
        assert_eq!(reads.len(), 1, "{name}");
        assert_eq!(
            actions(&reads[0]),
            vec!["secretsmanager:GetSecretValue"],
            "{name}"
        );
        let resource = reads[0]["Resource"]["!Sub"].as_str().unwrap_or_default();
        assert!(
            resource.ends_with(":secret:${ContactKeySecretName}-*"),
            "{name}: {resource}"
        );
    }
}

/// The case system signs in as a machine (client credentials, one scope per ingest
/// capability) and its token opens the ingest routes only; the scope names are the
/// ones the code checks.
#[test]
fn the_case_system_client_reaches_the_ingest_routes_only() {
    use kundpuls::web::auth::{SCOPE_CASE_STEPS, SCOPE_CONTACTS};
    let t = template();
    let r = &t["Resources"];
    let server = &r["ApiResourceServer"]["Properties"];
    let scopes: Vec<String> = server["Scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                server["Identifier"].as_str().unwrap(),
                s["ScopeName"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        scopes,
        vec![SCOPE_CASE_STEPS.to_string(), SCOPE_CONTACTS.to_string()]
    );
    let client = &r["CaseSystemClient"]["Properties"];
    assert_eq!(
        client["AllowedOAuthFlows"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(client["GenerateSecret"], true, "a confidential client");
    assert_eq!(client["AllowedOAuthScopes"], serde_json::json!(scopes));
    assert_eq!(r["UserPoolDomain"]["Type"], "AWS::Cognito::UserPoolDomain");
    // Two authorizers: people only (the default), people or the case system.
    let auth = &r["HttpApi"]["Properties"]["Auth"];
    assert_eq!(auth["DefaultAuthorizer"], "CognitoJwt");
    let audience = |name: &str| auth["Authorizers"][name]["JwtConfiguration"]["audience"].clone();
    assert_eq!(
        audience("CognitoJwt"),
        serde_json::json!([{"!Ref": "UserPoolClient"}])
    );
    assert_eq!(
        audience("PeopleOrCaseSystem"),
        serde_json::json!([{"!Ref": "UserPoolClient"}, {"!Ref": "CaseSystemClient"}])
    );
    // Every route that takes the machine authorizer is an ingest route.
    let mut machine_routes = Vec::new();
    for (name, f) in functions(&t) {
        for (_, event) in f["Properties"]["Events"].as_object().into_iter().flatten() {
            let p = &event["Properties"];
            if p["Auth"]["Authorizer"] == "PeopleOrCaseSystem" {
                machine_routes.push((
                    name.clone(),
                    p["Method"].as_str().unwrap().to_string(),
                    p["Path"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    machine_routes.sort();
    assert_eq!(
        machine_routes,
        vec![
            (
                "IngestApiFunction".to_string(),
                "DELETE".to_string(),
                "/api/v1/contacts/{client_id}/{contact_id}".to_string()
            ),
            (
                "IngestApiFunction".to_string(),
                "POST".to_string(),
                "/api/v1/case-steps".to_string()
            ),
            (
                "IngestApiFunction".to_string(),
                "POST".to_string(),
                "/api/v1/contacts".to_string()
            ),
        ]
    );
    // The queue takes the case system's role only when one is named.
    assert_eq!(r["CaseStepQueuePolicy"]["Condition"], "HasCaseSystemRole");
    assert!(t["Outputs"]["TokenUrl"].is_object() && t["Outputs"]["CaseSystemClientId"].is_object());
}

/// Team leads sign in through the managed login: the console's client does the
/// authorization-code flow (no secret: PKCE) back to the console's callback, the
/// console pages are public at the gateway and verified in the function, which is
/// told where the provider is.
#[test]
fn the_console_signs_leads_in_through_the_managed_login() {
    let t = template();
    let r = &t["Resources"];
    let client = &r["UserPoolClient"]["Properties"];
    assert_eq!(client["AllowedOAuthFlows"], serde_json::json!(["code"]));
    assert_eq!(client["GenerateSecret"], false);
    let under_the_public_address = |path: &str| {
        serde_json::json!([{"!If": [
            "HasDomain",
            {"!Sub": format!("https://${{DomainName}}{path}")},
            {"!Sub": format!("${{PublicBaseUrl}}{path}")}
        ]}])
    };
    assert_eq!(
        client["CallbackURLs"],
        under_the_public_address("/console/auth/callback")
    );
    assert_eq!(
        client["LogoutURLs"],
        under_the_public_address("/console/login")
    );
    let console = &r["ConsoleApiFunction"]["Properties"];
    let env = &console["Environment"]["Variables"];
    for var in ["SIGN_IN_ISSUER", "SIGN_IN_URL", "SIGN_IN_CLIENT_ID"] {
        assert!(env[var].is_object(), "{var}");
    }
    for (name, event) in console["Events"].as_object().unwrap() {
        let p = &event["Properties"];
        let path = p["Path"].as_str().unwrap();
        let public = p["Auth"]["Authorizer"] == "NONE";
        assert_eq!(
            public,
            path.starts_with("/console"),
            "{name} {path}: pages are verified in the function, the API at the gateway"
        );
    }
}

/// One public address: the domain fits an SMS link (the template refuses a longer
/// one at deploy, with a sentence, instead of every function failing at start), and
/// survey links, the sign-in callback and sign-out all derive from it.
#[test]
fn the_public_address_fits_an_sms_link_and_everything_derives_from_it() {
    use kundpuls::app::config::MAX_BASE_URL_LEN;
    let t = template();
    let p = &t["Parameters"];
    assert_eq!(p["PublicBaseUrl"]["MaxLength"], MAX_BASE_URL_LEN);
    assert_eq!(
        p["DomainName"]["MaxLength"],
        MAX_BASE_URL_LEN - "https://".len(),
        "DomainName plus https:// must fit like PublicBaseUrl"
    );
    for name in ["PublicBaseUrl", "DomainName"] {
        let said = p[name]["ConstraintDescription"].as_str().unwrap();
        assert!(said.contains("64 characters"), "{name}: {said}");
    }
    let asserts: Vec<String> = t["Rules"]["ThePublicAddress"]["Assertions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AssertDescription"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(asserts.len(), 3, "{asserts:?}");
    let derived = serde_json::json!({"!If": ["HasDomain", {"!Sub": "https://${DomainName}"}, {"!Ref": "PublicBaseUrl"}]});
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["PUBLIC_BASE_URL"],
        derived
    );
    let r = &t["Resources"];
    for resource in ["ApiDomain", "ApiDomainMapping"] {
        assert_eq!(r[resource]["Condition"], "HasDomain", "{resource}");
    }
    assert_eq!(r["ApiDomainRecord"]["Condition"], "HasHostedZone");
    assert_eq!(
        r["UserPool"]["Properties"]["MfaConfiguration"],
        serde_json::json!({"!If": ["IsProd", "ON", "OPTIONAL"]}),
        "TOTP required in prod"
    );
}

/// Mail an operator can run: every NPS email goes through the stack's
/// configuration set, whose bounces and complaints reach the function that
/// suppresses the address, and failed events are kept where they can be seen.
#[test]
fn bounces_and_complaints_come_back_and_suppress_the_address() {
    let t = template();
    let r = &t["Resources"];
    assert_eq!(
        r["MailConfigurationSet"]["Type"],
        "AWS::SES::ConfigurationSet"
    );
    let destination = &r["MailEventDestination"]["Properties"];
    assert_eq!(
        destination["ConfigurationSetName"],
        serde_json::json!({"!Ref": "MailConfigurationSet"})
    );
    let ed = &destination["EventDestination"];
    assert_eq!(
        ed["MatchingEventTypes"],
        serde_json::json!(["bounce", "complaint"])
    );
    assert_eq!(
        ed["SnsDestination"]["TopicARN"],
        serde_json::json!({"!Ref": "MailEventsTopic"})
    );
    let function = &r["MailEventsFunction"]["Properties"];
    assert_eq!(
        function["Events"]["MailEvents"]["Properties"]["Topic"],
        serde_json::json!({"!Ref": "MailEventsTopic"})
    );
    assert_eq!(
        function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"],
        "SQS"
    );
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["SES_CONFIGURATION_SET"],
        serde_json::json!({"!Ref": "MailConfigurationSet"}),
        "every NPS email goes through the configuration set"
    );
    // It only writes the suppression (and reads the key).
    let actions: Vec<String> = statements(&r["MailEventsFunction"])
        .iter()
        .flat_map(actions)
        .collect();
    assert_eq!(
        actions,
        vec![
            "secretsmanager:GetSecretValue",
            "dynamodb:UpdateItem",
            "sqs:SendMessage"
        ]
    );
}

/// Sends keep to the account's quotas: every function reads the rates from the
/// stack's parameters, every function that texts or emails may take its slot
/// (a conditional `UpdateItem` on the table), and the case-step consumer has as
/// many instances as its queue may use and no more.
#[test]
fn every_sender_is_paced_and_the_case_step_consumer_is_bounded() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for (var, param) in [
        ("KUNDPULS_POLICY_SMS_PER_SECOND", "SmsPerSecond"),
        ("KUNDPULS_POLICY_EMAIL_PER_SECOND", "EmailPerSecond"),
    ] {
        assert_eq!(env[var], serde_json::json!({ "!Ref": param }), "{var}");
        assert_eq!(t["Parameters"][param]["Type"], "Number", "{param}");
        assert!(t["Parameters"][param]["MinValue"].as_u64().unwrap() >= 1);
    }
    // The variables read as the policy's rates.
    let policy = kundpuls::app::config::load_policy(
        None,
        [
            (
                "KUNDPULS_POLICY_SMS_PER_SECOND".to_string(),
                "20".to_string(),
            ),
            (
                "KUNDPULS_POLICY_EMAIL_PER_SECOND".to_string(),
                "14".to_string(),
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        (policy.sms_per_second, policy.email_per_second),
        (Some(20), Some(14))
    );

    let mut senders = 0;
    for (name, f) in functions(&t) {
        let all: Vec<Value> = statements(f);
        let sends = all.iter().any(|s| {
            s["Effect"] == "Allow"
                && actions(s)
                    .iter()
                    .any(|a| a == "ses:SendEmail" || (a == "sns:Publish" && s["Resource"] == "*"))
        });
        if !sends {
            continue;
        }
        senders += 1;
        let updates = all.iter().any(|s| {
            s["Effect"] == "Allow"
                && actions(s).iter().any(|a| a == "dynamodb:UpdateItem")
                && s["Resource"].to_string().contains("Table.Arn")
        });
        assert!(
            updates,
            "{name} sends, so it must be able to take a send slot"
        );
    }
    assert_eq!(
        senders, 3,
        "the consumer, the ingest API and the schedule send"
    );

    let consumer = &t["Resources"]["SendDebtorSurveysFunction"]["Properties"];
    let bound = serde_json::json!({ "!Ref": "CaseStepConcurrency" });
    assert_eq!(consumer["ReservedConcurrentExecutions"], bound);
    assert_eq!(
        consumer["Events"]["CaseSteps"]["Properties"]["ScalingConfig"]["MaximumConcurrency"],
        bound
    );
    assert!(
        t["Parameters"]["CaseStepConcurrency"]["MinValue"]
            .as_u64()
            .unwrap()
            >= 2
    );
}

/// Every operation of the OpenAPI document reaches a function through the HTTP API:
/// the template routes its path with its method (or `ANY`), so a new endpoint
/// cannot be documented and tested locally yet missing on AWS.
#[test]
fn every_documented_operation_has_a_route_in_the_template() {
    let t = template();
    let mut routed: BTreeSet<(String, String)> = BTreeSet::new();
    for (_, function) in functions(&t) {
        for (_, event) in function["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                routed.insert((
                    p["Path"].as_str().unwrap_or_default().to_string(),
                    p["Method"].as_str().unwrap_or_default().to_uppercase(),
                ));
            }
        }
    }
    // A route's `{name}` segment takes any one segment (`/api/v1/export/{file}`
    // serves `/api/v1/export/answers.csv`).
    let matches = |route: &str, path: &str| {
        let (r, p): (Vec<&str>, Vec<&str>) =
            (route.split('/').collect(), path.split('/').collect());
        r.len() == p.len()
            && r.iter()
                .zip(&p)
                .all(|(r, p)| r == p || (r.starts_with('{') && r.ends_with('}')))
    };
    let document = serde_json::to_value(kundpuls::web::api_document()).unwrap();
    let mut missing = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let found = routed
                .iter()
                .any(|(route, m)| matches(route, path) && (*m == method || m == "ANY"));
            if !found {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "not routed on AWS: {missing:?}");
}

/// Every DynamoDB request route-feedback makes is one its IAM statements allow:
/// a stream batch (routing, then the early warnings of the teams it touched) and
/// its timer (alert and notice retries, the day's warnings, the weekly digests, the
/// retention ceiling), run on moto with every request's operation and table or
/// index recorded.
#[tokio::test]
async fn route_feedback_is_allowed_every_request_it_makes() {
    use kundpuls::events::answers::{Wake, handle, handle_wake};
    use kundpuls_tests::answers::{always, answer};
    use kundpuls_tests::{Backend, Harness, app, generated, stream};

    let h = Harness::dynamodb().await;
    let Backend::Dynamo {
        requests, store, ..
    } = &h.backend
    else {
        unreachable!()
    };
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    // This month's and last month's answers of a team, so the timer's daily check
    // and digest have a team to read; one answer recorded for the stream.
    let now = jiff::Timestamp::now();
    let team = kundpuls::domain::ids::TeamId::parse("energy").unwrap();
    for a in generated::csat_window(&team, "h-iam", &[(3, 20), (4, 20)], 0, now)
        .iter()
        .chain(&generated::csat_window(&team, "h-iam", &[(5, 40)], 30, now))
    {
        services.route_answer(a).await.unwrap();
    }
    answer(&h, &services, 7, 1, Some("Otrevlig ton i telefon"), false).await;
    requests.clear();

    let event = serde_json::from_value(stream::lambda_event(store.table())).unwrap();
    let response = handle(&services, event).await;
    assert!(response.batch_item_failures.is_empty());
    let done = handle_wake(&services, Wake::Timer).await.unwrap();
    assert!(done["digests"]["composed"].as_u64().unwrap() >= 1, "{done}");

    let used = requests.resources();
    let refused = refused("RouteFeedbackFunction", &used);
    assert!(
        refused.is_empty(),
        "route-feedback would be refused: {refused:?}; it used {used:?}"
    );
}

/// The case-step consumer (send-debtor-surveys) and the ingest API run the same
/// send path: every DynamoDB request of a surveyed step, a repeat of it, and a
/// later flagged step of the same debtor (which cancels what is not yet sent) is
/// one both functions' statements allow.
#[tokio::test]
async fn the_send_path_is_allowed_every_request_it_makes() {
    use kundpuls_tests::answers::always;
    use kundpuls_tests::events::{event, recent_json};
    use kundpuls_tests::{Backend, Harness, app};

    let h = Harness::dynamodb().await;
    let Backend::Dynamo { requests, .. } = &h.backend else {
        unreachable!()
    };
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    let now = jiff::Timestamp::now();
    requests.clear();
    let sent = recent_json("evt-iam-1", "call_completed", "+46701234501");
    services.handle_case_step(&event(&sent), now).await.unwrap();
    services.handle_case_step(&event(&sent), now).await.unwrap();
    let mut later = recent_json("evt-iam-2", "reminder_sent", "+46701234501");
    later["debtor"]["flags"] = serde_json::json!(["vulnerable"]);
    services
        .handle_case_step(&event(&later), now)
        .await
        .unwrap();
    let used = requests.resources();
    assert!(
        used.contains(&("Query".to_string(), "index/gsi3".to_string())),
        "the flagged step looked for the debtor's surveys: {used:?}"
    );

    for function in ["SendDebtorSurveysFunction", "IngestApiFunction"] {
        let refused = refused(function, &used);
        assert!(
            refused.is_empty(),
            "{function} would be refused: {refused:?}"
        );
    }
}
