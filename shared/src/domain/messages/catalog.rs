//! The words, per language. `{agency}`, `{name}`, `{manager}` are filled in when a
//! message is rendered. SMS texts stay in the GSM-7 alphabet (Polish is written
//! without diacritics there) so that they fit one segment.

use crate::domain::locale::Language;

#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub sms_question: &'static str,
    pub sms_opt_out: &'static str,
    pub email_subject: &'static str,
    pub email_reminder_prefix: &'static str,
    pub email_greeting: &'static str,
    pub email_question: &'static str,
    pub email_low: &'static str,
    pub email_high: &'static str,
    pub email_how: &'static str,
    pub email_manager: &'static str,
    pub email_opt_out: &'static str,
}

pub fn texts(language: Language) -> &'static Texts {
    language.pick(&TEXTS)
}

/// In [`Language::ALL`]'s order.
static TEXTS: [Texts; 6] = [SV, EN, PL, DA, NB, FI];

const SV: Texts = Texts {
    sms_question: "Hur var kontakten med oss? Betygsätt 1-5:",
    sms_opt_out: "Avregistrera dig via länken.",
    email_subject: "Skulle du rekommendera {agency}?",
    email_reminder_prefix: "Påminnelse: ",
    email_greeting: "Hej {name},",
    email_question: "Hur troligt är det att du skulle rekommendera {agency} till en kollega eller affärsbekant?",
    email_low: "Inte alls troligt",
    email_high: "Mycket troligt",
    email_how: "Klicka på en siffra. Det tar en minut, och du kan lägga till en kommentar.",
    email_manager: "{manager}, din kundansvarige, läser varje svar.",
    email_opt_out: "Vill du inte få fler enkäter? Avregistrera dig här",
};

const EN: Texts = Texts {
    sms_question: "How was your contact with us? Rate 1-5:",
    sms_opt_out: "Opt out via the link.",
    email_subject: "Would you recommend {agency}?",
    email_reminder_prefix: "Reminder: ",
    email_greeting: "Hello {name},",
    email_question: "How likely are you to recommend {agency} to a colleague or business partner?",
    email_low: "Not at all likely",
    email_high: "Extremely likely",
    email_how: "Click a number. It takes a minute, and you can add a comment.",
    email_manager: "{manager}, your account manager, reads every answer.",
    email_opt_out: "Rather not get these surveys? Unsubscribe here",
};

const PL: Texts = Texts {
    sms_question: "Jak oceniasz kontakt z nami? Ocena 1-5:",
    sms_opt_out: "Rezygnacja przez link.",
    email_subject: "Czy poleciłbyś {agency}?",
    email_reminder_prefix: "Przypomnienie: ",
    email_greeting: "Dzień dobry {name},",
    email_question: "Jak prawdopodobne jest, że polecisz {agency} koledze lub partnerowi biznesowemu?",
    email_low: "Zupełnie nieprawdopodobne",
    email_high: "Bardzo prawdopodobne",
    email_how: "Kliknij liczbę. To zajmie minutę, możesz też dodać komentarz.",
    email_manager: "{manager}, Twój opiekun klienta, czyta każdą odpowiedź.",
    email_opt_out: "Nie chcesz otrzymywać tych ankiet? Wypisz się tutaj",
};

const DA: Texts = Texts {
    sms_question: "Hvordan var kontakten med os? Giv 1-5:",
    sms_opt_out: "Frameld dig via linket.",
    email_subject: "Vil du anbefale {agency}?",
    email_reminder_prefix: "Påmindelse: ",
    email_greeting: "Hej {name},",
    email_question: "Hvor sandsynligt er det, at du vil anbefale {agency} til en kollega eller samarbejdspartner?",
    email_low: "Slet ikke sandsynligt",
    email_high: "Meget sandsynligt",
    email_how: "Klik på et tal. Det tager et minut, og du kan tilføje en kommentar.",
    email_manager: "{manager}, din kundeansvarlige, læser alle svar.",
    email_opt_out: "Ønsker du ikke flere undersøgelser? Frameld dig her",
};

const NB: Texts = Texts {
    sms_question: "Hvordan var kontakten med oss? Gi 1-5:",
    sms_opt_out: "Meld deg av via lenken.",
    email_subject: "Vil du anbefale {agency}?",
    email_reminder_prefix: "Påminnelse: ",
    email_greeting: "Hei {name},",
    email_question: "Hvor sannsynlig er det at du vil anbefale {agency} til en kollega eller samarbeidspartner?",
    email_low: "Svært usannsynlig",
    email_high: "Svært sannsynlig",
    email_how: "Klikk på et tall. Det tar ett minutt, og du kan legge til en kommentar.",
    email_manager: "{manager}, din kundeansvarlige, leser alle svar.",
    email_opt_out: "Vil du ikke ha flere undersøkelser? Meld deg av her",
};

const FI: Texts = Texts {
    sms_question: "Miten yhteydenotto meihin sujui? Arvioi 1-5:",
    sms_opt_out: "Peru kyselyt linkin kautta.",
    email_subject: "{agency}: suosittelisitko meitä?",
    email_reminder_prefix: "Muistutus: ",
    email_greeting: "Hei {name},",
    email_question: "Kuinka todennäköisesti suosittelisit meitä ({agency}) kollegalle tai yhteistyökumppanille?",
    email_low: "Erittäin epätodennäköistä",
    email_high: "Erittäin todennäköistä",
    email_how: "Napsauta numeroa. Se vie minuutin, ja voit lisätä kommentin.",
    email_manager: "{manager}, asiakkuusvastaavasi, lukee jokaisen vastauksen.",
    email_opt_out: "Etkö halua näitä kyselyjä? Peru tilaus tästä",
};
