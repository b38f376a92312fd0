//! One conformance suite, two stores: every case below runs against the embedded
//! store (`embedded::…`) and against a fresh DynamoDB table on the local
//! DynamoDB-compatible server (`dynamodb::…`). A difference between them is a bug.

mod cases;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = kundpuls_tests::Harness::embedded().await;
                    super::cases::$name(&h).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = kundpuls_tests::Harness::dynamodb().await;
                    super::cases::$name(&h).await;
                }
            )*
        }
    };
}

conformance!(
    create_is_idempotent_under_ten_sequential_replays,
    create_is_idempotent_under_ten_concurrent_replays,
    ten_concurrent_claims_on_one_survey_leave_one_holder,
    token_hash_finds_its_survey_and_nothing_else,
    answer_is_recorded_once_under_a_hundred_concurrent_submits,
    every_link_of_a_survey_shows_its_answer,
    expired_survey_refuses_answers_and_is_listed_for_expiry,
    scheduled_survey_is_due_from_its_send_time_and_sent_once,
    failed_send_erases_the_recipient_and_keeps_the_reason,
    reminder_is_noted_once,
    opt_out_is_idempotent_and_can_be_undone,
    a_suppression_is_kept_from_the_first_time_and_apart_from_opt_out,
    fatigue_window_blocks_a_second_survey_to_the_same_contact,
    concurrent_events_for_one_contact_create_one_survey_within_fatigue,
    counters_apply_exactly_once_under_redelivery,
    concurrent_edit_is_reported_as_a_conflict_and_logged_once,
    feedback_moves_between_status_listings_when_saved,
    cursor_pagination_loses_and_repeats_nothing,
    overdue_filter_lists_items_due_before_a_date,
    creditor_wave_pages_cover_every_contact_once,
    improvements_are_versioned_and_listed_by_status,
    a_foreign_cursor_is_rejected,
    every_recorded_answer_reaches_the_change_feed,
    linking_saves_item_and_improvement_together_or_neither,
    the_lexicon_is_stored_versioned_and_logged,
    client_settings_are_versioned_and_listed_by_client,
);
