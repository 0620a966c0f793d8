//! QR codes, Code 128 and EAN-13: data → dark modules, checked, never panicking.
//!
//! QR codes come from the `qrcodegen` crate; Code 128 (code sets B and C, switched
//! automatically, with its checksum) and EAN-13 (with its check digit) are written
//! here. Layout turns the modules into rectangles.

use std::fmt;

/// QR error correction levels: how much of the symbol may be damaged and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrLevel {
    /// About 7%.
    L,
    /// About 15%.
    M,
    /// About 25%.
    Q,
    /// About 30%.
    H,
}

/// What cannot be encoded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarcodeError {
    /// The data is empty.
    Empty,
    /// The data does not fit in the largest QR code (version 40) at this level.
    QrTooLong {
        /// Bytes of data given.
        bytes: usize,
        /// The error correction level.
        level: QrLevel,
    },
    /// A character Code 128 cannot encode (only printable ASCII is accepted).
    Code128Char {
        /// The character.
        ch: char,
        /// Its position (zero-based, in characters).
        at: usize,
    },
    /// Too many characters for one Code 128 symbol (more than 80).
    Code128TooLong(usize),
    /// EAN-13 takes 12 digits (the check digit is added) or 13.
    Ean13Length(usize),
    /// EAN-13 takes digits only.
    Ean13Char {
        /// The character.
        ch: char,
        /// Its position (zero-based, in characters).
        at: usize,
    },
    /// The 13th digit is not the check digit of the first 12.
    Ean13Check {
        /// The digit given.
        given: u8,
        /// The right one.
        expected: u8,
    },
}

impl fmt::Display for BarcodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarcodeError::Empty => write!(f, "no data to encode"),
            BarcodeError::QrTooLong { bytes, level } => write!(
                f,
                "{bytes} bytes of data do not fit in a QR code at error correction level {level:?}"
            ),
            BarcodeError::Code128Char { ch, at } => write!(
                f,
                "character {ch:?} (U+{:04X}) at position {} cannot be encoded in Code 128",
                u32::from(*ch),
                at + 1
            ),
            BarcodeError::Code128TooLong(n) => write!(
                f,
                "{n} characters are too many for one Code 128 barcode (at most {CODE128_MAX})"
            ),
            BarcodeError::Ean13Length(n) => {
                write!(f, "an EAN-13 code has 12 or 13 digits, found {n}")
            }
            BarcodeError::Ean13Char { ch, at } => write!(
                f,
                "an EAN-13 code has digits only, found {ch:?} at position {}",
                at + 1
            ),
            BarcodeError::Ean13Check { given, expected } => write!(
                f,
                "wrong EAN-13 check digit {given}, the first 12 digits give {expected}"
            ),
        }
    }
}

impl BarcodeError {
    /// A hint for the writer of the document.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            BarcodeError::QrTooLong { .. } => {
                Some("shorten the data or choose a lower level (\"ec\": \"L\" holds the most)")
            }
            BarcodeError::Code128Char { .. } => {
                Some("Code 128 encodes printable ASCII (space to ~); use a QR code for other text")
            }
            BarcodeError::Ean13Length(_) => {
                Some("give the 12 digits; the 13th, the check digit, is computed")
            }
            BarcodeError::Ean13Check { .. } => {
                Some("give 12 digits to have the check digit computed")
            }
            _ => None,
        }
    }
}

impl std::error::Error for BarcodeError {}

/// A QR code: `size` × `size` modules, row by row, `true` for dark. The quiet zone
/// (four light modules on each side) is not included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    /// Modules per side (21 to 177).
    pub size: usize,
    /// `size * size` modules, rows from the top.
    pub modules: Vec<bool>,
}

/// Encodes text as a QR code at `level` (the smallest version that holds it; the level
/// is raised when that costs no extra size).
///
/// # Errors
/// [`BarcodeError::Empty`], [`BarcodeError::QrTooLong`].
pub fn qr(data: &str, level: QrLevel) -> Result<QrModules, BarcodeError> {
    use qrcodegen::{QrCode, QrCodeEcc};
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    // The largest QR code holds 7,089 digits; anything longer cannot fit, whatever it is.
    if data.len() > 7089 {
        return Err(BarcodeError::QrTooLong {
            bytes: data.len(),
            level,
        });
    }
    let ecc = match level {
        QrLevel::L => QrCodeEcc::Low,
        QrLevel::M => QrCodeEcc::Medium,
        QrLevel::Q => QrCodeEcc::Quartile,
        QrLevel::H => QrCodeEcc::High,
    };
    let code = QrCode::encode_text(data, ecc).map_err(|_| BarcodeError::QrTooLong {
        bytes: data.len(),
        level,
    })?;
    let size = code.size().max(0) as usize;
    let mut modules = Vec::with_capacity(size * size);
    for y in 0..size as i32 {
        for x in 0..size as i32 {
            modules.push(code.get_module(x, y));
        }
    }
    Ok(QrModules { size, modules })
}

/// Light modules a QR code needs around it.
pub const QR_QUIET: usize = 4;
/// Light modules a Code 128 barcode needs left and right.
pub const CODE128_QUIET: usize = 10;
/// Light modules an EAN-13 barcode needs on its left (its right needs 7).
pub const EAN13_QUIET: usize = 11;
/// The most characters accepted in one Code 128 barcode.
pub const CODE128_MAX: usize = 80;

/// Bar and space widths of the Code 128 symbols 0 to 105 (six elements, bar first,
/// eleven modules in all); 106 is the stop (seven elements, thirteen modules).
const CODE128: [&[u8]; 107] = [
    b"212222", b"222122", b"222221", b"121223", b"121322", b"131222", b"122213", b"122312",
    b"132212", b"221213", b"221312", b"231212", b"112232", b"122132", b"122231", b"113222",
    b"123122", b"123221", b"223211", b"221132", b"221231", b"213212", b"223112", b"312131",
    b"311222", b"321122", b"321221", b"312212", b"322112", b"322211", b"212123", b"212321",
    b"232121", b"111323", b"131123", b"131321", b"112313", b"132113", b"132311", b"211313",
    b"231113", b"231311", b"112133", b"112331", b"132131", b"113123", b"113321", b"133121",
    b"313121", b"211331", b"231131", b"213113", b"213311", b"213131", b"311123", b"311321",
    b"331121", b"312113", b"312311", b"332111", b"314111", b"221411", b"431111", b"111224",
    b"111422", b"121124", b"121421", b"141122", b"141221", b"112214", b"112412", b"122114",
    b"122411", b"142112", b"142211", b"241211", b"221114", b"413111", b"241112", b"134111",
    b"111242", b"121142", b"121241", b"114212", b"124112", b"124211", b"411212", b"421112",
    b"421211", b"212141", b"214121", b"412121", b"111143", b"111341", b"131141", b"114113",
    b"114311", b"411113", b"411311", b"113141", b"114131", b"311141", b"411131", b"211412",
    b"211214", b"211232", b"2331112",
];

const START_B: u8 = 104;
const START_C: u8 = 105;
const CODE_B: u8 = 100;
const CODE_C: u8 = 99;
const STOP: u8 = 106;

/// The Code 128 symbol values for `data`, start code and checksum included, stop
/// excluded. Runs of digits go in code set C (two digits per symbol) when that is
/// shorter: four or more digits at the start or the end, six or more in between.
///
/// # Errors
/// [`BarcodeError::Empty`], [`BarcodeError::Code128Char`],
/// [`BarcodeError::Code128TooLong`].
pub fn code128_values(data: &str) -> Result<Vec<u8>, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    for (at, ch) in data.chars().enumerate() {
        if !(' '..='~').contains(&ch) {
            return Err(BarcodeError::Code128Char { ch, at });
        }
    }
    if data.len() > CODE128_MAX {
        return Err(BarcodeError::Code128TooLong(data.len()));
    }
    let b = data.as_bytes();
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut values = Vec::with_capacity(b.len() + 4);
    let mut i = 0;
    let lead = digits_from(0);
    let mut in_c = lead >= 4 || (lead == 2 && b.len() == 2);
    values.push(if in_c { START_C } else { START_B });
    while i < b.len() {
        if in_c {
            if digits_from(i) >= 2 {
                values.push((b[i] - b'0') * 10 + (b[i + 1] - b'0'));
                i += 2;
                continue;
            }
            values.push(CODE_B);
            in_c = false;
        }
        let run = digits_from(i);
        if run >= 6 || (run >= 4 && i + run == b.len()) {
            if run % 2 == 1 {
                values.push(b[i] - b' ');
                i += 1;
            }
            values.push(CODE_C);
            in_c = true;
            continue;
        }
        values.push(b[i] - b' ');
        i += 1;
    }
    values.push(code128_checksum(&values));
    Ok(values)
}

/// The Code 128 check symbol: the start value plus each symbol's value times its
/// position, modulo 103.
pub fn code128_checksum(values: &[u8]) -> u8 {
    let sum: u32 = values
        .iter()
        .enumerate()
        .map(|(i, &v)| u32::from(v) * (i.max(1) as u32))
        .sum();
    (sum % 103) as u8
}

/// A Code 128 barcode as modules (`true` for a bar), quiet zones not included.
///
/// # Errors
/// As [`code128_values`].
pub fn code128(data: &str) -> Result<Vec<bool>, BarcodeError> {
    let mut values = code128_values(data)?;
    values.push(STOP);
    let mut out = Vec::with_capacity(values.len() * 11 + 2);
    for v in values {
        for (k, w) in CODE128[usize::from(v)].iter().enumerate() {
            out.extend(std::iter::repeat_n(k % 2 == 0, usize::from(w - b'0')));
        }
    }
    Ok(out)
}

/// The EAN-13 check digit of 12 digits (each 0 to 9).
pub fn ean13_check_digit(digits: &[u8; 12]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The 13 digits of an EAN-13 code: 12 digits get their check digit, 13 are checked.
///
/// # Errors
/// [`BarcodeError::Ean13Length`], [`BarcodeError::Ean13Char`],
/// [`BarcodeError::Ean13Check`].
pub fn ean13_digits(data: &str) -> Result<[u8; 13], BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if let Some((at, ch)) = data.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(BarcodeError::Ean13Char { ch, at });
    }
    let n = data.len();
    if n != 12 && n != 13 {
        return Err(BarcodeError::Ean13Length(n));
    }
    let mut d = [0u8; 13];
    for (slot, c) in d.iter_mut().zip(data.bytes()) {
        *slot = c - b'0';
    }
    let mut first = [0u8; 12];
    first.copy_from_slice(&d[..12]);
    let expected = ean13_check_digit(&first);
    if n == 13 && d[12] != expected {
        return Err(BarcodeError::Ean13Check {
            given: d[12],
            expected,
        });
    }
    d[12] = expected;
    Ok(d)
}

/// The L-code of each digit (seven modules, bit 6 first); R is its complement, G its
/// complement reversed.
const EAN_L: [u8; 10] = [
    0b0001101, 0b0011001, 0b0010011, 0b0111101, 0b0100011, 0b0110001, 0b0101111, 0b0111011,
    0b0110111, 0b0001011,
];
/// Which of the left six digits use the G-code, by the first digit (bit 5 is the second
/// digit).
const EAN_PARITY: [u8; 10] = [
    0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
    0b011010,
];

/// An EAN-13 barcode: 95 modules (`true` for a bar), quiet zones not included, and
/// which modules are guard bars (drawn longer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ean13 {
    /// The 13 digits.
    pub digits: [u8; 13],
    /// 95 modules.
    pub modules: Vec<bool>,
    /// 95 flags: the start, centre and end guards.
    pub guard: Vec<bool>,
}

/// Encodes an EAN-13 code.
///
/// # Errors
/// As [`ean13_digits`].
pub fn ean13(data: &str) -> Result<Ean13, BarcodeError> {
    let digits = ean13_digits(data)?;
    let mut modules = Vec::with_capacity(95);
    let mut guard = Vec::with_capacity(95);
    let mut push = |bits: u8, n: u32, is_guard: bool| {
        for k in (0..n).rev() {
            modules.push(bits >> k & 1 == 1);
            guard.push(is_guard);
        }
    };
    push(0b101, 3, true);
    let parity = EAN_PARITY[usize::from(digits[0])];
    for (i, &d) in digits[1..7].iter().enumerate() {
        let l = EAN_L[usize::from(d)];
        let code = if parity >> (5 - i) & 1 == 1 {
            // G: the R-code reversed.
            (!l & 0x7f).reverse_bits() >> 1
        } else {
            l
        };
        push(code, 7, false);
    }
    push(0b01010, 5, true);
    for &d in &digits[7..13] {
        push(!EAN_L[usize::from(d)] & 0x7f, 7, false);
    }
    push(0b101, 3, true);
    Ok(Ean13 {
        digits,
        modules,
        guard,
    })
}

/// Checks that `data` can be encoded as `symbology`.
///
/// # Errors
/// What [`code128`] or [`ean13`] would say.
pub fn check(symbology: crate::model::Symbology, data: &str) -> Result<(), BarcodeError> {
    match symbology {
        crate::model::Symbology::Code128 => code128_values(data).map(drop),
        crate::model::Symbology::Ean13 => ean13_digits(data).map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code128_patterns_are_distinct_and_eleven_modules_wide() {
        let mut seen = std::collections::BTreeSet::new();
        for (v, p) in CODE128.iter().enumerate() {
            let sum: u32 = p.iter().map(|w| u32::from(w - b'0')).sum();
            assert_eq!(sum, if v == 106 { 13 } else { 11 }, "symbol {v}");
            assert!(seen.insert(*p), "symbol {v} repeats a pattern");
        }
    }

    #[test]
    fn code128_checksums_match_published_examples() {
        // Wikipedia's worked example: "PJJ123C" after start code A (103) has the
        // weighted sum 103 + 48·1 + 42·2 + 42·3 + 17·4 + 18·5 + 19·6 + 35·7 = 878,
        // and 878 mod 103 = 54.
        assert_eq!(code128_checksum(&[103, 48, 42, 42, 17, 18, 19, 35]), 54);
        // The encoder uses code set B for it (start 104): the sum grows by one.
        let v = code128_values("PJJ123C").unwrap();
        assert_eq!(v, [104, 48, 42, 42, 17, 18, 19, 35, 55]);
        // "Wikipedia": 104 + 55 + 73·2 + 75·3 + 73·4 + 80·5 + 69·6 + 68·7 + 73·8 + 65·9
        // = 3281 = 31·103 + 88.
        let v = code128_values("Wikipedia").unwrap();
        assert_eq!(v, [104, 55, 73, 75, 73, 80, 69, 68, 73, 65, 88]);
    }

    #[test]
    fn code128_switches_to_code_set_c_for_runs_of_digits() {
        // All digits, even: start C, pairs.
        assert_eq!(
            &code128_values("123456").unwrap()[..4],
            &[START_C, 12, 34, 56]
        );
        // Odd: the last digit goes back to code set B.
        assert_eq!(
            &code128_values("12345").unwrap()[..5],
            &[START_C, 12, 34, CODE_B, 21]
        );
        // Letters then six digits: B, then C.
        assert_eq!(
            &code128_values("AB123456").unwrap()[..6],
            &[START_B, 33, 34, CODE_C, 12, 34]
        );
        // Three digits in the middle stay in B.
        assert_eq!(code128_values("A123B").unwrap()[1..6], [33, 17, 18, 19, 34]);
    }

    #[test]
    fn code128_refuses_what_it_cannot_encode() {
        assert_eq!(
            code128("café"),
            Err(BarcodeError::Code128Char { ch: 'é', at: 3 })
        );
        assert_eq!(code128(""), Err(BarcodeError::Empty));
        assert!(matches!(
            code128(&"x".repeat(81)),
            Err(BarcodeError::Code128TooLong(81))
        ));
    }

    #[test]
    fn ean13_check_digits_match_published_codes() {
        // GS1's example and two retail codes.
        for code in ["4006381333931", "5901234123457", "9780306406157"] {
            let d = ean13_digits(&code[..12]).unwrap();
            assert_eq!(d[12], code.as_bytes()[12] - b'0', "{code}");
            assert!(ean13_digits(code).is_ok());
        }
        assert_eq!(
            ean13_digits("4006381333932"),
            Err(BarcodeError::Ean13Check {
                given: 2,
                expected: 1
            })
        );
        assert_eq!(
            ean13_digits("40063813339x"),
            Err(BarcodeError::Ean13Char { ch: 'x', at: 11 })
        );
        assert_eq!(ean13_digits("123"), Err(BarcodeError::Ean13Length(3)));
    }

    #[test]
    fn ean13_modules_have_the_standard_structure() {
        let e = ean13("4006381333931").unwrap();
        assert_eq!(e.modules.len(), 95);
        let bits: String = e
            .modules
            .iter()
            .map(|&b| if b { '1' } else { '0' })
            .collect();
        assert!(bits.starts_with("101"));
        assert_eq!(&bits[45..50], "01010");
        assert!(bits.ends_with("101"));
        // First digit 4 gives parity LGLLGG; the second digit, 0, is L: 0001101.
        assert_eq!(&bits[3..10], "0001101");
        // The third digit, 0, is G: 0100111.
        assert_eq!(&bits[10..17], "0100111");
        // The last digit, 1, is R: 1100110.
        assert_eq!(&bits[85..92], "1100110");
    }

    #[test]
    fn qr_codes_grow_with_data_and_refuse_too_much() {
        let small = qr("https://example.com", QrLevel::M).unwrap();
        assert_eq!(small.size, 25);
        assert_eq!(small.modules.len(), 625);
        assert!(qr(&"a".repeat(2000), QrLevel::L).is_ok());
        assert_eq!(
            qr(&"a".repeat(2000), QrLevel::H),
            Err(BarcodeError::QrTooLong {
                bytes: 2000,
                level: QrLevel::H
            })
        );
    }
}
