//! `walkFiles` in Rust: the regular files below a list of paths, `find`-style, in byte order of
//! their paths. It gives exactly what the TypeScript implementation (`src/walk.ts`) gives, which is
//! the reference; the comments below say which Node behaviour each step reproduces.
//!
//! Paths are bytes, as the OS has them: a name that is not UTF-8 is walked, listed and sorted by its
//! own bytes (`sha256sum` and `find` see no difference either). Across Node-API a path that is UTF-8
//! travels as a string and any other as a Buffer (src/napi.rs), the TypeScript walk's convention.
//! (A JavaScript path with a lone surrogate arrives here with U+FFFD in its place, as Node's `fs`
//! reads it too; `walk-files-native.ts` puts the path as typed back into the results.)
//!
//! One known difference, on file systems without `d_type` (DT_UNKNOWN) only: Node looks such an entry
//! up with `lstat(path.join(dir, name))`, std by the name in the open folder. They differ only for a
//! folder given as `link/../dir` (`path.join` drops the `..` without following the link), which no
//! one hashes on purpose.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::vec;

use crate::errno_of;

/// What [`walk_files`] found: the files, in order, and what could not be looked at, in the order it
/// was met: `(path, errno)`, the errno positive as the OS numbers it (`libc::ENOENT`, ...).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Walked {
    pub files: Vec<Vec<u8>>,
    pub errors: Vec<(Vec<u8>, i32)>,
}

/// The regular files to hash for a list of paths: each path in the order given; a folder expands to
/// the regular files below it, recursively, in byte order of their paths (the order of
/// `find DIR -type f | LC_ALL=C sort`).
///
/// Inside folders, symbolic links are neither followed nor listed, and FIFOs, sockets and devices are
/// skipped. A path given explicitly is taken as it is (`stat`, following links): a folder is walked,
/// anything else is listed. Folder entries keep the prefix as typed (`dir/` and `./dir` stay so).
/// Errors (a path that cannot be stat'ed, a folder that cannot be listed) are collected in visiting
/// order, apart from the files; a folder that fails contributes no files at all, as `readdirSync`
/// throwing does in TypeScript.
///
/// Sequential. The time is the kernel's: on the `dit hash` benchmark corpus (384 folders, 2,538
/// files, warm cache, the 2-core development VM) `read_dir` alone (open, fstat, getdents64, close per
/// folder) takes 4.3 ms of the walk's 5.2. A rayon task per folder brought the median of repeated
/// walks to 4 ms, but not the first walk in a process (~8 ms either way, with the pool's start),
/// which is the one `dit hash` makes.
pub fn walk_files<S: AsRef<[u8]>>(paths: &[S]) -> Walked {
    let mut walked = Walked::default();
    for path in paths {
        let path = path.as_ref();
        // A path with a NUL byte fails here with EINVAL (std's InvalidInput), as Node's statSync
        // refusing it does (ERR_INVALID_ARG_VALUE, which errors.ts reads as EINVAL).
        match fs::metadata(OsStr::from_bytes(path)) {
            Ok(metadata) if metadata.is_dir() => walk_folder(path.to_vec(), &mut walked),
            Ok(_) => walked.files.push(path.to_vec()),
            Err(error) => walked.errors.push((path.to_vec(), errno_of(&error))),
        }
    }
    walked
}

/// A folder entry worth keeping: a regular file or a folder (`d_type`, or lstat when it is unknown).
struct Entry {
    /// The name, with a '/' after a folder's: sorting these visits paths in their sorted order
    /// (`a/x` comes after `a-b`, as '-' < '/', although `a` sorts before `a-b`).
    key: Vec<u8>,
    is_dir: bool,
}

impl Entry {
    fn name(&self) -> &[u8] {
        if self.is_dir {
            &self.key[..self.key.len() - 1]
        } else {
            &self.key
        }
    }
}

/// Walks one folder, depth first with an explicit stack (no recursion: path lengths bound the depth
/// to about 2,000 levels, deeper than a thread's stack should be trusted with).
fn walk_folder(root: Vec<u8>, walked: &mut Walked) {
    let mut stack: Vec<(Vec<u8>, vec::IntoIter<Entry>)> = Vec::new();
    if let Some(level) = list_folder(root, walked) {
        stack.push(level);
    }
    loop {
        let (path, is_dir) = match stack.last_mut() {
            None => break,
            Some((prefix, entries)) => match entries.next() {
                None => {
                    stack.pop();
                    continue;
                }
                Some(entry) => {
                    let mut path = Vec::with_capacity(prefix.len() + entry.key.len());
                    path.extend_from_slice(prefix);
                    path.extend_from_slice(entry.name());
                    (path, entry.is_dir)
                }
            },
        };
        if !is_dir {
            walked.files.push(path);
        } else if let Some(level) = list_folder(path, walked) {
            stack.push(level);
        }
    }
}

/// The prefix for a folder's entries and its regular files and folders, sorted; or None, with the
/// error recorded against `dir`, when it cannot be listed.
fn list_folder(dir: Vec<u8>, walked: &mut Walked) -> Option<(Vec<u8>, vec::IntoIter<Entry>)> {
    match read_folder(&dir) {
        Ok(mut entries) => {
            // Names in a folder are distinct, so keys are too: an unstable sort is exact.
            entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            let mut prefix = dir;
            if prefix.last() != Some(&b'/') {
                prefix.push(b'/');
            }
            Some((prefix, entries.into_iter()))
        }
        Err(error) => {
            walked.errors.push((dir, errno_of(&error)));
            None
        }
    }
}

/// A folder's regular files and folders, unsorted. Any failure fails the whole folder, as in Node,
/// where `readdirSync` throws: opening it, reading it, or an lstat for an entry without `d_type`.
fn read_folder(dir: &[u8]) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(OsStr::from_bytes(dir))? {
        let entry = entry?;
        // d_type from getdents64 when the file system gives it; std falls back to lstat otherwise.
        let file_type = entry.file_type()?;
        let is_dir = file_type.is_dir();
        if !is_dir && !file_type.is_file() {
            continue;
        }
        let mut key = entry.file_name().into_vec();
        if is_dir {
            key.push(b'/');
        }
        entries.push(Entry { key, is_dir });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::{Path, PathBuf};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dit-native-walk-{}-{}", name, std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"x").unwrap();
    }

    fn text(path: &Path) -> String {
        path.to_str().unwrap().to_string()
    }

    /// What [`walk_files`] found, as strings: for trees whose names are all UTF-8.
    #[derive(Debug, PartialEq)]
    struct TextWalked {
        files: Vec<String>,
        errors: Vec<(String, i32)>,
    }

    fn walk_text<S: AsRef<[u8]>>(paths: &[S]) -> TextWalked {
        let walked = walk_files(paths);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        TextWalked {
            files: walked.files.into_iter().map(text).collect(),
            errors: walked
                .errors
                .into_iter()
                .map(|(path, errno)| (text(path), errno))
                .collect(),
        }
    }

    /// `find DIR -type f | LC_ALL=C sort`, the reference order.
    fn find_sorted(dir: &Path) -> Vec<String> {
        let out = std::process::Command::new("sh")
            .args(["-c", "find \"$1\" -type f -print0 | LC_ALL=C sort -z", "sh"])
            .arg(dir)
            .output()
            .unwrap();
        out.stdout
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    #[test]
    fn byte_order_links_and_special_files_left_out() {
        let dir = temp_dir("order");
        let tree = dir.join("tree");
        for name in ["b", "a-b", "a/x", "a/sub/deep", "A", "é", "\u{FF21}", "\u{1F600}"] {
            write(&tree.join(name));
        }
        fs::create_dir(tree.join("empty-dir")).unwrap();
        symlink("b", tree.join("link-to-file")).unwrap();
        symlink("a", tree.join("link-to-dir")).unwrap();
        symlink("nowhere", tree.join("dangling")).unwrap();
        let fifo = std::ffi::CString::new(text(&tree.join("fifo"))).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

        let walked = walk_text(&[text(&tree)]);
        assert_eq!(walked.errors, vec![]);
        assert_eq!(walked.files, find_sorted(&tree));
        let prefix = text(&tree).len() + 1;
        let names: Vec<&str> = walked.files.iter().map(|f| &f[prefix..]).collect();
        assert_eq!(
            names,
            ["A", "a-b", "a/sub/deep", "a/x", "b", "é", "\u{FF21}", "\u{1F600}"]
        );

        // Explicit paths as they are, prefixes as typed, links followed, in the order given.
        let t = text(&tree);
        let walked = walk_text(&[
            format!("{}/a/", t),
            format!("{}/link-to-file", t),
            format!("{}/link-to-dir", t),
            format!("{}/fifo", t),
            format!("{}//a", t),
        ]);
        assert_eq!(
            walked.files,
            [
                format!("{}/a/sub/deep", t),
                format!("{}/a/x", t),
                format!("{}/link-to-file", t),
                format!("{}/link-to-dir/sub/deep", t),
                format!("{}/link-to-dir/x", t),
                format!("{}/fifo", t),
                format!("{}//a/sub/deep", t),
                format!("{}//a/x", t),
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_in_visiting_order_apart_from_files() {
        let dir = temp_dir("errors");
        let t = text(&dir);
        write(&dir.join("a/file"));
        write(&dir.join("b/file"));
        let walked = walk_text(&[
            format!("{}/missing", t),
            t.clone(),
            format!("{}/a/file/below", t),
            "a\0b".to_string(),
            String::new(),
            format!("{}/a/file", t),
        ]);
        assert_eq!(
            walked.files,
            [
                format!("{}/a/file", t),
                format!("{}/b/file", t),
                format!("{}/a/file", t),
            ]
        );
        assert_eq!(
            walked.errors,
            [
                (format!("{}/missing", t), libc::ENOENT),
                (format!("{}/a/file/below", t), libc::ENOTDIR),
                ("a\0b".to_string(), libc::EINVAL),
                (String::new(), libc::ENOENT),
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs `body` with the effective uid of `nobody` on this thread only, when root: the raw
    /// setresuid system call changes the calling thread's credentials (glibc's wrapper would change
    /// every thread's, and the other tests run in parallel). Root's rights come back on drop.
    fn without_root<T>(body: impl FnOnce() -> T) -> T {
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                if self.0 {
                    let keep = -1 as libc::c_long;
                    assert_eq!(
                        unsafe { libc::syscall(libc::SYS_setresuid, keep, 0 as libc::c_long, keep) },
                        0
                    );
                }
            }
        }
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let keep = -1 as libc::c_long;
            assert_eq!(
                unsafe { libc::syscall(libc::SYS_setresuid, keep, 65534 as libc::c_long, keep) },
                0
            );
        }
        let _restore = Restore(root);
        body()
    }

    #[test]
    fn unlistable_folder_fails_alone() {
        let dir = temp_dir("closed");
        let t = text(&dir);
        write(&dir.join("closed/inside"));
        write(&dir.join("open"));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dir.join("closed"), fs::Permissions::from_mode(0o000)).unwrap();
        let walked = without_root(|| walk_text(&[format!("{}/closed/inside", t), t.clone()]));
        fs::set_permissions(dir.join("closed"), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(walked.files, [format!("{}/open", t)]);
        assert_eq!(
            walked.errors,
            [
                (format!("{}/closed/inside", t), libc::EACCES),
                (format!("{}/closed", t), libc::EACCES),
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_that_are_not_utf8_are_kept_byte_for_byte() {
        let dir = temp_dir("bytes");
        let t = text(&dir);
        // Sorted by their bytes: the real U+FFFD (EF BF BD) before 0xFE before 0xFF; and a folder
        // named in Latin-1 is entered by its own name.
        write(&dir.join(OsStr::from_bytes(b"\xff")));
        write(&dir.join("\u{FFFD}"));
        write(&dir.join(OsStr::from_bytes(b"z\xe2\x82")));
        fs::create_dir(dir.join(OsStr::from_bytes(b"sub\xfe"))).unwrap();
        write(&dir.join(OsStr::from_bytes(b"sub\xfe/caf\xe9")));
        let inside: Vec<u8> = [t.as_bytes(), b"/sub\xfe/caf\xe9"].concat();
        let walked = walk_files(&[t.as_bytes(), &inside[..]]);
        let path = |name: &[u8]| [t.as_bytes(), b"/", name].concat();
        assert_eq!(
            walked.files,
            [
                path(b"sub\xfe/caf\xe9"),
                path(b"z\xe2\x82"),
                path("\u{FFFD}".as_bytes()),
                path(b"\xff"),
                path(b"sub\xfe/caf\xe9"),
            ]
        );
        assert_eq!(walked.errors, []);
        fs::remove_dir_all(&dir).unwrap();
    }
}
