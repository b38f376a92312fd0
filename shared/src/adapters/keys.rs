//! The key design, in one place. Both stores use these builders: DynamoDB for its
//! table and GSI keys, the embedded store for its primary and index tables, so a
//! listing walks the same order in both.
//!
//! ```text
//! one table; every key attribute is a string
//!
//! item              pk                      sk                 gsi1pk / gsi1sk                          gsi2pk / gsi2sk
//! ───────────────── ─────────────────────── ────────────────── ──────────────────────────────────────── ────────────────────────────────
//! survey            SURVEY#<survey id>      SURVEY             DUE#SEND   / <send_at>#<id>  (scheduled) SENT / <sent_at>#<id>  (NPS sent,
//!                                                                         / <lease_until>#<id> (sending)
//!                   (gsi3: PERSON#<hmac(debtor or contact id)> / <created>#<id>, for erasure)
//!                                                              DUE#EXPIRE / <expires_at>#<id>  (sent)      unanswered, not yet reminded)
//! token pointer     TOKEN#<sha256(token)>   TOKEN
//! link of a resend  SURVEY#<survey id>      LINK#<sha256(token)>  (so an erasure finds every pointer)
//! answer            SURVEY#<survey id>      ANSWER             ANSWERS#<kind>#<month> / <at>#<id>
//! contact state     CONTACT#<hmac(contact)> STATE              (opt-out, last surveyed; under a
//!                                                                person key: last flagged step)
//! creditor contact  CLIENT#<client id>      CONTACT#<id>       WAVE#<month 01–12> / <client>#<contact>
//!                   (gsi3: PERSONCONTACT#<hmac(contact id)> / <client>#<contact>, for erasure)
//! counter shard     STAT#<kind>|<month>|    V#<value>#S<n>
//!                   <scope>|<dimension>
//! applied effect    EFFECT#<effect id>      EFFECT
//! feedback item     FEEDBACK#<id>           ITEM               FBTS#<team>#<status> / <due>#<id>        FBS#<status> / <due>#<id>
//!                                                              gsi3: FBT#<team> / <created>#<id>
//! activity entry    FEEDBACK#<id>           ACT#<version>
//!                   IMPROVEMENT#<id>        ACT#<version>
//! improvement       IMPROVEMENT#<id>        ITEM               IMPS#<status> / <created>#<id>
//! erasure record    ERASURE#<hmac(id)>      <at>
//! NPS wave progress WAVE#<YYYY-MM>          PROGRESS
//! sends in a second RATE#<channel>#<unix s> RATE               (count `n`; TTL a day)
//! theme lexicon     CONFIG#lexicon          ITEM
//!                   CONFIG#lexicon          ACT#<version>
//! lead alert        ALERT#<feedback id>     ALERT              ALERTS#DUE / <retry or lease end>#<id>
//!                                                              (only while a retry or a claim is open)
//! client settings   CONFIG#client#<id>      ITEM               CONFIG#clients / <client id>
//!                   CONFIG#client#<id>      ACT#<version>
//! lead notice       NOTICE#<notice id>      NOTICE             NOTICES#DUE / <retry or lease end>#<id>  NOTICES#<team> / <created>#<id>
//!                   (an early warning or a weekly digest)      (only while a retry or a claim is open)
//! daily counter     STAT#<kind>|<month>|team:<team>|<dimension>:daily   V#<value>@<dd>#S<n>
//!                   (team, handler and client: the early warnings' rolling windows)
//! ```
//!
//! `<at>`, `<send_at>`… are [`sort_key`]s (zero-padded Unix milliseconds), `<due>` is
//! an ISO date: both sort as they read. Answers and feedback carry a `ttl` attribute
//! for retention. The due-work partitions (`DUE#SEND`, `DUE#EXPIRE`, `SENT`) see one
//! write per survey transition, far below a GSI partition's 1,000 writes/s at any
//! agency's survey volume.

use crate::domain::backlog::{FeedbackItem, FeedbackStatus, Improvement, ImprovementStatus};
use crate::domain::contact::ContactKey;
use crate::domain::ids::{ClientId, ContactId, FeedbackId, ImprovementId, SurveyId, TeamId};
use crate::domain::stats::CounterKey;
use crate::domain::survey::{Survey, SurveyKind, SurveyState};
use crate::domain::time::sort_key;
use crate::domain::token::TokenHash;
use crate::ports::{FeedbackQuery, FeedbackScope, WorkList};

/// A primary key: partition and sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: &str) -> Self {
        Self {
            pk,
            sk: sk.to_string(),
        }
    }
}

/// A secondary-index entry: which index, its partition and its sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexKey {
    pub index: Index,
    pub pk: String,
    pub sk: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub const ALL: [Index; 3] = [Index::Gsi1, Index::Gsi2, Index::Gsi3];

    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
            Index::Gsi3 => "gsi3",
        }
    }

    pub fn pk_attr(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1pk",
            Index::Gsi2 => "gsi2pk",
            Index::Gsi3 => "gsi3pk",
        }
    }

    pub fn sk_attr(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1sk",
            Index::Gsi2 => "gsi2sk",
            Index::Gsi3 => "gsi3sk",
        }
    }
}

pub const DUE_SEND: &str = "DUE#SEND";
pub const DUE_EXPIRE: &str = "DUE#EXPIRE";
pub const SENT_UNREMINDED: &str = "SENT";

/// Where a work list lives: one index partition, ordered by time.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// The operation's name in errors and logs.
    pub operation: &'static str,
    pub index: Index,
    pub pk: &'static str,
}

/// The index partition behind each of the schedule's work lists.
pub fn work_list(list: WorkList) -> Listing {
    match list {
        // Scheduled surveys by `send_at`, and claims by the end of their lease.
        WorkList::ToSend => Listing {
            operation: "due_to_send",
            index: Index::Gsi1,
            pk: DUE_SEND,
        },
        // Sent, unanswered surveys by the end of their link's lifetime.
        WorkList::ToExpire => Listing {
            operation: "due_to_expire",
            index: Index::Gsi1,
            pk: DUE_EXPIRE,
        },
        // Sent, unanswered NPS surveys not yet reminded, by `sent_at`.
        WorkList::ToRemind => Listing {
            operation: "sent_before",
            index: Index::Gsi2,
            pk: SENT_UNREMINDED,
        },
    }
}

const SURVEY_PK: &str = "SURVEY#";
const SURVEY_SK: &str = "SURVEY";
const FEEDBACK_PK: &str = "FEEDBACK#";
const ITEM_SK: &str = "ITEM";
/// Every link pointer's partition starts with this.
pub const TOKEN_PK: &str = "TOKEN#";

pub fn survey(id: &SurveyId) -> Key {
    Key::new(format!("{SURVEY_PK}{id}"), SURVEY_SK)
}

/// The sort key of answer items (the stream reader looks for it).
pub const ANSWER_SK: &str = "ANSWER";

pub fn answer(id: &SurveyId) -> Key {
    Key::new(format!("{SURVEY_PK}{id}"), ANSWER_SK)
}

pub fn token(hash: &TokenHash) -> Key {
    Key::new(format!("{TOKEN_PK}{}", hash.as_str()), "TOKEN")
}

/// Sort keys of a survey's extra link records start with this.
pub const LINK_PREFIX: &str = "LINK#";

/// The record, in the survey's own partition, of a link drawn after the first (each
/// send and reminder draws one): an erasure reads the partition and removes every
/// pointer, not only the first.
pub fn survey_link(id: &SurveyId, hash: &TokenHash) -> Key {
    Key {
        pk: format!("{SURVEY_PK}{id}"),
        sk: format!("{LINK_PREFIX}{}", hash.as_str()),
    }
}

/// The records that leave under the retention policy, told apart by their keys
/// (DynamoDB gives them a TTL when written; the embedded store's sweep reads keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retained {
    Answer,
    Survey,
    FeedbackItem,
    /// A feedback item's activity entry: it goes with its item.
    FeedbackActivity,
    /// A team-lead notice (an early warning or a digest).
    Notice,
}

pub fn retained(pk: &str, sk: &str) -> Option<Retained> {
    if pk.starts_with(SURVEY_PK) {
        match sk {
            ANSWER_SK => Some(Retained::Answer),
            SURVEY_SK => Some(Retained::Survey),
            _ => None,
        }
    } else if pk.starts_with(FEEDBACK_PK) {
        if sk == ITEM_SK {
            Some(Retained::FeedbackItem)
        } else {
            sk.starts_with(ACTIVITY_PREFIX)
                .then_some(Retained::FeedbackActivity)
        }
    } else if pk.starts_with("NOTICE#") && sk == "NOTICE" {
        Some(Retained::Notice)
    } else {
        None
    }
}

pub fn contact_state(contact: &ContactKey) -> Key {
    Key::new(format!("CONTACT#{contact}"), "STATE")
}

pub fn creditor(client: &ClientId, contact: &ContactId) -> Key {
    Key {
        pk: format!("CLIENT#{client}"),
        sk: format!("CONTACT#{contact}"),
    }
}

/// The partition of a counter group: every value and shard of one dimension.
pub fn counter_group(group: &str) -> String {
    format!("STAT#{group}")
}

pub fn counter_partition(key: &CounterKey) -> String {
    counter_group(key.group())
}

/// Sort keys of counter shards start with this, then the value.
pub const COUNTER_PREFIX: &str = "V#";

/// The sort-key prefix of every shard of one value.
pub fn counter_value_prefix(value: &str) -> String {
    format!("{COUNTER_PREFIX}{value}#S")
}

pub fn counter_shard(key: &CounterKey, shard: u32) -> Key {
    Key {
        pk: counter_partition(key),
        sk: format!("{}{shard:03}", counter_value_prefix(key.value())),
    }
}

/// The value a counter shard's sort key belongs to.
pub fn counter_value_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(COUNTER_PREFIX)?
        .rsplit_once("#S")
        .map(|(value, _)| value)
}

pub fn effect(effect_id: &str) -> Key {
    Key::new(format!("EFFECT#{effect_id}"), "EFFECT")
}

pub fn feedback(id: &FeedbackId) -> Key {
    Key::new(format!("{FEEDBACK_PK}{id}"), ITEM_SK)
}

/// The alert record of one feedback item.
pub fn alert(id: &FeedbackId) -> Key {
    Key::new(format!("ALERT#{id}"), "ALERT")
}

/// Alerts waiting for the schedule (a retry, or a claim to check), by due time.
pub const ALERTS_DUE: &str = "ALERTS#DUE";

pub fn alert_index(a: &crate::domain::backlog::AlertRecord) -> Vec<IndexKey> {
    a.due_at()
        .map(|due| IndexKey {
            index: Index::Gsi1,
            pk: ALERTS_DUE.into(),
            sk: format!("{}#{}", sort_key(due), a.feedback_id),
        })
        .into_iter()
        .collect()
}

/// A team-lead notice (an early warning or a weekly digest).
pub fn notice(id: &str) -> Key {
    Key::new(format!("NOTICE#{id}"), "NOTICE")
}

/// Notices waiting for the timer (a retry, or a claim to check), by due time.
pub const NOTICES_DUE: &str = "NOTICES#DUE";

/// A team's notices by creation time.
pub fn notices_of_team(team: &TeamId) -> String {
    format!("NOTICES#{team}")
}

pub fn notice_index(n: &crate::domain::notice::NoticeRecord) -> Vec<IndexKey> {
    let mut index = vec![IndexKey {
        index: Index::Gsi2,
        pk: notices_of_team(&n.team),
        sk: format!("{}#{}", sort_key(n.created_at), n.id),
    }];
    if let Some(due) = n.delivery.due_at() {
        index.push(IndexKey {
            index: Index::Gsi1,
            pk: NOTICES_DUE.into(),
            sk: format!("{}#{}", sort_key(due), n.id),
        });
    }
    index
}

/// A client's settings (versioned, like the lexicon).
pub fn client_settings(client: &ClientId) -> Key {
    Key::new(format!("CONFIG#client#{client}"), ITEM_SK)
}

/// Every client with settings, by id, for the settings list.
pub const CLIENT_SETTINGS_LIST: &str = "CONFIG#clients";

pub fn client_settings_index(client: &ClientId) -> Vec<IndexKey> {
    vec![IndexKey {
        index: Index::Gsi1,
        pk: CLIENT_SETTINGS_LIST.into(),
        sk: client.to_string(),
    }]
}

/// The admin-edited theme lexicon (one record, versioned).
pub fn lexicon() -> Key {
    Key::new("CONFIG#lexicon".into(), ITEM_SK)
}

pub fn improvement(id: &ImprovementId) -> Key {
    Key::new(format!("IMPROVEMENT#{id}"), ITEM_SK)
}

/// Activity entries are keyed by the version their change produced: unique per
/// item and in the order the changes were made.
pub fn activity(owner: &Key, version: u64) -> Key {
    Key {
        pk: owner.pk.clone(),
        sk: format!("{ACTIVITY_PREFIX}{version:010}"),
    }
}

pub const ACTIVITY_PREFIX: &str = "ACT#";

/// A person's surveys (by the keyed hash of their debtor or contact id), for erasure.
pub fn person_surveys(person: &ContactKey) -> String {
    format!("PERSON#{person}")
}

/// That an erasure happened, kept without the person's id.
pub fn erasure(person: &ContactKey, at: jiff::Timestamp) -> Key {
    Key::new(format!("ERASURE#{person}"), &sort_key(at))
}

/// Answers by kind and month, oldest first (for exports).
pub fn answers_by_month(kind: SurveyKind, month: &str) -> String {
    format!("ANSWERS#{}#{month}", kind.as_str())
}

pub fn answer_index(a: &crate::domain::survey::Answer) -> Vec<IndexKey> {
    vec![IndexKey {
        index: Index::Gsi1,
        pk: answers_by_month(a.kind, &a.answered_at.strftime("%Y-%m").to_string()),
        sk: format!("{}#{}", sort_key(a.answered_at), a.survey_id),
    }]
}

/// The indexes an answered survey is no longer listed in: the send, expiry and
/// reminder work lists. Answering writes the survey without reading it, removing
/// these entries by name (only the person's listing, `gsi3`, stays).
pub const ANSWERED_LEAVES: [Index; 2] = [Index::Gsi1, Index::Gsi2];

/// The index entries a survey has in its current state.
pub fn survey_index(s: &Survey) -> Vec<IndexKey> {
    let mut out = Vec::new();
    if let Some(person) = &s.subject.person {
        out.push(IndexKey {
            index: Index::Gsi3,
            pk: person_surveys(person),
            sk: format!("{}#{}", sort_key(s.created_at), s.id),
        });
    }
    match s.state {
        SurveyState::Scheduled => {
            let at = s.send_at.unwrap_or(s.created_at);
            out.push(IndexKey {
                index: Index::Gsi1,
                pk: DUE_SEND.into(),
                sk: format!("{}#{}", sort_key(at), s.id),
            });
        }
        // Listed when its claim runs out: the schedule then records `send_unknown`.
        SurveyState::Sending => {
            let at = s.claim.as_ref().map_or(s.created_at, |c| c.lease_until);
            out.push(IndexKey {
                index: Index::Gsi1,
                pk: DUE_SEND.into(),
                sk: format!("{}#{}", sort_key(at), s.id),
            });
        }
        SurveyState::Sent => {
            out.push(IndexKey {
                index: Index::Gsi1,
                pk: DUE_EXPIRE.into(),
                sk: format!("{}#{}", sort_key(s.expires_at), s.id),
            });
            // Only NPS surveys get a reminder, so only they wait in this partition.
            if s.kind == SurveyKind::Nps && s.reminded_at.is_none() {
                let at = s.sent_at.unwrap_or(s.created_at);
                out.push(IndexKey {
                    index: Index::Gsi2,
                    pk: SENT_UNREMINDED.into(),
                    sk: format!("{}#{}", sort_key(at), s.id),
                });
            }
        }
        SurveyState::Answered
        | SurveyState::Expired
        | SurveyState::Failed
        | SurveyState::SendUnknown => {}
    }
    out
}

/// Exclusive upper bound for index sort keys `<sort key of t>#…`: every entry at or
/// before `t` sorts below it (`$` follows `#`).
pub fn up_to(t: jiff::Timestamp) -> String {
    format!("{}$", sort_key(t))
}

/// One channel's send count in one second (see [`crate::ports::SendQuota`]).
pub fn send_slots(channel: crate::domain::survey::Channel, second: i64) -> Key {
    Key::new(format!("RATE#{}#{second}", channel.as_str()), "RATE")
}

/// Where one month's NPS wave stands (`YYYY-MM`).
pub fn wave_progress(month: &str) -> Key {
    Key::new(format!("WAVE#{month}"), "PROGRESS")
}

pub fn wave(month: u8) -> String {
    format!("WAVE#{month:02}")
}

pub fn creditor_index(c: &crate::domain::creditor::CreditorContact) -> Vec<IndexKey> {
    let sk = format!("{}#{}", c.client_id, c.contact_id);
    let mut out = vec![IndexKey {
        index: Index::Gsi1,
        pk: wave(c.wave_month()),
        sk: sk.clone(),
    }];
    if let Some(person) = &c.person {
        out.push(IndexKey {
            index: Index::Gsi3,
            pk: person_contacts(person),
            sk,
        });
    }
    out
}

/// The creditor contact records of one person (a contact id may be known to
/// several clients), for erasure.
pub fn person_contacts(person: &ContactKey) -> String {
    format!("PERSONCONTACT#{person}")
}

pub fn feedback_team_status(team: &TeamId, status: FeedbackStatus) -> String {
    format!("FBTS#{team}#{}", status.as_str())
}

pub fn feedback_status(status: FeedbackStatus) -> String {
    format!("FBS#{}", status.as_str())
}

pub fn feedback_team(team: &TeamId) -> String {
    format!("FBT#{team}")
}

/// Where a feedback listing reads, for both stores: the index partition of its
/// scope, the order, and the bound. Listings by status run by due date and may stop
/// at `due_before` (the overdue view); a team's listing runs newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackListing {
    pub index: Index,
    pub pk: String,
    pub reverse: bool,
    /// Sort keys strictly below this one only.
    pub below: Option<String>,
}

pub fn feedback_listing(query: &FeedbackQuery) -> FeedbackListing {
    let by_due = |index, pk| FeedbackListing {
        index,
        pk,
        reverse: false,
        below: query.due_before.map(|d| d.to_string()),
    };
    match &query.scope {
        FeedbackScope::TeamStatus(team, status) => {
            by_due(Index::Gsi1, feedback_team_status(team, *status))
        }
        FeedbackScope::Status(status) => by_due(Index::Gsi2, feedback_status(*status)),
        FeedbackScope::Team(team) => FeedbackListing {
            index: Index::Gsi3,
            pk: feedback_team(team),
            reverse: true,
            below: None,
        },
    }
}

pub fn feedback_index(f: &FeedbackItem) -> Vec<IndexKey> {
    let due = format!("{}#{}", f.due_on, f.id);
    vec![
        IndexKey {
            index: Index::Gsi1,
            pk: feedback_team_status(&f.team, f.status),
            sk: due.clone(),
        },
        IndexKey {
            index: Index::Gsi2,
            pk: feedback_status(f.status),
            sk: due,
        },
        IndexKey {
            index: Index::Gsi3,
            pk: feedback_team(&f.team),
            sk: format!("{}#{}", sort_key(f.created_at), f.id),
        },
    ]
}

pub fn improvement_status(status: ImprovementStatus) -> String {
    format!("IMPS#{}", status.as_str())
}

pub fn improvement_index(i: &Improvement) -> Vec<IndexKey> {
    vec![IndexKey {
        index: Index::Gsi1,
        pk: improvement_status(i.status),
        sk: format!("{}#{}", sort_key(i.created_at), i.id),
    }]
}
