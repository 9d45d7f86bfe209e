//! The image layer writer's hot loop: a stream made of literal bytes and file contents (the plan;
//! TypeScript decides what goes in it, this module knows nothing about tar), compressed on all cores
//! into one gzip member, with SHA-256 of the stream (the diff_id) and of the blob (the digest).
//!
//! The format is pigz's: the stream is cut at fixed offsets into blocks of [`BLOCK_SIZE`] bytes (never
//! dependent on the number of threads), each block raw-deflated with the previous 32 KiB of the stream
//! as its dictionary and ended with `Z_SYNC_FLUSH` (the last with `Z_FINISH`), behind node:zlib's gzip
//! header and before a CRC-32 and ISIZE trailer. Every gzip reader takes it as one member.
//!
//! zstd (`Compression::Zstd`, see `zstd.rs`) takes the same blocks in order and compresses them on
//! libzstd's own threads into one frame.
//!
//! Deflate comes from the zlib already loaded in the process (`dlsym(RTLD_DEFAULT, ...)`): inside
//! Node that is the very zlib node:zlib uses, so the TypeScript fallback, which compresses the same
//! blocks with node:zlib, writes the same bytes. Another zlib build (miniz, a second libz) would
//! choose other matches and give another digest, so none is linked here.

use std::ffi::{c_void, CStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::raw::{c_char, c_int, c_long, c_uint, c_ulong};
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::zstd::{Zstd, ZstdStream};
use crate::Sha256Digest;

/// Uncompressed bytes per block. Measured on the node export (105 MB, level 6, Node's zlib): 128 KiB
/// (pigz's size) 39.384 MB, 512 KiB 39.396 MB, 1 MiB 39.391 MB, 4 MiB 39.393 MB, and one gzip stream
/// 39.395 MB: the cuts cost nothing measurable, and the times differed less than the noise of the
/// machine. 1 MiB keeps the TypeScript path's round trips through libuv's pool few (100 for that
/// export) while a block still balances across cores. Part of the format: changing it changes every
/// digest (as LAYER_BLOCK_BYTES in src/layer.ts must, with it).
pub const BLOCK_SIZE: usize = 1024 * 1024;

/// Deflate's window: each block starts with the 32 KiB before it as dictionary.
const DICTIONARY_SIZE: usize = 32 * 1024;

/// The file sizes from which the kernel is told the file will be read sequentially.
const SEQUENTIAL_HINT_FROM: u64 = 4 * 1024 * 1024;

/// One piece of the stream, in order.
#[derive(Debug, Clone)]
pub enum Segment {
    /// Bytes taken as they are (tar headers, padding, the end of the archive).
    Literal(Vec<u8>),
    /// Exactly `size` bytes of the file at `path`: a file of another size is an error, not a corrupt layer.
    File { path: PathBuf, size: u64 },
}

/// What the blob is: gzip at a level (1 to 9), zstd at a level (libzstd's, see `zstd.rs`), or the
/// stream as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip(i32),
    Zstd(i32),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerWritten {
    /// SHA-256 of the blob as written.
    pub digest: Sha256Digest,
    /// SHA-256 of the uncompressed stream.
    pub diff_id: Sha256Digest,
    /// Bytes of the blob.
    pub size: u64,
}

#[derive(Debug)]
pub enum LayerError {
    /// A file of the plan could not be opened or read.
    Read { path: PathBuf, errno: i32 },
    /// A file of the plan has another size than planned (`grew`: more bytes, else fewer).
    Changed { path: PathBuf, grew: bool },
    /// The blob could not be written.
    Write { errno: i32 },
    /// No zlib in the process (no libzstd for zstd), or the compressor failed: the text says which.
    Zlib(String),
}

// -------------------------------------------------------------------------------------------------
// zlib, from the process

const Z_OK: c_int = 0;
const Z_STREAM_END: c_int = 1;
const Z_SYNC_FLUSH: c_int = 2;
const Z_FINISH: c_int = 4;
const Z_DEFLATED: c_int = 8;
/// Raw deflate (no zlib wrapper), 32 KiB window: what node:zlib's deflateRaw uses by default.
const RAW_WINDOW_BITS: c_int = -15;
/// node:zlib's default memLevel (Z_DEFAULT_MEMLEVEL).
const MEM_LEVEL: c_int = 8;
const Z_DEFAULT_STRATEGY: c_int = 0;

/// zlib's `z_stream`, whose layout is part of zlib's ABI (and passed to `deflateInit2_` as a size).
#[repr(C)]
struct ZStream {
    next_in: *const u8,
    avail_in: c_uint,
    total_in: c_ulong,
    next_out: *mut u8,
    avail_out: c_uint,
    total_out: c_ulong,
    msg: *const c_char,
    state: *mut c_void,
    zalloc: *mut c_void,
    zfree: *mut c_void,
    opaque: *mut c_void,
    data_type: c_int,
    adler: c_ulong,
    reserved: c_ulong,
}

type DeflateInit2 =
    unsafe extern "C" fn(*mut ZStream, c_int, c_int, c_int, c_int, c_int, *const c_char, c_int) -> c_int;
type DeflateSetDictionary = unsafe extern "C" fn(*mut ZStream, *const u8, c_uint) -> c_int;
type Deflate = unsafe extern "C" fn(*mut ZStream, c_int) -> c_int;
type DeflateEnd = unsafe extern "C" fn(*mut ZStream) -> c_int;
type DeflateBound = unsafe extern "C" fn(*mut ZStream, c_ulong) -> c_ulong;
type Crc32 = unsafe extern "C" fn(c_ulong, *const u8, c_uint) -> c_ulong;
type Crc32Combine = unsafe extern "C" fn(c_ulong, c_ulong, c_long) -> c_ulong;
type ZlibVersion = unsafe extern "C" fn() -> *const c_char;

/// The zlib functions this module calls, found in the process.
#[derive(Clone, Copy)]
pub struct Zlib {
    deflate_init2: DeflateInit2,
    deflate_set_dictionary: DeflateSetDictionary,
    deflate: Deflate,
    deflate_end: DeflateEnd,
    deflate_bound: DeflateBound,
    crc32: Crc32,
    crc32_combine: Crc32Combine,
    version: *const c_char,
}

// The version string is a static of the zlib library, and the functions are thread-safe on
// separate streams.
unsafe impl Send for Zlib {}
unsafe impl Sync for Zlib {}

impl Zlib {
    /// The zlib already loaded in this process: in Node, the one node:zlib uses (the `node` binary
    /// exports its bundled zlib; a Debian node links libz.so.1). An error names the missing symbol.
    pub fn from_process() -> Result<Zlib, String> {
        unsafe fn symbol(name: &[u8]) -> Result<*mut c_void, String> {
            let found = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char);
            if found.is_null() {
                let text = String::from_utf8_lossy(&name[..name.len() - 1]).into_owned();
                Err(format!("no zlib in this process ({} not found)", text))
            } else {
                Ok(found)
            }
        }
        unsafe {
            let version: ZlibVersion = std::mem::transmute(symbol(b"zlibVersion\0")?);
            Ok(Zlib {
                deflate_init2: std::mem::transmute(symbol(b"deflateInit2_\0")?),
                deflate_set_dictionary: std::mem::transmute(symbol(b"deflateSetDictionary\0")?),
                deflate: std::mem::transmute(symbol(b"deflate\0")?),
                deflate_end: std::mem::transmute(symbol(b"deflateEnd\0")?),
                deflate_bound: std::mem::transmute(symbol(b"deflateBound\0")?),
                crc32: std::mem::transmute(symbol(b"crc32\0")?),
                crc32_combine: std::mem::transmute(symbol(b"crc32_combine\0")?),
                version: version(),
            })
        }
    }

    /// zlib's version string (`1.3.1`, Node's `1.3.1-e00f703`).
    pub fn version(&self) -> String {
        unsafe { CStr::from_ptr(self.version) }
            .to_string_lossy()
            .into_owned()
    }

    /// CRC-32 of `data` (gzip's), continuing from `crc`.
    pub fn crc32(&self, mut crc: u32, data: &[u8]) -> u32 {
        for piece in data.chunks(1 << 30) {
            crc = unsafe { (self.crc32)(crc as c_ulong, piece.as_ptr(), piece.len() as c_uint) } as u32;
        }
        crc
    }

    fn crc32_combine(&self, first: u32, second: u32, second_len: u64) -> u32 {
        unsafe { (self.crc32_combine)(first as c_ulong, second as c_ulong, second_len as c_long) as u32 }
    }

    /// One block as raw deflate at `level`, with `dictionary` (the 32 KiB before it, or nothing for
    /// the first), ended by a sync flush, or by the final block when `last`. The same calls as
    /// node:zlib's `deflateRaw(block, { level, dictionary, finishFlush })`, hence the same bytes.
    pub fn deflate_block(
        &self,
        level: i32,
        dictionary: &[u8],
        block: &[u8],
        last: bool,
    ) -> Result<Vec<u8>, String> {
        unsafe {
            let mut stream: ZStream = std::mem::zeroed();
            let status = (self.deflate_init2)(
                &mut stream,
                level,
                Z_DEFLATED,
                RAW_WINDOW_BITS,
                MEM_LEVEL,
                Z_DEFAULT_STRATEGY,
                self.version,
                std::mem::size_of::<ZStream>() as c_int,
            );
            if status != Z_OK {
                return Err(format!("zlib deflateInit2 failed ({})", status));
            }
            let result = self.deflate_into(&mut stream, dictionary, block, last);
            (self.deflate_end)(&mut stream);
            result
        }
    }

    unsafe fn deflate_into(
        &self,
        stream: &mut ZStream,
        dictionary: &[u8],
        block: &[u8],
        last: bool,
    ) -> Result<Vec<u8>, String> {
        if !dictionary.is_empty() {
            let status =
                (self.deflate_set_dictionary)(stream, dictionary.as_ptr(), dictionary.len() as c_uint);
            if status != Z_OK {
                return Err(format!("zlib deflateSetDictionary failed ({})", status));
            }
        }
        // deflateBound covers the data; the sync flush's empty stored block adds 5 bytes or so.
        let mut output: Vec<u8> =
            Vec::with_capacity((self.deflate_bound)(stream, block.len() as c_ulong) as usize + 64);
        stream.next_in = block.as_ptr();
        stream.avail_in = block.len() as c_uint;
        let flush = if last { Z_FINISH } else { Z_SYNC_FLUSH };
        loop {
            if output.capacity() == output.len() {
                output.reserve(64 * 1024);
            }
            let spare = output.capacity() - output.len();
            stream.next_out = output.as_mut_ptr().add(output.len());
            stream.avail_out = spare as c_uint;
            let status = (self.deflate)(stream, flush);
            let produced = spare - stream.avail_out as usize;
            output.set_len(output.len() + produced);
            if status == Z_STREAM_END {
                return Ok(output);
            }
            if status != Z_OK {
                return Err(format!("zlib deflate failed ({})", status));
            }
            // A sync flush is complete when deflate returns with room left in the output.
            if !last && stream.avail_out != 0 {
                return Ok(output);
            }
        }
    }
}

/// gzip's header as node:zlib writes it: no name, mtime 0, XFL from the level as zlib sets it, OS 3.
pub fn gzip_header(level: i32) -> [u8; 10] {
    let extra_flags = if level == 9 {
        2
    } else if level < 2 {
        4
    } else {
        0
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 3]
}

// -------------------------------------------------------------------------------------------------
// The writer

/// A block of the stream on its way to a compressing thread.
struct Block {
    index: usize,
    data: Vec<u8>,
    dictionary: Vec<u8>,
    last: bool,
}

/// What comes back to the thread that writes: a compressed block (with the CRC-32 and length of its
/// input), or why the stream stopped.
enum Done {
    Block {
        index: usize,
        bytes: Vec<u8>,
        crc: u32,
        input_len: u64,
    },
    Failed(LayerError),
}

/// Writes the stream of `segments` to `target`, compressed as `compression` says (see the module
/// comment for the format). Files are read in order on one thread, which also hashes the stream;
/// blocks are compressed on rayon's pool; this thread writes them in order and hashes the blob. At
/// most a few blocks per core are in memory at once. `target` is created or truncated.
pub fn write_layer(
    segments: &[Segment],
    target: &std::path::Path,
    compression: Compression,
) -> Result<LayerWritten, LayerError> {
    let zlib = match compression {
        Compression::Gzip(_) => Some(Zlib::from_process().map_err(LayerError::Zlib)?),
        _ => None,
    };
    // zstd compresses the blocks in order, on its own threads: the reader's blocks reach it as they are.
    let zstd = match compression {
        Compression::Zstd(_) => Some(Zstd::load().map_err(LayerError::Zlib)?),
        _ => None,
    };
    let total: u64 = segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(bytes) => bytes.len() as u64,
            Segment::File { size, .. } => *size,
        })
        .sum();
    let block_count = std::cmp::max(1, ((total + BLOCK_SIZE as u64 - 1) / BLOCK_SIZE as u64) as usize);
    let mut output = File::create(target).map_err(|e| LayerError::Write {
        errno: crate::errno_of(&e),
    })?;

    let in_flight = 2 * rayon::current_num_threads() + 2;
    // Credits bound the blocks in memory: the reader takes one per block, the writer gives it back.
    let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        credit_tx.send(()).expect("the receiver is alive");
    }
    let (done_tx, done_rx) = mpsc::channel::<Done>();

    std::thread::scope(|scope| {
        let reader = {
            let done_tx = done_tx.clone();
            scope.spawn(move || -> Sha256Digest {
                let mut stream_hash = Sha256::new();
                let sent = read_blocks(segments, block_count, &credit_rx, &mut stream_hash, |block| {
                    let done_tx = done_tx.clone();
                    rayon::spawn(move || {
                        let _ = done_tx.send(compress(zlib, compression, block));
                    });
                });
                if let Err(error) = sent {
                    let _ = done_tx.send(Done::Failed(error));
                }
                stream_hash.finalize().into()
            })
        };
        drop(done_tx);
        let written = match (compression, zstd) {
            (Compression::Zstd(level), Some(zstd)) => zstd
                .stream(level, rayon::current_num_threads(), total)
                .map_err(LayerError::Zlib)
                .and_then(|stream| {
                    write_blocks(
                        &mut output,
                        compression,
                        block_count,
                        zlib,
                        Some(stream),
                        &done_rx,
                        &credit_tx,
                    )
                }),
            _ => write_blocks(
                &mut output,
                compression,
                block_count,
                zlib,
                None,
                &done_rx,
                &credit_tx,
            ),
        };
        // The reader may wait for a credit: with the sender gone it stops.
        drop(credit_tx);
        drop(done_rx);
        let diff_id = reader.join().expect("the reader does not panic");
        written.map(|(digest, size)| LayerWritten {
            digest,
            diff_id,
            size,
        })
    })
}

/// The stream cut into `block_count` blocks, each handed to `dispatch` once a credit allows it.
fn read_blocks(
    segments: &[Segment],
    block_count: usize,
    credits: &mpsc::Receiver<()>,
    stream_hash: &mut Sha256,
    mut dispatch: impl FnMut(Block),
) -> Result<(), LayerError> {
    let mut index = 0usize;
    let mut previous_tail: Vec<u8> = Vec::new();
    let mut block: Vec<u8> = Vec::with_capacity(BLOCK_SIZE);
    let mut emit =
        |block: &mut Vec<u8>, previous_tail: &mut Vec<u8>, index: &mut usize| -> Result<(), LayerError> {
            if credits.recv().is_err() {
                // The writer stopped (and says why).
                return Err(LayerError::Write { errno: libc::EPIPE });
            }
            stream_hash.update(&block[..]);
            let data = std::mem::replace(block, Vec::with_capacity(BLOCK_SIZE));
            let tail = data[data.len().saturating_sub(DICTIONARY_SIZE)..].to_vec();
            let dictionary = std::mem::replace(previous_tail, tail);
            let last = *index + 1 == block_count;
            dispatch(Block {
                index: *index,
                data,
                dictionary,
                last,
            });
            *index += 1;
            Ok(())
        };
    for segment in segments {
        match segment {
            Segment::Literal(bytes) => {
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let take = std::cmp::min(rest.len(), BLOCK_SIZE - block.len());
                    block.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if block.len() == BLOCK_SIZE {
                        emit(&mut block, &mut previous_tail, &mut index)?;
                    }
                }
            }
            Segment::File { path, size } => {
                let read_error = |error: io::Error| LayerError::Read {
                    path: path.clone(),
                    errno: crate::errno_of(&error),
                };
                let mut file = File::open(path).map_err(read_error)?;
                if *size >= SEQUENTIAL_HINT_FROM {
                    // Advice only: a failure changes nothing.
                    unsafe {
                        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
                    }
                }
                let mut left = *size;
                while left > 0 {
                    let room = std::cmp::min(left, (BLOCK_SIZE - block.len()) as u64) as usize;
                    let start = block.len();
                    block.resize(start + room, 0);
                    let got = read_some(&mut file, &mut block[start..]).map_err(read_error)?;
                    block.truncate(start + got);
                    if got == 0 {
                        return Err(LayerError::Changed {
                            path: path.clone(),
                            grew: false,
                        });
                    }
                    left -= got as u64;
                    if block.len() == BLOCK_SIZE {
                        emit(&mut block, &mut previous_tail, &mut index)?;
                    }
                }
                let mut probe = [0u8; 1];
                if read_some(&mut file, &mut probe).map_err(read_error)? != 0 {
                    return Err(LayerError::Changed {
                        path: path.clone(),
                        grew: true,
                    });
                }
            }
        }
    }
    if index < block_count {
        emit(&mut block, &mut previous_tail, &mut index)?;
    }
    Ok(())
}

fn read_some(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buffer) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn compress(zlib: Option<Zlib>, compression: Compression, block: Block) -> Done {
    let input_len = block.data.len() as u64;
    match (compression, zlib) {
        (Compression::Gzip(level), Some(zlib)) => {
            let crc = zlib.crc32(0, &block.data);
            match zlib.deflate_block(level, &block.dictionary, &block.data, block.last) {
                Ok(bytes) => Done::Block {
                    index: block.index,
                    bytes,
                    crc,
                    input_len,
                },
                Err(message) => Done::Failed(LayerError::Zlib(message)),
            }
        }
        _ => Done::Block {
            index: block.index,
            bytes: block.data,
            crc: 0,
            input_len,
        },
    }
}

/// Writes the blocks in order as they come back, between gzip's header and trailer; the blob's
/// digest and size.
fn write_blocks(
    output: &mut File,
    compression: Compression,
    block_count: usize,
    zlib: Option<Zlib>,
    mut zstd: Option<ZstdStream>,
    done: &mpsc::Receiver<Done>,
    credits: &mpsc::SyncSender<()>,
) -> Result<(Sha256Digest, u64), LayerError> {
    let mut blob_hash = Sha256::new();
    let mut size = 0u64;
    let mut put = |bytes: &[u8]| -> Result<(), LayerError> {
        output.write_all(bytes).map_err(|e| LayerError::Write {
            errno: crate::errno_of(&e),
        })?;
        blob_hash.update(bytes);
        size += bytes.len() as u64;
        Ok(())
    };
    if let Compression::Gzip(level) = compression {
        put(&gzip_header(level))?;
    }
    let mut waiting: Vec<Option<(Vec<u8>, u32, u64)>> = (0..block_count).map(|_| None).collect();
    let mut next = 0usize;
    let mut crc = 0u32;
    let mut stream_len = 0u64;
    while next < block_count {
        match done.recv() {
            Ok(Done::Block {
                index,
                bytes,
                crc: block_crc,
                input_len,
            }) => waiting[index] = Some((bytes, block_crc, input_len)),
            Ok(Done::Failed(error)) => return Err(error),
            Err(_) => return Err(LayerError::Zlib("the reader stopped without saying why".into())),
        }
        while next < block_count {
            let (bytes, block_crc, input_len) = match waiting[next].take() {
                Some(ready) => ready,
                None => break,
            };
            match zstd.as_mut() {
                Some(stream) => {
                    stream.compress(&bytes, next + 1 == block_count, &mut put, LayerError::Zlib)?
                }
                None => put(&bytes)?,
            }
            if let Some(zlib) = zlib {
                crc = zlib.crc32_combine(crc, block_crc, input_len);
            }
            stream_len += input_len;
            next += 1;
            let _ = credits.send(());
        }
    }
    if let Compression::Gzip(_) = compression {
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&crc.to_le_bytes());
        trailer[4..].copy_from_slice(&(stream_len as u32).to_le_bytes());
        put(&trailer)?;
    }
    output.flush().map_err(|e| LayerError::Write {
        errno: crate::errno_of(&e),
    })?;
    Ok((blob_hash.finalize().into(), size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    /// Outside Node there is no zlib in the process: load the system's, as Debian's node would have.
    fn load_system_zlib() {
        unsafe {
            let handle = libc::dlopen(
                b"libz.so.1\0".as_ptr() as *const c_char,
                libc::RTLD_NOW | libc::RTLD_GLOBAL,
            );
            assert!(!handle.is_null(), "libz.so.1 is needed for these tests");
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dit-native-layer-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Bytes that compress somewhat, different at every offset (a block boundary inside a repeat
    /// would hide a wrong dictionary).
    fn sample(len: usize, seed: u32) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state = state.wrapping_mul(1103515245).wrapping_add(12345);
                if i % 7 < 4 {
                    b"layer of dit "[(i / 7) % 13]
                } else {
                    (state >> 24) as u8
                }
            })
            .collect()
    }

    fn gunzip(path: &std::path::Path, tool: &str) -> Vec<u8> {
        let out = Command::new(tool)
            .arg("-dc")
            .arg(path)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "{} -dc failed", tool);
        out.stdout
    }

    #[test]
    fn gzip_of_files_and_literals_round_trips_and_hashes() {
        load_system_zlib();
        let dir = temp_dir("round");
        let big = sample(BLOCK_SIZE * 2 + 12345, 1);
        let small = sample(1000, 2);
        std::fs::write(dir.join("big"), &big).unwrap();
        std::fs::write(dir.join("small"), &small).unwrap();
        let segments = vec![
            Segment::Literal(b"head".to_vec()),
            Segment::File {
                path: dir.join("big"),
                size: big.len() as u64,
            },
            Segment::Literal(vec![0u8; 700]),
            Segment::File {
                path: dir.join("small"),
                size: small.len() as u64,
            },
            Segment::Literal(sample(BLOCK_SIZE - 5, 3)),
        ];
        let mut stream = b"head".to_vec();
        stream.extend_from_slice(&big);
        stream.extend_from_slice(&[0u8; 700]);
        stream.extend_from_slice(&small);
        stream.extend_from_slice(&sample(BLOCK_SIZE - 5, 3));
        for level in [1, 6, 9] {
            let blob = dir.join(format!("blob{}.gz", level));
            let written = write_layer(&segments, &blob, Compression::Gzip(level)).unwrap();
            let bytes = std::fs::read(&blob).unwrap();
            assert_eq!(written.size, bytes.len() as u64);
            assert_eq!(&bytes[..10], &gzip_header(level));
            let digest: Sha256Digest = Sha256::digest(&bytes).into();
            assert_eq!(written.digest, digest);
            let diff_id: Sha256Digest = Sha256::digest(&stream).into();
            assert_eq!(written.diff_id, diff_id);
            assert!(gunzip(&blob, "gzip") == stream, "gzip -dc gives the stream back");
            if Command::new("pigz").arg("--version").output().is_ok() {
                assert!(gunzip(&blob, "pigz") == stream, "pigz -dc gives the stream back");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn blocks_are_deflated_with_the_previous_32k_as_dictionary() {
        load_system_zlib();
        let zlib = Zlib::from_process().unwrap();
        // The same block twice: with the first as dictionary, the second becomes matches (within
        // deflate's reach: zlib matches up to 32 KiB - 262 bytes back).
        let block = sample(DICTIONARY_SIZE / 2, 9);
        let alone = zlib.deflate_block(6, &[], &block, false).unwrap();
        let with = zlib.deflate_block(6, &block, &block, true).unwrap();
        assert!(with.len() < alone.len() / 2, "{} vs {}", with.len(), alone.len());
        // A sync flush ends in the empty stored block 00 00 ff ff.
        assert_eq!(&alone[alone.len() - 4..], &[0, 0, 0xff, 0xff]);
    }

    #[test]
    fn zstd_round_trips() {
        let dir = temp_dir("zstd");
        let data = sample(BLOCK_SIZE * 3 + 99, 5);
        std::fs::write(dir.join("data"), &data).unwrap();
        let blob = dir.join("blob.zst");
        let segments = [
            Segment::Literal(b"head".to_vec()),
            Segment::File {
                path: dir.join("data"),
                size: data.len() as u64,
            },
        ];
        let written = write_layer(&segments, &blob, Compression::Zstd(3)).unwrap();
        let bytes = std::fs::read(&blob).unwrap();
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.digest, <[u8; 32]>::from(Sha256::digest(&bytes)));
        let mut stream = b"head".to_vec();
        stream.extend_from_slice(&data);
        assert_eq!(written.diff_id, <[u8; 32]>::from(Sha256::digest(&stream)));
        if Command::new("zstd").arg("--version").output().is_ok() {
            assert!(gunzip(&blob, "zstd") == stream, "zstd -dc gives the stream back");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_stream_and_no_compression() {
        load_system_zlib();
        let dir = temp_dir("empty");
        let blob = dir.join("empty.gz");
        let written = write_layer(&[], &blob, Compression::Gzip(6)).unwrap();
        assert!(gunzip(&blob, "gzip").is_empty());
        assert_eq!(written.size, std::fs::metadata(&blob).unwrap().len());
        let plain = dir.join("plain");
        let data = sample(BLOCK_SIZE + 3, 4);
        let written = write_layer(&[Segment::Literal(data.clone())], &plain, Compression::None).unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), data);
        assert_eq!(written.digest, written.diff_id);
        assert_eq!(written.size, data.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_another_size_or_missing_is_an_error_naming_it() {
        load_system_zlib();
        let dir = temp_dir("changed");
        std::fs::write(dir.join("f"), b"12345").unwrap();
        let blob = dir.join("blob");
        let shrank = write_layer(
            &[Segment::File {
                path: dir.join("f"),
                size: 6,
            }],
            &blob,
            Compression::Gzip(6),
        );
        assert!(
            matches!(shrank, Err(LayerError::Changed { ref path, grew: false }) if path == &dir.join("f"))
        );
        let grew = write_layer(
            &[Segment::File {
                path: dir.join("f"),
                size: 4,
            }],
            &blob,
            Compression::Gzip(6),
        );
        assert!(matches!(grew, Err(LayerError::Changed { grew: true, .. })));
        let missing = write_layer(
            &[Segment::File {
                path: dir.join("nope"),
                size: 1,
            }],
            &blob,
            Compression::None,
        );
        assert!(matches!(missing, Err(LayerError::Read { errno, .. }) if errno == libc::ENOENT));
        let unwritable = write_layer(&[], &dir.join("no/such/dir"), Compression::Gzip(6));
        assert!(matches!(unwritable, Err(LayerError::Write { errno }) if errno == libc::ENOENT));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
