//! Reading what moto recorded: the messages a recipient would have received, from
//! `/moto-api/messages.json` (`scripts/moto_serial.py`: data.json's message models
//! only), or from the whole `/moto-api/data.json` on a stock moto server.

use serde_json::Value;

fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "AWS_ENDPOINT_URL is not set: these suites need moto. Run ./scripts/test."
    );
    endpoint
}

/// The messages moto holds (`sns.SMS`, `sns.Topic`, `ses.Message`), in data.json's
/// shape.
pub fn messages() -> Value {
    let url = format!("{}/moto-api/messages.json", endpoint());
    match ureq::get(&url).call() {
        Ok(mut response) => read_json(&url, response.body_mut()),
        // A stock moto server: everything it holds.
        Err(ureq::Error::StatusCode(404)) => {
            let url = format!("{}/moto-api/data.json", endpoint());
            let mut response = ureq::get(&url)
                .call()
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            read_json(&url, response.body_mut())
        }
        Err(e) => panic!("GET {url}: {e}"),
    }
}

fn read_json(url: &str, body: &mut ureq::Body) -> Value {
    // data.json holds every table and message of the run: allow it to grow.
    let body = body
        .with_config()
        .limit(512 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_else(|e| panic!("reading {url}: {e}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("parsing {url}: {e}"))
}

/// Text messages moto accepted for `phone`.
pub fn sms_to(phone: &str) -> Vec<String> {
    messages()["sns"]["SMS"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["phone_number"] == phone)
        .filter_map(|m| m["message"].as_str().map(str::to_string))
        .collect()
}

/// Emails moto accepted for `address`: (subject, body, source). With both a text and
/// an HTML part, moto keeps the HTML as the body.
pub fn emails_to(address: &str) -> Vec<(String, String, String)> {
    messages()["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to| to.iter().any(|a| a == address))
        })
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (s("subject"), s("body"), s("source"))
        })
        .collect()
}

/// Notifications moto accepted for the topic named `topic`:
/// `[message id, message, subject, attributes, group id]` each.
pub fn topic_notifications(topic: &str) -> Vec<Value> {
    messages()["sns"]["Topic"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["name"] == topic)
        .flat_map(|t| {
            t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}
