//! One program's load as musl's dynamic linker would do it (packages/resolver/src/musl.ts, after
//! ldso/dynlink.c load_library, path_open, fixup_rpath): reserved names are musl itself, loaded
//! objects match by shortname only, LD_LIBRARY_PATH first, then RUNPATH-or-RPATH of every object up
//! the needed-by chain, then the system path; only $ORIGIN is expanded; no class check.

use std::sync::Arc;

use crate::deps::Library;
use crate::elf::Elf;
use crate::facts::{basename, Facts};
use crate::glibc::Stop;
use crate::rootfs::{FileKind, Lookup, LookupError};
use crate::session::Session;

const RESERVED: [&str; 7] = ["c", "pthread", "rt", "m", "dl", "util", "xnet"];
const NAME_MAX: usize = 255;
const PATH_MAX_BUFFER: usize = 512;

struct Object {
    /// p->name: the path it was opened as.
    name: String,
    /// p->shortname: basename of a search-found path; None for explicit paths until found by search.
    shortname: Option<String>,
    identity: Option<(u64, u64)>,
    real_path: Option<String>,
    elf: Option<Arc<Elf>>,
    needed_by: Option<usize>,
    is_main: bool,
    reported: bool,
}

/// Lengths as JavaScript counts them (UTF-16 units), for the loader's buffer limits.
fn js_length(text: &str) -> usize {
    text.encode_utf16().count()
}

pub(crate) struct MuslLoad<'a> {
    session: &'a Session,
    facts: &'a Facts,
    interpreter: &'a str,
    objects: Vec<Object>,
    /// Index of musl itself in `objects`, once something asked for it.
    loader: Option<usize>,
    loader_lookup: Arc<Lookup>,
    pub(crate) libraries: Vec<Library>,
    pub(crate) missing: Vec<(String, String)>,
}

impl<'a> MuslLoad<'a> {
    pub(crate) fn new(
        session: &'a Session,
        facts: &'a Facts,
        interpreter: &'a str,
        file: &str,
        lookup: &Lookup,
        elf: Arc<Elf>,
    ) -> Self {
        let main = Object {
            name: file.to_string(),
            shortname: None,
            identity: lookup.identity,
            real_path: lookup.real_path.clone(),
            elf: Some(elf),
            needed_by: None,
            is_main: true,
            reported: false,
        };
        MuslLoad {
            session,
            facts,
            interpreter,
            objects: vec![main],
            loader: None,
            loader_lookup: session.fs.lookup(interpreter, "/"),
            libraries: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// load_deps walks the list as it grows: breadth-first over DT_NEEDED.
    pub(crate) fn run(&mut self) -> Result<(), Stop> {
        let mut next = 0;
        while next < self.objects.len() {
            let elf = self.objects[next].elf.clone();
            if let Some(dynamic) = elf.as_ref().and_then(|e| e.dynamic.as_ref()) {
                for (kind, name) in &dynamic.dependencies {
                    if *kind != crate::elf::DepKind::Needed {
                        continue;
                    }
                    if self.load(name, next)?.is_none() {
                        self.fail(name, next);
                    }
                }
            }
            next += 1;
        }
        Ok(())
    }

    fn fail(&mut self, name: &str, requester: usize) {
        self.missing
            .push((name.to_string(), self.objects[requester].name.clone()));
        if !self.libraries.iter().any(|l| l.path.is_none() && l.name == name) {
            self.libraries.push(Library {
                name: name.to_string(),
                path: None,
            });
        }
    }

    fn use_object(&mut self, object: usize, name: &str) -> usize {
        if !self.objects[object].reported && !self.objects[object].is_main {
            self.objects[object].reported = true;
            let path = self.objects[object].name.clone();
            self.libraries.push(Library {
                name: name.to_string(),
                path: Some(path),
            });
        }
        object
    }

    fn origin(&self, object: usize) -> String {
        // The program's origin comes from /proc/self/exe; a library's from the path it was opened as.
        let object = &self.objects[object];
        let path = if object.is_main {
            object.real_path.as_deref().unwrap_or(&object.name)
        } else {
            &object.name
        };
        match path.rfind('/') {
            Some(at) => path[..at].to_string(),
            None => ".".to_string(),
        }
    }

    /// RUNPATH, else RPATH, with $ORIGIN expanded; None when absent or when another `$` disables it.
    fn search_path(&self, object: usize) -> Option<String> {
        let dynamic = self.objects[object].elf.as_ref()?.dynamic.as_ref()?;
        let raw = dynamic.runpath.as_ref().or(dynamic.rpath.as_ref())?;
        if !raw.contains('$') {
            return Some(raw.clone());
        }
        for (at, _) in raw.match_indices('$') {
            if !raw[at..].starts_with("$ORIGIN") && !raw[at..].starts_with("${ORIGIN}") {
                return None;
            }
        }
        // One pass, like `replace(/\$\{ORIGIN\}|\$ORIGIN/g, origin)`.
        let origin = self.origin(object);
        let mut out = String::with_capacity(raw.len() + origin.len());
        let mut rest = raw.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let token = if rest[at..].starts_with("${ORIGIN}") {
                "${ORIGIN}"
            } else {
                "$ORIGIN"
            };
            out.push_str(&origin);
            rest = &rest[at + token.len()..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// path_open: empty elements skipped; an open error other than "not there" ends the search.
    fn path_open<'s>(
        &self,
        name: &str,
        dirs: impl Iterator<Item = &'s str>,
    ) -> Option<Option<(Arc<Lookup>, String)>> {
        for dir in dirs {
            if dir.is_empty() {
                continue;
            }
            let path = format!("{}/{}", dir, name);
            if js_length(&path) >= PATH_MAX_BUFFER {
                continue;
            }
            let lookup = self.session.fs.lookup(&path, &self.session.cwd);
            match lookup.error {
                None => return Some(Some((lookup, path))),
                Some(LookupError::NoEntry) | Some(LookupError::NotDir) | Some(LookupError::Access) => {}
                Some(LookupError::Loop) => return None,
            }
        }
        Some(None)
    }

    /// Some(index) when loaded, None when not (the caller reports it missing).
    fn load(&mut self, name: &str, requester: usize) -> Result<Option<usize>, Stop> {
        if name.is_empty() {
            return Ok(None);
        }
        let is_self = name == self.interpreter
            || (name.starts_with("lib")
                && RESERVED.iter().any(|reserved| {
                    name[3..].starts_with(reserved) && name[3 + reserved.len()..].starts_with('.')
                }));
        if is_self {
            let loader = match self.loader {
                Some(loader) => loader,
                None => {
                    self.objects.push(Object {
                        name: self.interpreter.to_string(),
                        shortname: Some("libc.so".to_string()),
                        identity: self.loader_lookup.identity,
                        real_path: self.loader_lookup.real_path.clone(),
                        elf: None,
                        needed_by: None,
                        is_main: false,
                        reported: false,
                    });
                    self.loader = Some(self.objects.len() - 1);
                    self.objects.len() - 1
                }
            };
            return Ok(Some(self.use_object(loader, name)));
        }
        let explicit = name.contains('/');
        // None: "stop" or not found.
        let found: Option<(Arc<Lookup>, String)> = if explicit {
            let lookup = self.session.fs.lookup(name, &self.session.cwd);
            if lookup.error.is_none() {
                Some((lookup, name.to_string()))
            } else {
                None
            }
        } else {
            if let Some(same) = self
                .objects
                .iter()
                .position(|o| o.shortname.as_deref() == Some(name))
            {
                return Ok(Some(self.use_object(same, name)));
            }
            if js_length(name) > NAME_MAX {
                return Ok(None);
            }
            // Some(None): not found yet; Some(Some(..)): found; None: an open error stopped the search.
            let mut found: Option<Option<(Arc<Lookup>, String)>> = Some(None);
            if let Some(list) = &self.session.library_path {
                found = self.path_open(name, list.split([':', '\n']));
            }
            // Up the needed-by chain while nothing is found (and nothing stopped the search).
            let mut object = Some(requester);
            while let Some(current) = object {
                if !matches!(found, Some(None)) {
                    break;
                }
                if let Some(list) = self.search_path(current) {
                    found = self.path_open(name, list.split([':', '\n']));
                }
                object = self.objects[current].needed_by;
            }
            if let Some(None) = found {
                found = self.path_open(name, self.facts.system_dirs.iter().map(String::as_str));
            }
            found.unwrap_or(None)
        };
        let (lookup, path) = match found {
            Some(found) => found,
            None => return Ok(None),
        };
        if lookup.identity.is_some() {
            if let Some(same) = self.objects.iter().position(|o| o.identity == lookup.identity) {
                if self.objects[same].shortname.is_none() && !explicit {
                    self.objects[same].shortname = Some(basename(&self.objects[same].name).to_string());
                }
                return Ok(Some(self.use_object(same, name)));
            }
        }
        let elf = if lookup.kind == Some(FileKind::File) {
            match self.session.file(&lookup) {
                // Unreadable: the TypeScript reader fails too (ELF_IO), and musl cannot map it.
                None => None,
                Some(info) => match (&info.elf, &info.problem) {
                    (Some(elf), _) => Some(elf.clone()),
                    (None, Some(_)) => None,
                    // A problem further in, which our reader may judge differently: leave it to TypeScript.
                    (None, None) => return Err(Stop::Unsupported),
                },
            }
        } else {
            None
        };
        let elf = match elf {
            Some(elf) if elf.dynamic.is_some() => elf,
            _ => return Ok(None), // map_library fails: "Error loading shared library"
        };
        self.objects.push(Object {
            shortname: if explicit {
                None
            } else {
                Some(basename(&path).to_string())
            },
            name: path,
            identity: lookup.identity,
            real_path: lookup.real_path.clone(),
            elf: Some(elf),
            needed_by: Some(requester),
            is_main: false,
            reported: false,
        });
        let object = self.objects.len() - 1;
        Ok(Some(self.use_object(object, name)))
    }
}
