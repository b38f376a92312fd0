//! Team leads sign in to the console as on AWS: the console router configured with
//! the managed login (a stand-in identity provider on loopback with a key made for
//! this run), the authorization-code flow with PKCE, ID tokens verified in the
//! function. Tokens that are not exactly right are refused.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::web::sign_in::{SignIn, SignInConfig};
use kundpuls::web::{AppState, Authenticator, lambda_console_router};
use kundpuls_tests::idp::{self, CLIENT_ID, IdpStandIn, KID, User};
use kundpuls_tests::{Harness, app};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

const PUBLIC: &str = "https://survey.nordkredit.se";

fn lead() -> User {
    User {
        sub: "lead-anna".into(),
        groups: vec!["lead".into()],
        teams: "energy".into(),
    }
}

fn config(idp: &IdpStandIn) -> SignInConfig {
    SignInConfig {
        issuer: idp.issuer.clone(),
        login_url: idp.base.clone(),
        client_id: CLIENT_ID.into(),
        public_base_url: PUBLIC.into(),
    }
}

#[tokio::test]
async fn only_exactly_right_id_tokens_are_taken_and_keys_are_fetched_once() {
    let idp = IdpStandIn::start(lead()).await;
    let sign_in = SignIn::new(config(&idp)).unwrap();
    let good = idp::id_claims(&idp.issuer, &lead(), 3600);
    // A good token, verified a hundred times: the keys are fetched once.
    for _ in 0..100 {
        let claims = sign_in.verify(&idp::sign(&good, KID)).await.unwrap();
        assert_eq!(claims["cognito:groups"], "[lead]");
    }
    assert_eq!(idp.key_fetches(), 1);
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut c = good.clone();
        change(&mut c);
        idp::sign(&c, KID)
    };
    let public_pem = {
        use rsa::pkcs1::EncodeRsaPublicKey;
        idp::key()
            .to_public_key()
            .to_pkcs1_pem(Default::default())
            .unwrap()
    };
    let hs256_with_public_key = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(KID.into());
        jsonwebtoken::encode(
            &h,
            &good,
            &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .unwrap()
    };
    let alg_none = {
        use base64::Engine;
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "kid": KID})),
            b64(good.clone())
        )
    };
    let tampered = {
        let token = idp::sign(&good, KID);
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut claims = good.clone();
        claims["cognito:groups"] = json!(["admin"]);
        use base64::Engine;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    };
    let refused: Vec<(&str, String)> = vec![
        (
            "wrong issuer",
            with(&|c| c["iss"] = json!("https://evil.example/pool")),
        ),
        (
            "wrong audience",
            with(&|c| c["aud"] = json!("another-client")),
        ),
        (
            "an access token",
            with(&|c| c["token_use"] = json!("access")),
        ),
        (
            "expired",
            with(&|c| c["exp"] = json!(jiff::Timestamp::now().as_second() - 120)),
        ),
        ("unknown key id", idp::sign(&good, "someone-elses-key")),
        ("alg none", alg_none),
        ("HS256 signed with the public key", hs256_with_public_key),
        ("claims changed after signing", tampered),
        ("not a token", "not.a.token".into()),
    ];
    for (what, token) in &refused {
        assert!(sign_in.verify(token).await.is_err(), "{what} was taken");
    }
    // The unknown key id refetched the keys once; asking again within the minute
    // does not fetch them again.
    assert_eq!(idp.key_fetches(), 2);
    assert!(
        sign_in
            .verify(&idp::sign(&good, "yet-another"))
            .await
            .is_err()
    );
    assert_eq!(idp.key_fetches(), 2);
}

/// A browser's cookie jar, as far as the flow needs one.
#[derive(Default)]
struct Browser {
    cookies: HashMap<String, String>,
}

impl Browser {
    fn keep(&mut self, response: &axum::response::Response) {
        for v in response.headers().get_all(header::SET_COOKIE) {
            let text = v.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(
                attributes.contains("HttpOnly") && attributes.contains("Secure"),
                "{text}"
            );
            if attributes.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn location(response: &axum::response::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

/// The path and query of a URL on the public base.
fn local_part(url: &str) -> String {
    url.strip_prefix(PUBLIC).unwrap_or(url).to_string()
}

/// The console function as on AWS: API Gateway's claims for the API, the managed
/// login (the stand-in) for the pages.
fn console(h: &Harness, idp: &IdpStandIn) -> axum::Router {
    let (services, _outbox) = app::local(h, SurveyPolicy::default());
    lambda_console_router(AppState {
        services,
        auth: Authenticator::ApiGateway,
        stamp: kundpuls::web::stamp::StampKey::new(b"sign-in-stamp-key-0123456789abcd"),
        outbox: None,
        sign_in: Some(Arc::new(SignIn::new(config(idp)).unwrap())),
        demo: false,
    })
}

#[tokio::test]
async fn a_lead_follows_an_alert_link_signs_in_and_comes_back_to_the_item() {
    let idp = IdpStandIn::start(lead()).await;
    let h = Harness::embedded().await;
    let router = console(&h, &idp);
    let http = reqwestless();
    let mut browser = Browser::default();
    let get = |path: String, cookies: String| {
        let router = router.clone();
        async move {
            router
                .oneshot(
                    Request::get(path)
                        .header(header::COOKIE, cookies)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap()
        }
    };
    // 1. The alert's link, without a session: to the login, remembering the page.
    let asked = "/console?status=new&team=energy";
    let r = get(asked.into(), browser.header()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let login = location(&r);
    assert!(login.starts_with("/console/login?return_to="), "{login}");
    // 2. The login page sends the browser to the managed login with state and PKCE.
    let r = get(login, browser.header()).await;
    browser.keep(&r);
    let authorize = location(&r);
    assert!(
        authorize.starts_with(&format!("{}/oauth2/authorize?", idp.base)),
        "{authorize}"
    );
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("state="));
    assert!(browser.cookies.contains_key("kp_login"));
    // 3. The provider signs the user in and sends the browser back with a code.
    let back = http(&authorize).await;
    assert!(
        back.starts_with(&format!("{PUBLIC}/console/auth/callback?code=")),
        "{back}"
    );
    // A callback with another state is refused.
    let forged = back.replace("state=", "state=x");
    let r = get(local_part(&forged), browser.header()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // 4. The callback exchanges the code (with the verifier), keeps the session
    //    and returns to the page first asked for.
    let r = get(local_part(&back), browser.header()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.headers());
    browser.keep(&r);
    assert_eq!(location(&r), asked);
    assert!(
        browser.cookies.contains_key("kp_console") && !browser.cookies.contains_key("kp_login")
    );
    // 5. The page opens for the lead.
    let r = get(asked.into(), browser.header()).await;
    assert_eq!(r.status(), StatusCode::OK);
    // A code is good once.
    let r = get(local_part(&back), browser.header()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // 6. Signing out ends both sessions and the console asks for a login again.
    let r = router
        .clone()
        .oneshot(
            Request::post("/console/logout")
                .header(header::COOKIE, browser.header())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    browser.keep(&r);
    assert_eq!(location(&r), "/console/auth/signed-out");
    assert!(!browser.cookies.contains_key("kp_console"));
    // …through a page of the console's own (its form-action is 'self') on to the
    // provider's logout, which comes back to the login page.
    let r = get("/console/auth/signed-out".into(), browser.header()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    let page = String::from_utf8(page.to_vec()).unwrap();
    let logout = format!("{}/logout?client_id={CLIENT_ID}&#38;logout_uri=", idp.base);
    assert!(
        page.contains(&format!(
            "<meta http-equiv=\"refresh\" content=\"0; url={logout}"
        )),
        "{page}"
    );
    let r = get(asked.into(), browser.header()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/console/login"));
}

/// Follows the provider's authorize redirect as a browser would (the stand-in
/// signs the user in at once) and returns where it sends the browser back to.
fn reqwestless()
-> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>> {
    |url: &str| {
        let url = url.to_string();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .max_redirects(0)
                    .http_status_as_error(false)
                    .build()
                    .into();
                let response = agent.get(&url).call().unwrap();
                response.headers()["location"].to_str().unwrap().to_string()
            })
            .await
            .unwrap()
        })
    }
}

#[tokio::test]
async fn a_session_near_its_end_is_refreshed_on_the_way_to_a_page() {
    let idp = IdpStandIn::start(lead()).await;
    let h = Harness::embedded().await;
    let router = console(&h, &idp);
    // An ID token with two minutes left, and a refresh token.
    let ending = idp::sign(&idp::id_claims(&idp.issuer, &lead(), 120), KID);
    let cookies = format!("kp_console={ending}; kp_refresh=refresh-1");
    let r = router
        .clone()
        .oneshot(
            Request::get("/console/improvements")
                .header(header::COOKIE, &cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.starts_with("/console/auth/refresh?return_to="), "{to}");
    let r = router
        .clone()
        .oneshot(
            Request::get(&to)
                .header(header::COOKIE, &cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(location(&r), "/console/improvements");
    let renewed: Vec<_> = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        renewed
            .iter()
            .any(|c| c.starts_with("kp_console=") && !c.contains(&ending))
    );
}
