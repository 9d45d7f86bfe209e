//! /etc/ld.so.cache: parsing (new, old and compat layouts) and ld.so's lookup on it, a port of
//! packages/resolver/src/ld-cache.ts (glibc 2.36 elf/dl-cache.c). A cache ld.so would ignore parses
//! to None. Lookups compare the raw bytes, as ld.so does.

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const OLD_HEADER: usize = 16;
const OLD_ENTRY: usize = 12;
const EXTENSION_MAGIC: u32 = 0xeaa4_2174;
const HWCAP_EXTENSION_HIGH: u32 = 0x4000_0000;
const ISA_LEVEL_MASK: u32 = 0x3ff;
const HWCAP_TLS: u64 = 1 << 63;
const FLAG_ELF_LIBC6: i32 = 3;

struct Entry {
    flags: i32,
    hwcap: u64,
    /// Absolute offsets of the key and value strings; None when outside the file.
    key: Option<usize>,
    value: Option<usize>,
}

pub struct LdCache {
    data: Vec<u8>,
    old_format: bool,
    entries: Vec<Entry>,
    hwcap_names: Vec<Option<usize>>,
}

pub struct LookupOptions<'a> {
    pub accepted_flags: &'a [i32],
    pub active_hwcaps: &'a [String],
    pub isa_level: f64,
    /// None for glibc 2.37 and later (legacy hwcap entries are skipped).
    pub legacy_hwcap: Option<u64>,
}

fn u32_at(data: &[u8], at: usize, little: bool) -> u32 {
    let byte = |k: usize| data.get(at + k).copied().unwrap_or(0);
    let b = [byte(0), byte(1), byte(2), byte(3)];
    if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

fn u64_at(data: &[u8], at: usize, little: bool) -> u64 {
    let low = u32_at(data, if little { at } else { at + 4 }, little) as u64;
    let high = u32_at(data, if little { at + 4 } else { at }, little) as u64;
    (high << 32) | low
}

fn has_magic(data: &[u8], at: usize, magic: &[u8]) -> bool {
    data.len() >= at + magic.len() && &data[at..at + magic.len()] == magic
}

fn align_up(value: usize, alignment: usize) -> usize {
    (value + alignment - 1) / alignment * alignment
}

/// Byte 28 of a new-format header: Some(None) unknown order, Some(Some(little)), None: ld.so ignores the cache.
fn header_order(data: &[u8], base: usize) -> Option<Option<bool>> {
    let flags = data.get(base + 28).copied().unwrap_or(0);
    if flags == 0 {
        return Some(None);
    }
    match flags & 3 {
        2 => Some(Some(true)),
        3 => Some(Some(false)),
        _ => None,
    }
}

fn new_table_fits(data: &[u8], base: usize, little: bool) -> bool {
    let nlibs = u32_at(data, base + 20, little) as usize;
    (data.len() - base - NEW_HEADER) / NEW_ENTRY >= nlibs
}

fn string_pos(data: &[u8], base: usize, offset: u32) -> Option<usize> {
    let pos = base + offset as usize;
    if pos < data.len() {
        Some(pos)
    } else {
        None
    }
}

/// With no byte order recorded, prefer the reading whose string offsets land inside the file.
fn pick_order(candidates: &[bool], score: impl Fn(bool) -> usize) -> bool {
    let mut best = candidates[0];
    if candidates.len() > 1 {
        let mut best_score: i64 = -1;
        for &order in candidates {
            let s = score(order) as i64;
            if s > best_score {
                best = order;
                best_score = s;
            }
        }
    }
    best
}

fn block_score(
    data: &[u8],
    base: usize,
    strings_at: usize,
    header: usize,
    entry: usize,
    nlibs_at: usize,
    little: bool,
) -> usize {
    let nlibs = u32_at(data, nlibs_at, little) as usize;
    let mut score = 0;
    for i in 0..nlibs {
        let at = base + header + i * entry;
        if strings_at + (u32_at(data, at + 4, little) as usize) < data.len() {
            score += 1;
        }
        if strings_at + (u32_at(data, at + 8, little) as usize) < data.len() {
            score += 1;
        }
    }
    score
}

pub fn parse(data: Vec<u8>) -> Option<LdCache> {
    if has_magic(&data, 0, NEW_MAGIC) {
        if data.len() <= NEW_HEADER {
            return None;
        }
        let declared = header_order(&data, 0)?;
        let candidates: Vec<bool> = match declared {
            None => vec![true, false],
            Some(order) => vec![order],
        };
        let fitting: Vec<bool> = candidates
            .into_iter()
            .filter(|&o| new_table_fits(&data, 0, o))
            .collect();
        if fitting.is_empty() {
            return None;
        }
        let order = pick_order(&fitting, |o| {
            block_score(&data, 0, 0, NEW_HEADER, NEW_ENTRY, 20, o)
        });
        return Some(read_new_block(data, 0, order));
    }
    if has_magic(&data, 0, OLD_MAGIC) {
        if data.len() <= OLD_HEADER {
            return None;
        }
        let fitting: Vec<bool> = [true, false]
            .iter()
            .copied()
            .filter(|&o| (data.len() - OLD_HEADER) / OLD_ENTRY >= u32_at(&data, 12, o) as usize)
            .collect();
        if fitting.is_empty() {
            return None;
        }
        let mut mismatch = false;
        for &order in &fitting {
            let nlibs = u32_at(&data, 12, order) as usize;
            let end = OLD_HEADER + nlibs * OLD_ENTRY;
            let mut offsets = vec![align_up(end, 8)];
            if align_up(end, 4) != offsets[0] {
                offsets.push(align_up(end, 4));
            }
            for offset in offsets {
                if data.len() < offset + NEW_HEADER || !has_magic(&data, offset, NEW_MAGIC) {
                    continue;
                }
                let block_order = header_order(&data, offset)?;
                if let Some(block_order) = block_order {
                    if block_order != order {
                        mismatch = true;
                        continue;
                    }
                }
                if !new_table_fits(&data, offset, order) {
                    return None;
                }
                let mut cache = read_new_block(data, offset, order);
                cache.old_format = false;
                return Some(cache);
            }
        }
        if mismatch {
            return None;
        }
        let order = pick_order(&fitting, |o| {
            let nlibs = u32_at(&data, 12, o) as usize;
            block_score(
                &data,
                0,
                OLD_HEADER + nlibs * OLD_ENTRY,
                OLD_HEADER,
                OLD_ENTRY,
                12,
                o,
            )
        });
        return Some(read_old_table(data, order));
    }
    None
}

fn read_new_block(data: Vec<u8>, base: usize, little: bool) -> LdCache {
    let nlibs = u32_at(&data, base + 20, little) as usize;
    let mut entries = Vec::with_capacity(nlibs);
    for i in 0..nlibs {
        let at = base + NEW_HEADER + i * NEW_ENTRY;
        entries.push(Entry {
            flags: u32_at(&data, at, little) as i32,
            hwcap: u64_at(&data, at + 16, little),
            key: string_pos(&data, base, u32_at(&data, at + 4, little)),
            value: string_pos(&data, base, u32_at(&data, at + 8, little)),
        });
    }
    let hwcap_names = load_extensions(&data, u32_at(&data, base + 32, little) as usize, little);
    LdCache {
        data,
        old_format: false,
        entries,
        hwcap_names,
    }
}

fn read_old_table(data: Vec<u8>, little: bool) -> LdCache {
    let nlibs = u32_at(&data, 12, little) as usize;
    let strings_at = OLD_HEADER + nlibs * OLD_ENTRY;
    let mut entries = Vec::with_capacity(nlibs);
    for i in 0..nlibs {
        let at = OLD_HEADER + i * OLD_ENTRY;
        entries.push(Entry {
            flags: u32_at(&data, at, little) as i32,
            hwcap: 0,
            key: string_pos(&data, strings_at, u32_at(&data, at + 4, little)),
            value: string_pos(&data, strings_at, u32_at(&data, at + 8, little)),
        });
    }
    LdCache {
        data,
        old_format: true,
        entries,
        hwcap_names: Vec::new(),
    }
}

/// cache_extension_load: only the glibc-hwcaps names matter to lookups. Any structural fault drops
/// all extensions but keeps the cache.
fn load_extensions(data: &[u8], offset: usize, little: bool) -> Vec<Option<usize>> {
    if offset == 0 || offset % 4 != 0 || offset + 8 > data.len() {
        return Vec::new();
    }
    if u32_at(data, offset, little) != EXTENSION_MAGIC {
        return Vec::new();
    }
    let count = u32_at(data, offset + 4, little) as usize;
    if offset + 8 + count * 16 > data.len() {
        return Vec::new();
    }
    let mut hwcaps: Option<(usize, usize)> = None;
    for i in 0..count {
        let at = offset + 8 + i * 16;
        let tag = u32_at(data, at, little);
        let section = (
            u32_at(data, at + 8, little) as usize,
            u32_at(data, at + 12, little) as usize,
        );
        if section.0 + section.1 > data.len() {
            return Vec::new();
        }
        if tag == 1 {
            hwcaps = Some(section);
        }
    }
    let mut names = Vec::new();
    if let Some((start, size)) = hwcaps {
        if size == 0 || start % 4 != 0 || size % 4 != 0 {
            return names;
        }
        for i in 0..size / 4 {
            names.push(string_pos(data, 0, u32_at(data, start + i * 4, little)));
        }
    }
    names
}

fn c_string(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// `_dl_cache_libcmp`: digit runs compare numerically (in a wrapping 32-bit int), a digit sorts
/// above a non-digit, other bytes compare as signed `char`; past the end reads as NUL.
fn libcmp(p1: &[u8], p2: &[u8]) -> i32 {
    let at = |p: &[u8], k: usize| p.get(k).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        let c1 = at(p1, i);
        if c1 == 0 {
            break;
        }
        let c2 = at(p2, j);
        if is_digit(c1) {
            if !is_digit(c2) {
                return 1;
            }
            let mut v1 = (c1 - b'0') as i32;
            let mut v2 = c2 as i32 - b'0' as i32;
            i += 1;
            j += 1;
            while is_digit(at(p1, i)) {
                v1 = v1.wrapping_mul(10).wrapping_add(at(p1, i) as i32 - 48);
                i += 1;
            }
            while is_digit(at(p2, j)) {
                v2 = v2.wrapping_mul(10).wrapping_add(at(p2, j) as i32 - 48);
                j += 1;
            }
            if v1 != v2 {
                return v1.wrapping_sub(v2);
            }
        } else if is_digit(c2) {
            return -1;
        } else if c1 != c2 {
            return (c1 as i8) as i32 - (c2 as i8) as i32;
        } else {
            i += 1;
            j += 1;
        }
    }
    -((at(p2, j) as i8) as i32)
}

/// memcmp over the shorter length, then the shorter first (glibc_hwcaps_compare).
fn compare_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then(a.len().cmp(&b.len()))
}

fn isa_mask(level: f64) -> i32 {
    if level >= 31.0 {
        return -1;
    }
    // Written this way round on purpose: NaN (no level given) must land here too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(level >= 0.0) {
        return 0;
    }
    1i32.wrapping_shl(level.floor() as u32 + 1).wrapping_sub(1)
}

impl LdCache {
    fn key(&self, index: usize) -> Option<&[u8]> {
        self.entries[index].key.map(|pos| &self.data[pos..])
    }

    /// glibc_hwcaps_priorities_init: rank (1 = best) of each cache hwcaps name among the active ones.
    fn priorities(&self, active: &[String]) -> Vec<u32> {
        let mut ranked: Vec<(&[u8], u32)> = active
            .iter()
            .filter(|n| !n.is_empty())
            .enumerate()
            .map(|(i, n)| (n.as_bytes(), i as u32 + 1))
            .collect();
        ranked.sort_by(|a, b| compare_bytes(a.0, b.0)); // stable, as glibc's insertion sort
        let mut result = vec![0u32; self.hwcap_names.len()];
        let (mut l, mut r) = (0, 0);
        while l < self.hwcap_names.len() && r < ranked.len() {
            let name = match self.hwcap_names[l] {
                Some(pos) => c_string(&self.data[pos..]),
                None => {
                    l += 1;
                    continue;
                }
            };
            match compare_bytes(name, ranked[r].0) {
                std::cmp::Ordering::Equal => {
                    result[l] = ranked[r].1;
                    l += 1;
                    r += 1;
                }
                std::cmp::Ordering::Less => l += 1,
                std::cmp::Ordering::Greater => r += 1,
            }
        }
        result
    }

    /// `_dl_load_cache_lookup`: the path for `name`, or None.
    pub fn lookup(&self, name: &str, options: &LookupOptions) -> Option<String> {
        let name = c_string(name.as_bytes());
        let default_id = if options.accepted_flags.len() == 1 {
            options.accepted_flags[0]
        } else {
            FLAG_ELF_LIBC6
        };
        let has_hwcap = !self.old_format;
        let cpu_isa = isa_mask(options.isa_level);
        let legacy_allowed = options.legacy_hwcap.map(|bits| bits | HWCAP_TLS);
        let mut priorities: Option<Vec<u32>> = None;
        let mut left: i64 = 0;
        let mut right: i64 = self.entries.len() as i64 - 1;
        let mut best: Option<String> = None;
        let mut best_priority = 0u32;
        while left <= right {
            let mut middle = (left + right) / 2;
            let key = self.key(middle as usize)?;
            let cmp = libcmp(name, key);
            if cmp == 0 {
                left = middle;
                while middle > 0 {
                    match self.key(middle as usize - 1) {
                        Some(previous) if libcmp(name, previous) == 0 => middle -= 1,
                        _ => break,
                    }
                }
                let mut first = true;
                loop {
                    if !first {
                        middle += 1;
                        if middle > right {
                            break;
                        }
                    }
                    first = false;
                    if middle > left {
                        match self.key(middle as usize) {
                            Some(next) if libcmp(name, next) == 0 => {}
                            _ => break,
                        }
                    }
                    let entry = &self.entries[middle as usize];
                    if !options.accepted_flags.contains(&entry.flags) {
                        continue;
                    }
                    let value = match entry.value {
                        Some(pos) => String::from_utf8_lossy(c_string(&self.data[pos..])).into_owned(),
                        None => continue,
                    };
                    let mut named = false;
                    if has_hwcap {
                        let high = (entry.hwcap >> 32) as u32;
                        named = high & !ISA_LEVEL_MASK == HWCAP_EXTENSION_HIGH;
                        if named {
                            // JavaScript and the x86 shift both mask the count to 5 bits.
                            let bit = 1i32.wrapping_shl(high & ISA_LEVEL_MASK);
                            if bit & cpu_isa != bit {
                                continue;
                            }
                        }
                        if !named && best.is_some() {
                            break;
                        }
                        if !named && entry.hwcap != 0 {
                            match legacy_allowed {
                                Some(allowed) if entry.hwcap & !allowed == 0 => {}
                                _ => continue,
                            }
                        }
                        if named {
                            let ranks =
                                priorities.get_or_insert_with(|| self.priorities(options.active_hwcaps));
                            let priority = ranks
                                .get((entry.hwcap & 0xffff_ffff) as usize)
                                .copied()
                                .unwrap_or(0);
                            if priority == 0 {
                                continue;
                            }
                            if best.is_some() && priority >= best_priority {
                                continue;
                            }
                            best_priority = priority;
                        }
                    }
                    best = Some(value);
                    if !named && entry.flags == default_id {
                        break;
                    }
                }
                break;
            }
            if cmp < 0 {
                left = middle + 1;
            } else {
                right = middle - 1;
            }
        }
        // An empty path still ends the walk, but ld.so's open("") fails with ENOENT and the search
        // goes on to the default directories, as with no entry (ld-cache.ts says the same).
        best.filter(|path| !path.is_empty())
    }
}

const GENERIC_FLAGS: &[i32] = &[1, 3];

/// `_dl_cache_check_flags` of the loader for a main program of this class, machine and e_flags.
pub fn abi_cache_flags(class64: bool, machine: u16, e_flags: u32) -> Vec<i32> {
    let generic = |expected64: bool| {
        if class64 == expected64 {
            GENERIC_FLAGS.to_vec()
        } else {
            Vec::new()
        }
    };
    match machine {
        62 => vec![if class64 { 0x0303 } else { 0x0803 }],
        183 => {
            if class64 {
                vec![0x0a03]
            } else {
                vec![]
            }
        }
        21 => {
            if class64 {
                vec![0x0503]
            } else {
                vec![]
            }
        }
        22 => {
            if class64 {
                vec![0x0403]
            } else {
                GENERIC_FLAGS.to_vec()
            }
        }
        43 => {
            if class64 {
                vec![0x0103]
            } else {
                GENERIC_FLAGS.to_vec()
            }
        }
        50 => {
            if class64 {
                vec![0x0203]
            } else {
                vec![]
            }
        }
        40 => {
            if class64 {
                vec![]
            } else if e_flags & 0x400 != 0 {
                vec![0x0903, 0x0003]
            } else {
                vec![0x0b03, 0x0003]
            }
        }
        243 => match e_flags & 0x6 {
            0 => vec![0x0f03],
            4 => vec![0x1003],
            _ => vec![],
        },
        258 => match e_flags & 0x7 {
            1 => vec![0x1103],
            3 => vec![0x1203],
            _ => vec![],
        },
        8 => {
            let nan2008 = e_flags & 0x400 != 0;
            if class64 {
                vec![if nan2008 { 0x0e03 } else { 0x0703 }]
            } else if e_flags & 0x20 != 0 {
                vec![if nan2008 { 0x0d03 } else { 0x0603 }]
            } else if nan2008 {
                vec![0x0c03]
            } else {
                GENERIC_FLAGS.to_vec()
            }
        }
        0x9026 => generic(true),
        2 | 3 | 4 | 15 | 18 | 20 | 42 | 92 | 113 | 189 | 195 | 252 => generic(false),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new-format cache with one x86-64 entry: `key` -> `value`.
    fn one_entry_cache(key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8; NEW_HEADER + NEW_ENTRY];
        data[..NEW_MAGIC.len()].copy_from_slice(NEW_MAGIC);
        data[20..24].copy_from_slice(&1u32.to_le_bytes());
        data[28] = 2; // little-endian
        let key_at = data.len() as u32;
        data.extend_from_slice(key);
        data.push(0);
        let value_at = data.len() as u32;
        data.extend_from_slice(value);
        data.push(0);
        data[NEW_HEADER..NEW_HEADER + 4].copy_from_slice(&0x0303i32.to_le_bytes());
        data[NEW_HEADER + 4..NEW_HEADER + 8].copy_from_slice(&key_at.to_le_bytes());
        data[NEW_HEADER + 8..NEW_HEADER + 12].copy_from_slice(&value_at.to_le_bytes());
        data
    }

    #[test]
    fn an_empty_path_is_no_entry() {
        let options = LookupOptions {
            accepted_flags: &[0x0303],
            active_hwcaps: &[],
            isa_level: 0.0,
            legacy_hwcap: Some(0),
        };
        let found = parse(one_entry_cache(b"libx.so.1", b"/l/libx.so.1")).unwrap();
        assert_eq!(found.lookup("libx.so.1", &options).as_deref(), Some("/l/libx.so.1"));
        // ld.so's open("") fails and the search goes on as if the cache had no entry.
        let empty = parse(one_entry_cache(b"libx.so.1", b"")).unwrap();
        assert_eq!(empty.lookup("libx.so.1", &options), None);
    }

    #[test]
    fn libcmp_orders_like_glibc() {
        assert_eq!(libcmp(b"libc.so.6", b"libc.so.6\0"), 0);
        assert!(libcmp(b"libc.so.10", b"libc.so.9") > 0);
        assert!(libcmp(b"liba", b"lib1") < 0);
        assert_eq!(libcmp(b"lib01", b"lib1"), 0);
    }
}
