//! Root-confined path walks, a port of packages/resolver/src/root-fs.ts: every path and every
//! absolute symlink target is resolved inside `root`, and `..` stops at it. Results are cached for
//! the whole run and shared by rayon's workers (the same directories are asked for thousands of times).

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};

/// FxHash (rustc's hasher): the keys are our own paths, not attacker-chosen, and SipHash showed up in
/// profiles. Not in Debian's crates, hence these few lines.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(byte as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(value as u64);
    }
    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

/// A concurrent memo: a few mutex-guarded shards, values computed outside the lock. Two workers may
/// compute the same entry at once; both get the same answer (the files do not change during a run).
pub struct SharedMap<K, V> {
    shards: Vec<Mutex<FxHashMap<K, V>>>,
}

const SHARDS: usize = 32;

impl<K: Hash + Eq, V: Clone> SharedMap<K, V> {
    pub fn new() -> Self {
        SharedMap {
            shards: (0..SHARDS).map(|_| Mutex::new(FxHashMap::default())).collect(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> &Mutex<FxHashMap<K, V>> {
        let mut hasher = FxHasher::default();
        key.hash(&mut hasher);
        // The high bits mix best.
        &self.shards[(hasher.finish() >> 32) as usize % SHARDS]
    }

    pub fn get_or<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let shard = self.shard(key);
        if let Some(value) = shard.lock().unwrap().get(key) {
            return value.clone();
        }
        let value = make();
        shard
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_insert(value)
            .clone()
    }
}

impl<K: Hash + Eq, V: Clone> Default for SharedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    File,
    Directory,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LookupError {
    NoEntry,
    NotDir,
    Loop,
    Access,
}

impl LookupError {
    /// packages/resolver/src/describe.ts
    pub fn describe(self) -> &'static str {
        match self {
            LookupError::NoEntry => "no such file (or a dangling symlink)",
            LookupError::NotDir => "a component of the path is not a directory",
            LookupError::Loop => "too many levels of symbolic links (a symlink loop)",
            LookupError::Access => "permission denied (a directory on the way is not searchable)",
        }
    }
}

#[derive(Clone, Copy)]
enum Stat {
    Missing,
    Access,
    Found {
        kind: FileKind,
        link: bool,
        identity: (u64, u64),
        size: u64,
    },
}

#[derive(Debug)]
pub struct Lookup {
    pub real_path: Option<String>,
    pub error: Option<LookupError>,
    pub kind: Option<FileKind>,
    /// (dev, ino): the loader's "same file?" test.
    pub identity: Option<(u64, u64)>,
    /// st_size of the final file (0 when the walk failed).
    pub size: u64,
}

/// The kernel gives up after 40 symlinks in one walk.
const MAX_LINKS: usize = 40;

pub struct RootFs {
    /// Normalised, without a trailing slash unless it is `/`.
    root: String,
    stats: SharedMap<String, Stat>,
    targets: SharedMap<String, Option<Arc<str>>>,
    lookups: SharedMap<String, Arc<Lookup>>,
}

/// Lexical normalisation of an absolute path, as Node's `posix.join`/`normalize` do it (the trailing
/// slash is dropped: the walk ignores it anyway).
pub fn normalize_absolute(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

impl RootFs {
    pub fn new(root: &str) -> RootFs {
        RootFs {
            root: normalize_absolute(root),
            stats: SharedMap::new(),
            targets: SharedMap::new(),
            lookups: SharedMap::new(),
        }
    }

    /// The host path behind a canonical path inside the root.
    pub fn host_path(&self, path: &str) -> String {
        if self.root == "/" {
            path.to_string()
        } else {
            format!("{}{}", self.root, path)
        }
    }

    /// Follows `path` (absolute inside the root, or relative to the absolute `cwd`).
    pub fn lookup(&self, path: &str, cwd: &str) -> Arc<Lookup> {
        let absolute = if path.starts_with('/') {
            path.to_string()
        } else {
            // Node's posix.join normalises `..` lexically before the walk sees the path.
            normalize_absolute(&format!("{}/{}", cwd, path))
        };
        self.lookups
            .get_or(absolute.as_str(), || Arc::new(self.walk(&absolute)))
    }

    fn walk(&self, path: &str) -> Lookup {
        let fail = |error| Lookup {
            real_path: None,
            error: Some(error),
            kind: None,
            identity: None,
            size: 0,
        };
        let mut pending: VecDeque<String> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(String::from)
            .collect();
        let mut current: Vec<String> = Vec::new();
        let mut link_count = 0;
        while let Some(part) = pending.pop_front() {
            if part == ".." {
                current.pop();
                continue;
            }
            let mut candidate = String::new();
            for component in current.iter().chain(std::iter::once(&part)) {
                candidate.push('/');
                candidate.push_str(component);
            }
            match self.lstat(&candidate) {
                Stat::Missing => return fail(LookupError::NoEntry),
                Stat::Access => return fail(LookupError::Access),
                Stat::Found { link: true, .. } => {
                    link_count += 1;
                    if link_count > MAX_LINKS {
                        return fail(LookupError::Loop);
                    }
                    let target = match self.readlink(&candidate) {
                        Some(target) => target,
                        None => return fail(LookupError::NoEntry),
                    };
                    if target.starts_with('/') {
                        current.clear();
                    }
                    for piece in target.split('/').filter(|p| !p.is_empty() && *p != ".").rev() {
                        pending.push_front(piece.to_string());
                    }
                }
                Stat::Found { kind, .. } => {
                    if !pending.is_empty() && kind != FileKind::Directory {
                        return fail(LookupError::NotDir);
                    }
                    current.push(part);
                }
            }
        }
        let real_path = format!("/{}", current.join("/"));
        match self.lstat(&real_path) {
            Stat::Missing => fail(LookupError::NoEntry),
            Stat::Access => fail(LookupError::Access),
            Stat::Found {
                kind, identity, size, ..
            } => Lookup {
                real_path: Some(real_path),
                error: None,
                kind: Some(kind),
                identity: Some(identity),
                size,
            },
        }
    }

    fn lstat(&self, path: &str) -> Stat {
        self.stats
            .get_or(path, || match std::fs::symlink_metadata(self.host_path(path)) {
                Ok(meta) => {
                    let file_type = meta.file_type();
                    Stat::Found {
                        kind: if file_type.is_file() {
                            FileKind::File
                        } else if file_type.is_dir() {
                            FileKind::Directory
                        } else {
                            FileKind::Other
                        },
                        link: file_type.is_symlink(),
                        identity: (meta.dev(), meta.ino()),
                        size: meta.len(),
                    }
                }
                // Anything but EACCES (ENAMETOOLONG, EIO) makes the path unusable, like a missing one.
                Err(error) if error.raw_os_error() == Some(libc::EACCES) => Stat::Access,
                Err(_) => Stat::Missing,
            })
    }

    fn readlink(&self, path: &str) -> Option<Arc<str>> {
        self.targets.get_or(path, || {
            std::fs::read_link(self.host_path(path))
                .ok()
                .map(|target| Arc::from(target.to_string_lossy().as_ref()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("dit-native-rootfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::write(root.join("usr/lib/libx.so"), b"x").unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        // An absolute link, resolved inside the root; `..` stops at the root.
        std::os::unix::fs::symlink("/../../lib/libx.so", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        let fs = RootFs::new(root.to_str().unwrap());
        let found = fs.lookup("/abs", "/");
        assert_eq!(found.real_path.as_deref(), Some("/usr/lib/libx.so"));
        assert_eq!(found.kind, Some(FileKind::File));
        assert_eq!(
            fs.lookup("lib/../lib/libx.so", "/usr").real_path.as_deref(),
            Some("/usr/lib/libx.so")
        );
        assert_eq!(fs.lookup("/loop", "/").error, Some(LookupError::Loop));
        assert_eq!(fs.lookup("/abs/x", "/").error, Some(LookupError::NotDir));
        assert_eq!(fs.lookup("/nope", "/").error, Some(LookupError::NoEntry));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
