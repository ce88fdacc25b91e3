//! Card encryption as Verifone does it: the browser encrypts the card as an OpenPGP message to the
//! merchant's public key (verifone.js wraps OpenPGP.js v4); the provider decrypts it with the private key.
//! The sandbox makes its own key pair once, keeps it in a file (`SANDBOX_KEY_FILE`) so a merchant page or a
//! client given the public key keeps working across restarts, and publishes the public key under its alias.

use crate::domain::card::{CardBrand, CardError, CardNumber, Cvv, Expiry, YearMonth};
use base64::{Engine, engine::general_purpose::STANDARD};
use pgp::{
    composed::{
        ArmorOptions, EncryptionCaps, KeyType, Message, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
        SubkeyParamsBuilder,
    },
    crypto::ecc_curve::ECCCurve,
    types::Password,
};
use serde::Deserialize;
use std::{
    fs, io,
    path::{Path, PathBuf},
};

pub struct EncryptionKey {
    pub alias: String,
    secret: SignedSecretKey,
    /// ASCII-armored public key, as merchants copy it from Verifone Central.
    pub public_armored: String,
}

impl EncryptionKey {
    /// A fresh v4 key: Ed25519 primary with a Curve25519 ECDH encryption subkey (OpenPGP.js v4 encrypts to it).
    pub fn generate(alias: &str) -> EncryptionKey {
        let mut encrypt = SubkeyParamsBuilder::default();
        encrypt.key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy)).can_encrypt(EncryptionCaps::All);
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .primary_user_id(format!("Card checkout sandbox <{alias}@sandbox.invalid>"))
            .subkeys(vec![encrypt.build().expect("subkey params")]);
        let secret = params.build().expect("key params").generate(rand::thread_rng()).expect("key generation");
        EncryptionKey::of(alias, secret)
    }

    fn of(alias: &str, secret: SignedSecretKey) -> EncryptionKey {
        let public = SignedPublicKey::from(secret.clone());
        let public_armored = public.to_armored_string(ArmorOptions::default()).expect("armor public key");
        EncryptionKey { alias: alias.to_owned(), secret, public_armored }
    }

    /// The key kept in `path` (an armored OpenPGP secret key), made and written there on first use.
    pub fn load_or_create(path: &Path, alias: &str) -> Result<EncryptionKey, KeyFileError> {
        match fs::read_to_string(path) {
            Ok(armored) => EncryptionKey::from_armored(path, alias, &armored),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = EncryptionKey::generate(alias);
                match key.write(path, false) {
                    Ok(()) => Ok(key),
                    // Another process (a second sandbox on the same folder) wrote one first: use that.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => EncryptionKey::load_or_create(path, alias),
                    Err(e) => Err(KeyFileError::Io(path.to_owned(), e)),
                }
            }
            Err(e) => Err(KeyFileError::Io(path.to_owned(), e)),
        }
    }

    /// Replaces the key kept in `path` with a fresh one (processes using the old one keep it until restarted).
    pub fn rotate(path: &Path, alias: &str) -> Result<EncryptionKey, KeyFileError> {
        let key = EncryptionKey::generate(alias);
        key.write(path, true).map_err(|e| KeyFileError::Io(path.to_owned(), e))?;
        Ok(key)
    }

    fn from_armored(path: &Path, alias: &str, armored: &str) -> Result<EncryptionKey, KeyFileError> {
        use pgp::composed::Deserializable;
        let malformed = || KeyFileError::Malformed(path.to_owned());
        let (secret, _) = SignedSecretKey::from_string(armored).map_err(|_| malformed())?;
        // verifone.js encrypts to the first subkey.
        if secret.secret_subkeys.is_empty() {
            return Err(malformed());
        }
        Ok(EncryptionKey::of(alias, secret))
    }

    /// Writes the secret key to `path`, readable by its owner only: in full or not at all (a temporary file
    /// renamed into place), and with `replace` false, only if no key is there yet.
    fn write(&self, path: &Path, replace: bool) -> io::Result<()> {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let armored = self.secret.to_armored_string(ArmorOptions::default()).map_err(io::Error::other)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", super::new_id()));
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            file.write_all(armored.as_bytes())?;
            file.sync_all()?;
            // A link fails if the name is taken, where a rename would replace what another process wrote.
            if replace { fs::rename(&tmp, path) } else { fs::hard_link(&tmp, path) }
        })();
        let _ = fs::remove_file(&tmp);
        written
    }

    /// Decrypts `encrypted_card` (base64 of an armored OpenPGP message) to its JSON plaintext.
    pub fn decrypt(&self, encrypted_card: &str) -> Result<String, DecryptError> {
        let armored = STANDARD.decode(encrypted_card.trim()).map_err(|_| DecryptError::NotBase64)?;
        let armored = String::from_utf8(armored).map_err(|_| DecryptError::NotOpenPgp)?;
        let (message, _headers) = Message::from_string(&armored).map_err(|_| DecryptError::NotOpenPgp)?;
        let mut message = message.decrypt(&Password::empty(), &self.secret).map_err(|_| DecryptError::WrongKey)?;
        if message.is_compressed() {
            message = message.decompress().map_err(|_| DecryptError::NotOpenPgp)?;
        }
        message.as_data_string().map_err(|_| DecryptError::NotOpenPgp)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write the sandbox key file {}: {}", .0.display(), .1)]
    Io(PathBuf, io::Error),
    #[error("the sandbox key file {} is not an armored OpenPGP secret key with an encryption subkey", .0.display())]
    Malformed(PathBuf),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("encrypted_card is not base64")]
    NotBase64,
    #[error("encrypted_card is not an OpenPGP message")]
    NotOpenPgp,
    #[error("encrypted_card was not encrypted to the key of public_key_alias")]
    WrongKey,
}

/// The plaintext JSON verifone.js encrypts.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Plain {
    capture_time: Option<String>,
    card_number: Option<String>,
    // Absent beside a reuse token (only the CVV entered again); `parse_card` requires them.
    #[serde(default)]
    expiry_month: serde_json::Value,
    #[serde(default)]
    expiry_year: serde_json::Value,
    cvv: Option<String>,
    #[allow(dead_code)]
    cardholder_name: Option<String>,
}

/// A decrypted card, checked. Lives only inside the sandbox, which plays the provider.
#[derive(Debug)]
pub struct Card {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvv: Option<Cvv>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardDataError {
    #[error("card data is not the JSON verifone.js encrypts")]
    Shape,
    #[error("captureTime is missing or not RFC 3339")]
    CaptureTime,
    #[error("the card was captured more than 15 minutes ago; encrypt it again")]
    Stale,
    #[error("card: {0}")]
    Card(#[from] CardError),
}

/// How long an encrypted card stays usable after its `captureTime` (Verifone: 15 minutes).
pub const CAPTURE_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// `captureTime` is required and no older than 15 minutes at `now_ms`.
fn check_capture_time(capture_time: Option<&str>, now_ms: i64) -> Result<(), CardDataError> {
    let captured = capture_time.and_then(rfc3339_ms).ok_or(CardDataError::CaptureTime)?;
    if now_ms - captured > CAPTURE_LIFETIME_MS {
        return Err(CardDataError::Stale);
    }
    Ok(())
}

/// Parses the decrypted JSON and checks the card as an issuer would, on `today` at `now_ms` (Unix ms).
pub fn parse_card(plain: &str, today: YearMonth, now_ms: i64) -> Result<Card, CardDataError> {
    let plain: Plain = serde_json::from_str(plain).map_err(|_| CardDataError::Shape)?;
    check_capture_time(plain.capture_time.as_deref(), now_ms)?;
    let number = CardNumber::parse(plain.card_number.as_deref().unwrap_or_default())?;
    let as_num = |v: &serde_json::Value| match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let month = as_num(&plain.expiry_month).and_then(|m| u8::try_from(m).ok()).ok_or(CardError::ExpiryMalformed)?;
    let year = as_num(&plain.expiry_year).and_then(|y| u16::try_from(y).ok()).ok_or(CardError::ExpiryMalformed)?;
    // A two-digit year is this century's `[I]` (a card form's "YY").
    let year = if year < 100 { 2000 + year } else { year };
    let expiry = Expiry::new(month, year, today)?;
    let cvv = match plain.cvv.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(Cvv::parse(c, number.brand())?),
        None => None,
    };
    Ok(Card { number, expiry, cvv })
}

/// Parses an encrypted card that accompanies a reuse token: `captureTime` and the CVV entered again (checked
/// for `brand`), and optionally the number, whose hash it answers.
pub fn parse_reentered(plain: &str, brand: CardBrand, now_ms: i64) -> Result<Option<[u8; 32]>, CardDataError> {
    let plain: Plain = serde_json::from_str(plain).map_err(|_| CardDataError::Shape)?;
    check_capture_time(plain.capture_time.as_deref(), now_ms)?;
    let cvv = plain.cvv.as_deref().filter(|c| !c.is_empty()).ok_or(CardError::CvvMalformed)?;
    Cvv::parse(cvv, brand)?;
    match plain.card_number.as_deref() {
        Some(n) => Ok(Some(super::threeds::card_hash(CardNumber::parse(n)?.expose()))),
        None => Ok(None),
    }
}

/// Unix ms of "2026-11-23T09:05:29Z", with fractional seconds or an offset ("+01:00").
fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r.clone()).filter(|d| d.iter().all(u8::is_ascii_digit)).map(|_| &s[r]);
    let num = |r: std::ops::Range<usize>| digits(r).and_then(|d| d.parse::<i64>().ok());
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let midnight = crate::server::clock::parse_date(&s[..10])?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Fractional seconds, then Z or ±HH:MM.
    let rest = s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset_min = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let off = &rest[1..];
            let minutes = off[..2].parse::<i64>().ok()? * 60 + off[3..].parse::<i64>().ok()?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    Some(midnight + ((h * 60 + m - offset_min) * 60 + sec) * 1000)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use pgp::composed::{Deserializable, MessageBuilder};
    use pgp::crypto::sym::SymmetricKeyAlgorithm;

    /// What verifone.js does, in Rust: armored OpenPGP to the public key, then base64.
    pub fn encrypt_like_verifone_js(public_armored: &str, plaintext: &str) -> String {
        let (public, _) = SignedPublicKey::from_string(public_armored).unwrap();
        let mut builder = MessageBuilder::from_bytes("", plaintext.as_bytes().to_vec())
            .seipd_v1(rand::thread_rng(), SymmetricKeyAlgorithm::AES256);
        builder.encrypt_to_key(rand::thread_rng(), &public.public_subkeys[0]).unwrap();
        let armored = builder.to_armored_string(rand::thread_rng(), ArmorOptions::default()).unwrap();
        STANDARD.encode(armored)
    }

    const TODAY: YearMonth = YearMonth { year: 2026, month: 11 };
    /// 2026-11-23T09:10:00Z.
    const NOW: i64 = 1_795_392_000_000 + (9 * 60 + 10) * 60_000;

    #[test]
    fn decrypts_what_was_encrypted_to_its_public_key() {
        let key = EncryptionKey::generate("test");
        let json = r#"{"captureTime":"2026-11-23T09:00:00Z","cardNumber":"4000000000001000","expiryMonth":"01","expiryYear":"2029","cvv":"123"}"#;
        let encrypted = encrypt_like_verifone_js(&key.public_armored, json);
        let plain = key.decrypt(&encrypted).unwrap();
        let card = parse_card(&plain, TODAY, NOW).unwrap();
        assert_eq!(card.number.last4(), "1000");
        assert_eq!((card.expiry.month(), card.expiry.year()), (1, 2029));

        let other = EncryptionKey::generate("other");
        assert_eq!(other.decrypt(&encrypted).unwrap_err(), DecryptError::WrongKey);
        assert_eq!(key.decrypt("%%%").unwrap_err(), DecryptError::NotBase64);
        assert_eq!(key.decrypt(&STANDARD.encode("hello")).unwrap_err(), DecryptError::NotOpenPgp);
    }

    #[test]
    fn the_key_file_keeps_the_key_until_rotated() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/sandbox-key.asc");
        let first = EncryptionKey::load_or_create(&path, "a").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(fs::read_to_string(&path).unwrap().contains("BEGIN PGP PRIVATE KEY BLOCK"));
        let json = r#"{"captureTime":"2026-11-23T09:00:00Z","cardNumber":"4000000000001000","expiryMonth":"01","expiryYear":"2029"}"#;
        let encrypted = encrypt_like_verifone_js(&first.public_armored, json);

        let again = EncryptionKey::load_or_create(&path, "a").unwrap();
        assert_eq!(again.public_armored, first.public_armored);
        assert_eq!(again.decrypt(&encrypted).unwrap(), json);

        let rotated = EncryptionKey::rotate(&path, "a").unwrap();
        assert_ne!(rotated.public_armored, first.public_armored);
        assert_eq!(EncryptionKey::load_or_create(&path, "a").unwrap().public_armored, rotated.public_armored);
        assert_eq!(rotated.decrypt(&encrypted).unwrap_err(), DecryptError::WrongKey);
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no temporary file is left");

        fs::write(&path, first.public_armored.as_bytes()).unwrap();
        assert!(matches!(EncryptionKey::load_or_create(&path, "a"), Err(KeyFileError::Malformed(_))));
    }

    #[test]
    fn checks_the_card_inside() {
        let ok = |j: &str| parse_card(j, TODAY, NOW);
        assert_eq!(
            ok(r#"{"cardNumber":"4000000000001000","expiryMonth":1,"expiryYear":2029}"#).unwrap_err(),
            CardDataError::CaptureTime
        );
        assert_eq!(
            ok(r#"{"captureTime":"2026-11-23T09:00:00Z","cardNumber":"4000000000001001","expiryMonth":1,"expiryYear":2029}"#)
                .unwrap_err(),
            CardDataError::Card(CardError::Luhn)
        );
        assert_eq!(
            ok(r#"{"captureTime":"2026-11-23T10:05:00.123+01:00","cardNumber":"4000000000001000","expiryMonth":1,"expiryYear":2020}"#)
                .unwrap_err(),
            CardDataError::Card(CardError::Expired)
        );
        assert!(ok("[]").is_err());
    }

    #[test]
    fn an_encrypted_card_lives_fifteen_minutes_from_its_capture_time() {
        let at = |time: &str, year: &str| {
            let json = format!(
                r#"{{"captureTime":"{time}","cardNumber":"4000000000001000","expiryMonth":"01","expiryYear":"{year}"}}"#
            );
            parse_card(&json, TODAY, NOW).map(|c| c.expiry.year())
        };
        assert_eq!(at("2026-11-23T08:55:00Z", "2029"), Ok(2029), "15 minutes old");
        assert_eq!(at("2026-11-23T08:54:59.999Z", "2029"), Err(CardDataError::Stale));
        assert_eq!(at("2026-11-23T03:54:00-05:00", "2029"), Err(CardDataError::Stale));
        assert_eq!(at("2026-11-23T04:05:00-05:00", "29"), Ok(2029), "a two-digit year");
        for malformed in
            ["2026-11-23T09:05:00", "2026-11-23T25:05:00Z", "2026-13-23T09:05:00Z", "2026-11-23T09:05:00+1"]
        {
            assert_eq!(at(malformed, "2029"), Err(CardDataError::CaptureTime), "{malformed}");
        }
    }
}
