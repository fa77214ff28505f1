//! Numbers for people without `core::fmt` (its machinery costs the bundle more than these).

/// `n` in decimal, without `core::fmt` (its machinery costs the bundle more than this).
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[i..].iter().map(|&d| d as char).collect()
}

/// A byte count for people: `512 B`, `12.3 kB`, `5.0 MB`, `1.2 GB` (SI units, one decimal, by
/// integer arithmetic so no float formatting is linked).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = [" kB", " MB", " GB", " TB"];
    if n < 1000 {
        return decimal(n) + " B";
    }
    let mut unit = 0;
    let mut scale = 1000u64;
    while unit + 1 < UNITS.len() && n >= scale * 1000 {
        scale *= 1000;
        unit += 1;
    }
    // Tenths, rounded half up.
    let tenths = (n as u128 * 10 + scale as u128 / 2) / scale as u128;
    let tenths = tenths as u64;
    decimal(tenths / 10) + "." + &decimal(tenths % 10) + UNITS[unit]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_human_sizes() {
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(1234567890), "1234567890");
        assert_eq!(decimal(u64::MAX), "18446744073709551615");
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(12_345), "12.3 kB");
        assert_eq!(human_bytes(5_242_880), "5.2 MB");
        assert_eq!(human_bytes(999_960), "1000.0 kB");
        assert_eq!(human_bytes(1_500_000_000), "1.5 GB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
    }
}
