//! Sealed columns: the two secrets the database holds while a call needs them, `payment_attempts.pending_request`
//! (a request awaiting its answer, which may carry the provider-encrypted card and the CAVV) and `orders.awaiting`
//! (what an order waits for the shopper with), are written encrypted (AES-256-GCM, the row's id bound as associated
//! data) under a key of the day. Clearing a value cannot reach every copy of it: PostgreSQL leaves dead row versions
//! in the heap until vacuum, its write-ahead log (and any archive or replica of it) keeps every version for ever.
//! Destroying the key does (crypto-shredding): what was sealed under it is then noise wherever it lies.
//!
//! The keys form a one-way ratchet, K(day + 1) = HMAC-SHA256(K(day), "ratchet"), day the Unix day (UTC), so
//! instances need no coordination: each derives the same next key from the same file. The key file
//! (`SEAL_KEY_FILE`) holds the oldest key still in use, yesterday's (a value lives minutes to hours; one sealed
//! just before midnight is still opened after it), and is rewritten as the days pass, so the key of the day before
//! yesterday exists nowhere any more. A value whose key is gone is treated exactly as a cleared one (NULL).
//! Every instance on one database needs the same file: the database records a fingerprint of each day's key
//! (never the key) and an instance whose key disagrees refuses to start.

use super::{Database, begin_write};
use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{
    fs, io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

/// What a sealed value starts with: the format's version.
const VERSION: &str = "s1";
const DAY_MS: i64 = 86_400_000;
/// Fingerprints older than this are forgotten: only today's is compared.
const FINGERPRINT_DAYS: i64 = 30;

type Key = [u8; 32];

/// The Unix day (UTC) of a time in Unix milliseconds.
pub fn unix_day(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn today() -> i64 {
    unix_day(super::now_ms())
}

fn hmac(key: &Key, label: &[u8]) -> Key {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// The column a value is sealed for: with the row's id, what it is bound to.
#[derive(Clone, Copy)]
enum Column {
    PendingRequest,
    Awaiting,
}

impl Column {
    fn associated_data(self, row_id: &str) -> Vec<u8> {
        let name = match self {
            Column::PendingRequest => "payment_attempts.pending_request",
            Column::Awaiting => "orders.awaiting",
        };
        format!("{name}\0{row_id}").into_bytes()
    }
}

/// The keys this process can reach: the oldest one kept (`day`, yesterday's) and, derived from it, the later ones.
struct Ratchet {
    day: i64,
    key: Key,
}

impl Ratchet {
    /// Moves on so that `day` is `today - 1` at the latest; true if it moved (the file must follow). The old key is
    /// overwritten in place.
    fn advance(&mut self, today: i64) -> bool {
        let moved = self.day < today - 1;
        while self.day < today - 1 {
            self.key = hmac(&self.key, b"ratchet");
            self.day += 1;
        }
        moved
    }

    /// The key of `day`, if it is still here (not before the oldest kept) and not too far ahead (a day's clock skew
    /// between instances at midnight).
    fn key(&self, day: i64, today: i64) -> Option<Key> {
        if day < self.day || day > today.max(self.day) + 1 {
            return None;
        }
        let mut key = self.key;
        for _ in self.day..day {
            key = hmac(&key, b"ratchet");
        }
        Some(key)
    }

    /// The day values are sealed under: today, or the oldest kept if a clock behind ours wrote the file.
    fn sealing_day(&self, today: i64) -> i64 {
        today.max(self.day)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read or write the seal key file {}: {}", .0.display(), .1)]
    Io(PathBuf, io::Error),
    #[error("the seal key file {} is not a day and a 32-byte key", .0.display())]
    Malformed(PathBuf),
    #[error(
        "the seal key ({}) is not the one the other instances on this database use for day {day} (their \
         fingerprint differs): give every instance a copy of the same SEAL_KEY_FILE",
        .file.as_deref().map_or_else(|| "kept in memory".into(), |f| f.display().to_string())
    )]
    Mismatch { file: Option<PathBuf>, day: i64 },
    #[error(
        "SEAL_KEY_FILE is required with PostgreSQL: every instance on the database needs a copy of the same seal \
         key file (created on first start if missing; it moves itself on daily)"
    )]
    FileRequired,
    #[error("cannot record the seal key's fingerprint: {0}")]
    Database(#[from] sqlx::Error),
}

/// The sealing keys of this process (cheap to clone: every clone shares them).
#[derive(Clone)]
pub struct Seal(Arc<Inner>);

struct Inner {
    /// Where the oldest key is kept; none: a key of this process alone (an in-memory database).
    file: Option<PathBuf>,
    ratchet: Mutex<Ratchet>,
}

/// The key file: the day and the key of that day, base64.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    day: i64,
    key: String,
}

impl Seal {
    /// The keys kept in `file` (made, with a random key, if missing; none: in memory only), moved on to today,
    /// checked against the fingerprint the database recorded for today (recorded here if none was).
    pub async fn start(file: Option<&Path>, db: &Database) -> Result<Seal, SealError> {
        // A key of this process alone would refuse every other instance, and this one after a restart.
        if file.is_none() && db.engine() == super::Engine::Postgres {
            return Err(SealError::FileRequired);
        }
        let seal = Seal::load(file, today())?;
        seal.check_fingerprint(db).await?;
        Ok(seal)
    }

    fn load(file: Option<&Path>, today: i64) -> Result<Seal, SealError> {
        let mut ratchet = match file {
            Some(path) => read_or_create(path, today)?,
            None => Ratchet { day: today - 1, key: rand::random() },
        };
        if ratchet.advance(today)
            && let Some(path) = file
        {
            write(path, &ratchet, true).map_err(|e| SealError::Io(path.to_owned(), e))?;
        }
        Ok(Seal(Arc::new(Inner { file: file.map(Path::to_owned), ratchet: Mutex::new(ratchet) })))
    }

    /// Moves the keys on to today (rewriting the file) and checks today's fingerprint: the sweeper calls it.
    pub async fn keep_up(&self, db: &Database) -> Result<(), SealError> {
        drop(self.advance(today()));
        self.check_fingerprint(db).await
    }

    fn advance(&self, today: i64) -> std::sync::MutexGuard<'_, Ratchet> {
        let mut ratchet = self.0.ratchet.lock().unwrap_or_else(|p| p.into_inner());
        if ratchet.advance(today)
            && let Some(path) = &self.0.file
            && let Err(e) = write(path, &ratchet, true)
        {
            // The keys in memory moved on all the same; the next day's rewrite replaces the stale file.
            tracing::error!(file = %path.display(), error = %e, "the seal key file could not be moved on");
        }
        ratchet
    }

    /// HMAC(K(day), "fingerprint"), hex: tells keys apart and reveals nothing of them.
    fn fingerprint(&self, day: i64) -> Option<String> {
        let key = self.0.ratchet.lock().unwrap_or_else(|p| p.into_inner()).key(day, day)?;
        Some(hmac(&key, b"fingerprint").iter().map(|b| format!("{b:02x}")).collect())
    }

    async fn check_fingerprint(&self, db: &Database) -> Result<(), SealError> {
        let day = self.0.ratchet.lock().unwrap_or_else(|p| p.into_inner()).sealing_day(today());
        let ours = self.fingerprint(day).expect("the sealing day's key is kept");
        let mut tx = begin_write(db).await?;
        sqlx::query("INSERT INTO seal_keys (day, fingerprint) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(&ours)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM seal_keys WHERE day < $1").bind(day - FINGERPRINT_DAYS).execute(&mut *tx).await?;
        let recorded: String = sqlx::query_scalar("SELECT fingerprint FROM seal_keys WHERE day = $1")
            .bind(day)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        if recorded != ours {
            return Err(SealError::Mismatch { file: self.0.file.clone(), day });
        }
        Ok(())
    }

    /// A payment request, sealed for the attempt `attempt_id`.
    pub fn seal_request(&self, attempt_id: &str, request: &str) -> String {
        self.seal_on(today(), Column::PendingRequest, attempt_id, request)
    }

    /// The request stored for `attempt_id`; none if it cannot be opened (its key is gone, it is not sealed, or
    /// not for this row), exactly as if it had been cleared.
    pub fn open_request(&self, attempt_id: &str, stored: &str) -> Option<String> {
        self.open_on(today(), Column::PendingRequest, attempt_id, stored)
    }

    /// What order `order_id` waits with, sealed and kept valid JSON (the column's CHECK): `{"sealed": "s1.…"}`.
    pub fn seal_awaiting(&self, order_id: &str, awaiting: &str) -> String {
        serde_json::json!({"sealed": self.seal_on(today(), Column::Awaiting, order_id, awaiting)}).to_string()
    }

    /// What order `order_id` waits with; none if it cannot be opened, exactly as if it had been cleared.
    pub fn open_awaiting(&self, order_id: &str, stored: &str) -> Option<String> {
        self.open_awaiting_on(today(), order_id, stored)
    }

    fn open_awaiting_on(&self, today: i64, order_id: &str, stored: &str) -> Option<String> {
        let wrapped: serde_json::Value = serde_json::from_str(stored).ok()?;
        self.open_on(today, Column::Awaiting, order_id, wrapped.get("sealed")?.as_str()?)
    }

    fn seal_on(&self, today: i64, column: Column, row_id: &str, plaintext: &str) -> String {
        let (day, key) = {
            let ratchet = self.advance(today);
            let day = ratchet.sealing_day(today);
            (day, ratchet.key(day, today).expect("the sealing day's key is kept"))
        };
        let nonce: [u8; 12] = rand::random();
        let aad = column.associated_data(row_id);
        let sealed = Aes256Gcm::new(&key.into())
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: &aad })
            .expect("AES-GCM seals any length we store");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{VERSION}.{day}.{}", STANDARD.encode(bytes))
    }

    fn open_on(&self, today: i64, column: Column, row_id: &str, stored: &str) -> Option<String> {
        let mut parts = stored.splitn(3, '.');
        let (Some(VERSION), Some(day), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            tracing::warn!(row_id, "a stored secret is not sealed; treated as cleared");
            return None;
        };
        let day: i64 = day.parse().ok()?;
        let Some(key) = self.advance(today).key(day, today) else {
            tracing::info!(row_id, day, "a stored secret's key is gone; treated as cleared");
            return None;
        };
        let bytes = STANDARD.decode(body).ok().filter(|b| b.len() > 12)?;
        let (nonce, sealed) = bytes.split_at(12);
        let aad = column.associated_data(row_id);
        let Ok(plain) =
            Aes256Gcm::new(&key.into()).decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
        else {
            tracing::warn!(row_id, "a stored secret does not open with its key and row; treated as cleared");
            return None;
        };
        String::from_utf8(plain).ok()
    }
}

fn read_or_create(path: &Path, today: i64) -> Result<Ratchet, SealError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let malformed = || SealError::Malformed(path.to_owned());
            let file: KeyFile = serde_json::from_str(&text).map_err(|_| malformed())?;
            let key = STANDARD.decode(file.key).ok().and_then(|k| Key::try_from(k).ok()).ok_or_else(malformed)?;
            Ok(Ratchet { day: file.day, key })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let ratchet = Ratchet { day: today - 1, key: rand::random() };
            match write(path, &ratchet, false) {
                Ok(()) => Ok(ratchet),
                // Another instance on the same folder made one first: use that.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_or_create(path, today),
                Err(e) => Err(SealError::Io(path.to_owned(), e)),
            }
        }
        Err(e) => Err(SealError::Io(path.to_owned(), e)),
    }
}

/// Writes the key file, readable by its owner only, in full or not at all (a temporary file renamed or linked
/// into place); with `replace` false, only if there is none yet.
fn write(path: &Path, ratchet: &Ratchet, replace: bool) -> io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let text = serde_json::json!({"day": ratchet.day, "key": STANDARD.encode(ratchet.key)}).to_string();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        // A link fails if the name is taken, where a rename would replace what another process wrote.
        if replace { fs::rename(&tmp, path) } else { fs::hard_link(&tmp, path) }
    })();
    let _ = fs::remove_file(&tmp);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 20_000;

    fn sealed_file(dir: &tempfile::TempDir, today: i64) -> (PathBuf, Seal) {
        let path = dir.path().join("seal.key");
        let seal = Seal::load(Some(&path), today).unwrap();
        (path, seal)
    }

    fn file_day(path: &Path) -> i64 {
        serde_json::from_str::<KeyFile>(&fs::read_to_string(path).unwrap()).unwrap().day
    }

    #[test]
    fn a_sealed_value_opens_for_its_row_and_column_only() {
        let dir = tempfile::tempdir().unwrap();
        let (_, seal) = sealed_file(&dir, DAY);
        let request = r#"{"card":{"encrypted_card":"LS0tLS1CRUdJTiBQR1A"},"cavv":"AAABBBCCC"}"#;
        let sealed = seal.seal_on(DAY, Column::PendingRequest, "a1", request);
        assert!(sealed.starts_with(&format!("s1.{DAY}.")), "{sealed}");
        assert!(!sealed.contains("cavv") && !sealed.contains("LS0tLS1"));
        assert_eq!(seal.open_on(DAY, Column::PendingRequest, "a1", &sealed).as_deref(), Some(request));
        assert_eq!(seal.open_on(DAY, Column::PendingRequest, "a2", &sealed), None, "another row's");
        assert_eq!(seal.open_on(DAY, Column::Awaiting, "a1", &sealed), None, "another column's");
        assert_eq!(seal.open_on(DAY, Column::PendingRequest, "a1", request), None, "not sealed");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(seal.open_on(DAY, Column::PendingRequest, "a1", &tampered), None, "altered");
        let other = Seal::load(None, DAY).unwrap();
        assert_eq!(other.open_on(DAY, Column::PendingRequest, "a1", &sealed), None, "another key");
    }

    #[test]
    fn awaiting_stays_json_while_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let (_, seal) = sealed_file(&dir, DAY);
        let awaiting = r#"{"challenge":{"acs_url":"https://acs"},"encrypted_card":"x"}"#;
        let stored = seal.seal_awaiting("o1", awaiting);
        let json: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert!(json["sealed"].as_str().unwrap().starts_with("s1."), "{stored}");
        assert_eq!(seal.open_awaiting("o1", &stored).as_deref(), Some(awaiting));
        assert_eq!(seal.open_awaiting("o2", &stored), None);
        assert_eq!(seal.open_awaiting("o1", awaiting), None, "not sealed");
    }

    #[test]
    fn the_ratchet_moves_forward_and_the_key_of_two_days_ago_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let (path, seal) = sealed_file(&dir, DAY);
        assert_eq!(file_day(&path), DAY - 1, "the file keeps yesterday's key");
        let monday = seal.seal_on(DAY, Column::Awaiting, "o1", "monday");
        // The next day: yesterday's value still opens, the file moved on, and a fresh process reading the file
        // derives the same keys.
        let tuesday = seal.seal_on(DAY + 1, Column::Awaiting, "o1", "tuesday");
        assert!(tuesday.starts_with(&format!("s1.{}.", DAY + 1)));
        assert_eq!(seal.open_on(DAY + 1, Column::Awaiting, "o1", &monday).as_deref(), Some("monday"));
        assert_eq!(file_day(&path), DAY);
        let restarted = Seal::load(Some(&path), DAY + 1).unwrap();
        assert_eq!(restarted.open_on(DAY + 1, Column::Awaiting, "o1", &monday).as_deref(), Some("monday"));
        assert_eq!(restarted.open_on(DAY + 1, Column::Awaiting, "o1", &tuesday).as_deref(), Some("tuesday"));
        assert_eq!(restarted.fingerprint(DAY + 1), seal.fingerprint(DAY + 1));
        // Two days on, Monday's key exists nowhere: its value is treated as cleared.
        assert_eq!(seal.open_on(DAY + 2, Column::Awaiting, "o1", &monday), None);
        assert_eq!(seal.open_on(DAY + 2, Column::Awaiting, "o1", &tuesday).as_deref(), Some("tuesday"));
        assert_eq!(file_day(&path), DAY + 1);
        let later = Seal::load(Some(&path), DAY + 2).unwrap();
        assert_eq!(later.open_on(DAY + 2, Column::Awaiting, "o1", &monday), None);
        // K(d + 1) = HMAC(K(d), "ratchet"): what any instance derives from the same file.
        let ratchet = |d| seal.0.ratchet.lock().unwrap().key(d, DAY + 2);
        assert_eq!(ratchet(DAY + 2), Some(hmac(&ratchet(DAY + 1).unwrap(), b"ratchet")));
        assert_eq!(ratchet(DAY), None);
    }

    #[test]
    fn a_clock_a_day_ahead_can_still_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let (_, seal) = sealed_file(&dir, DAY);
        let ahead = seal.seal_on(DAY + 1, Column::PendingRequest, "a", "v");
        let behind = Seal::load(Some(&dir.path().join("seal.key")), DAY).unwrap();
        assert_eq!(behind.open_on(DAY, Column::PendingRequest, "a", &ahead).as_deref(), Some("v"));
    }

    #[tokio::test]
    async fn an_instance_whose_key_differs_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::connect(&format!("sqlite://{}/s.db", dir.path().display())).await.unwrap();
        let (first, other) = (dir.path().join("a/seal.key"), dir.path().join("b/seal.key"));
        Seal::start(Some(&first), &db).await.expect("the first key is recorded");
        Seal::start(Some(&first), &db).await.expect("the same key again");
        fs::create_dir_all(other.parent().unwrap()).unwrap();
        fs::copy(&first, &other).unwrap();
        Seal::start(Some(&other), &db).await.expect("a copy of the same file");
        fs::remove_file(&other).unwrap();
        let refused = Seal::start(Some(&other), &db).await.err().expect("a fresh key is refused");
        assert!(matches!(refused, SealError::Mismatch { day, .. } if day == today()), "{refused}");
        assert!(refused.to_string().contains("same SEAL_KEY_FILE"), "{refused}");
        let recorded: Vec<String> =
            sqlx::query_scalar("SELECT fingerprint FROM seal_keys").fetch_all(&*db).await.unwrap();
        assert_eq!(recorded.len(), 1);
        let key = fs::read_to_string(&first).unwrap();
        let key: KeyFile = serde_json::from_str(&key).unwrap();
        assert!(!recorded[0].contains(&key.key), "a fingerprint, not the key");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&first).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
