//! Page cursors bound to the listing that gave them out.
//!
//! A cursor is the position after a page (a sort key, or DynamoDB's
//! `LastEvaluatedKey`) with an HMAC over the listing and that position:
//! `<base64url(position)>.<base64url(tag)>`. A cursor that was altered, made up, or
//! given out by another listing (another team's queue, another status) fails the
//! check and is [`crate::ports::StoreError::InvalidCursor`] (400 `invalid_cursor`)
//! before anything reaches the store, so a crafted position can neither start a
//! page in a partition the caller may not read nor surface as a backend error.
//!
//! The listing is the index and partition, and the direction: not the upper bound,
//! which moves with the clock between pages (due work "before now").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC kept in a cursor: 128 bits, beyond guessing online.
const TAG_BYTES: usize = 16;

/// The key page cursors are signed with. Every process serving the same listings
/// must hold the same key (all Lambda instances: derived from the contact-key
/// secret), or a cursor from one instance is refused by the next.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    /// Derives the cursor key from a longer-lived secret under its own label, so the
    /// secret's other uses never see the same key.
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"kundpuls page cursors v1");
        Self(mac.finalize().into_bytes().into())
    }

    /// A random key, for a process that never hands a cursor to anyone else (a CLI
    /// walking every page itself, an embedded store opened by a test or a tool):
    /// its cursors are good only while it runs.
    pub fn ephemeral() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(bytes)
    }

    fn mac(&self, listing: &str, position: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key");
        // Length-prefixed, so no (listing, position) pair reads as another.
        mac.update(&(listing.len() as u64).to_be_bytes());
        mac.update(listing.as_bytes());
        mac.update(position);
        mac
    }

    /// The cursor for `position` in `listing`.
    pub(crate) fn seal(&self, listing: &str, position: &[u8]) -> String {
        let tag = self.mac(listing, position).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(position),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// The position a cursor of `listing` carries; `None` for anything this key did
    /// not seal for this listing.
    pub(crate) fn open(&self, listing: &str, cursor: &str) -> Option<Vec<u8>> {
        let (position, tag) = cursor.split_once('.')?;
        let position = URL_SAFE_NO_PAD.decode(position).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        // Constant-time comparison of the leading bytes of the tag.
        self.mac(listing, &position)
            .verify_truncated_left(&tag)
            .ok()?;
        Some(position)
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_in_its_listing_under_its_key() {
        let key = CursorKey::derive(b"a secret of sixteen bytes or more");
        let cursor = key.seal("gsi1|FBTS#team-a#new|fwd", b"2026-11-23#fb-1");
        assert_eq!(
            key.open("gsi1|FBTS#team-a#new|fwd", &cursor).as_deref(),
            Some(&b"2026-11-23#fb-1"[..])
        );
        // Another team's listing, another direction, another key.
        assert_eq!(key.open("gsi1|FBTS#team-b#new|fwd", &cursor), None);
        assert_eq!(key.open("gsi1|FBTS#team-a#new|rev", &cursor), None);
        let other = CursorKey::derive(b"another secret of sixteen bytes");
        assert_eq!(other.open("gsi1|FBTS#team-a#new|fwd", &cursor), None);
    }

    #[test]
    fn an_altered_or_made_up_cursor_does_not_open() {
        let key = CursorKey::derive(b"a secret of sixteen bytes or more");
        let listing = "gsi2|FBS#new|fwd";
        let cursor = key.seal(listing, b"2026-11-23#fb-1");
        let (_, tag) = cursor.split_once('.').expect("two parts");
        let moved = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(b"2026-11-24#fb-9"));
        for bad in [
            moved.as_str(),
            "not a cursor!",
            "",
            ".",
            &cursor[..cursor.len() - 1],
            &URL_SAFE_NO_PAD.encode(b"2026-11-23#fb-1"),
        ] {
            assert_eq!(key.open(listing, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn derived_keys_agree_and_ephemeral_keys_do_not() {
        let a = CursorKey::derive(b"a secret of sixteen bytes or more");
        let b = CursorKey::derive(b"a secret of sixteen bytes or more");
        let cursor = a.seal("l", b"p");
        assert!(b.open("l", &cursor).is_some());
        assert!(CursorKey::ephemeral().open("l", &cursor).is_none());
        assert_eq!(format!("{a:?}"), "CursorKey(***)");
    }
}
