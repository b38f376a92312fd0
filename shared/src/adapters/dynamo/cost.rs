//! What each step of a survey's life costs in DynamoDB requests and capacity
//! units, as `tests/tests/dynamodb_requests.rs` measures it on every attempt sent
//! (the test fails when the code and these figures part), and the bill they make
//! with the other services per 1,000 surveys (README, "What a survey costs").
//!
//! Units follow DynamoDB's on-demand billing for items under 1 KB (writes) and
//! 4 KB (reads): a strongly consistent read or a query page is one read unit; a
//! put, update or delete one write unit; a transaction two write units per item.
//! A comment near the 1,000-character limit makes the answer item 2–3 KB, so an
//! answer with a long comment writes 2–4 units more; the model leaves that out.

/// DynamoDB requests and units of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCost {
    pub step: &'static str,
    pub requests: u32,
    pub read_units: u32,
    pub write_units: u32,
}

/// A CSAT case step that is surveyed: four reads (the debtor's flag, the
/// contact's opt-out, suppression and last survey), the create with its link
/// pointer and fatigue guard (3 items), the decision counted once (17 items: every
/// dimension's counter shard and the effect record), the SMS marked sent on the
/// copy just created (no read) and counted sent (17 items), and the second's
/// send slot taken (one conditional update: the account's SMS rate, see
/// [`crate::app::pacing`]).
pub const CSAT_SEND: StepCost = StepCost {
    step: "CSAT case step, SMS sent",
    requests: 9,
    read_units: 4,
    write_units: 76,
};

/// One creditor contact in the month's NPS wave, emailed at once: this year's
/// survey looked up (so a later pass skips the contact in one read), opt-out and
/// suppression reads, the create (3 items), the decision counted (11 items), a
/// read before sending, the second's send slot, the email marked sent and
/// counted (11 items). What each contact adds to a tick (the tick's own listing
/// queries are shared).
pub const NPS_SEND: StepCost = StepCost {
    step: "NPS contact, email sent",
    requests: 9,
    read_units: 4,
    write_units: 52,
};

/// The respondent opens the link (one read: the pointer carries the page's copy
/// of the survey), then submits (the pointer again, then one transaction without
/// reading the survey: the survey marked answered, the answer, and the link's
/// copy marked answered; each further link of the survey adds two units).
pub const ANSWER: StepCost = StepCost {
    step: "page view and answer",
    requests: 3,
    read_units: 2,
    write_units: 6,
};

/// The stream function counts an answer that needs no follow-up (20 items: the
/// effect record, 16 counter shards and the three day-by-day counters of the
/// early warnings). After each batch it reads the warnings' windows of the teams
/// the batch touched: nine queries per team and survey kind, per batch, not per
/// answer, so they are left out here.
pub const ROUTE_COUNTED: StepCost = StepCost {
    step: "answer counted",
    requests: 1,
    read_units: 0,
    write_units: 40,
};

/// The stream function counts a low score with a comment and opens a feedback
/// item for the team lead (a read of the lexicon, the item and its first
/// activity entry in one transaction).
pub const ROUTE_TO_BACKLOG: StepCost = StepCost {
    step: "answer counted and routed",
    requests: 3,
    read_units: 1,
    write_units: 44,
};

pub const ALL: [StepCost; 5] = [CSAT_SEND, NPS_SEND, ANSWER, ROUTE_COUNTED, ROUTE_TO_BACKLOG];

/// The read and write units one request uses (see the module's notes).
pub fn units(operation: &str, items: u32) -> (u32, u32) {
    match operation {
        "GetItem" | "Query" | "Scan" => (1, 0),
        "PutItem" | "UpdateItem" | "DeleteItem" => (0, 1),
        "TransactWriteItems" => (0, 2 * items),
        "BatchWriteItem" => (0, items),
        "TransactGetItems" => (2 * items, 0),
        _ => (0, 0),
    }
}
