//! Dynamic string tokens and search path lists (packages/resolver/src/dst.ts), and glibc's legacy
//! hwcap subdirectories (glibc.ts legacyHwcapSubdirs).

pub(crate) struct Dst<'a> {
    pub(crate) origin: Option<&'a str>,
    pub(crate) lib: &'a str,
    pub(crate) platform: &'a str,
}

/// The token at `text[at..]` (just after a `$`): its name and length, if it is one.
pub(crate) fn token_at(text: &str, at: usize) -> Option<(&'static str, usize)> {
    const NAMES: [&str; 3] = ["ORIGIN", "LIB", "PLATFORM"];
    let rest = &text[at..];
    for name in NAMES {
        if rest.starts_with('{') && rest[1..].starts_with(name) && rest[1 + name.len()..].starts_with('}') {
            return Some((name, name.len() + 2));
        }
    }
    for name in NAMES {
        if rest.starts_with(name) {
            let next = rest.as_bytes().get(name.len());
            if !matches!(next, Some(b) if b.is_ascii_alphanumeric() || *b == b'_') {
                return Some((name, name.len()));
            }
        }
    }
    None
}

pub(crate) fn has_dst(text: &str) -> bool {
    text.match_indices('$')
        .any(|(at, _)| token_at(text, at + 1).is_some())
}

/// None when a token has no value (the loader drops the element).
pub(crate) fn expand_dst(text: &str, values: &Dst) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut unknown = false;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let dollar = match rest.find('$') {
            Some(offset) => at + offset,
            None => {
                out.push_str(rest);
                break;
            }
        };
        out.push_str(&text[at..dollar]);
        match token_at(text, dollar + 1) {
            Some((name, length)) => {
                match name {
                    "ORIGIN" => match values.origin {
                        Some(origin) => out.push_str(origin),
                        None => unknown = true,
                    },
                    "LIB" => out.push_str(values.lib),
                    _ => out.push_str(values.platform),
                }
                at = dollar + 1 + length;
            }
            None => {
                out.push('$');
                at = dollar + 1;
            }
        }
    }
    if unknown {
        None
    } else {
        Some(out)
    }
}

/// fillin_rpath: each element expanded, trailing slashes removed and one added back; "" is the cwd.
pub(crate) fn path_list(text: &str, separators: &[char], values: &Dst) -> Vec<String> {
    let mut dirs = Vec::new();
    for element in text.split(|c| separators.contains(&c)) {
        let expanded = match expand_dst(element, values) {
            Some(expanded) => expanded,
            None => continue,
        };
        let mut dir = expanded.as_str();
        while dir.len() > 1 && dir.ends_with('/') {
            dir = &dir[..dir.len() - 1];
        }
        dirs.push(if dir.is_empty() || dir.ends_with('/') {
            dir.to_string()
        } else {
            format!("{}/", dir)
        });
    }
    dirs
}

/// Legacy hwcap subdirectories (glibc 2.36 and older): every combination of tls, platform and names.
pub(crate) fn legacy_subdirs(platform: &str, names: &[String]) -> Vec<String> {
    let mut parts: Vec<&str> = vec!["tls", platform];
    parts.extend(names.iter().map(String::as_str));
    let n = parts.len();
    let mut result: Vec<String> = Vec::new();
    if n >= 31 {
        return result;
    }
    let mut mask: u32 = (1 << n) - 1;
    while mask > 0 {
        let chosen: Vec<&str> = (0..n)
            .filter(|i| mask & (1 << (n - 1 - i)) != 0)
            .map(|i| parts[i])
            .collect();
        let subdir = format!("{}/", chosen.join("/"));
        if !result.contains(&subdir) {
            result.push(subdir);
        }
        mask -= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: Dst = Dst {
        origin: Some("/opt/app/bin"),
        lib: "lib/x86_64-linux-gnu",
        platform: "haswell",
    };

    #[test]
    fn expands_known_tokens_only() {
        assert_eq!(
            expand_dst("$ORIGIN/../lib", &VALUES).unwrap(),
            "/opt/app/bin/../lib"
        );
        assert_eq!(
            expand_dst("/usr/${LIB}/$PLATFORM", &VALUES).unwrap(),
            "/usr/lib/x86_64-linux-gnu/haswell"
        );
        // $ORIGINX is literal text, unknown tokens stay, `$$ORIGIN` keeps the first `$`.
        assert_eq!(
            expand_dst("$ORIGINX:$FOO:$$ORIGIN", &VALUES).unwrap(),
            "$ORIGINX:$FOO:$/opt/app/bin"
        );
        assert!(has_dst("a/${ORIGIN}") && !has_dst("$ORIGIN_x") && !has_dst("plain"));
        let unknown = Dst {
            origin: None,
            ..VALUES
        };
        assert_eq!(expand_dst("$ORIGIN/lib", &unknown), None);
    }

    #[test]
    fn path_lists_like_fillin_rpath() {
        let dirs = path_list("/a//:$ORIGIN/x/::/;b", &[':', ';'], &VALUES);
        assert_eq!(dirs, vec!["/a/", "/opt/app/bin/x/", "", "/", "b/"]);
    }

    #[test]
    fn legacy_subdirs_longest_first() {
        let dirs = legacy_subdirs("haswell", &["x86_64".to_string()]);
        assert_eq!(
            dirs,
            vec![
                "tls/haswell/x86_64/",
                "tls/haswell/",
                "tls/x86_64/",
                "tls/",
                "haswell/x86_64/",
                "haswell/",
                "x86_64/"
            ]
        );
    }
}
