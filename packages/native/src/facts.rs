//! Facts about the loader a program names in PT_INTERP, read from the loader's own file and the
//! root it lives in, never by running it (packages/resolver/src/loader-facts.ts): its family, default
//! directories, $LIB and glibc version.

use crate::elf;

/// Facts about a glibc loader, read from its file (loader-facts.ts).
pub(crate) struct Facts {
    pub(crate) musl: bool,
    /// glibc: the default directories, each ending in `/`. musl: the system path, as read.
    pub(crate) system_dirs: Vec<String>,
    pub(crate) lib: String,
    pub(crate) version: (u64, u64),
}

#[derive(PartialEq, Eq)]
pub(crate) enum Family {
    Glibc,
    Musl,
    Unknown,
}

pub(crate) fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(at) => &trimmed[at + 1..],
        None => trimmed,
    }
}

/// posix.dirname for the canonical and loader paths we give it.
pub(crate) fn dirname(path: &str) -> String {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    match trimmed.rfind('/') {
        Some(0) => "/".to_string(),
        Some(at) => trimmed[..at].to_string(),
        None => ".".to_string(),
    }
}

pub(crate) fn loader_family(interpreter: &str) -> Family {
    let base = basename(interpreter);
    if base.starts_with("ld-musl-")
        && base.ends_with(".so.1")
        && base.len() > "ld-musl-".len() + ".so.1".len()
    {
        return Family::Musl;
    }
    let digits_after =
        |prefix_end: &str| !prefix_end.is_empty() && prefix_end.bytes().all(|b| b.is_ascii_digit());
    if base.starts_with("ld-linux") {
        if let Some(at) = base.rfind(".so.") {
            if at >= "ld-linux".len() && digits_after(&base[at + 4..]) {
                return Family::Glibc;
            }
        }
    }
    if let Some(rest) = base.strip_prefix("ld64.so.") {
        if digits_after(rest) {
            return Family::Glibc;
        }
    }
    if base == "ld.so.1" {
        return Family::Glibc;
    }
    Family::Unknown
}

pub(crate) fn default_interpreter(class64: bool, machine: u16) -> &'static str {
    match machine {
        62 => {
            if class64 {
                "/lib64/ld-linux-x86-64.so.2"
            } else {
                "/libx32/ld-linux-x32.so.2"
            }
        }
        3 => "/lib/ld-linux.so.2",
        183 => "/lib/ld-linux-aarch64.so.1",
        40 => "/lib/ld-linux-armhf.so.3",
        21 => "/lib64/ld64.so.2",
        22 => "/lib/ld64.so.1",
        243 => "/lib/ld-linux-riscv64-lp64d.so.1",
        _ => "/lib/ld-linux.so.2",
    }
}

pub(crate) fn find_bytes(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// ld.so's `system_dirs`: NUL-separated strings ending in `/`, preceded by their lengths as words.
pub(crate) fn find_system_dirs(image: &[u8], class64: bool) -> Option<Vec<String>> {
    let word = if class64 { 8 } else { 4 };
    let mut from = 0;
    while let Some(start) = find_bytes(image, b"\0/", from) {
        from = start + 1;
        let mut found: Vec<String> = Vec::new();
        let mut at = start + 1;
        while image.get(at) == Some(&b'/') {
            let end = match image[at..].iter().position(|&b| b == 0) {
                Some(length) => at + length,
                None => break,
            };
            if image[end - 1] != b'/' || end - at > 256 {
                break;
            }
            found.push(image[at..end].iter().map(|&b| b as char).collect());
            at = end + 1;
        }
        if found.is_empty() || start + 1 < found.len() * word {
            continue;
        }
        let lengths_at = start + 1 - found.len() * word;
        let matches = found.iter().enumerate().all(|(i, text)| {
            let offset = lengths_at + i * word;
            let bytes = &image[offset..offset + word];
            let (le, be) = if word == 8 {
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                (u64::from_le_bytes(b), u64::from_be_bytes(b))
            } else {
                (
                    elf::u32_at(bytes, 0, true) as u64,
                    elf::u32_at(bytes, 0, false) as u64,
                )
            };
            // `text.len()` counts latin1 characters, one per byte, as the TypeScript length does.
            let length = text.chars().count() as u64;
            le == length || be == length
        });
        if matches {
            return Some(found);
        }
    }
    None
}

pub(crate) fn find_glibc_version(image: &[u8]) -> Option<(u64, u64)> {
    let marker = find_bytes(image, b"release version ", 0)?;
    let tail = &image[marker + 16..(marker + 32).min(image.len())];
    let digits = |bytes: &[u8]| -> (Option<u64>, usize) {
        let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let text: String = bytes[..n].iter().map(|&b| b as char).collect();
        (
            if n == 0 {
                None
            } else {
                Some(text.parse::<u64>().unwrap_or(u64::MAX))
            },
            n,
        )
    };
    let (major, n) = digits(tail);
    let major = major?;
    if tail.get(n) != Some(&b'.') {
        return None;
    }
    let (minor, _) = digits(&tail[n + 1..]);
    Some((major, minor?))
}

/// $LIB: Debian's multiarch directory, else lib64 or lib.
pub(crate) fn lib_token(system_dirs: &[String], class64: bool) -> String {
    let first = system_dirs.first().map(String::as_str).unwrap_or("");
    if let Some(middle) = first
        .strip_prefix("/lib/")
        .and_then(|rest| rest.strip_suffix('/'))
    {
        // /^\/lib\/([^/]+-linux-gnu[^/]*)\/$/: "-linux-gnu" somewhere after the first character.
        if !middle.contains('/') && middle.match_indices("-linux-gnu").any(|(at, _)| at > 0) {
            return format!("lib/{}", middle);
        }
    }
    if first == "/lib64/" || (class64 && first.contains("lib64")) {
        "lib64".to_string()
    } else {
        "lib".to_string()
    }
}
