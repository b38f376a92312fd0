//! The creditor contact's NPS email: plain text and HTML, the 0–10 scale as eleven
//! links, a hidden honeypot link for mail scanners, and one-click unsubscribe.

use super::texts;
use crate::domain::locale::Language;
use askama::Template;

/// What goes into one NPS email.
#[derive(Debug, Clone)]
pub struct NpsEmailInput<'a> {
    pub language: Language,
    /// The name the email speaks in: the client's, or the agency's.
    pub agency: &'a str,
    /// The data controller the privacy line names: always the agency.
    pub controller: &'a str,
    /// The agency's privacy notice, if configured.
    pub privacy_url: Option<&'a str>,
    pub contact_name: &'a str,
    pub account_manager: &'a str,
    /// `https://…/s/<token>`.
    pub link: &'a str,
    pub reminder: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers: `List-Unsubscribe` and `List-Unsubscribe-Post`.
    pub headers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "nps_email.html")]
struct NpsEmailHtml<'a> {
    lang: &'a str,
    dir: &'a str,
    subject: &'a str,
    /// The line mail clients show after the subject in the inbox.
    preheader: &'a str,
    greeting: &'a str,
    question: &'a str,
    how: &'a str,
    low: &'a str,
    high: &'a str,
    manager: &'a str,
    opt_out: &'a str,
    opt_out_link: &'a str,
    privacy: &'a str,
    privacy_notice: &'a str,
    privacy_url: Option<&'a str>,
    honeypot_link: &'a str,
    /// The scale in two rows, 0–5 and 6–10: narrow enough for a 320 px screen
    /// without a media query.
    rows: Vec<Vec<(u8, String)>>,
}

fn fill(template: &str, input: &NpsEmailInput<'_>) -> String {
    template
        .replace("{agency}", input.agency)
        .replace("{name}", input.contact_name)
        .replace("{manager}", input.account_manager)
}

/// `<link>?score=N`: the page opens with N chosen; only a POST records it.
pub fn score_link(link: &str, score: u8) -> String {
    format!("{link}?score={score}")
}

pub fn opt_out_link(link: &str) -> String {
    format!("{link}/opt-out")
}

/// A link no person sees or follows: a request for it marks an automated reader.
pub fn honeypot_link(link: &str) -> String {
    format!("{link}?via=preview")
}

pub fn render_nps(input: &NpsEmailInput<'_>) -> Result<RenderedEmail, askama::Error> {
    let t = texts(input.language);
    let mut subject = fill(t.email_subject, input);
    if input.reminder {
        subject = format!("{}{subject}", t.email_reminder_prefix);
    }
    let greeting = if input.contact_name.trim().is_empty() {
        t.email_greeting
            .replace(" {name},", ",")
            .replace(" {name}", "")
    } else {
        fill(t.email_greeting, input)
    };
    let question = fill(t.email_question, input);
    let manager = if input.account_manager.trim().is_empty() {
        String::new()
    } else {
        fill(t.email_manager, input)
    };
    let opt_out = opt_out_link(input.link);
    let scores: Vec<(u8, String)> = (0..=10).map(|s| (s, score_link(input.link, s))).collect();

    let mut text = format!("{greeting}\n\n{question}\n\n{}\n\n", t.email_how);
    text.push_str(&format!("0 = {}, 10 = {}\n", t.email_low, t.email_high));
    for (s, link) in &scores {
        text.push_str(&format!("{s:>2}: {link}\n"));
    }
    if !manager.is_empty() {
        text.push_str(&format!("\n{manager}\n"));
    }
    text.push_str(&format!("\n{}: {opt_out}\n", t.email_opt_out));
    let page = super::page::page_texts(input.language);
    let privacy = page
        .privacy_controller
        .replace("{controller}", input.controller);
    match input.privacy_url {
        Some(url) => text.push_str(&format!("\n{privacy} {}: {url}\n", page.privacy_notice)),
        None => text.push_str(&format!("\n{privacy}\n")),
    }

    let rows = vec![scores[..6].to_vec(), scores[6..].to_vec()];
    let html = NpsEmailHtml {
        lang: input.language.code(),
        dir: input.language.dir(),
        subject: &subject,
        preheader: &question,
        greeting: &greeting,
        question: &question,
        how: t.email_how,
        low: t.email_low,
        high: t.email_high,
        manager: &manager,
        opt_out: t.email_opt_out,
        opt_out_link: &opt_out,
        privacy: &privacy,
        privacy_notice: page.privacy_notice,
        privacy_url: input.privacy_url,
        honeypot_link: &honeypot_link(input.link),
        rows,
    }
    .render()?;

    Ok(RenderedEmail {
        subject,
        text,
        html,
        headers: vec![
            ("List-Unsubscribe".into(), format!("<{opt_out}>")),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::messages::money_words;

    /// What a reader sees of the HTML: the text between tags.
    fn visible_text(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }

    fn input(language: Language, reminder: bool) -> NpsEmailInput<'static> {
        NpsEmailInput {
            language,
            agency: "Nordkredit",
            controller: "Nordkredit AB",
            privacy_url: Some("https://nordkredit.example/integritet"),
            contact_name: "Karin Berg",
            account_manager: "Anna Lind",
            link: "https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA",
            reminder,
        }
    }

    #[test]
    fn the_email_has_eleven_score_links_in_both_parts() {
        for &lang in Language::ALL {
            let e = render_nps(&input(lang, false)).expect("renders");
            for s in 0..=10 {
                let link = score_link("https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA", s);
                assert!(e.text.contains(&link), "{lang} text lacks score {s}");
                assert!(
                    e.html.contains(&format!("href=\"{link}\"")),
                    "{lang} html lacks score {s}"
                );
            }
            assert!(e.html.contains(&format!("lang=\"{}\"", lang.code())));
            assert!(e.html.contains("Anna Lind") && e.text.contains("Anna Lind"));
        }
    }

    #[test]
    fn unsubscribe_is_one_click_and_linked() {
        let e = render_nps(&input(Language::Sv, false)).expect("renders");
        let opt_out = "https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA/opt-out";
        assert!(
            e.headers
                .contains(&("List-Unsubscribe".into(), format!("<{opt_out}>")))
        );
        assert!(e.headers.contains(&(
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into()
        )));
        assert!(e.html.contains(&format!("href=\"{opt_out}\"")));
        assert!(e.text.contains(opt_out));
    }

    #[test]
    fn the_honeypot_link_is_in_the_html_but_hidden_from_people() {
        let e = render_nps(&input(Language::En, false)).expect("renders");
        let hp = honeypot_link("https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA");
        let at = e.html.find(&hp).expect("honeypot present");
        let tag_start = e.html[..at].rfind("<a").expect("inside a link");
        let tag_end = at + e.html[at..].find('>').expect("tag closes");
        let tag = &e.html[tag_start..tag_end];
        assert!(
            tag.contains("display:none")
                && tag.contains("aria-hidden=\"true\"")
                && tag.contains("tabindex=\"-1\""),
            "{tag}"
        );
        assert!(!e.text.contains(&hp), "the plain text has no honeypot");
    }

    /// Every `href` in the order it appears.
    fn hrefs(html: &str) -> Vec<String> {
        html.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_string))
            .collect()
    }

    /// What Gmail and others do to a message: the `<style>` blocks and every `class`
    /// attribute go.
    fn strip_styles(html: &str) -> String {
        let mut out = String::new();
        let mut rest = html;
        while let Some(at) = rest.find("<style") {
            out.push_str(&rest[..at]);
            rest = rest[at..]
                .split_once("</style>")
                .map_or("", |(_, after)| after);
        }
        out.push_str(rest);
        let mut cleaned = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(" class=\"") {
            cleaned.push_str(&rest[..at]);
            let after = &rest[at + 8..];
            rest = after.split_once('"').map_or("", |(_, tail)| tail);
        }
        cleaned.push_str(rest);
        cleaned
    }

    #[test]
    fn the_html_keeps_its_links_in_order_when_styles_and_classes_are_stripped() {
        for &lang in Language::ALL {
            let e = render_nps(&input(lang, false)).expect("renders");
            let stripped = strip_styles(&e.html);
            assert_eq!(hrefs(&stripped), hrefs(&e.html), "{lang}");
            // Nothing depends on a stylesheet or a class: the layout is inline.
            assert!(
                !e.html.contains("<style") && !e.html.contains(" class="),
                "{lang}"
            );
            let scores: Vec<String> = (0..=10)
                .map(|s| score_link("https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA", s))
                .collect();
            let in_order: Vec<String> = hrefs(&stripped)
                .into_iter()
                .filter(|h| h.contains("?score="))
                .collect();
            assert_eq!(in_order, scores, "{lang}: 0 to 10, in order");
        }
    }

    #[test]
    fn every_text_colour_comes_with_its_background_for_dark_modes() {
        let e = render_nps(&input(Language::Da, false)).expect("renders");
        for style in e.html.split("style=\"").skip(1) {
            let style = style.split('"').next().unwrap_or_default();
            let sets_colour = style
                .split(';')
                .any(|d| d.trim_start().starts_with("color:"));
            if sets_colour {
                assert!(style.contains("background-color:"), "{style}");
            }
        }
    }

    #[test]
    fn the_scale_is_two_rows_and_the_email_has_a_preheader_and_direction() {
        let e = render_nps(&input(Language::Sv, false)).expect("renders");
        let first_row = e
            .html
            .split("</tr>")
            .find(|r| r.contains("?score=0"))
            .expect("row");
        let links = |row: &str| row.matches("?score=").count();
        assert_eq!(links(first_row), 6, "0–5 on the first row");
        let second = e
            .html
            .split("</tr>")
            .find(|r| r.contains("?score=6"))
            .expect("row");
        assert_eq!(links(second), 5, "6–10 on the second row");
        assert!(e.html.contains("dir=\"ltr\""));
        let preheader = e.html.split("mso-hide:all").nth(1).expect("a preheader");
        assert!(
            preheader.contains("Nordkredit"),
            "the question, in the inbox preview"
        );
    }

    #[test]
    fn reminders_say_so_in_the_subject() {
        let e = render_nps(&input(Language::Pl, true)).expect("renders");
        assert!(e.subject.starts_with("Przypomnienie: "), "{}", e.subject);
    }

    #[test]
    fn names_are_escaped_in_html() {
        let mut i = input(Language::En, false);
        i.contact_name = "<script>x</script>";
        let e = render_nps(&i).expect("renders");
        assert!(!e.html.contains("<script>"));
    }

    #[test]
    fn no_template_in_any_language_mentions_money_debt_or_amounts() {
        for &lang in Language::ALL {
            for reminder in [false, true] {
                let e = render_nps(&input(lang, reminder)).expect("renders");
                for part in [&e.subject, &e.text, &visible_text(&e.html)] {
                    assert_eq!(money_words(part), Vec::<String>::new(), "{lang}: {part}");
                }
            }
        }
    }
}
