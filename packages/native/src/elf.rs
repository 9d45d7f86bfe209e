//! The few parts of an ELF file the dependency walk needs (header, PT_INTERP, PT_DYNAMIC and the
//! strings it names), read with small bounded reads, never the whole file. A port of packages/elf
//! (header.ts, dynamic.ts, read.ts). It is at least as strict as the TypeScript reader: where it
//! refuses a file, the caller hands that file back to the TypeScript path (which words the error).

use std::fs::File;
use std::os::unix::fs::FileExt;

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const DF_1_NODEFLIB: u64 = 0x800;
pub const DF_1_PIE: u64 = 0x0800_0000;
const MAX_DYNAMIC_ENTRIES: u64 = 1 << 16;
const MAX_STRING: u64 = 4096;
/// Entries of the dynamic section read at a time, until DT_NULL (packages/elf/src/dynamic.ts).
const ENTRIES_PER_READ: u64 = 64;
/// JavaScript's Number.MAX_SAFE_INTEGER: reads beyond it are left to the TypeScript reader.
const MAX_SAFE: u64 = (1 << 53) - 1;
/// The first read of each file. 16 KiB also catches the dynamic strings of most small and mid-sized
/// files: on the corpus, 40% fewer reads than 4 KiB (a syscall costs more than copying 12 KiB here).
const HEAD_SIZE: u64 = 16 * 1024;
/// Strings further apart than this are read one by one.
const MAX_WINDOW: u64 = 256 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DepKind {
    Needed,
    Filter,
    Auxiliary,
}

#[derive(Debug)]
pub struct Dynamic {
    pub dependencies: Vec<(DepKind, String)>,
    pub soname: Option<String>,
    pub rpath: Option<String>,
    pub runpath: Option<String>,
    pub flags1: u64,
    /// PT_DYNAMIC's p_filesz is not 0: glibc refuses a library whose p_filesz is 0.
    pub has_file_data: bool,
}

#[derive(Debug)]
pub struct Elf {
    pub class64: bool,
    pub little: bool,
    pub elf_type: u16,
    pub machine: u16,
    pub flags: u32,
    pub interpreter: Option<String>,
    pub dynamic: Option<Dynamic>,
}

#[derive(Clone, Copy)]
struct Program {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Random access with the first HEAD_SIZE bytes served from memory (headers and PT_INTERP live there).
struct Source {
    file: File,
    size: u64,
    head: Vec<u8>,
}

impl Source {
    fn read_up_to(&self, offset: u64, length: u64) -> Vec<u8> {
        let end = offset.saturating_add(length).min(self.size);
        if end <= offset {
            return Vec::new();
        }
        if end <= self.head.len() as u64 {
            return self.head[offset as usize..end as usize].to_vec();
        }
        let mut buffer = vec![0u8; (end - offset) as usize];
        let mut filled = 0;
        while filled < buffer.len() {
            match self.file.read_at(&mut buffer[filled..], offset + filled as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        buffer.truncate(filled);
        buffer
    }

    /// Exactly `length` bytes, or None when the file is shorter (the TypeScript reader's ELF_TRUNCATED).
    fn read(&self, offset: u64, length: u64) -> Option<Vec<u8>> {
        if offset > MAX_SAFE || length > MAX_SAFE || offset + length > self.size {
            return None;
        }
        let bytes = self.read_up_to(offset, length);
        if bytes.len() as u64 == length {
            Some(bytes)
        } else {
            None
        }
    }
}

fn u16_at(bytes: &[u8], at: usize, little: bool) -> u16 {
    let b = [bytes[at], bytes[at + 1]];
    if little {
        u16::from_le_bytes(b)
    } else {
        u16::from_be_bytes(b)
    }
}

pub fn u32_at(bytes: &[u8], at: usize, little: bool) -> u32 {
    let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
    if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

fn u64_at(bytes: &[u8], at: usize, little: bool) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    if little {
        u64::from_le_bytes(b)
    } else {
        u64::from_be_bytes(b)
    }
}

/// What one open of a regular file tells: its first bytes (for the loader's checks on candidates)
/// and, when our reader accepts it, its parsed ELF contents.
pub struct FileInfo {
    /// The first up to 64 bytes.
    pub ident: Vec<u8>,
    /// None for anything the TypeScript reader might refuse.
    pub elf: Option<std::sync::Arc<Elf>>,
    /// When `elf` is None because of the first 16 bytes: ElfError's `problem`, in the same words.
    pub problem: Option<String>,
}

/// Opens a regular file of `size` bytes (known from the path walk's lstat) once: the ident and the
/// ELF parse share the open and the first page. None when it cannot be opened or read.
pub fn read_file(host_path: &str, size: u64) -> Option<FileInfo> {
    let file = File::open(host_path).ok()?;
    let mut source = Source {
        file,
        size,
        head: Vec::new(),
    };
    let want = HEAD_SIZE.min(size) as usize;
    let mut head = vec![0u8; want];
    let mut filled = 0;
    while filled < want {
        match source.file.read_at(&mut head[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => return None,
        }
    }
    head.truncate(filled);
    source.head = head;
    let ident = source.head[..source.head.len().min(64)].to_vec();
    let elf = parse(&source).map(std::sync::Arc::new);
    let problem = if elf.is_some() {
        None
    } else {
        ident_problem(&source.head, size)
    };
    Some(FileInfo { ident, elf, problem })
}

/// packages/elf/src/header.ts: the errors about e_ident, which the resolver reports as bad input.
/// Problems further in are left to the TypeScript reader.
fn ident_problem(head: &[u8], size: u64) -> Option<String> {
    if head.len() < 4 || head[..4] != [0x7f, b'E', b'L', b'F'] {
        return Some("not an ELF file (no \\x7fELF magic at the start)".to_string());
    }
    if head.len() < 16 {
        return Some(format!("file too short for an ELF header ({} bytes)", size));
    }
    if head[4] != 1 && head[4] != 2 {
        return Some(format!("unknown ELF class {} (expected 1 or 2)", head[4]));
    }
    if head[5] != 1 && head[5] != 2 {
        return Some(format!("unknown ELF byte order {} (expected 1 or 2)", head[5]));
    }
    None
}

fn parse(source: &Source) -> Option<Elf> {
    let ident = &source.head;
    if ident.len() < 16 || ident[..4] != [0x7f, b'E', b'L', b'F'] {
        return None;
    }
    let class64 = match ident[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = match ident[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let header = source.read(0, if class64 { 64 } else { 52 })?;
    let elf_type = u16_at(&header, 16, little);
    let machine = u16_at(&header, 18, little);
    let (flags, phoff, phentsize, phnum) = if class64 {
        (
            u32_at(&header, 48, little),
            u64_at(&header, 32, little),
            u16_at(&header, 54, little),
            u16_at(&header, 56, little),
        )
    } else {
        (
            u32_at(&header, 36, little),
            u32_at(&header, 28, little) as u64,
            u16_at(&header, 42, little),
            u16_at(&header, 44, little),
        )
    };
    let mut programs = Vec::new();
    if phnum != 0 && phoff != 0 {
        let entry = if class64 { 56 } else { 32 };
        if phentsize != entry {
            return None;
        }
        let table = source.read(phoff, phnum as u64 * entry as u64)?;
        for index in 0..phnum as usize {
            let at = index * entry as usize;
            let (kind, offset, vaddr, filesz, memsz) = if class64 {
                (
                    u32_at(&table, at, little),
                    u64_at(&table, at + 8, little),
                    u64_at(&table, at + 16, little),
                    u64_at(&table, at + 32, little),
                    u64_at(&table, at + 40, little),
                )
            } else {
                (
                    u32_at(&table, at, little),
                    u32_at(&table, at + 4, little) as u64,
                    u32_at(&table, at + 8, little) as u64,
                    u32_at(&table, at + 16, little) as u64,
                    u32_at(&table, at + 20, little) as u64,
                )
            };
            // Exact 64-bit fields: only a value that is used can make the file unreadable.
            programs.push(Program {
                kind,
                offset,
                vaddr,
                filesz,
                memsz,
            });
        }
    }
    let interpreter = match programs.iter().find(|p| p.kind == PT_INTERP) {
        None => None,
        Some(segment) => {
            let bytes = source.read(segment.offset, segment.filesz)?;
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            // Lossy, as the TypeScript reader decodes PT_INTERP.
            if end == 0 {
                return None;
            }
            Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
        }
    };
    let dynamic = read_dynamic(source, class64, little, &programs)?;
    Some(Elf {
        class64,
        little,
        elf_type,
        machine,
        flags,
        interpreter,
        dynamic,
    })
}

/// Some(None): no PT_DYNAMIC. None: a dynamic section the TypeScript reader would refuse.
fn read_dynamic(
    source: &Source,
    class64: bool,
    little: bool,
    programs: &[Program],
) -> Option<Option<Dynamic>> {
    let segment = match programs.iter().find(|p| p.kind == PT_DYNAMIC) {
        Some(segment) => segment,
        None => return Some(None),
    };
    // Read where the loaders read it: at p_vaddr in the image, from the PT_LOAD that maps it, up
    // to DT_NULL; past the segment's file bytes come zeros, which end the list.
    let address = segment.vaddr;
    let load = programs.iter().find(|p| {
        p.kind == PT_LOAD && address >= p.vaddr && (address as u128) < p.vaddr as u128 + p.memsz as u128
    })?;
    let entry: u64 = if class64 { 16 } else { 8 };
    let into = address - load.vaddr;
    let backed = load.filesz.saturating_sub(into);
    let available = (backed / entry).min(MAX_DYNAMIC_ENTRIES);
    let mut offsets: Vec<(DepKind, u64)> = Vec::new();
    let (mut soname, mut rpath, mut runpath, mut strtab, mut strsz) = (None, None, None, None, None);
    let mut flags1 = 0u64;
    let mut first = 0u64;
    'entries: while first < available {
        let count = ENTRIES_PER_READ.min(available - first);
        let start = (load.offset as u128) + (into as u128) + (first * entry) as u128;
        if start > MAX_SAFE as u128 {
            return None;
        }
        let bytes = source.read(start as u64, count * entry)?;
        for index in 0..count as usize {
            let at = index * entry as usize;
            let (tag, value): (i64, u64) = if class64 {
                // Tags we know fit in 32 bits; a non-zero high half is some other tag.
                let raw = u64_at(&bytes, at, little);
                (
                    if raw >> 32 == 0 { raw as i64 } else { -1 },
                    u64_at(&bytes, at + 8, little),
                )
            } else {
                (
                    u32_at(&bytes, at, little) as i64,
                    u32_at(&bytes, at + 4, little) as u64,
                )
            };
            match tag {
                0 => break 'entries,
                1 => offsets.push((DepKind::Needed, value)),
                0x7fff_ffff => offsets.push((DepKind::Filter, value)),
                0x7fff_fffd => offsets.push((DepKind::Auxiliary, value)),
                14 => soname = Some(value),
                // glibc keeps the last of a repeated tag.
                15 => rpath = Some(value),
                29 => runpath = Some(value),
                5 => strtab = Some(value),
                10 => strsz = Some(value),
                // The flag bits the loaders test sit in the low 32 bits.
                0x6fff_fffb => flags1 = value & 0xffff_ffff,
                _ => {}
            }
        }
        first += count;
    }
    let needs_strings = !offsets.is_empty() || soname.is_some() || rpath.is_some() || runpath.is_some();
    let mut table: Option<(i128, i128)> = None;
    if needs_strings {
        let address = strtab?;
        // DT_STRTAB is a virtual address: mapped through PT_LOAD, as the loader does.
        let load = programs.iter().find(|p| {
            p.kind == PT_LOAD && address >= p.vaddr && (address as u128) < p.vaddr as u128 + p.filesz as u128
        })?;
        let offset = load.offset as i128 + (address - load.vaddr) as i128;
        let size = match strsz {
            Some(size) => size as i128,
            None => source.size as i128 - offset,
        };
        table = Some((offset, size));
    }
    // One read for all the strings when they lie close together (they usually do), instead of one
    // read per string; each string still gets exactly the bounds the TypeScript reader gives it.
    let wanted = offsets
        .iter()
        .map(|&(_, o)| o)
        .chain(soname)
        .chain(rpath)
        .chain(runpath);
    let (low, high) = wanted.fold((u64::MAX, 0u64), |(lo, hi), o| (lo.min(o), hi.max(o)));
    let window: Option<(i128, Vec<u8>)> = match table {
        Some((table_offset, _)) if needs_strings && high - low <= MAX_WINDOW => {
            let start = table_offset + low as i128;
            if start >= 0 && start <= MAX_SAFE as i128 {
                Some((start, source.read_up_to(start as u64, high - low + MAX_STRING)))
            } else {
                None
            }
        }
        _ => None,
    };
    let string = |offset: u64| -> Option<String> {
        let (table_offset, table_size) = table?;
        let offset = offset as i128;
        if offset >= table_size {
            return None;
        }
        let limit = (table_size - offset).min(MAX_STRING as i128) as u64;
        let start = table_offset + offset;
        if start < 0 || start > u64::MAX as i128 {
            return None;
        }
        let owned;
        let chunk: &[u8] = match &window {
            Some((window_start, bytes)) => {
                let from = ((start - window_start) as usize).min(bytes.len());
                &bytes[from..(from + limit as usize).min(bytes.len())]
            }
            None => {
                owned = source.read_up_to(start as u64, limit);
                &owned
            }
        };
        let end = chunk.iter().position(|&b| b == 0)?;
        // A name that is not UTF-8 is bytes the TypeScript resolver keeps as they are: leave the
        // file to it.
        String::from_utf8(chunk[..end].to_vec()).ok()
    };
    let mut dependencies = Vec::with_capacity(offsets.len());
    for (kind, offset) in offsets {
        dependencies.push((kind, string(offset)?));
    }
    let soname = match soname {
        Some(offset) => Some(string(offset)?),
        None => None,
    };
    let rpath = match rpath {
        Some(offset) => Some(string(offset)?),
        None => None,
    };
    let runpath = match runpath {
        Some(offset) => Some(string(offset)?),
        None => None,
    };
    Some(Some(Dynamic {
        dependencies,
        soname,
        rpath,
        runpath,
        flags1,
        has_file_data: segment.filesz != 0,
    }))
}

pub enum Verdict {
    Accept,
    Skip,
    Fatal(&'static str),
}

/// glibc's open_verify on a candidate's first bytes (packages/resolver/src/glibc-verify.ts).
pub fn verify_candidate(ident: &[u8], class64: bool, little: bool, machine: u16) -> Verdict {
    let header_size = if class64 { 64 } else { 52 };
    if ident.len() < header_size {
        return Verdict::Fatal("file too short");
    }
    if ident[..4] != [0x7f, b'E', b'L', b'F'] {
        return Verdict::Fatal("invalid ELF header");
    }
    if ident[4] != if class64 { 2 } else { 1 } {
        return Verdict::Skip;
    }
    if ident[5] != if little { 1 } else { 2 } {
        return Verdict::Fatal("ELF file data encoding not little-endian");
    }
    if ident[6] != 1 {
        return Verdict::Fatal("ELF file version ident does not match current one");
    }
    let osabi = ident[7];
    if osabi != 0 && osabi != 3 {
        return Verdict::Fatal("ELF file OS ABI invalid");
    }
    let abi_version = ident[8];
    if if osabi == 0 {
        abi_version != 0
    } else {
        abi_version >= 4
    } {
        return Verdict::Fatal("ELF file ABI version invalid");
    }
    if ident[9..16].iter().any(|&b| b != 0) {
        return Verdict::Fatal("nonzero padding in e_ident");
    }
    if u32_at(ident, 20, little) != 1 {
        return Verdict::Fatal("ELF file version does not match current one");
    }
    if u16_at(ident, 18, little) != machine {
        return Verdict::Skip;
    }
    let elf_type = u16_at(ident, 16, little);
    if elf_type != 2 && elf_type != 3 {
        return Verdict::Fatal("only ET_DYN and ET_EXEC can be loaded");
    }
    if u16_at(ident, if class64 { 54 } else { 42 }, little) != if class64 { 56 } else { 32 } {
        return Verdict::Fatal("ELF file's phentsize not the expected size");
    }
    Verdict::Accept
}
