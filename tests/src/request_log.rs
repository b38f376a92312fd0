//! Counts the DynamoDB requests a client sends (every attempt, retries included),
//! by operation, read from the `X-Amz-Target` header, with the number of items of
//! each transaction and what it reads or writes (the table, or `index/<name>`).

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Logged>>>);

#[derive(Debug, Clone)]
struct Logged {
    operation: String,
    items: u32,
    /// `table`, or `index/<IndexName>` for an index query.
    resource: String,
}

impl RequestLog {
    pub fn clear(&self) {
        self.0.lock().expect("request log lock").clear();
    }

    pub fn total(&self) -> usize {
        self.0.lock().expect("request log lock").len()
    }

    pub fn by_operation(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for logged in self.0.lock().expect("request log lock").iter() {
            *out.entry(logged.operation.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Every request so far: its operation and how many items it wrote or read
    /// (a transaction's items; one for a single-item request).
    pub fn requests(&self) -> Vec<(String, u32)> {
        self.0
            .lock()
            .expect("request log lock")
            .iter()
            .map(|l| (l.operation.clone(), l.items))
            .collect()
    }

    /// Every (operation, resource) pair so far: what an IAM policy has to allow.
    pub fn resources(&self) -> std::collections::BTreeSet<(String, String)> {
        self.0
            .lock()
            .expect("request log lock")
            .iter()
            .map(|l| (l.operation.clone(), l.resource.clone()))
            .collect()
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
        let body = context
            .request()
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
        let items = body
            .as_ref()
            .and_then(|v| {
                v.get("TransactItems")
                    .and_then(|t| t.as_array())
                    .map(|a| a.len() as u32)
            })
            .unwrap_or(1);
        let resource = body
            .as_ref()
            .and_then(|v| v.get("IndexName"))
            .and_then(|i| i.as_str())
            .map_or("table".to_string(), |i| format!("index/{i}"));
        self.0.lock().expect("request log lock").push(Logged {
            operation: op,
            items,
            resource,
        });
        Ok(())
    }
}
