//! An order's 3-D Secure answers as the back office shows them: which answer, who ran it, its status and
//! ECI, and why liability did or did not shift. Everything is read from the stored row: the provider that
//! authenticated decided liability when it answered, and that decision is shown as stored, never made again
//! here with today's rules.

use super::capitalized;
use crate::domain::{
    card::CardBrand,
    threeds::{Eci, EciMeaning, Enrolled, PaResStatus, SignatureVerification},
};
use crate::server::db::{orders::Provider, payments::ThreeDsRow};

/// One stored answer, in words.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// "3-D Secure lookup", "Challenge result", "Acquirer's own 3-D Secure".
    pub stage: String,
    /// Who ran it: "Verifone".
    pub by: String,
    /// "C (challenge required)", or "–".
    pub status: String,
    /// "05 (authenticated)", or "–".
    pub eci: String,
    pub verdict: Verdict,
    /// Why liability did or did not shift, as one sentence.
    pub liability: String,
}

/// What an answer meant for liability, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Shifted,
    NotShifted,
    /// The issuer asked for a challenge: the challenge's result decides, not this answer.
    AwaitsChallenge,
}

/// The answer `row` of an order whose authenticator and acquirer are these (no authenticator: the acquirer
/// ran 3-D Secure inside its payment), paid with a card of `brand`.
pub fn answer(
    row: &ThreeDsRow,
    authenticator: Option<Provider>,
    acquirer: Provider,
    brand: Option<CardBrand>,
) -> Answer {
    let (stage, by) = match row.stage.as_str() {
        "lookup" => ("3-D Secure lookup".to_owned(), authenticator.unwrap_or(acquirer)),
        "challenge" => ("Challenge result".to_owned(), authenticator.unwrap_or(acquirer)),
        // An acquirer's own 3-D Secure block (Bambora's, inside its payment).
        "provider" => ("Acquirer's own 3-D Secure".to_owned(), acquirer),
        other => (capitalized(&other.replace('_', " ")), authenticator.unwrap_or(acquirer)),
    };
    let pares = row.pares_status.as_deref().and_then(PaResStatus::parse);
    let eci = row.eci_flag.as_deref().and_then(Eci::parse);
    Answer {
        stage,
        by: capitalized(by.as_str()),
        status: pares.map_or_else(|| "–".to_owned(), |p| format!("{p} ({})", p.meaning())),
        eci: eci.as_ref().map_or_else(
            || "–".to_owned(),
            |e| match eci_meaning(e, brand) {
                Some(m) => format!("{e} ({m})"),
                None => e.to_string(),
            },
        ),
        verdict: match (row.liability_shifted, pares) {
            (true, _) => Verdict::Shifted,
            (false, Some(PaResStatus::C)) => Verdict::AwaitsChallenge,
            (false, _) => Verdict::NotShifted,
        },
        liability: liability(row, brand),
    }
}

fn eci_meaning(eci: &Eci, brand: Option<CardBrand>) -> Option<&'static str> {
    Some(match eci.meaning(brand?)? {
        EciMeaning::FullyAuthenticated => "authenticated",
        EciMeaning::Attempted => "attempted",
        EciMeaning::NotAuthenticated => "not authenticated",
    })
}

/// Why liability did or did not shift with this answer, from the stored decision and the stored values.
pub fn liability(row: &ThreeDsRow, brand: Option<CardBrand>) -> String {
    let pares = row.pares_status.as_deref().and_then(PaResStatus::parse);
    let signature = row.signature_verification.as_deref().and_then(SignatureVerification::parse);
    let enrolled = row.enrolled.as_deref().and_then(Enrolled::parse);
    let eci = row.eci_flag.as_deref().and_then(Eci::parse);
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    // An acquirer that authenticated inside its payment stored its own reason with its decision.
    if row.stage == "provider"
        && let Some(reason) = given(&row.status_reason)
    {
        return reason;
    }
    if row.liability_shifted {
        let facts: Vec<String> = [
            pares.map(|p| format!("PAResStatus {p}, {}", p.meaning())),
            (signature == Some(SignatureVerification::Y)).then(|| "signature verified".to_owned()),
            (enrolled == Some(Enrolled::Y)).then(|| "card enrolled".to_owned()),
            eci.map(|e| format!("ECI {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let facts = if facts.is_empty() { String::new() } else { format!(" ({})", facts.join("; ")) };
        return format!("Liability shifted{facts}: the issuer is liable for fraud chargebacks.");
    }
    if pares == Some(PaResStatus::C) {
        return "No shift from this answer: the issuer required a challenge (PAResStatus C), whose result decides."
            .into();
    }
    let mut why = Vec::new();
    if let Some(p) = pares.filter(|p| !matches!(p, PaResStatus::Y | PaResStatus::A)) {
        why.push(format!("PAResStatus was {p} (needs Y or A): {}", p.meaning()));
    }
    if let Some(s) = signature.filter(|s| *s != SignatureVerification::Y) {
        why.push(format!("signature verification was {s} (needs Y)"));
    }
    if let Some(e) = enrolled.filter(|e| *e != Enrolled::Y) {
        why.push(format!("enrolled was {e} (needs Y): {}", e.meaning()));
    }
    if let Some(e) = eci.as_ref().filter(|e| eci_meaning(e, brand) == Some("not authenticated")) {
        why.push(format!("ECI {e} means not authenticated"));
    }
    // Values the rule needs that the answer left blank count only when nothing else explains it.
    if why.is_empty() {
        if pares.is_none() {
            why.push("PAResStatus was blank (needs Y or A)".to_owned());
        }
        if signature.is_none() && row.stage != "provider" {
            why.push("signature verification was blank (needs Y)".to_owned());
        }
    }
    if let Some(r) = given(&row.status_reason) {
        why.push(format!("status reason {r}"));
    }
    // Error number 0 is Cardinal's "Success": no error.
    if let Some(n) = given(&row.error_no).filter(|n| n != "0") {
        why.push(match given(&row.error_desc) {
            Some(d) => format!("error {n}: {d}"),
            None => format!("error {n}"),
        });
    }
    if why.is_empty() {
        return "Liability stays with the merchant: the provider that authenticated recorded no shift for this \
                answer."
            .into();
    }
    format!("Liability stays with the merchant: {}.", why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stage: &str, enrolled: &str, pares: &str, signature: &str, eci: &str, shifted: bool) -> ThreeDsRow {
        let v = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        ThreeDsRow {
            stage: stage.into(),
            enrolled: v(enrolled),
            pares_status: v(pares),
            signature_verification: v(signature),
            eci_flag: v(eci),
            liability_shifted: shifted,
            ..ThreeDsRow::default()
        }
    }

    #[test]
    fn the_stored_decision_is_shown_with_its_reasons() {
        let visa = Some(CardBrand::Visa);
        let cases = [
            (
                row("lookup", "Y", "Y", "Y", "05", true),
                "Liability shifted (PAResStatus Y, authenticated; signature verified; card enrolled; ECI 05): the \
                 issuer is liable for fraud chargebacks.",
            ),
            (
                row("lookup", "Y", "C", "", "", false),
                "No shift from this answer: the issuer required a challenge (PAResStatus C), whose result decides.",
            ),
            (
                row("lookup", "Y", "N", "Y", "07", false),
                "Liability stays with the merchant: PAResStatus was N (needs Y or A): failed; ECI 07 means not \
                 authenticated.",
            ),
            (
                row("lookup", "N", "", "", "07", false),
                "Liability stays with the merchant: enrolled was N (needs Y): issuer does not participate; ECI 07 \
                 means not authenticated.",
            ),
            (
                row("challenge", "Y", "Y", "N", "05", false),
                "Liability stays with the merchant: signature verification was N (needs Y).",
            ),
            (
                row("lookup", "U", "U", "", "", false),
                "Liability stays with the merchant: PAResStatus was U (needs Y or A): unavailable; enrolled was U \
                 (needs Y): enrollment status unavailable.",
            ),
            (
                row("lookup", "", "", "", "", false),
                "Liability stays with the merchant: PAResStatus was blank (needs Y or A); signature verification \
                 was blank (needs Y).",
            ),
            // Stored as not shifted although its values read as authenticated (a challenge answer that did not
            // belong to the order's authentication): shown as stored, not decided again.
            (
                row("challenge", "Y", "Y", "Y", "05", false),
                "Liability stays with the merchant: the provider that authenticated recorded no shift for this \
                 answer.",
            ),
            // Stored as shifted by an acquirer whose answer lacks values another provider's rule would need.
            (
                row("provider", "", "", "", "05", true),
                "Liability shifted (ECI 05): the issuer is liable for fraud chargebacks.",
            ),
            (
                row("provider", "", "", "", "", false),
                "Liability stays with the merchant: PAResStatus was blank (needs Y or A).",
            ),
        ];
        for (r, sentence) in cases {
            assert_eq!(liability(&r, visa), sentence, "{r:?}");
        }
        let success = ThreeDsRow {
            error_no: Some("0".into()),
            error_desc: Some("Success".into()),
            ..row("challenge", "Y", "Y", "Y", "05", false)
        };
        assert!(!liability(&success, visa).contains("Success"), "error 0 is no error");
        let reason = ThreeDsRow {
            status_reason: Some("01".into()),
            error_no: Some("1001".into()),
            error_desc: Some("Card not enrolled in 3DS".into()),
            ..row("lookup", "Y", "R", "", "", false)
        };
        assert_eq!(
            liability(&reason, visa),
            "Liability stays with the merchant: PAResStatus was R (needs Y or A): rejected; status reason 01; error \
             1001: Card not enrolled in 3DS."
        );
    }

    #[test]
    fn each_answer_names_who_ran_it() {
        let lookup = row("lookup", "Y", "C", "", "", false);
        let a = answer(&lookup, Some(Provider::Verifone), Provider::Bambora, Some(CardBrand::Visa));
        assert_eq!(
            (a.stage.as_str(), a.by.as_str(), a.status.as_str(), a.eci.as_str(), a.verdict),
            ("3-D Secure lookup", "Verifone", "C (challenge required)", "–", Verdict::AwaitsChallenge)
        );
        let own = row("provider", "", "Y", "", "02", true);
        let a = answer(&own, None, Provider::Bambora, Some(CardBrand::Mastercard));
        assert_eq!(
            (a.stage.as_str(), a.by.as_str(), a.eci.as_str(), a.verdict),
            ("Acquirer's own 3-D Secure", "Bambora", "02 (authenticated)", Verdict::Shifted)
        );
        let challenge = row("challenge", "Y", "Y", "Y", "05", true);
        assert_eq!(answer(&challenge, None, Provider::Verifone, None).eci, "05", "no brand, no meaning");
        assert_eq!(answer(&challenge, None, Provider::Verifone, None).by, "Verifone");
        let failed = row("challenge", "Y", "N", "Y", "07", false);
        assert_eq!(answer(&failed, None, Provider::Verifone, None).verdict, Verdict::NotShifted);
    }
}
