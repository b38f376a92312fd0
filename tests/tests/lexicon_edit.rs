//! Editing the theme lexicon in the console: the text form reads back what it
//! wrote, names the line of each mistake, and a preview on the newest comments
//! shows which would be tagged differently, on both stores.

#![allow(clippy::unwrap_used)]

use kundpuls::app::themes::PREVIEW_COMMENTS;
use kundpuls::domain::ids::TeamId;
use kundpuls::domain::lexicon_edit::preview;
use kundpuls::domain::themes::Lexicon;
use kundpuls_tests::answers::{always, answer};
use kundpuls_tests::{Harness, app};

#[test]
fn the_text_form_reads_back_the_built_in_lexicon() {
    let built_in = Lexicon::default();
    let text = built_in.to_text();
    assert!(text.contains("sv waiting_and_reachability: "), "{text}");
    let read = Lexicon::from_text(&text).unwrap().validated().unwrap();
    assert_eq!(read, built_in.validated().unwrap());
}

#[test]
fn each_mistake_names_its_line() {
    let problems = Lexicon::from_text(
        "# a comment\n\nsv praise: tack\nxx praise: thanks\nsv praise tack\nsv two words: x\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].starts_with("line 4: unknown language"));
    assert!(problems[1].starts_with("line 5:"));
    assert!(problems[2].starts_with("line 6:"));
}

async fn a_preview_shows_what_an_edit_would_change(
    h: &Harness,
    services: &kundpuls::app::Services,
) {
    // Three comments: one about waiting, one the built-in lexicon does not tag,
    // one about tone.
    for (n, comment) in [
        (1, "Lång kö i telefon"),
        (2, "Handläggaren var Kalle"),
        (3, "Otrevlig handläggare"),
    ] {
        let a = answer(h, services, n, 2, Some(comment), false).await;
        services.route_answer(&a).await.unwrap();
    }
    let team = TeamId::parse("energy").unwrap();
    let items = services
        .recent_comments(std::slice::from_ref(&team), PREVIEW_COMMENTS)
        .await
        .unwrap();
    assert_eq!(items.len(), 3, "every routed comment, newest first");
    assert!(items.windows(2).all(|w| w[0].created_at >= w[1].created_at));

    let current = services.stored_lexicon().await.unwrap().lexicon;
    let edited = Lexicon::from_text(&format!("{}sv praise: kalle\n", current.to_text()))
        .unwrap()
        .validated()
        .unwrap();
    let result = preview(&current, &edited, &items);
    assert_eq!(result.comments, 3);
    assert_eq!(result.changes.len(), 1);
    let change = &result.changes[0];
    assert_eq!(
        change.item.comment.as_deref(),
        Some("Handläggaren var Kalle")
    );
    assert_eq!(change.added, vec!["praise".to_string()]);
    assert!(change.removed.is_empty());
    let (now, then) = result.per_theme["praise"];
    assert_eq!(then, now + 1);
    // The same lexicon changes nothing.
    assert!(preview(&current, &current, &items).changes.is_empty());
}

#[tokio::test]
async fn a_preview_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    a_preview_shows_what_an_edit_would_change(&h, &services).await;
}

#[tokio::test]
async fn a_preview_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    a_preview_shows_what_an_edit_would_change(&h, &services).await;
}
