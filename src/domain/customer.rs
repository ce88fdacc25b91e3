//! What the shopper tells us besides the card: email and billing details, each field checked.

use serde::{Deserialize, Serialize};

/// A field that failed validation and what the person should do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError { field: field.to_owned(), message: message.into() }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingDetails {
    pub first_name: String,
    pub last_name: String,
    pub address_1: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub email: String,
}

const MAX_TEXT: usize = 100;

impl BillingDetails {
    /// Trims every field, upper-cases the country, and reports every problem at once.
    pub fn validated(self) -> Result<BillingDetails, Vec<FieldError>> {
        let clean = BillingDetails {
            first_name: self.first_name.trim().to_owned(),
            last_name: self.last_name.trim().to_owned(),
            address_1: self.address_1.trim().to_owned(),
            city: self.city.trim().to_owned(),
            country: self.country.trim().to_ascii_uppercase(),
            // ASCII only: Unicode case tables would add kilobytes to the browser bundle.
            email: self.email.trim().to_ascii_lowercase(),
        };
        let mut errors = Vec::new();
        for (field, value, label) in [
            ("first_name", &clean.first_name, "first name"),
            ("last_name", &clean.last_name, "last name"),
            ("address_1", &clean.address_1, "address"),
            ("city", &clean.city, "city"),
        ] {
            if let Err(message) = check_text(value, label) {
                errors.push(FieldError::new(field, message));
            }
        }
        if !is_country_code(&clean.country) {
            errors.push(FieldError::new("country", "choose a country"));
        }
        if !is_email(&clean.email) {
            errors.push(FieldError::new("email", "enter an email address such as name@example.com"));
        }
        if errors.is_empty() { Ok(clean) } else { Err(errors) }
    }
}

fn check_text(value: &str, label: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("enter your {label}"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(format!("the {label} must be at most {MAX_TEXT} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("the {label} contains characters that are not allowed"));
    }
    Ok(())
}

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())
}

/// A pragmatic check: one @, a non-empty local part, a dotted domain, no spaces, at most 254 characters.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn good() -> BillingDetails {
        BillingDetails {
            first_name: " Ada ".into(),
            last_name: "Lovelace".into(),
            address_1: "12 St James's Square".into(),
            city: "London".into(),
            country: "gb".into(),
            email: "ada@example.com".into(),
        }
    }

    #[test]
    fn cleans_valid_details() {
        let b = good().validated().unwrap();
        assert_eq!(b.first_name, "Ada");
        assert_eq!(b.country, "GB");
    }

    #[test]
    fn reports_every_bad_field() {
        let bad = BillingDetails { email: "ada@".into(), city: "".into(), country: "GBR".into(), ..good() };
        let fields: Vec<String> = bad.validated().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["city", "country", "email"]);
        let long = BillingDetails { first_name: "x".repeat(101), ..good() };
        assert_eq!(long.validated().unwrap_err()[0].field, "first_name");
    }

    #[test]
    fn emails() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a b@c.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("@b.co"));
        assert!(!is_email("a@b..co"));
        assert!(!is_email("a@b@c.co"));
    }

    proptest! {
        #[test]
        fn accepted_details_are_bounded_and_printable(
            name in "\\PC{0,120}|.{0,3}", city in "[a-zA-Z \\t\u{0}]{0,110}", country in ".{0,3}",
            email in "[a-z@. ]{0,12}|[a-z]{1,250}@[a-z]{1,10}\\.[a-z]{2}",
        ) {
            let details = BillingDetails {
                first_name: name.clone(), last_name: name.clone(), address_1: "1 Main St".into(), city,
                country, email,
            };
            if let Ok(b) = details.validated() {
                for field in [&b.first_name, &b.last_name, &b.address_1, &b.city] {
                    prop_assert!(!field.is_empty() && field.chars().count() <= MAX_TEXT);
                    prop_assert!(!field.chars().any(char::is_control));
                }
                prop_assert!(b.country.len() == 2 && b.email.len() <= 254 && is_email(&b.email));
            }
        }
    }
}
