//! Fault injection for the send-path suites.
//!
//! - [`SdkFaults`]: an SDK interceptor for any AWS client. For a chosen share of
//!   requests it either sends nothing (the request is pointed at a closed loopback
//!   port: a connect error, so the request was certainly not written) or lets the
//!   request reach the server and then replaces the server's answer with a 500 (the
//!   request was carried out, the client sees a failure).
//! - [`FaultyNotifier`]: wraps a real notifier and, by a seeded plan, throttles
//!   (nothing sent), accepts and then fails (sent, the caller is told otherwise), or
//!   times out after the provider took the message.
//! - [`SimClock`]: the simulated time the suites run at, which the notifier records
//!   with every call it lets through, to check sending hours afterwards.

use async_trait::async_trait;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use jiff::Timestamp;
use kundpuls::domain::contact::Recipient;
use kundpuls::ports::{Notifier, OutboundMessage, SendError};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A small deterministic generator (SplitMix64), shared across tasks.
#[derive(Debug)]
pub struct Dice(AtomicU64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    /// A number in `0..100`.
    pub fn percent(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % 100
    }
}

/// How the response of a faulted request must look for the client's protocol.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    /// DynamoDB (awsJson1.0).
    Json,
    /// SNS (awsQuery, XML).
    Query,
    /// SES v2 (restJson1).
    RestJson,
}

/// What the interceptor did, by kind.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub requests: AtomicU64,
    pub refused_before_send: AtomicU64,
    pub failed_after_send: AtomicU64,
}

/// Which fault a faulted request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Half refused before sending, half answered 500 after being carried out.
    Mixed,
    /// Every faulted request is carried out and answered 500.
    AfterSend,
    /// Every faulted request is refused before it is written.
    BeforeSend,
}

/// Injects faults into `rate` percent of a client's requests (see the module doc).
#[derive(Debug, Clone)]
pub struct SdkFaults {
    dice: Arc<Dice>,
    rate: u64,
    kind: FaultKind,
    protocol: Protocol,
    pub counts: Arc<FaultCounts>,
}

impl SdkFaults {
    pub fn new(seed: u64, rate: u64, protocol: Protocol) -> Self {
        Self::of_kind(seed, rate, FaultKind::Mixed, protocol)
    }

    pub fn of_kind(seed: u64, rate: u64, kind: FaultKind, protocol: Protocol) -> Self {
        Self {
            dice: Arc::new(Dice::new(seed)),
            rate,
            kind,
            protocol,
            counts: Arc::default(),
        }
    }
}

/// This attempt's fate, carried from before transmit to after it.
#[derive(Debug, Clone, Copy)]
struct FailAfterSend(bool);

impl Storable for FailAfterSend {
    type Storer = StoreReplace<Self>;
}

impl Intercept for SdkFaults {
    fn name(&self) -> &'static str {
        "SdkFaults"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        let roll = self.dice.percent();
        let faulted = roll < self.rate;
        let after = faulted
            && match self.kind {
                FaultKind::Mixed => roll % 2 == 1,
                FaultKind::AfterSend => true,
                FaultKind::BeforeSend => false,
            };
        if faulted && !after {
            // Port 1 on loopback: nothing listens, the connection is refused.
            let uri = context.request().uri().to_string();
            let rest = uri.splitn(4, '/').nth(3).unwrap_or_default();
            context
                .request_mut()
                .set_uri(format!("http://127.0.0.1:1/{rest}"))?;
            self.counts
                .refused_before_send
                .fetch_add(1, Ordering::Relaxed);
        }
        cfg.interceptor_state().store_put(FailAfterSend(after));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !cfg.load::<FailAfterSend>().is_some_and(|f| f.0) {
            return Ok(());
        }
        self.counts
            .failed_after_send
            .fetch_add(1, Ordering::Relaxed);
        let response = context.response_mut();
        *response.status_mut() = 500.try_into()?;
        let body = match self.protocol {
            Protocol::Json => {
                response
                    .headers_mut()
                    .insert("content-type", "application/x-amz-json-1.0".to_string());
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected after the request was carried out"}"#
            }
            Protocol::Query => {
                response
                    .headers_mut()
                    .insert("content-type", "text/xml".to_string());
                "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected after the request was carried out</Message></Error><RequestId>x</RequestId></ErrorResponse>"
            }
            Protocol::RestJson => {
                response
                    .headers_mut()
                    .insert("content-type", "application/json".to_string());
                r#"{"message":"injected after the request was carried out"}"#
            }
        };
        *response.body_mut() = SdkBody::from(body);
        Ok(())
    }
}

/// The time a suite runs at, shared with the notifier that records it.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<AtomicI64>);

impl SimClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(at.as_millisecond())))
    }

    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_millisecond(), Ordering::SeqCst);
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.0.load(Ordering::SeqCst)).expect("a valid time")
    }
}

/// One call the notifier let through to the real channel.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub to: String,
    pub at: Timestamp,
    /// What the caller was told.
    pub reported: &'static str,
}

/// Shares (in percent) of calls that the provider throttles (not sent), accepts
/// and then reports as failed, or accepts and then times out on.
#[derive(Debug, Clone, Copy)]
pub struct NotifierFaults {
    pub throttle: u64,
    pub accept_then_fail: u64,
    pub accept_then_time_out: u64,
}

/// A real notifier with provider faults in front of it.
pub struct FaultyNotifier {
    inner: Arc<dyn Notifier>,
    faults: NotifierFaults,
    dice: Dice,
    clock: SimClock,
    /// Every call that reached the real channel (each one is a message a person got).
    pub deliveries: Mutex<Vec<Delivery>>,
    pub throttled: AtomicU64,
}

impl FaultyNotifier {
    pub fn new(
        inner: Arc<dyn Notifier>,
        faults: NotifierFaults,
        seed: u64,
        clock: SimClock,
    ) -> Self {
        Self {
            inner,
            faults,
            dice: Dice::new(seed),
            clock,
            deliveries: Mutex::default(),
            throttled: AtomicU64::new(0),
        }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("deliveries lock").clone()
    }
}

#[async_trait]
impl Notifier for FaultyNotifier {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let roll = self.dice.percent();
        let f = self.faults;
        if roll < f.throttle {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(SendError::NotSent("throttled (injected)".into()));
        }
        let result = self.inner.send(message).await;
        let reported = if result.is_err() {
            "error"
        } else if roll < f.throttle + f.accept_then_fail {
            "accepted, then failed"
        } else if roll < f.throttle + f.accept_then_fail + f.accept_then_time_out {
            "accepted, then timed out"
        } else {
            "accepted"
        };
        if result.is_ok() {
            let to = match &message.to {
                Recipient::Sms(p) => p.as_str().to_string(),
                Recipient::Email(e) => e.as_str().to_string(),
            };
            self.deliveries
                .lock()
                .expect("deliveries lock")
                .push(Delivery {
                    to,
                    at: self.clock.now(),
                    reported,
                });
        }
        match (result, reported) {
            (Err(e), _) => Err(e),
            (Ok(()), "accepted") => Ok(()),
            (Ok(()), "accepted, then failed") => Err(SendError::Unknown(
                "500 after the message was accepted (injected)".into(),
            )),
            (Ok(()), _) => Err(SendError::Unknown(
                "timed out after the request was written (injected)".into(),
            )),
        }
    }
}

/// A team-lead channel that answers as told (`ok`, `not_sent`, `unknown`, in
/// order, then `ok`), and records the id of every alert it took (a feedback id or
/// a notice id).
pub struct Lead {
    answers: Mutex<Vec<&'static str>>,
    pub delivered: Mutex<Vec<String>>,
}

impl Lead {
    pub fn answering(answers: &[&'static str]) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.iter().rev().copied().collect()),
            delivered: Mutex::new(Vec::new()),
        })
    }

    pub fn delivered(&self) -> Vec<String> {
        self.delivered.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl kundpuls::ports::Alerter for Lead {
    async fn alert(&self, alert: &kundpuls::ports::Alert) -> Result<(), SendError> {
        use kundpuls::ports::AlertAbout;
        let answer = self.answers.lock().expect("not poisoned").pop();
        match answer.unwrap_or("ok") {
            "not_sent" => Err(SendError::NotSent("refused before it was taken".into())),
            "unknown" => Err(SendError::Unknown("timed out after it was written".into())),
            _ => {
                let id = match &alert.about {
                    AlertAbout::Feedback { feedback_id, .. } => feedback_id.to_string(),
                    AlertAbout::Notice { id, .. } => id.clone(),
                };
                self.delivered.lock().expect("not poisoned").push(id);
                Ok(())
            }
        }
    }
}
