//! Time helpers shared by both stores: sortable keys for timestamps and dates.

use jiff::Timestamp;

/// A timestamp as 15 zero-padded digits of Unix milliseconds: sorts as it reads.
pub fn sort_key(ts: Timestamp) -> String {
    format!("{:015}", ts.as_millisecond().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_like_time() {
        let a: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid");
        let b: Timestamp = "2026-11-22T09:14:00.5Z".parse().expect("valid");
        assert!(sort_key(a) < sort_key(b));
        assert_eq!(sort_key(a).len(), 15);
    }
}
