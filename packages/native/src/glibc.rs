//! One program's load, as glibc's ld.so would do it (packages/resolver/src/glibc.ts): breadth-first
//! over DT_NEEDED/DT_FILTER/DT_AUXILIARY, names matched against loaded objects, then the search
//! (RPATH chain, LD_LIBRARY_PATH, RUNPATH, ld.so.cache, default directories with hwcaps
//! subdirectories), candidates verified like open_verify, the same file reused under a new name.

use std::collections::HashSet;
use std::sync::Arc;

use crate::deps::Library;
use crate::dst::{expand_dst, has_dst, path_list, Dst};
use crate::elf::{self, DepKind, Elf, Verdict};
use crate::facts::Facts;
use crate::ldcache::{self, LookupOptions};
use crate::rootfs::{FileKind, Lookup, LookupError};
use crate::session::{DirSearch, Probe, Session};

pub(crate) struct Object {
    /// l_name: the path string it was opened as.
    pub(crate) path: String,
    pub(crate) names: Vec<String>,
    pub(crate) soname: Option<String>,
    pub(crate) identity: Option<(u64, u64)>,
    pub(crate) elf: Option<Arc<Elf>>,
    pub(crate) loader: Option<usize>,
    pub(crate) is_main: bool,
    pub(crate) origin: Option<String>,
    pub(crate) reported: bool,
    pub(crate) queued: bool,
    pub(crate) rpath: Option<Option<Arc<Vec<String>>>>,
    pub(crate) runpath: Option<Option<Arc<Vec<String>>>>,
}

pub(crate) enum Stop {
    Fatal(String, String),
    Unsupported,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Needed,
    Filter,
    Auxiliary,
    Preload,
}

pub(crate) struct Load<'a> {
    pub(crate) session: &'a Session,
    pub(crate) facts: &'a Facts,
    pub(crate) class64: bool,
    pub(crate) little: bool,
    pub(crate) machine: u16,
    pub(crate) main_flags: u32,
    pub(crate) objects: Vec<Object>,
    pub(crate) libraries: Vec<Library>,
    pub(crate) missing_listed: HashSet<String>,
    pub(crate) missing: Vec<(String, String)>,
    pub(crate) subdirs: Arc<Vec<String>>,
    pub(crate) library_path_dirs: Option<Vec<String>>,
    /// What makes one program's search differ from another's: the loader (facts), class, machine,
    /// byte order and e_flags (the cache's ABI flags). Memo keys start with it.
    pub(crate) context: String,
}

impl<'a> Load<'a> {
    pub(crate) fn at_least(&self, major: u64, minor: u64) -> bool {
        let (have, have_minor) = self.facts.version;
        have > major || (have == major && have_minor >= minor)
    }

    pub(crate) fn dst(&self, object: usize) -> Dst<'_> {
        Dst {
            origin: self.objects[object].origin.as_deref(),
            lib: &self.facts.lib,
            platform: &self.session.cpu.platform,
        }
    }

    pub(crate) fn new_object(&mut self, object: Object) -> usize {
        self.objects.push(object);
        self.objects.len() - 1
    }

    pub(crate) fn run(&mut self) -> Result<(), Stop> {
        let mut queue: Vec<usize> = vec![0];
        self.objects[0].queued = true;
        for name in self.session.preload.clone() {
            let object = self.map_object(&name, 0, Kind::Preload, Some("/etc/ld.so.preload"))?;
            self.enqueue(&mut queue, object);
        }
        let mut next = 0;
        while next < queue.len() {
            let requester = queue[next];
            next += 1;
            let elf = match &self.objects[requester].elf {
                Some(elf) => elf.clone(),
                None => continue,
            };
            let dependencies = match &elf.dynamic {
                Some(dynamic) => &dynamic.dependencies,
                None => continue,
            };
            for (kind, name) in dependencies {
                let mut name = name.clone();
                if has_dst(&name) {
                    match expand_dst(&name, &self.dst(requester)) {
                        Some(expanded) if !expanded.is_empty() => name = expanded,
                        _ => continue, // 2.36: an empty expansion skips the entry
                    }
                }
                let kind = match kind {
                    DepKind::Needed => Kind::Needed,
                    DepKind::Filter => Kind::Filter,
                    DepKind::Auxiliary => Kind::Auxiliary,
                };
                let object = self.map_object(&name, requester, kind, None)?;
                self.enqueue(&mut queue, object);
            }
        }
        Ok(())
    }

    pub(crate) fn enqueue(&mut self, queue: &mut Vec<usize>, object: Option<usize>) {
        if let Some(object) = object {
            if !self.objects[object].queued {
                self.objects[object].queued = true;
                queue.push(object);
            }
        }
    }

    /// _dl_map_object: the object for `name` as requested by `requester`; None when not found.
    pub(crate) fn map_object(
        &mut self,
        name: &str,
        requester: usize,
        kind: Kind,
        preload_source: Option<&str>,
    ) -> Result<Option<usize>, Stop> {
        if let Some(loaded) = self.find_loaded_by_name(name) {
            return Ok(Some(self.use_object(loaded, name)));
        }
        let found = if name.contains('/') {
            match self.probe(name)? {
                Probe::Found(lookup) => Some((lookup, name.to_string())),
                _ => None,
            }
        } else {
            self.search(name, requester)?
        };
        let (lookup, path) = match found {
            Some(found) => found,
            None => {
                if kind != Kind::Auxiliary {
                    let needed_by = preload_source
                        .map(String::from)
                        .unwrap_or_else(|| self.objects[requester].path.clone());
                    self.missing.push((name.to_string(), needed_by));
                    // Listed once, where it first occurred (ldd prints "not found" in load order).
                    if self.missing_listed.insert(name.to_string()) {
                        self.libraries.push(Library {
                            name: name.to_string(),
                            path: None,
                        });
                    }
                }
                return Ok(None);
            }
        };
        // Same file under another name (a symlink, /lib vs /usr/lib on merged /usr): reuse it.
        if lookup.identity.is_some() {
            if let Some(same) = self.objects.iter().position(|o| o.identity == lookup.identity) {
                self.objects[same].names.push(name.to_string());
                return Ok(Some(self.use_object(same, name)));
            }
        }
        let elf = self.map_file(&path, &lookup)?;
        let origin = library_origin(&path, &self.session.cwd);
        let object = self.new_object(Object {
            names: vec![name.to_string()],
            soname: elf.dynamic.as_ref().and_then(|d| d.soname.clone()),
            identity: lookup.identity,
            elf: Some(elf),
            loader: Some(requester),
            is_main: false,
            origin: Some(origin),
            reported: false,
            queued: false,
            rpath: None,
            runpath: None,
            path,
        });
        Ok(Some(self.use_object(object, name)))
    }

    pub(crate) fn use_object(&mut self, object: usize, name: &str) -> usize {
        if !self.objects[object].reported && !self.objects[object].is_main {
            self.objects[object].reported = true;
            let path = self.objects[object].path.clone();
            self.libraries.push(Library {
                name: name.to_string(),
                path: Some(path),
            });
        }
        object
    }

    /// _dl_name_match_p over the namespace, then the SONAME check that adds the name.
    pub(crate) fn find_loaded_by_name(&mut self, name: &str) -> Option<usize> {
        for index in 0..self.objects.len() {
            let object = &mut self.objects[index];
            if object.names.iter().any(|n| n == name) {
                return Some(index);
            }
            if object.soname.as_deref() == Some(name) {
                object.names.push(name.to_string());
                return Some(index);
            }
        }
        None
    }

    /// The checks of _dl_map_object_from_fd after open_verify accepted the file.
    pub(crate) fn map_file(&self, path: &str, lookup: &Lookup) -> Result<Arc<Elf>, Stop> {
        // The TypeScript reader words ELF errors: leave such files to it.
        let elf = self.session.elf(lookup).ok_or(Stop::Unsupported)?;
        if elf.elf_type == 2 {
            return Err(Stop::Fatal(
                path.to_string(),
                "cannot dynamically load executable".into(),
            ));
        }
        match &elf.dynamic {
            // A PT_DYNAMIC with p_filesz 0 counts as none for a library; the program itself, mapped
            // by the kernel, is read at p_vaddr whatever its p_filesz.
            None => Err(Stop::Fatal(
                path.to_string(),
                "object file has no dynamic section".into(),
            )),
            Some(dynamic) if !dynamic.has_file_data => Err(Stop::Fatal(
                path.to_string(),
                "object file has no dynamic section".into(),
            )),
            Some(dynamic) if dynamic.flags1 & elf::DF_1_PIE != 0 => Err(Stop::Fatal(
                path.to_string(),
                "cannot dynamically load position-independent executable".into(),
            )),
            Some(_) => Ok(elf),
        }
    }

    pub(crate) fn search(
        &mut self,
        name: &str,
        requester: usize,
    ) -> Result<Option<(Arc<Lookup>, String)>, Stop> {
        // a. DT_RPATH of the loader chain, then of the program, unless the requester has DT_RUNPATH.
        if self.runpath_dirs(requester).is_none() {
            let mut reached_main = false;
            let mut object = Some(requester);
            while let Some(current) = object {
                if let Some(dirs) = self.rpath_dirs(current) {
                    if let Some(found) = self.search_dirs(&dirs, name)? {
                        return Ok(Some(found));
                    }
                }
                if self.objects[current].is_main {
                    reached_main = true;
                }
                object = self.objects[current].loader;
            }
            if !reached_main {
                if let Some(dirs) = self.rpath_dirs(0) {
                    if let Some(found) = self.search_dirs(&dirs, name)? {
                        return Ok(Some(found));
                    }
                }
            }
        }
        // b. LD_LIBRARY_PATH, tokens expanded for the program.
        if let Some(text) = &self.session.library_path {
            if self.library_path_dirs.is_none() {
                self.library_path_dirs = Some(path_list(text, &[':', ';'], &self.dst(0)));
            }
            let dirs = self.library_path_dirs.clone().unwrap_or_default();
            if let Some(found) = self.search_dirs(&dirs, name)? {
                return Ok(Some(found));
            }
        }
        // c. DT_RUNPATH of the requester only.
        if let Some(dirs) = self.runpath_dirs(requester) {
            if let Some(found) = self.search_dirs(&dirs, name)? {
                return Ok(Some(found));
            }
        }
        let flags1 = self.objects[requester]
            .elf
            .as_ref()
            .and_then(|e| e.dynamic.as_ref())
            .map_or(0, |d| d.flags1);
        let nodeflib = flags1 & elf::DF_1_NODEFLIB != 0;
        // d. /etc/ld.so.cache, e. the default directories: the same for every requester of this
        // context, so memoised for the run (most names of most programs end here).
        let key = format!("{}\0{}\0{}", self.context, nodeflib, name);
        let step = self
            .session
            .system_searches
            .get_or(key.as_str(), || self.system_search(name, nodeflib));
        found_or_stop(step)
    }

    pub(crate) fn system_search(&self, name: &str, nodeflib: bool) -> DirSearch {
        if self.session.use_cache {
            match self.search_cache(name, nodeflib) {
                DirSearch::Next | DirSearch::Stop => {}
                step => return step,
            }
        }
        if nodeflib {
            return DirSearch::Next;
        }
        self.search_dirs_step(&self.facts.system_dirs, name)
    }

    pub(crate) fn search_cache(&self, name: &str, nodeflib: bool) -> DirSearch {
        let cache = match &self.session.ld_cache {
            Some(cache) => cache,
            None => return DirSearch::Next,
        };
        let accepted = ldcache::abi_cache_flags(self.class64, self.machine, self.main_flags);
        let value = cache.lookup(
            name,
            &LookupOptions {
                accepted_flags: &accepted,
                active_hwcaps: &self.session.cpu.hwcaps,
                isa_level: self.session.cpu.isa_level,
                legacy_hwcap: if self.at_least(2, 37) {
                    None
                } else {
                    Some(self.session.cpu.legacy_hwcap)
                },
            },
        );
        let value = match value {
            Some(value) => value,
            None => return DirSearch::Next,
        };
        // With DF_1_NODEFLIB, a cache result inside a default directory does not count.
        if nodeflib
            && self
                .facts
                .system_dirs
                .iter()
                .any(|dir| value.starts_with(dir.as_str()))
        {
            return DirSearch::Next;
        }
        match self.probe_memo(&value) {
            Probe::Found(lookup) => DirSearch::Found(lookup, Arc::from(value.as_str())),
            Probe::Fatal(reason) => DirSearch::Fatal(Arc::from(value.as_str()), reason),
            _ => DirSearch::Next,
        }
    }

    pub(crate) fn search_dirs(
        &self,
        dirs: &[String],
        name: &str,
    ) -> Result<Option<(Arc<Lookup>, String)>, Stop> {
        found_or_stop(self.search_dirs_step(dirs, name))
    }

    /// open_path over a list: the first directory that finds, fails fatally or ends the list decides.
    pub(crate) fn search_dirs_step(&self, dirs: &[String], name: &str) -> DirSearch {
        for dir in dirs {
            let key = format!("{}\0{}\0{}", self.context, dir, name);
            match self
                .session
                .dir_searches
                .get_or(key.as_str(), || self.search_dir(dir, name))
            {
                DirSearch::Next => {}
                DirSearch::Stop => return DirSearch::Next,
                step => return step,
            }
        }
        DirSearch::Next
    }

    /// One directory with its hwcaps subdirectories; the first acceptable candidate wins.
    pub(crate) fn search_dir(&self, dir: &str, name: &str) -> DirSearch {
        let mut last_stop = false;
        let mut any_dir_exists = false;
        for sub in self.subdirs.iter() {
            let directory = format!("{}{}", dir, sub);
            // Pruning, as ld.so does: a (directory, subdirectory) that does not exist is not tried.
            if !directory.is_empty()
                && self.session.fs.lookup(&directory, &self.session.cwd).kind != Some(FileKind::Directory)
            {
                continue;
            }
            any_dir_exists = true;
            let path = format!("{}{}", directory, name);
            match self.probe_memo(&path) {
                Probe::Found(lookup) => return DirSearch::Found(lookup, Arc::from(path.as_str())),
                Probe::Fatal(reason) => return DirSearch::Fatal(Arc::from(path.as_str()), reason),
                Probe::Stop => last_stop = true,
                Probe::Next => last_stop = false,
            }
        }
        // "The file exists and is readable, but something went wrong": the rest of this list is skipped.
        if any_dir_exists && last_stop {
            DirSearch::Stop
        } else {
            DirSearch::Next
        }
    }

    /// Opens and verifies one candidate, memoised for the run (shared by every program).
    pub(crate) fn probe_memo(&self, path: &str) -> Probe {
        let key = format!("{}\0{}\0{}\0{}", self.class64, self.machine, self.little, path);
        self.session
            .probes
            .get_or(key.as_str(), || self.probe_uncached(path))
    }

    pub(crate) fn probe(&self, path: &str) -> Result<Probe, Stop> {
        match self.probe_memo(path) {
            Probe::Fatal(reason) => Err(Stop::Fatal(path.to_string(), reason.to_string())),
            probe => Ok(probe),
        }
    }

    pub(crate) fn probe_uncached(&self, path: &str) -> Probe {
        let lookup = self.session.fs.lookup(path, &self.session.cwd);
        match lookup.error {
            Some(LookupError::NoEntry) | Some(LookupError::Access) => return Probe::Next,
            // ENOTDIR ends this directory list before 2.39 (BZ 31035); ELOOP always does.
            Some(LookupError::NotDir) => {
                return if self.at_least(2, 39) {
                    Probe::Next
                } else {
                    Probe::Stop
                }
            }
            Some(LookupError::Loop) => return Probe::Stop,
            None => {}
        }
        match lookup.kind {
            Some(FileKind::Directory) => return Probe::Fatal("cannot read file data: Is a directory"),
            Some(FileKind::File) => {}
            _ => return Probe::Fatal("not a regular file"),
        }
        let info = match self.session.file(&lookup) {
            Some(info) => info,
            None => return Probe::Next, // EACCES and friends: the loader moves on
        };
        match elf::verify_candidate(&info.ident, self.class64, self.little, self.machine) {
            Verdict::Fatal(reason) => Probe::Fatal(reason),
            Verdict::Skip => Probe::Next,
            Verdict::Accept => Probe::Found(lookup),
        }
    }

    pub(crate) fn rpath_dirs(&mut self, object: usize) -> Option<Arc<Vec<String>>> {
        if self.objects[object].rpath.is_none() {
            let dynamic = self.objects[object].elf.as_ref().and_then(|e| e.dynamic.as_ref());
            // An object with both tags has its DT_RPATH discarded.
            let rpath = dynamic.and_then(|d| {
                if d.runpath.is_none() {
                    d.rpath.clone()
                } else {
                    None
                }
            });
            let dirs = rpath.map(|text| Arc::new(path_list(&text, &[':'], &self.dst(object))));
            self.objects[object].rpath = Some(dirs);
        }
        self.objects[object].rpath.clone().unwrap_or(None)
    }

    pub(crate) fn runpath_dirs(&mut self, object: usize) -> Option<Arc<Vec<String>>> {
        if self.objects[object].runpath.is_none() {
            let runpath = self.objects[object]
                .elf
                .as_ref()
                .and_then(|e| e.dynamic.as_ref())
                .and_then(|d| d.runpath.clone());
            let dirs = runpath.map(|text| Arc::new(path_list(&text, &[':'], &self.dst(object))));
            self.objects[object].runpath = Some(dirs);
        }
        self.objects[object].runpath.clone().unwrap_or(None)
    }
}

pub(crate) fn found_or_stop(step: DirSearch) -> Result<Option<(Arc<Lookup>, String)>, Stop> {
    match step {
        DirSearch::Found(lookup, path) => Ok(Some((lookup, path.to_string()))),
        DirSearch::Next | DirSearch::Stop => Ok(None),
        DirSearch::Fatal(path, reason) => Err(Stop::Fatal(path.to_string(), reason.to_string())),
    }
}

/// $ORIGIN of a library: the directory of the string it was opened as, made absolute, not resolved.
pub(crate) fn library_origin(path: &str, cwd: &str) -> String {
    let absolute = if path.starts_with('/') {
        path.to_string()
    } else {
        let cwd = cwd.strip_suffix('/').unwrap_or(cwd);
        format!("{}/{}", cwd, path)
    };
    match absolute.rfind('/') {
        Some(at) if at > 0 => absolute[..at].to_string(),
        _ => "/".to_string(),
    }
}
