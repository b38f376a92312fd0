//! The console's banners after a form: the redirect carries a code, the page shows
//! a fixed sentence for it. A link cannot put words of its own into a banner.

/// The sentence for `code`; any code not listed gets the generic one.
pub fn banner(code: &str) -> &'static str {
    match code {
        "unknown_status" => "That status is not one this item can move to.",
        "unknown_improvement" => "There is no such improvement.",
        "invalid_status" => "That status change is not allowed from here.",
        "invalid_assignee" => "An assignee is at most 100 characters.",
        "invalid_note" => "A note is at most 2,000 characters.",
        "invalid_improvement_id" => "That improvement is not one of your team's.",
        "invalid_title" => "An improvement needs a title of at most 200 characters.",
        "invalid_description" => "A description is at most 4,000 characters.",
        "invalid_team" => "That is not a team you lead.",
        _ => "That was not saved. Please try again.",
    }
}

/// The code for a refused field (`invalid_<field>`, or the generic one).
pub fn invalid(field: &str) -> String {
    let code = format!("invalid_{field}");
    if banner(&code) == banner("") {
        "not_saved".into()
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_shows_its_sentence_and_anything_else_the_generic_one() {
        assert_eq!(
            banner("invalid_note"),
            "A note is at most 2,000 characters."
        );
        assert_eq!(invalid("note"), "invalid_note");
        assert_eq!(invalid("password"), "not_saved");
        for crafted in ["Your account is locked: call +46 70 123", "<script>", ""] {
            assert_eq!(banner(crafted), "That was not saved. Please try again.");
        }
    }
}
