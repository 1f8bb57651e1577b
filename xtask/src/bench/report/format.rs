//! How numbers are written in the report.

/// `16 B`, `1 KiB`, `64 KiB`, `1 MiB`.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// A number with an SI suffix and three or four significant digits.
pub fn si(x: f64) -> String {
    let (value, suffix) = if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{suffix}")
}

pub fn fixed1(x: f64) -> String {
    format!("{x:.1}")
}

pub fn fixed2(x: f64) -> String {
    format!("{x:.2}")
}

/// Two significant digits below 1, so that 0.0003 does not read as 0;
/// two decimals otherwise.
pub fn small(x: f64) -> String {
    let digits = if x > 0.0 && x < 1.0 {
        (1 - x.log10().floor() as i32).clamp(2, 6) as usize
    } else {
        2
    };
    format!("{x:.digits$}")
}
