//! Counts the DynamoDB requests a client sends (every attempt, retries included),
//! by operation, read from the `X-Amz-Target` header.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>);

impl RequestLog {
    pub fn clear(&self) {
        self.0.lock().expect("request log lock").clear();
    }

    pub fn total(&self) -> usize {
        self.0.lock().expect("request log lock").len()
    }

    pub fn by_operation(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for op in self.0.lock().expect("request log lock").iter() {
            *out.entry(op.clone()).or_insert(0) += 1;
        }
        out
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("unknown")
            .to_string();
        self.0.lock().expect("request log lock").push(op);
        Ok(())
    }
}
