//! Everything one walk shares between the files it resolves, read once and used by every rayon
//! worker: path walks, opened files, candidate verdicts, search results, loader facts, the
//! ld.so.cache and /etc/ld.so.preload (packages/resolver/src/session.ts, plus memos of our own).

use std::sync::Arc;

use crate::deps::{Cpu, Request};
use crate::dst::legacy_subdirs;
use crate::elf::{self, Elf};
use crate::facts::{basename, dirname};
use crate::facts::{find_glibc_version, find_system_dirs, lib_token, loader_family, Facts, Family};
use crate::ldcache::{self, LdCache};
use crate::rootfs::{normalize_absolute, FileKind, Lookup, LookupError, RootFs, SharedMap};

/// A memoised search step: found (the walk and the path string), nothing, "stop this list", or fatal.
#[derive(Clone)]
pub(crate) enum DirSearch {
    Found(Arc<Lookup>, Arc<str>),
    Next,
    Stop,
    Fatal(Arc<str>, &'static str),
}

#[derive(Clone)]
pub(crate) enum Probe {
    Found(Arc<Lookup>),
    Next,
    Stop,
    Fatal(&'static str),
}

pub struct Session {
    pub(crate) fs: RootFs,
    pub(crate) cwd: String,
    pub(crate) cpu: Cpu,
    pub(crate) use_cache: bool,
    pub(crate) library_path: Option<String>,
    pub(crate) files: SharedMap<String, Option<Arc<elf::FileInfo>>>,
    pub(crate) probes: SharedMap<String, Probe>,
    /// Per (context, directory, name): what open_path's loop over that one directory gives.
    pub(crate) dir_searches: SharedMap<String, DirSearch>,
    /// Per (context, NODEFLIB, name): the result of the cache and default-directory steps.
    pub(crate) system_searches: SharedMap<String, DirSearch>,
    pub(crate) facts: SharedMap<String, Arc<Facts>>,
    pub(crate) ld_cache: Option<LdCache>,
    /// The subdirectories tried in each search directory, best first, ending with "" (the directory
    /// itself): glibc-hwcaps, then, up to glibc 2.36, the legacy hwcap ones.
    subdirs_with_legacy: Arc<Vec<String>>,
    subdirs_without_legacy: Arc<Vec<String>>,
    /// Names from the root's /etc/ld.so.preload, in order.
    pub(crate) preload: Vec<String>,
}

impl Session {
    pub fn new(request: &Request) -> Session {
        let fs = RootFs::new(&request.root);
        let read_file = |path: &str| -> Option<Vec<u8>> {
            let lookup = fs.lookup(path, "/");
            match (&lookup.real_path, lookup.kind) {
                (Some(real), Some(FileKind::File)) => std::fs::read(fs.host_path(real)).ok(),
                _ => None,
            }
        };
        let ld_cache = if request.use_cache {
            read_file("/etc/ld.so.cache").and_then(ldcache::parse)
        } else {
            None
        };
        let mut preload = Vec::new();
        if let Some(bytes) = read_file("/etc/ld.so.preload") {
            let text = String::from_utf8_lossy(&bytes);
            for line in text.split('\n') {
                // `line.replace(/#.*/, '')`: the comment ends at the line terminators `.` does not match.
                let line = match line.find('#') {
                    Some(at) => {
                        let rest = &line[at..];
                        let end = rest.find(['\r', '\u{2028}', '\u{2029}']);
                        format!("{}{}", &line[..at], end.map_or("", |end| &rest[end..]))
                    }
                    None => line.to_string(),
                };
                preload.extend(
                    line.split([' ', '\t', ':'])
                        .filter(|n| !n.is_empty())
                        .map(String::from),
                );
            }
        }
        let hwcaps: Vec<String> = request
            .cpu
            .hwcaps
            .iter()
            .map(|name| format!("glibc-hwcaps/{}/", name))
            .collect();
        let mut with_legacy = hwcaps.clone();
        with_legacy.extend(legacy_subdirs(
            &request.cpu.platform,
            &request.cpu.legacy_hwcap_names,
        ));
        with_legacy.push(String::new());
        let mut without_legacy = hwcaps;
        without_legacy.push(String::new());
        Session {
            subdirs_with_legacy: Arc::new(with_legacy),
            subdirs_without_legacy: Arc::new(without_legacy),
            fs,
            cwd: request.cwd.clone(),
            cpu: Cpu {
                hwcaps: request.cpu.hwcaps.clone(),
                isa_level: request.cpu.isa_level,
                platform: request.cpu.platform.clone(),
                legacy_hwcap: request.cpu.legacy_hwcap,
                legacy_hwcap_names: request.cpu.legacy_hwcap_names.clone(),
            },
            use_cache: request.use_cache,
            library_path: request.library_path.clone(),
            files: SharedMap::new(),
            probes: SharedMap::new(),
            dir_searches: SharedMap::new(),
            system_searches: SharedMap::new(),
            facts: SharedMap::new(),
            ld_cache,
            preload,
        }
    }

    pub(crate) fn subdirs(&self, legacy: bool) -> Arc<Vec<String>> {
        if legacy {
            self.subdirs_with_legacy.clone()
        } else {
            self.subdirs_without_legacy.clone()
        }
    }

    /// The file at the end of a successful walk, opened once per run.
    pub(crate) fn file(&self, lookup: &Lookup) -> Option<Arc<elf::FileInfo>> {
        let real_path = lookup.real_path.as_deref()?;
        self.files.get_or(real_path, || {
            elf::read_file(&self.fs.host_path(real_path), lookup.size).map(Arc::new)
        })
    }

    pub(crate) fn elf(&self, lookup: &Lookup) -> Option<Arc<Elf>> {
        self.file(lookup).and_then(|info| info.elf.clone())
    }

    pub(crate) fn facts(&self, interpreter: &str, class64: bool, machine: u16) -> Arc<Facts> {
        let key = format!("{}\0{}\0{}", interpreter, class64, machine);
        self.facts.get_or(key.as_str(), || {
            Arc::new(self.read_facts(interpreter, class64, machine))
        })
    }

    pub(crate) fn read_facts(&self, interpreter: &str, class64: bool, machine: u16) -> Facts {
        if loader_family(interpreter) == Family::Musl {
            return Facts {
                musl: true,
                system_dirs: self.musl_system_path(interpreter),
                lib: String::new(),
                version: (0, 0),
            };
        }
        let lookup = self.fs.lookup(interpreter, "/");
        let image = match (&lookup.real_path, lookup.kind) {
            (Some(real), Some(FileKind::File)) => std::fs::read(self.fs.host_path(real)).ok(),
            _ => None,
        };
        let system_dirs = image
            .as_ref()
            .and_then(|image| find_system_dirs(image, class64))
            .unwrap_or_else(|| self.fallback_system_dirs(class64, machine));
        let version = image
            .as_ref()
            .and_then(|image| find_glibc_version(image))
            .unwrap_or((2, 36));
        let lib = lib_token(&system_dirs, class64);
        Facts {
            musl: false,
            system_dirs,
            lib,
            version,
        }
    }

    /// musl's system path: `etc/ld-musl-ARCH.path` under the loader's prefix (PT_INTERP less its last
    /// two components), elements split on ':' and '\n', empty ones skipped; musl's default when the
    /// file does not exist, an empty path when it cannot be read.
    fn musl_system_path(&self, interpreter: &str) -> Vec<String> {
        let base = basename(interpreter);
        let arch = &base["ld-musl-".len()..base.len() - ".so.1".len()];
        let prefix = dirname(&dirname(interpreter));
        let path_file = normalize_absolute(&format!("/{}/etc/ld-musl-{}.path", prefix, arch));
        let lookup = self.fs.lookup(&path_file, "/");
        if lookup.error == Some(LookupError::NoEntry) {
            return ["/lib", "/usr/local/lib", "/usr/lib"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        let text = match (&lookup.real_path, lookup.kind) {
            (Some(real), Some(FileKind::File)) => match std::fs::read(self.fs.host_path(real)) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        text.split([':', '\n'])
            .filter(|part| !part.is_empty())
            .map(String::from)
            .collect()
    }

    pub(crate) fn fallback_system_dirs(&self, class64: bool, machine: u16) -> Vec<String> {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        if machine == 62
            && class64
            && self.fs.lookup("/usr/lib/x86_64-linux-gnu", "/").kind == Some(FileKind::Directory)
        {
            return strings(&[
                "/lib/x86_64-linux-gnu/",
                "/usr/lib/x86_64-linux-gnu/",
                "/lib/",
                "/usr/lib/",
            ]);
        }
        if class64 {
            strings(&["/lib64/", "/usr/lib64/"])
        } else {
            strings(&["/lib/", "/usr/lib/"])
        }
    }
}
