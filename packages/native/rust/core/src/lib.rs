//! dit's hot loops as plain Rust, usable from Rust and tested here without Node; `rust/node` is the
//! thin Node-API binding that exposes them to JavaScript. No loader rule lives here: which files a
//! program loads is decided once, in TypeScript (@dit/elf, @dit/resolver).
//!
//! Hashing: many files at once on all cores (rayon's global pool, one thread per core; RAYON_NUM_THREADS
//! overrides), each file read sequentially into a per-thread buffer and fed to SHA-256 (the `sha2`
//! crate picks the SHA-NI instructions at run time when the CPU has them), largest files first, each
//! inode once. Results keep the input order, and each file succeeds or fails on its own.
//!
//! The folder walk of `dit hash` is `walk.rs`; the image layer writer (pigz's format, on all cores, with
//! the process's own zlib) is `layer.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub mod layer;
pub mod walk;
pub mod zstd;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// Read size: the syscall costs nothing next to hashing 256 KiB (~0.2 ms), and the buffer stays in a
/// core's L2 cache between the copy and the hash. 16 KiB to 1 MiB measured the same here.
const CHUNK: usize = 256 * 1024;

/// From this size on, the kernel is told the file will be read sequentially (a larger read-ahead
/// window when the page cache is cold). Not worth a syscall for small files.
const SEQUENTIAL_HINT_FROM: u64 = 4 * 1024 * 1024;

thread_local! {
    /// One read buffer per worker thread, reused for every file that thread hashes.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0u8; CHUNK]);
}

/// SHA-256 of one file's contents.
///
/// The file is streamed through a fixed buffer rather than memory-mapped: on the development
/// machines (a VM, where page faults are dear) mapping files of 1 MiB and more with memmap2 made the
/// whole run 1.65x slower, even with MAP_POPULATE, while the copy out of a warm page cache costs
/// little next to the hash. A mapping would also turn a file that shrinks while it is read into
/// SIGBUS, killing the whole Node process; `read` just returns less.
///
/// Whatever the file is (regular, FIFO, device), it is read to its end, as `sha256sum` does. A
/// directory fails with EISDIR, like Node's `fs.read` on one.
pub fn hash_file(path: &Path) -> io::Result<Sha256Digest> {
    let mut file = File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if metadata.is_file() && metadata.len() >= SEQUENTIAL_HINT_FROM {
        // Advice only: a failure changes nothing about the result.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
        }
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        let mut hasher = Sha256::new();
        loop {
            match file.read(&mut buffer[..]) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buffer[..n]),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
        Ok(hasher.finalize().into())
    })
}

/// SHA-256 of many files in parallel, in input order; one result per path, so that one unreadable
/// file fails alone.
///
/// Paths that name the same regular file (hard links, or one path given twice) are read once and
/// share the result: the same inode has the same content. Images are full of them (Mesa's drivers
/// are one file under a dozen names), and `sha256sum` reads each name again.
pub fn hash_files<P: AsRef<Path> + Sync>(paths: &[P]) -> Vec<io::Result<Sha256Digest>> {
    // One stat per path, in parallel: identities for the hard links, sizes for the schedule. A path
    // that cannot be stat'ed is hashed on its own and fails, properly, when opened.
    let stats: Vec<Option<(u64, u64, u64, bool)>> = paths
        .par_iter()
        .map(|path| {
            std::fs::metadata(path.as_ref())
                .ok()
                .map(|m| (m.dev(), m.ino(), m.len(), m.is_file()))
        })
        .collect();
    let mut first_with_inode: HashMap<(u64, u64), usize> = HashMap::new();
    let leaders: Vec<usize> = (0..paths.len())
        .map(|index| match stats[index] {
            Some((dev, ino, _, true)) => *first_with_inode.entry((dev, ino)).or_insert(index),
            _ => index,
        })
        .collect();
    let size = |index: usize| stats[index].map_or(0, |(_, _, size, _)| size);

    // Largest first. One core hashes a file from start to end (SHA-256 is sequential), so a large file
    // picked up last keeps one core busy while the others have nothing left to do; started first, the
    // small files fill in around it (longest-processing-time-first scheduling).
    let mut order: Vec<usize> = (0..paths.len())
        .filter(|&index| leaders[index] == index)
        .collect();
    order.sort_by_key(|&index| std::cmp::Reverse(size(index)));
    // One task per file (with_max_len(1)): rayon's default splitting into a few long ranges would
    // undo the order above. A task costs well under a microsecond, less than opening the file.
    let hashed: Vec<(usize, io::Result<Sha256Digest>)> = order
        .par_iter()
        .with_max_len(1)
        .map(|&index| (index, hash_file(paths[index].as_ref())))
        .collect();

    let mut by_index: Vec<Option<io::Result<Sha256Digest>>> = (0..paths.len()).map(|_| None).collect();
    for (index, result) in hashed {
        by_index[index] = Some(result);
    }
    leaders
        .iter()
        .map(|&leader| match &by_index[leader] {
            Some(Ok(digest)) => Ok(*digest),
            Some(Err(error)) => Err(io::Error::from_raw_os_error(errno_of(error))),
            None => unreachable!("every leader is hashed"),
        })
        .collect()
}

/// The OS error number behind an I/O error, as Node reports it (positive here; libuv negates it).
/// Errors that did not come from the OS are mapped to the errno Node would have produced.
pub fn errno_of(error: &io::Error) -> i32 {
    if let Some(errno) = error.raw_os_error() {
        return errno;
    }
    match error.kind() {
        // A path containing a NUL byte cannot be passed to open(2).
        io::ErrorKind::InvalidInput => libc::EINVAL,
        io::ErrorKind::NotFound => libc::ENOENT,
        io::ErrorKind::PermissionDenied => libc::EACCES,
        io::ErrorKind::OutOfMemory => libc::ENOMEM,
        _ => libc::EIO,
    }
}

/// Lower-case hexadecimal, as `sha256sum` prints digests.
pub fn to_hex(digest: &Sha256Digest) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(digest.len() * 2);
    for byte in digest {
        text.push(DIGITS[(byte >> 4) as usize] as char);
        text.push(DIGITS[(byte & 0x0f) as usize] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("dit-native-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn known_digests() {
        let dir = temp_dir("known");
        let empty = dir.join("empty");
        let abc = dir.join("abc");
        let big = dir.join("big");
        File::create(&empty).unwrap();
        File::create(&abc).unwrap().write_all(b"abc").unwrap();
        // More than one chunk, and not a multiple of it.
        File::create(&big)
            .unwrap()
            .write_all(&vec![b'a'; CHUNK * 3 + 17])
            .unwrap();
        let results = hash_files(&[&empty, &abc, &dir.join("missing"), &dir, &big]);
        assert_eq!(
            to_hex(results[0].as_ref().unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            to_hex(results[1].as_ref().unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(errno_of(results[2].as_ref().unwrap_err()), libc::ENOENT);
        assert_eq!(errno_of(results[3].as_ref().unwrap_err()), libc::EISDIR);
        let expected: Sha256Digest = Sha256::digest(vec![b'a'; CHUNK * 3 + 17]).into();
        assert_eq!(results[4].as_ref().unwrap(), &expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hard_links_and_repeated_paths_share_one_result() {
        let dir = temp_dir("links");
        let file = dir.join("file");
        let link = dir.join("link");
        File::create(&file).unwrap().write_all(b"abc").unwrap();
        std::fs::hard_link(&file, &link).unwrap();
        let missing = dir.join("missing");
        let results = hash_files(&[&file, &missing, &link, &file, &missing]);
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        for index in [0, 2, 3] {
            assert_eq!(to_hex(results[index].as_ref().unwrap()), abc);
        }
        for index in [1, 4] {
            assert_eq!(errno_of(results[index].as_ref().unwrap_err()), libc::ENOENT);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nul_in_path_is_einval() {
        let result = hash_file(Path::new("a\0b"));
        assert_eq!(errno_of(&result.unwrap_err()), libc::EINVAL);
    }
}
