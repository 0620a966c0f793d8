//! Locale-aware filters for templates: `number`, `currency`, `percent`, `date`,
//! and `truncate`.
//!
//! The locale data (separators, currency placement, month and day names, date
//! patterns) is a small table in this file covering the locales below; an unknown
//! locale is an error that lists them.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind};

/// Formatting conventions of one locale.
pub(crate) struct Locale {
    name: &'static str,
    decimal: &'static str,
    group: &'static str,
    /// Numbers below 10,000 are not grouped (Spanish, Polish).
    min_group_5: bool,
    currency_before: bool,
    /// Between the currency symbol and the number.
    currency_sep: &'static str,
    /// Between a number and `%`.
    percent_sep: &'static str,
    months: [&'static str; 12],
    months_short: [&'static str; 12],
    /// Monday first.
    weekdays: [&'static str; 7],
    /// Patterns for short, medium, long and full dates.
    dates: [&'static str; 4],
}

const NBSP: &str = "\u{a0}";
const NNBSP: &str = "\u{202f}";

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const EN_MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const EN_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DE_MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const DE_MONTHS_SHORT: [&str; 12] = [
    "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez.",
];
const DE_DAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const FR_MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const FR_DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const ES_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const ES_MONTHS_SHORT: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
];
const ES_DAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const IT_MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const IT_MONTHS_SHORT: [&str; 12] = [
    "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic",
];
const IT_DAYS: [&str; 7] = [
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
    "sabato",
    "domenica",
];
const NL_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const NL_MONTHS_SHORT: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];
const NL_DAYS: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];
const PT_MONTHS: [&str; 12] = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
];
const PT_MONTHS_SHORT: [&str; 12] = [
    "jan.", "fev.", "mar.", "abr.", "mai.", "jun.", "jul.", "ago.", "set.", "out.", "nov.", "dez.",
];
const PT_DAYS: [&str; 7] = [
    "segunda-feira",
    "terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    "sábado",
    "domingo",
];
const SV_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];
const SV_MONTHS_SHORT: [&str; 12] = [
    "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec.",
];
const SV_DAYS: [&str; 7] = [
    "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag",
];
const PL_MONTHS: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];
const PL_MONTHS_SHORT: [&str; 12] = [
    "sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru",
];
const PL_DAYS: [&str; 7] = [
    "poniedziałek",
    "wtorek",
    "środa",
    "czwartek",
    "piątek",
    "sobota",
    "niedziela",
];
const NUM_MONTHS: [&str; 12] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
];
const JA_DAYS: [&str; 7] = [
    "月曜日",
    "火曜日",
    "水曜日",
    "木曜日",
    "金曜日",
    "土曜日",
    "日曜日",
];
const ZH_DAYS: [&str; 7] = [
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
];

static LOCALES: &[Locale] = &[
    Locale {
        name: "en",
        decimal: ".",
        group: ",",
        min_group_5: false,
        currency_before: true,
        currency_sep: "",
        percent_sep: "",
        months: EN_MONTHS,
        months_short: EN_MONTHS_SHORT,
        weekdays: EN_DAYS,
        dates: ["%m/%d/%Y", "%b %e, %Y", "%B %e, %Y", "%A, %B %e, %Y"],
    },
    Locale {
        name: "en-GB",
        decimal: ".",
        group: ",",
        min_group_5: false,
        currency_before: true,
        currency_sep: "",
        percent_sep: "",
        months: EN_MONTHS,
        months_short: EN_MONTHS_SHORT,
        weekdays: EN_DAYS,
        dates: ["%d/%m/%Y", "%e %b %Y", "%e %B %Y", "%A, %e %B %Y"],
    },
    Locale {
        name: "de",
        decimal: ",",
        group: ".",
        min_group_5: false,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: NBSP,
        months: DE_MONTHS,
        months_short: DE_MONTHS_SHORT,
        weekdays: DE_DAYS,
        dates: ["%d.%m.%y", "%d.%m.%Y", "%e. %B %Y", "%A, %e. %B %Y"],
    },
    Locale {
        name: "de-CH",
        decimal: ".",
        group: "’",
        min_group_5: false,
        currency_before: true,
        currency_sep: NBSP,
        percent_sep: "",
        months: DE_MONTHS,
        months_short: DE_MONTHS_SHORT,
        weekdays: DE_DAYS,
        dates: ["%d.%m.%y", "%d.%m.%Y", "%e. %B %Y", "%A, %e. %B %Y"],
    },
    Locale {
        name: "fr",
        decimal: ",",
        group: NNBSP,
        min_group_5: false,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: NNBSP,
        months: FR_MONTHS,
        months_short: FR_MONTHS_SHORT,
        weekdays: FR_DAYS,
        dates: ["%d/%m/%Y", "%e %b %Y", "%e %B %Y", "%A %e %B %Y"],
    },
    Locale {
        name: "es",
        decimal: ",",
        group: ".",
        min_group_5: true,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: NBSP,
        months: ES_MONTHS,
        months_short: ES_MONTHS_SHORT,
        weekdays: ES_DAYS,
        dates: [
            "%d/%m/%y",
            "%e %b %Y",
            "%e de %B de %Y",
            "%A, %e de %B de %Y",
        ],
    },
    Locale {
        name: "it",
        decimal: ",",
        group: ".",
        min_group_5: false,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: "",
        months: IT_MONTHS,
        months_short: IT_MONTHS_SHORT,
        weekdays: IT_DAYS,
        dates: ["%d/%m/%y", "%e %b %Y", "%e %B %Y", "%A %e %B %Y"],
    },
    Locale {
        name: "nl",
        decimal: ",",
        group: ".",
        min_group_5: false,
        currency_before: true,
        currency_sep: NBSP,
        percent_sep: "",
        months: NL_MONTHS,
        months_short: NL_MONTHS_SHORT,
        weekdays: NL_DAYS,
        dates: ["%d-%m-%Y", "%e %b %Y", "%e %B %Y", "%A %e %B %Y"],
    },
    Locale {
        name: "pt",
        decimal: ",",
        group: NBSP,
        min_group_5: true,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: "",
        months: PT_MONTHS,
        months_short: PT_MONTHS_SHORT,
        weekdays: PT_DAYS,
        dates: [
            "%d/%m/%y",
            "%d/%m/%Y",
            "%e de %B de %Y",
            "%A, %e de %B de %Y",
        ],
    },
    Locale {
        name: "pt-BR",
        decimal: ",",
        group: ".",
        min_group_5: false,
        currency_before: true,
        currency_sep: NBSP,
        percent_sep: "",
        months: PT_MONTHS,
        months_short: PT_MONTHS_SHORT,
        weekdays: PT_DAYS,
        dates: [
            "%d/%m/%Y",
            "%e de %b de %Y",
            "%e de %B de %Y",
            "%A, %e de %B de %Y",
        ],
    },
    Locale {
        name: "sv",
        decimal: ",",
        group: NBSP,
        min_group_5: false,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: NBSP,
        months: SV_MONTHS,
        months_short: SV_MONTHS_SHORT,
        weekdays: SV_DAYS,
        dates: ["%Y-%m-%d", "%e %b %Y", "%e %B %Y", "%A %e %B %Y"],
    },
    Locale {
        name: "pl",
        decimal: ",",
        group: NBSP,
        min_group_5: true,
        currency_before: false,
        currency_sep: NBSP,
        percent_sep: "",
        months: PL_MONTHS,
        months_short: PL_MONTHS_SHORT,
        weekdays: PL_DAYS,
        dates: ["%d.%m.%Y", "%e %b %Y", "%e %B %Y", "%A, %e %B %Y"],
    },
    Locale {
        name: "ja",
        decimal: ".",
        group: ",",
        min_group_5: false,
        currency_before: true,
        currency_sep: "",
        percent_sep: "",
        months: NUM_MONTHS,
        months_short: NUM_MONTHS,
        weekdays: JA_DAYS,
        dates: ["%Y/%m/%d", "%Y/%m/%d", "%Y年%B月%e日", "%Y年%B月%e日%A"],
    },
    Locale {
        name: "zh",
        decimal: ".",
        group: ",",
        min_group_5: false,
        currency_before: true,
        currency_sep: "",
        percent_sep: "",
        months: NUM_MONTHS,
        months_short: NUM_MONTHS,
        weekdays: ZH_DAYS,
        dates: ["%Y/%B/%e", "%Y年%B月%e日", "%Y年%B月%e日", "%Y年%B月%e日%A"],
    },
];

impl Locale {
    /// The locale for a BCP 47 tag: an exact match, or the language alone
    /// (`en-US` → `en`, `de-AT` → `de`).
    pub(crate) fn find(tag: &str) -> Option<&'static Locale> {
        let tag = tag.replace('_', "-");
        LOCALES
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(&tag))
            .or_else(|| {
                let lang = tag.split('-').next()?;
                LOCALES.iter().find(|l| l.name.eq_ignore_ascii_case(lang))
            })
    }

    pub(crate) fn names() -> Vec<&'static str> {
        LOCALES.iter().map(|l| l.name).collect()
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn locale_arg(default: &'static Locale, kwargs: &Kwargs) -> Result<&'static Locale, Error> {
    match kwargs.get::<Option<String>>("locale")? {
        None => Ok(default),
        Some(tag) => Locale::find(&tag).ok_or_else(|| {
            invalid(format!(
                "unknown locale \"{tag}\" (known: {})",
                Locale::names().join(", ")
            ))
        }),
    }
}

/// A number from a number or a numeric string (data from CSV files is text).
fn as_number(filter: &str, v: &Value) -> Result<f64, Error> {
    if let Some(s) = v.as_str() {
        return s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| invalid(format!("{filter}: expected a number, found \"{s}\"")));
    }
    match f64::try_from(v.clone()) {
        Ok(f) if f.is_finite() => Ok(f),
        _ => Err(invalid(format!(
            "{filter}: expected a number, found {}",
            if v.is_undefined() {
                "nothing (undefined)".to_string()
            } else {
                v.to_string()
            }
        ))),
    }
}

/// `x` rounded half away from zero to `decimals` places, as (negative, integer
/// digits, fraction digits). Rounding works on the shortest decimal text of `x`, so
/// 2.675 rounds to 2.68 as a person expects, not to 2.67 as its binary value would.
fn round_decimal(x: f64, decimals: usize) -> (bool, String, String) {
    let neg = x < 0.0;
    let text = format!("{}", x.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (text.clone(), String::new()),
    };
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let point = int.len();
    let keep = point + decimals;
    let round_up = digits.get(keep).is_some_and(|&d| d >= 5);
    digits.resize(keep, 0);
    let mut point = point;
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                point += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (i, f) = s.split_at(point);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let zero = i == "0" && f.bytes().all(|b| b == b'0');
    (neg && !zero, i.to_string(), f.to_string())
}

fn group_digits(int: &str, loc: &Locale) -> String {
    if int.len() <= 3 || (loc.min_group_5 && int.len() <= 4) {
        return int.to_string();
    }
    let mut out = String::new();
    let first = int.len() % 3;
    if first > 0 {
        out.push_str(&int[..first]);
    }
    for (k, chunk) in int.as_bytes()[first..].chunks(3).enumerate() {
        if first > 0 || k > 0 {
            out.push_str(loc.group);
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

pub(crate) fn format_number(x: f64, decimals: usize, loc: &Locale) -> String {
    let (neg, int, frac) = round_decimal(x, decimals);
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&group_digits(&int, loc));
    if !frac.is_empty() {
        s.push_str(loc.decimal);
        s.push_str(&frac);
    }
    s
}

fn decimals_arg(pos: Option<i64>, kwargs: &Kwargs, default: usize) -> Result<usize, Error> {
    let d = match pos {
        Some(d) => Some(d),
        None => kwargs.get::<Option<i64>>("decimals")?,
    };
    match d {
        None => Ok(default),
        Some(d) if (0..=12).contains(&d) => Ok(d as usize),
        Some(d) => Err(invalid(format!("decimals must be 0 to 12, found {d}"))),
    }
}

/// The symbol and usual decimals of an ISO 4217 currency code.
fn currency_symbol(code: &str, loc: &Locale) -> (String, usize) {
    let sym = match code {
        "EUR" => "€",
        "USD" if loc.name == "en" => "$",
        "USD" => "US$",
        "GBP" => "£",
        "JPY" if loc.name == "ja" => "￥",
        "JPY" => "¥",
        "CNY" if loc.name == "zh" => "¥",
        "CNY" => "CN¥",
        "CHF" => "CHF",
        "SEK" | "NOK" => "kr",
        "DKK" => "kr.",
        "PLN" => "zł",
        "CZK" => "Kč",
        "BRL" => "R$",
        "INR" => "₹",
        "KRW" => "₩",
        "CAD" => "CA$",
        "AUD" => "A$",
        "MXN" => "MX$",
        other => other,
    };
    let decimals = match code {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" => 0,
        _ => 2,
    };
    (sym.to_string(), decimals)
}

fn format_currency(
    x: f64,
    code: &str,
    decimals: Option<usize>,
    symbol: bool,
    loc: &Locale,
) -> String {
    let (sym, default_decimals) = currency_symbol(code, loc);
    let sym = if symbol { sym } else { code.to_string() };
    let n = format_number(x.abs(), decimals.unwrap_or(default_decimals), loc);
    let neg = x < 0.0 && n.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    let sign = if neg { "-" } else { "" };
    // A code is always set apart by a space; a symbol as the locale does it.
    let sep = if !symbol && loc.currency_sep.is_empty() {
        NBSP
    } else {
        loc.currency_sep
    };
    if loc.currency_before {
        format!("{sign}{sym}{sep}{n}")
    } else {
        format!("{sign}{n}{sep}{sym}")
    }
}

/// A calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DateTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_datetime(v: &Value) -> Result<DateTime, Error> {
    if let Some(s) = v.as_str() {
        let s = s.trim();
        let bad = || {
            invalid(format!(
                "date: expected a date like \"2024-03-15\" or \"2024-03-15T09:30:00\", found \"{s}\""
            ))
        };
        let (date, time) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mut parts = date.splitn(3, '-');
        let year: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let month: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let day: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(invalid(format!(
                "date: \"{s}\" is not a day of the calendar"
            )));
        }
        let (mut hour, mut minute, mut second) = (0, 0, 0);
        if let Some(t) = time {
            let t = t.trim_end_matches('Z');
            let t = t.split(['+', '.']).next().unwrap_or(t);
            let t = match t.rfind('-') {
                Some(i) if i >= 5 => &t[..i],
                _ => t,
            };
            let mut tp = t.split(':');
            hour = tp.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
            minute = tp.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            second = tp.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if hour > 23 || minute > 59 || second > 60 {
                return Err(bad());
            }
        }
        return Ok(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        });
    }
    // Seconds since 1970-01-01 UTC.
    if let Ok(secs) = i64::try_from(v.clone()) {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        return Ok(DateTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
        });
    }
    Err(invalid(format!(
        "date: expected a date string or seconds since 1970, found {v}"
    )))
}

fn format_date(dt: &DateTime, pattern: &str, loc: &Locale) -> Result<String, Error> {
    let weekday = (days_from_civil(dt.year, dt.month, dt.day) + 3).rem_euclid(7) as usize;
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let m = (dt.month - 1) as usize;
        match chars.next() {
            Some('Y') => out.push_str(&dt.year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", dt.year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", dt.month)),
            Some('n') => out.push_str(&dt.month.to_string()),
            Some('d') => out.push_str(&format!("{:02}", dt.day)),
            Some('e') => out.push_str(&dt.day.to_string()),
            Some('B') => out.push_str(loc.months[m]),
            Some('b') => out.push_str(loc.months_short[m]),
            Some('A') => out.push_str(loc.weekdays[weekday]),
            Some('a') => out.extend(loc.weekdays[weekday].chars().take(3)),
            Some('H') => out.push_str(&format!("{:02}", dt.hour)),
            Some('M') => out.push_str(&format!("{:02}", dt.minute)),
            Some('S') => out.push_str(&format!("{:02}", dt.second)),
            Some('%') => out.push('%'),
            other => {
                return Err(invalid(format!(
                    "date: unknown pattern code %{} (known: %Y %y %m %n %d %e %B %b %A %a %H %M %S %%)",
                    other.map(String::from).unwrap_or_default()
                )));
            }
        }
    }
    Ok(out)
}

fn truncate(s: &str, length: usize, end: &str, killwords: bool) -> String {
    if s.chars().count() <= length {
        return s.to_string();
    }
    let room = length.saturating_sub(end.chars().count());
    let cut: String = s.chars().take(room).collect();
    let cut = if killwords {
        cut.as_str()
    } else {
        match cut.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &cut[..i],
            _ => cut.as_str(),
        }
    };
    format!("{}{end}", cut.trim_end())
}

/// Adds the filters to an environment, with `default` as the locale when a filter is
/// not given one.
pub(crate) fn register(env: &mut Environment<'static>, default: &'static Locale) {
    env.add_filter(
        "number",
        move |v: Value, decimals: Option<i64>, kwargs: Kwargs| -> Result<String, Error> {
            let x = as_number("number", &v)?;
            let loc = locale_arg(default, &kwargs)?;
            let d = decimals_arg(decimals, &kwargs, if x.fract() == 0.0 { 0 } else { 2 })?;
            kwargs.assert_all_used()?;
            Ok(format_number(x, d, loc))
        },
    );
    env.add_filter(
        "currency",
        move |v: Value, code: Option<String>, kwargs: Kwargs| -> Result<String, Error> {
            let x = as_number("currency", &v)?;
            let loc = locale_arg(default, &kwargs)?;
            let code = match code {
                Some(c) => Some(c),
                None => kwargs.get::<Option<String>>("code")?,
            }
            .unwrap_or_else(|| "EUR".into());
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(format!(
                    "currency: expected a three-letter ISO 4217 code such as \"EUR\", found \"{code}\""
                )));
            }
            let decimals = match kwargs.get::<Option<i64>>("decimals")? {
                Some(d) => Some(decimals_arg(Some(d), &kwargs, 2)?),
                None => None,
            };
            let symbol = kwargs.get::<Option<bool>>("symbol")?.unwrap_or(true);
            kwargs.assert_all_used()?;
            Ok(format_currency(x, &code, decimals, symbol, loc))
        },
    );
    env.add_filter(
        "percent",
        move |v: Value, decimals: Option<i64>, kwargs: Kwargs| -> Result<String, Error> {
            let x = as_number("percent", &v)?;
            let loc = locale_arg(default, &kwargs)?;
            let d = decimals_arg(decimals, &kwargs, 0)?;
            kwargs.assert_all_used()?;
            Ok(format!(
                "{}{}%",
                format_number(x * 100.0, d, loc),
                loc.percent_sep
            ))
        },
    );
    env.add_filter(
        "date",
        move |v: Value, format: Option<String>, kwargs: Kwargs| -> Result<String, Error> {
            let dt = parse_datetime(&v)?;
            let loc = locale_arg(default, &kwargs)?;
            let format = match format {
                Some(f) => Some(f),
                None => kwargs.get::<Option<String>>("format")?,
            }
            .unwrap_or_else(|| "medium".into());
            kwargs.assert_all_used()?;
            let pattern = match format.as_str() {
                "short" => loc.dates[0],
                "medium" => loc.dates[1],
                "long" => loc.dates[2],
                "full" => loc.dates[3],
                "iso" => "%Y-%m-%d",
                p if p.contains('%') => p,
                other => {
                    return Err(invalid(format!(
                        "date: unknown format \"{other}\" (short, medium, long, full, iso, or a pattern like \"%d.%m.%Y\")"
                    )));
                }
            };
            format_date(&dt, pattern, loc)
        },
    );
    env.add_filter(
        "truncate",
        |v: Value, length: Option<i64>, kwargs: Kwargs| -> Result<String, Error> {
            let s = match v.as_str() {
                Some(s) => s.to_string(),
                None => v.to_string(),
            };
            let length = match length {
                Some(l) => Some(l),
                None => kwargs.get::<Option<i64>>("length")?,
            }
            .unwrap_or(255);
            let length = usize::try_from(length).map_err(|_| {
                invalid(format!("truncate: length must be positive, found {length}"))
            })?;
            let end = kwargs
                .get::<Option<String>>("end")?
                .unwrap_or_else(|| "…".into());
            let killwords = kwargs.get::<Option<bool>>("killwords")?.unwrap_or(false);
            kwargs.assert_all_used()?;
            Ok(truncate(&s, length, &end, killwords))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(tag: &str) -> &'static Locale {
        Locale::find(tag).unwrap()
    }

    #[test]
    fn numbers_round_half_away_from_zero_on_their_decimal_text() {
        assert_eq!(round_decimal(2.675, 2), (false, "2".into(), "68".into()));
        assert_eq!(round_decimal(-0.004, 2), (false, "0".into(), "00".into()));
        assert_eq!(
            round_decimal(999.995, 2),
            (false, "1000".into(), "00".into())
        );
        assert_eq!(round_decimal(1.5, 0), (false, "2".into(), String::new()));
        assert_eq!(round_decimal(-1.5, 0), (true, "2".into(), String::new()));
        assert_eq!(round_decimal(1e21, 0).1, "1000000000000000000000");
    }

    #[test]
    fn numbers_are_grouped_as_each_locale_does() {
        assert_eq!(format_number(1234567.891, 2, loc("en")), "1,234,567.89");
        assert_eq!(format_number(1234567.891, 2, loc("de-DE")), "1.234.567,89");
        assert_eq!(format_number(1234567.891, 2, loc("de-CH")), "1’234’567.89");
        assert_eq!(format_number(1234.5, 1, loc("fr")), "1\u{202f}234,5");
        assert_eq!(format_number(1234.0, 0, loc("es")), "1234");
        assert_eq!(format_number(12345.0, 0, loc("es")), "12.345");
        assert_eq!(format_number(-1234.0, 0, loc("en")), "-1,234");
    }

    #[test]
    fn currencies_follow_locale_placement() {
        assert_eq!(
            format_currency(1234.5, "USD", None, true, loc("en")),
            "$1,234.50"
        );
        assert_eq!(
            format_currency(1234.5, "EUR", None, true, loc("de")),
            "1.234,50\u{a0}€"
        );
        assert_eq!(
            format_currency(-3.0, "GBP", None, true, loc("en-GB")),
            "-£3.00"
        );
        assert_eq!(
            format_currency(1234.0, "JPY", None, true, loc("ja")),
            "￥1,234"
        );
        assert_eq!(
            format_currency(5.0, "EUR", None, false, loc("en")),
            "EUR\u{a0}5.00"
        );
        assert_eq!(
            format_currency(1234.5, "CHF", None, true, loc("de-CH")),
            "CHF\u{a0}1’234.50"
        );
    }

    #[test]
    fn dates_know_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-800_000, -1, 0, 59, 11_016, 19_797, 800_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        let dt = parse_datetime(&Value::from("2024-02-29T13:05:09Z")).unwrap();
        assert_eq!(
            format_date(&dt, "%A %e %B %Y %H:%M:%S", loc("en")).unwrap(),
            "Thursday 29 February 2024 13:05:09"
        );
        assert_eq!(
            format_date(&dt, loc("de").dates[3], loc("de")).unwrap(),
            "Donnerstag, 29. Februar 2024"
        );
        assert!(parse_datetime(&Value::from("2023-02-29")).is_err());
        assert!(parse_datetime(&Value::from("15/03/2024")).is_err());
        let epoch = parse_datetime(&Value::from(86_400 * 365)).unwrap();
        assert_eq!((epoch.year, epoch.month, epoch.day), (1971, 1, 1));
    }

    #[test]
    fn truncation_prefers_word_boundaries() {
        assert_eq!(truncate("short", 10, "…", false), "short");
        assert_eq!(
            truncate("the quick brown fox", 12, "…", false),
            "the quick…"
        );
        assert_eq!(
            truncate("the quick brown fox", 12, "...", true),
            "the quick..."
        );
        assert_eq!(truncate("abcdefghij", 5, "…", false), "abcd…");
    }
}
