//! Today's date, for expiry checks (the domain takes it as a parameter and reads no clock).

use crate::domain::card::YearMonth;

pub fn today() -> YearMonth {
    let days = (super::db::now_ms() / 1000).div_euclid(86_400);
    civil_from_days(days)
}

/// Gregorian year and month of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> YearMonth {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    YearMonth { year: year as u16, month: month as u8 }
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
}
