//! Triage: team leads work the feedback queue and group items into improvements.
//! Every change is a versioned save with one activity entry, so a concurrent edit is
//! reported, never lost. Who may see what is decided by the caller (the web layer
//! checks teams before calling in here).

use super::Services;
use crate::domain::backlog::{
    Activity, FeedbackItem, FeedbackStatus, Improvement, ImprovementStatus, MAX_LINKED, Priority,
};
use crate::domain::ids::{FeedbackId, ImprovementId, TeamId};
use crate::domain::survey::SurveyKind;
use crate::domain::text::clean;
use crate::ports::{
    FeedbackQuery, FeedbackScope, Page, PageRequest, SaveOutcome, StoreError, VersionedWrite,
};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize};

/// Notes are kept whole in the activity log, up to this many characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
pub const MAX_ASSIGNEE_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// A filtered listing reads at most this many items from the index per request;
/// when it stops early the page is short and `next` continues from there.
pub const MAX_SCANNED: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("not found")]
    NotFound,
    /// Someone saved first; the caller should reload.
    #[error("changed by someone else: the current version is {current}")]
    Conflict { current: u64 },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> TriageError {
    TriageError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A change to a feedback item. Absent fields stay as they are; `null` clears.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPatch {
    pub status: Option<FeedbackStatus>,
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<String>>,
    pub note: Option<String>,
    /// `true`: the respondent was contacted now (closing the loop).
    pub contacted: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub improvement_id: Option<Option<ImprovementId>>,
}

/// A change to an improvement.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementPatch {
    pub status: Option<ImprovementStatus>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewImprovement {
    /// Not blank; up to 200 characters.
    #[schema(pattern = "\\S", max_length = 200)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub team: TeamId,
}

/// Filters on top of the index a listing reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackFilter {
    pub priority: Option<Priority>,
    pub theme: Option<String>,
    pub kind: Option<SurveyKind>,
    /// Only items due strictly before this date.
    pub due_before: Option<Date>,
}

impl FeedbackFilter {
    pub fn matches(&self, item: &FeedbackItem) -> bool {
        self.priority.is_none_or(|p| item.priority == p)
            && self.kind.is_none_or(|k| item.kind == k)
            && self
                .theme
                .as_ref()
                .is_none_or(|t| item.themes.iter().any(|x| x == t))
            && self.due_before.is_none_or(|d| item.due_on < d)
    }
}

/// A feedback item with its activity log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    pub item: FeedbackItem,
    pub activity: Vec<Activity>,
    pub improvement: Option<Improvement>,
}

/// An improvement with the figures the board ranks by.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImprovementSummary {
    #[serde(flatten)]
    pub improvement: Improvement,
    pub linked_count: usize,
    pub low_scores: usize,
    pub clients_affected: usize,
    pub top_themes: Vec<(String, usize)>,
    pub impact: usize,
}

impl From<Improvement> for ImprovementSummary {
    fn from(improvement: Improvement) -> Self {
        Self {
            linked_count: improvement.linked.len(),
            low_scores: improvement.low_scores(),
            clients_affected: improvement.clients().len(),
            top_themes: improvement.themes().into_iter().take(5).collect(),
            impact: improvement.impact(),
            improvement,
        }
    }
}

/// An edit applies only to the version it was made on.
fn at_version(found: u64, expected: u64) -> Result<(), TriageError> {
    if found == expected {
        Ok(())
    } else {
        Err(TriageError::Conflict { current: found })
    }
}

/// A versioned save as the edit's result: the record's new version, or why not.
fn saved(outcome: SaveOutcome, expected: u64) -> Result<u64, TriageError> {
    match outcome {
        SaveOutcome::Saved => Ok(expected + 1),
        SaveOutcome::Conflict { current } => Err(TriageError::Conflict { current }),
        SaveOutcome::NotFound => Err(TriageError::NotFound),
    }
}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), TriageError> {
    if s.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok(())
}

/// How many feedback items one status holds, up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCount {
    pub status: FeedbackStatus,
    pub count: usize,
    /// There are more than `count`.
    pub more: bool,
}

impl Services {
    /// One page of the queue: the index for `scope`, filtered, `limit` items at most.
    pub async fn list_feedback(
        &self,
        scope: FeedbackScope,
        filter: &FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError> {
        let limit = page.clamped_limit();
        // A status index sorts by due date: let it apply the overdue bound itself.
        let index_due = match scope {
            FeedbackScope::Team(_) => None,
            _ => filter.due_before,
        };
        let query = FeedbackQuery {
            scope,
            due_before: index_due,
        };
        let mut items = Vec::new();
        let mut cursor = page.cursor;
        let mut scanned = 0;
        loop {
            // Ask only for what is still missing, so the cursor never skips a match.
            let want = limit - items.len();
            let got = self
                .backlog
                .list_feedback(
                    &query,
                    PageRequest {
                        cursor: cursor.clone(),
                        limit: want,
                    },
                )
                .await?;
            scanned += got.items.len();
            items.extend(got.items.into_iter().filter(|i| filter.matches(i)));
            cursor = got.next;
            if items.len() >= limit || cursor.is_none() || scanned >= MAX_SCANNED {
                return Ok(Page {
                    items,
                    next: cursor,
                });
            }
        }
    }

    /// How many items each status holds for `team` (all teams if `None`), counting
    /// up to `cap` per status.
    pub async fn count_feedback(
        &self,
        team: Option<&TeamId>,
        cap: usize,
    ) -> Result<Vec<StatusCount>, StoreError> {
        let mut out = Vec::new();
        for &status in FeedbackStatus::ALL {
            let scope = match team {
                Some(t) => FeedbackScope::TeamStatus(t.clone(), status),
                None => FeedbackScope::Status(status),
            };
            let query = FeedbackQuery {
                scope,
                due_before: None,
            };
            let mut n = 0;
            let mut cursor = None;
            loop {
                let page = self
                    .backlog
                    .list_feedback(
                        &query,
                        PageRequest {
                            cursor,
                            limit: 1000,
                        },
                    )
                    .await?;
                n += page.items.len();
                cursor = page.next;
                if cursor.is_none() || n >= cap {
                    break;
                }
            }
            out.push(StatusCount {
                status,
                count: n.min(cap),
                more: n >= cap && cursor.is_some(),
            });
        }
        Ok(out)
    }

    pub async fn feedback_view(&self, id: &FeedbackId) -> Result<Option<FeedbackView>, StoreError> {
        let Some(item) = self.backlog.get_feedback(id).await? else {
            return Ok(None);
        };
        let activity = self.backlog.feedback_activity(id).await?;
        let improvement = match &item.improvement_id {
            Some(imp) => self.backlog.get_improvement(imp).await?,
            None => None,
        };
        Ok(Some(FeedbackView {
            item,
            activity,
            improvement,
        }))
    }

    /// Applies `patch` if the item is still at `expected_version`. Linking to an
    /// improvement saves the item and the improvement(s) together; `may_link` says
    /// whether the caller may touch a given improvement (its team).
    pub async fn update_feedback(
        &self,
        id: &FeedbackId,
        expected_version: u64,
        patch: &FeedbackPatch,
        actor: &str,
        now: Timestamp,
        may_link: &(dyn Fn(&Improvement) -> bool + Sync),
    ) -> Result<FeedbackItem, TriageError> {
        let Some(current) = self.backlog.get_feedback(id).await? else {
            return Err(TriageError::NotFound);
        };
        at_version(current.version, expected_version)?;
        let mut item = current.clone();
        let mut changes = Vec::new();
        if let Some(to) = patch.status
            && to != item.status
        {
            if !item.status.can_move_to(to) {
                return Err(invalid(
                    "status",
                    format!(
                        "cannot move from {} to {}",
                        item.status.as_str(),
                        to.as_str()
                    ),
                ));
            }
            changes.push(format!(
                "status: {} → {}",
                item.status.as_str(),
                to.as_str()
            ));
            item.status = to;
            item.closed_at = (!to.is_open()).then_some(now);
        }
        if let Some(assignee) = &patch.assignee {
            let assignee = assignee
                .as_deref()
                .map(clean)
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty());
            if let Some(a) = &assignee {
                check_len("assignee", a, MAX_ASSIGNEE_CHARS)?;
            }
            if assignee != item.assignee {
                changes.push(match &assignee {
                    Some(a) => format!("assigned to {a}"),
                    None => "unassigned".to_string(),
                });
                item.assignee = assignee;
            }
        }
        if let Some(contacted) = patch.contacted
            && contacted != item.contacted_at.is_some()
        {
            item.contacted_at = contacted.then_some(now);
            changes.push(if contacted {
                "respondent contacted".to_string()
            } else {
                "respondent contact undone".to_string()
            });
        }
        let note = patch.note.as_deref().map(clean);
        if let Some(note) = note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            check_len("note", note, MAX_NOTE_CHARS)?;
            changes.push(format!("note: {note}"));
        }
        let mut writes = Vec::new();
        if let Some(target) = &patch.improvement_id
            && *target != item.improvement_id
        {
            if let Some(old_id) = &item.improvement_id
                && let Some(mut old) = self.backlog.get_improvement(old_id).await?
            {
                let expected = old.version;
                old.unlink(&item.id);
                writes.push(VersionedWrite::Improvement {
                    activity: Activity::new(now, actor, format!("unlinked {}", item.id)),
                    item: old,
                    expected_version: expected,
                });
            }
            if let Some(new_id) = target {
                let Some(mut imp) = self.backlog.get_improvement(new_id).await? else {
                    return Err(invalid("improvement_id", "no such improvement"));
                };
                if !may_link(&imp) {
                    return Err(invalid("improvement_id", "not an improvement of your team"));
                }
                let expected = imp.version;
                if !imp.link(&item) {
                    return Err(invalid(
                        "improvement_id",
                        format!("the improvement already has {MAX_LINKED} items"),
                    ));
                }
                writes.push(VersionedWrite::Improvement {
                    activity: Activity::new(now, actor, format!("linked {}", item.id)),
                    item: imp,
                    expected_version: expected,
                });
                changes.push(format!("linked to improvement {new_id}"));
            } else {
                changes.push("unlinked from its improvement".to_string());
            }
            item.improvement_id = target.clone();
        }
        if changes.is_empty() {
            return Ok(current);
        }
        let activity = Activity::new(now, actor, changes.join("; "));
        let outcome = if writes.is_empty() {
            self.backlog
                .save_feedback(&item, expected_version, &activity)
                .await?
        } else {
            writes.insert(
                0,
                VersionedWrite::Feedback {
                    item: Box::new(item.clone()),
                    expected_version,
                    activity,
                },
            );
            self.backlog.save_all(&writes).await?
        };
        item.version = saved(outcome, expected_version)?;
        // A held answer accepted as a person's (or a dismissed one reopened): from
        // now on it counts, once.
        if item.suspect && item.status.is_open() && item.status != FeedbackStatus::Review {
            self.accept_held(&item).await?;
        }
        Ok(item)
    }

    pub async fn create_improvement(
        &self,
        new: NewImprovement,
        actor: &str,
        now: Timestamp,
    ) -> Result<Improvement, TriageError> {
        let title = clean(&new.title).trim().to_string();
        if title.is_empty() {
            return Err(invalid("title", "required"));
        }
        check_len("title", &title, MAX_TITLE_CHARS)?;
        let description = clean(&new.description).trim().to_string();
        check_len("description", &description, MAX_DESCRIPTION_CHARS)?;
        let imp = Improvement {
            id: ImprovementId::generate(),
            title,
            description,
            team: new.team,
            status: ImprovementStatus::Proposed,
            created_at: now,
            linked: Vec::new(),
            version: 1,
        };
        let activity = Activity::new(now, actor, "proposed");
        self.backlog.create_improvement(&imp, &activity).await?;
        Ok(imp)
    }

    pub async fn update_improvement(
        &self,
        id: &ImprovementId,
        expected_version: u64,
        patch: &ImprovementPatch,
        actor: &str,
        now: Timestamp,
    ) -> Result<Improvement, TriageError> {
        let Some(current) = self.backlog.get_improvement(id).await? else {
            return Err(TriageError::NotFound);
        };
        at_version(current.version, expected_version)?;
        let mut imp = current.clone();
        let mut changes = Vec::new();
        if let Some(to) = patch.status
            && to != imp.status
        {
            changes.push(format!("status: {} → {}", imp.status.as_str(), to.as_str()));
            imp.status = to;
        }
        let title = patch.title.as_deref().map(clean);
        if let Some(title) = title.as_deref().map(str::trim)
            && title != imp.title
        {
            if title.is_empty() {
                return Err(invalid("title", "required"));
            }
            check_len("title", title, MAX_TITLE_CHARS)?;
            changes.push(format!("title: {title}"));
            imp.title = title.to_string();
        }
        let description = patch.description.as_deref().map(clean);
        if let Some(description) = description.as_deref().map(str::trim)
            && description != imp.description
        {
            check_len("description", description, MAX_DESCRIPTION_CHARS)?;
            changes.push("description edited".to_string());
            imp.description = description.to_string();
        }
        if changes.is_empty() {
            return Ok(current);
        }
        let activity = Activity::new(now, actor, changes.join("; "));
        let outcome = self
            .backlog
            .save_improvement(&imp, expected_version, &activity)
            .await?;
        imp.version = saved(outcome, expected_version)?;
        Ok(imp)
    }

    /// The improvement board: every improvement of the given statuses that `visible`
    /// allows, ranked by impact (then newest). Reads at most 1,000 per status.
    pub async fn improvement_board(
        &self,
        statuses: &[ImprovementStatus],
        visible: &(dyn Fn(&Improvement) -> bool + Sync),
    ) -> Result<Vec<ImprovementSummary>, StoreError> {
        let mut out = Vec::new();
        for status in statuses {
            let mut cursor = None;
            let mut read = 0;
            loop {
                let page = self
                    .backlog
                    .list_improvements(*status, PageRequest { cursor, limit: 200 })
                    .await?;
                read += page.items.len();
                out.extend(
                    page.items
                        .into_iter()
                        .filter(|i| visible(i))
                        .map(ImprovementSummary::from),
                );
                cursor = page.next;
                if cursor.is_none() || read >= 1000 {
                    break;
                }
            }
        }
        out.sort_by(|a, b| {
            b.impact
                .cmp(&a.impact)
                .then_with(|| b.improvement.created_at.cmp(&a.improvement.created_at))
        });
        Ok(out)
    }
}

/// What [`Services::change_feedback`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Changed {
    Saved,
    /// The item needed no change.
    NothingToDo,
    /// No such item.
    Missing,
}

impl Services {
    /// A change the system makes to one item on its own (an erasure, the retention
    /// ceiling): `change` edits the item and says whether there was anything to
    /// do; the item is saved under its version check with `action` in its log, and
    /// read again on a race.
    pub(crate) async fn change_feedback(
        &self,
        op: &'static str,
        id: &FeedbackId,
        actor: &str,
        action: &str,
        now: Timestamp,
        change: impl Fn(&mut FeedbackItem) -> bool,
    ) -> Result<Changed, StoreError> {
        for _ in 0..5 {
            let Some(mut item) = self.backlog.get_feedback(id).await? else {
                return Ok(Changed::Missing);
            };
            let expected = item.version;
            if !change(&mut item) {
                return Ok(Changed::NothingToDo);
            }
            let activity = Activity::new(now, actor, action);
            match self
                .backlog
                .save_feedback(&item, expected, &activity)
                .await?
            {
                SaveOutcome::Saved => return Ok(Changed::Saved),
                SaveOutcome::NotFound => return Ok(Changed::Missing),
                SaveOutcome::Conflict { .. } => continue,
            }
        }
        Err(StoreError::unavailable(op, "the item kept changing"))
    }
}
