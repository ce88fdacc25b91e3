//! Today's date, for expiry checks (the domain takes it as a parameter and reads no clock), and the UTC
//! dates the back office shows and filters by.

use crate::domain::card::YearMonth;

pub fn today() -> YearMonth {
    let days = (super::db::now_ms() / 1000).div_euclid(86_400);
    civil_from_days(days)
}

fn civil_from_days(z: i64) -> YearMonth {
    let (year, month, _) = civil_date(z);
    YearMonth { year: year as u16, month: month as u8 }
}

/// Gregorian year, month and day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a Gregorian date (the inverse of `civil_date`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight UTC of a `YYYY-MM-DD` date, in Unix ms.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_date(days) == (y, m, d)).then_some(days * 86_400_000)
}

/// The UTC month of a Unix ms instant: its `YYYYMM`, and the instants it starts and ends (the next starts).
pub fn month_of(ms: i64) -> (i64, i64, i64) {
    let (y, m, _) = civil_date(ms.div_euclid(86_400_000));
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (y * 100 + m, days_from_civil(y, m, 1) * 86_400_000, days_from_civil(ny, nm, 1) * 86_400_000)
}

/// `YYYY-MM-DD` of a Unix ms instant, UTC.
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_date(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix ms instant.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{} {:02}:{:02}:{:02} UTC", format_date(ms), secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), YearMonth { year: 1970, month: 1 });
        assert_eq!(civil_from_days(20_780), YearMonth { year: 2026, month: 11 }); // 2026-11-23
        assert_eq!(civil_from_days(11_016), YearMonth { year: 2000, month: 2 }); // 2000-02-29
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("2026-11-23"), Some(20_780 * 86_400_000));
        assert_eq!(parse_date("2000-02-29").map(format_date).as_deref(), Some("2000-02-29"));
        assert_eq!(parse_date("2001-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(format_time(20_780 * 86_400_000 + 3_723_000), "2026-11-23 01:02:03 UTC");
        let (key, start, next) = month_of(parse_date("2026-12-31").unwrap() + 1);
        assert_eq!((key, format_date(start), format_date(next)), (202612, "2026-12-01".into(), "2027-01-01".into()));
    }
}
