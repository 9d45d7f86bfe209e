//! The dependency walk of `dit deps` natively: a port of packages/resolver's glibc model
//! (glibc.ts, loader-facts.ts, dst.ts, resolve.ts), which follows docs/loader.md. Files are
//! resolved in parallel on rayon's pool; everything read from disk (path walks, ELF files, idents,
//! candidate verdicts, loader facts, the ld.so.cache) is cached once for the run and shared.
//!
//! glibc and musl programs are both modelled. What is not is answered `unsupported` for that file,
//! and the TypeScript resolver handles it: files or libraries our ELF reader refuses where the
//! TypeScript one might word the error differently (it owns those messages). LD_PRELOAD and dlopen
//! lists are not part of the request.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::elf;
use crate::facts::{basename, default_interpreter, dirname};
use crate::glibc::{Load, Object, Stop};
use crate::json::{self, Json};
use crate::musl::MuslLoad;
use crate::rootfs::FileKind;
use crate::session::Session;

pub struct Cpu {
    pub hwcaps: Vec<String>,
    pub isa_level: f64,
    pub platform: String,
    pub legacy_hwcap: u64,
    pub legacy_hwcap_names: Vec<String>,
}

pub struct Request {
    pub files: Vec<String>,
    pub root: String,
    pub cwd: String,
    pub library_path: Option<String>,
    pub use_cache: bool,
    pub cpu: Cpu,
}

fn strings(value: Option<&Json>, what: &str) -> Result<Vec<String>, String> {
    match value {
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("{}: every element must be a string", what))
            })
            .collect(),
        _ => Err(format!("{} must be an array of strings", what)),
    }
}

pub fn parse_request(text: &str) -> Result<Request, String> {
    let value = json::parse(text)?;
    let text_field = |key: &str| -> Result<String, String> {
        value
            .get(key)
            .and_then(Json::as_str)
            .map(String::from)
            .ok_or_else(|| format!("{} must be a string", key))
    };
    let cpu = value.get("cpu").ok_or("cpu is required")?;
    let isa_level = match cpu.get("isaLevel") {
        Some(Json::Number(level)) => *level,
        _ => return Err("cpu.isaLevel must be a number".into()),
    };
    let legacy_hwcap = cpu
        .get("legacyHwcap")
        .and_then(Json::as_str)
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or("cpu.legacyHwcap must be a decimal string")?;
    Ok(Request {
        files: strings(value.get("files"), "files")?,
        root: text_field("root")?,
        cwd: text_field("cwd")?,
        library_path: match value.get("libraryPath") {
            None | Some(Json::Null) => None,
            Some(Json::Str(text)) => Some(text.clone()),
            _ => return Err("libraryPath must be a string or null".into()),
        },
        use_cache: !matches!(value.get("useCache"), Some(Json::Bool(false))),
        cpu: Cpu {
            hwcaps: strings(cpu.get("hwcaps"), "cpu.hwcaps")?,
            isa_level,
            platform: cpu
                .get("platform")
                .and_then(Json::as_str)
                .ok_or("cpu.platform must be a string")?
                .to_string(),
            legacy_hwcap,
            legacy_hwcap_names: strings(cpu.get("legacyHwcapNames"), "cpu.legacyHwcapNames")?,
        },
    })
}

// -------------------------------------------------------------------------------------------------
// Results

pub struct Library {
    pub name: String,
    pub path: Option<String>,
}

pub struct Resolution {
    pub interpreter: Option<String>,
    pub libraries: Vec<Library>,
    /// (name, neededBy)
    pub missing: Vec<(String, String)>,
    /// (path, message)
    pub failure: Option<(String, String)>,
}

pub enum Outcome {
    Resolved(Resolution),
    /// ResolveError's `problem` for a bad input file.
    Error(String),
    Unsupported,
}

pub fn outcomes_to_json(files: &[String], outcomes: &[Outcome]) -> String {
    let mut out = String::with_capacity(files.len() * 512);
    out.push('[');
    for (index, (file, outcome)) in files.iter().zip(outcomes).enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"file\":");
        json::write_str(&mut out, file);
        match outcome {
            Outcome::Unsupported => out.push_str(",\"unsupported\":true"),
            Outcome::Error(problem) => {
                out.push_str(",\"error\":");
                json::write_str(&mut out, problem);
            }
            Outcome::Resolved(resolution) => {
                out.push_str(",\"interpreter\":");
                json::write_opt_str(&mut out, resolution.interpreter.as_deref());
                out.push_str(",\"libraries\":[");
                for (i, library) in resolution.libraries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"name\":");
                    json::write_str(&mut out, &library.name);
                    out.push_str(",\"path\":");
                    json::write_opt_str(&mut out, library.path.as_deref());
                    out.push('}');
                }
                out.push_str("],\"missing\":[");
                for (i, (name, needed_by)) in resolution.missing.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"name\":");
                    json::write_str(&mut out, name);
                    out.push_str(",\"neededBy\":");
                    json::write_str(&mut out, needed_by);
                    out.push('}');
                }
                out.push_str("],\"failure\":");
                match &resolution.failure {
                    None => out.push_str("null"),
                    Some((path, message)) => {
                        out.push_str("{\"path\":");
                        json::write_str(&mut out, path);
                        out.push_str(",\"message\":");
                        json::write_str(&mut out, message);
                        out.push('}');
                    }
                }
            }
        }
        out.push('}');
    }
    out.push(']');
    out
}

// -------------------------------------------------------------------------------------------------
// One file (resolve.ts resolveWith)

pub fn resolve_file(session: &Session, file: &str) -> Outcome {
    let lookup = session.fs.lookup(file, &session.cwd);
    if let Some(error) = lookup.error {
        return Outcome::Error(error.describe().to_string());
    }
    match lookup.kind {
        Some(FileKind::File) => {}
        Some(FileKind::Directory) => return Outcome::Error("is a directory".into()),
        _ => return Outcome::Error("is not a regular file".into()),
    }
    let real = match lookup.real_path.as_deref() {
        Some(real) => real,
        None => return Outcome::Unsupported,
    };
    let main = match session.file(&lookup) {
        Some(info) => match (&info.elf, &info.problem) {
            (Some(elf), _) => elf.clone(),
            (None, Some(problem)) => return Outcome::Error(problem.clone()),
            (None, None) => return Outcome::Unsupported,
        },
        None => return Outcome::Unsupported,
    };
    let pie = main
        .dynamic
        .as_ref()
        .map_or(false, |d| d.flags1 & elf::DF_1_PIE != 0);
    let is_static = match main.elf_type {
        2 => main.interpreter.is_none() && main.dynamic.is_none(),
        3 => pie && main.interpreter.is_none(),
        _ => {
            return Outcome::Error(format!(
                "not a program or shared library (ELF type {})",
                main.elf_type
            ))
        }
    };
    if is_static {
        return Outcome::Resolved(Resolution {
            interpreter: None,
            libraries: Vec::new(),
            missing: Vec::new(),
            failure: None,
        });
    }
    let interpreter = main
        .interpreter
        .clone()
        .unwrap_or_else(|| default_interpreter(main.class64, main.machine).to_string());
    let interpreter_lookup = session.fs.lookup(&interpreter, &session.cwd);
    let facts = session.facts(&interpreter, main.class64, main.machine);
    if facts.musl {
        let mut load = MuslLoad::new(session, &facts, &interpreter, file, &lookup, main.clone());
        if load.run().is_err() {
            return Outcome::Unsupported;
        }
        let mut missing = std::mem::take(&mut load.missing);
        if main.interpreter.is_some() && interpreter_lookup.error.is_some() {
            missing.insert(0, (interpreter.clone(), file.to_string()));
        }
        return Outcome::Resolved(Resolution {
            interpreter: main.interpreter.clone(),
            libraries: std::mem::take(&mut load.libraries),
            missing,
            failure: None,
        });
    }
    // glibc 2.37 dropped the legacy hwcap subdirectories.
    let legacy_gone = facts.version.0 > 2 || (facts.version.0 == 2 && facts.version.1 >= 37);
    let subdirs = session.subdirs(!legacy_gone);

    let mut load = Load {
        session,
        facts: &facts,
        class64: main.class64,
        little: main.little,
        machine: main.machine,
        main_flags: main.flags,
        objects: Vec::new(),
        libraries: Vec::new(),
        missing_listed: HashSet::new(),
        missing: Vec::new(),
        subdirs,
        library_path_dirs: None,
        context: format!(
            "{}\0{}\0{}\0{}\0{}",
            interpreter, main.class64, main.machine, main.little, main.flags
        ),
    };
    load.objects.push(Object {
        path: file.to_string(),
        // l_name of the program the kernel started is "": a DT_NEEDED "" matches it.
        names: vec![String::new()],
        soname: main.dynamic.as_ref().and_then(|d| d.soname.clone()),
        identity: lookup.identity,
        elf: Some(main.clone()),
        loader: None,
        is_main: true,
        // The exec'd program's origin comes from /proc/self/exe, which is canonical.
        origin: Some(dirname(real)),
        reported: false,
        queued: false,
        rpath: None,
        runpath: None,
    });
    // ld.so is in the namespace from the start, under its PT_INTERP path and its SONAME.
    let loader_lookup = session.fs.lookup(&interpreter, "/");
    let loader_elf = match loader_lookup.kind {
        Some(FileKind::File) => session.elf(&loader_lookup),
        _ => None,
    };
    load.objects.push(Object {
        path: interpreter.clone(),
        names: vec![interpreter.clone()],
        soname: Some(
            loader_elf
                .as_ref()
                .and_then(|e| e.dynamic.as_ref())
                .and_then(|d| d.soname.clone())
                .unwrap_or_else(|| basename(&interpreter).to_string()),
        ),
        identity: loader_lookup.identity,
        elf: loader_elf,
        loader: None,
        is_main: false,
        origin: Some(dirname(&interpreter)),
        reported: false,
        queued: false,
        rpath: None,
        runpath: None,
    });
    let failure = match load.run() {
        Ok(()) => None,
        Err(Stop::Unsupported) => return Outcome::Unsupported,
        Err(Stop::Fatal(path, message)) => Some((path, message)),
    };
    let mut missing = std::mem::take(&mut load.missing);
    // The kernel opens PT_INTERP itself; without it the program cannot start at all.
    if main.interpreter.is_some() && interpreter_lookup.error.is_some() {
        missing.insert(0, (interpreter.clone(), file.to_string()));
    }
    Outcome::Resolved(Resolution {
        interpreter: main.interpreter.clone(),
        libraries: load.libraries,
        missing,
        failure,
    })
}

/// The whole walk: a JSON request in, a JSON array out (see walk-native.ts for the shapes).
pub fn deps_walk_json(request: &str) -> Result<String, String> {
    let request = parse_request(request)?;
    // Relative roots or working directories are resolved by the TypeScript glue; anything else is
    // left to the TypeScript path, file by file.
    if !request.root.starts_with('/') || !request.cwd.starts_with('/') {
        let outcomes: Vec<Outcome> = request.files.iter().map(|_| Outcome::Unsupported).collect();
        return Ok(outcomes_to_json(&request.files, &outcomes));
    }
    let session = Session::new(&request);
    let outcomes: Vec<Outcome> = request
        .files
        .par_iter()
        .with_max_len(4)
        .map(|file| resolve_file(&session, file))
        .collect();
    Ok(outcomes_to_json(&request.files, &outcomes))
}
