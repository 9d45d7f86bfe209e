//! zstd for the layer writer, from the system's `libzstd.so.1`, loaded at run time (`dlopen`): the
//! addon neither links nor carries a zstd, so a machine without the library still loads the addon
//! and only `--compression zstd` is refused. Compression runs on zstd's own worker threads
//! (`ZSTD_c_nbWorkers`); from one worker on, zstd's output does not depend on how many there are,
//! so the blob is the same on any machine with the same libzstd version.

use std::ffi::{c_void, CStr};
use std::os::raw::{c_char, c_int, c_uint};

const ZSTD_C_COMPRESSION_LEVEL: c_int = 100;
const ZSTD_C_NB_WORKERS: c_int = 400;
const ZSTD_E_CONTINUE: c_int = 0;
const ZSTD_E_END: c_int = 2;

#[repr(C)]
struct InBuffer {
    src: *const c_void,
    size: usize,
    pos: usize,
}

#[repr(C)]
struct OutBuffer {
    dst: *mut c_void,
    size: usize,
    pos: usize,
}

type CreateCCtx = unsafe extern "C" fn() -> *mut c_void;
type FreeCCtx = unsafe extern "C" fn(*mut c_void) -> usize;
type SetParameter = unsafe extern "C" fn(*mut c_void, c_int, c_int) -> usize;
type SetPledgedSrcSize = unsafe extern "C" fn(*mut c_void, u64) -> usize;
type CompressStream2 = unsafe extern "C" fn(*mut c_void, *mut OutBuffer, *mut InBuffer, c_int) -> usize;
type IsError = unsafe extern "C" fn(usize) -> c_uint;
type GetErrorName = unsafe extern "C" fn(usize) -> *const c_char;
type VersionString = unsafe extern "C" fn() -> *const c_char;
type CStreamOutSize = unsafe extern "C" fn() -> usize;

/// The functions of libzstd this module calls.
#[derive(Clone, Copy)]
pub struct Zstd {
    create: CreateCCtx,
    free: FreeCCtx,
    set_parameter: SetParameter,
    set_pledged_src_size: SetPledgedSrcSize,
    compress_stream2: CompressStream2,
    is_error: IsError,
    error_name: GetErrorName,
    version: VersionString,
    out_size: CStreamOutSize,
}

// Function pointers into a library that stays loaded (never dlclose'd); contexts are not shared.
unsafe impl Send for Zstd {}
unsafe impl Sync for Zstd {}

impl Zstd {
    /// `libzstd.so.1`, or why not (not installed, a symbol missing).
    pub fn load() -> Result<Zstd, String> {
        unsafe {
            let handle = libc::dlopen(
                b"libzstd.so.1\0".as_ptr() as *const c_char,
                libc::RTLD_NOW | libc::RTLD_LOCAL,
            );
            if handle.is_null() {
                return Err("libzstd.so.1 cannot be loaded (install libzstd1)".into());
            }
            let symbol = |name: &[u8]| -> Result<*mut c_void, String> {
                let found = libc::dlsym(handle, name.as_ptr() as *const c_char);
                if found.is_null() {
                    Err(format!(
                        "libzstd.so.1 has no {}",
                        String::from_utf8_lossy(&name[..name.len() - 1])
                    ))
                } else {
                    Ok(found)
                }
            };
            Ok(Zstd {
                create: std::mem::transmute(symbol(b"ZSTD_createCCtx\0")?),
                free: std::mem::transmute(symbol(b"ZSTD_freeCCtx\0")?),
                set_parameter: std::mem::transmute(symbol(b"ZSTD_CCtx_setParameter\0")?),
                set_pledged_src_size: std::mem::transmute(symbol(b"ZSTD_CCtx_setPledgedSrcSize\0")?),
                compress_stream2: std::mem::transmute(symbol(b"ZSTD_compressStream2\0")?),
                is_error: std::mem::transmute(symbol(b"ZSTD_isError\0")?),
                error_name: std::mem::transmute(symbol(b"ZSTD_getErrorName\0")?),
                version: std::mem::transmute(symbol(b"ZSTD_versionString\0")?),
                out_size: std::mem::transmute(symbol(b"ZSTD_CStreamOutSize\0")?),
            })
        }
    }

    /// libzstd's version (`1.5.4`).
    pub fn version(&self) -> String {
        unsafe { CStr::from_ptr((self.version)()) }
            .to_string_lossy()
            .into_owned()
    }

    fn check(&self, code: usize, what: &str) -> Result<usize, String> {
        if unsafe { (self.is_error)(code) } != 0 {
            let name = unsafe { CStr::from_ptr((self.error_name)(code)) }
                .to_string_lossy()
                .into_owned();
            Err(format!("zstd {}: {}", what, name))
        } else {
            Ok(code)
        }
    }

    /// A frame of `total` bytes at `level`, compressed by `workers` threads of zstd's (at least 1:
    /// the output is then the same for any count).
    pub fn stream(&self, level: i32, workers: usize, total: u64) -> Result<ZstdStream, String> {
        let context = unsafe { (self.create)() };
        if context.is_null() {
            return Err("zstd: out of memory".into());
        }
        let stream = ZstdStream {
            zstd: *self,
            context,
            output: vec![0u8; unsafe { (self.out_size)() }],
        };
        unsafe {
            self.check(
                (self.set_parameter)(context, ZSTD_C_COMPRESSION_LEVEL, level),
                "level",
            )?;
            let workers = std::cmp::max(1, workers) as c_int;
            // A libzstd built without threads refuses nbWorkers: its output would differ, so refuse too.
            self.check(
                (self.set_parameter)(context, ZSTD_C_NB_WORKERS, workers),
                "nbWorkers",
            )?;
            self.check((self.set_pledged_src_size)(context, total), "pledged size")?;
        }
        Ok(stream)
    }
}

/// One zstd frame being written; freed on drop.
pub struct ZstdStream {
    zstd: Zstd,
    context: *mut c_void,
    output: Vec<u8>,
}

impl ZstdStream {
    /// Feeds `input` (the frame's end when `last`), handing every compressed piece to `put`.
    pub fn compress<E>(
        &mut self,
        input: &[u8],
        last: bool,
        put: &mut dyn FnMut(&[u8]) -> Result<(), E>,
        failed: impl Fn(String) -> E,
    ) -> Result<(), E> {
        let mut source = InBuffer {
            src: input.as_ptr() as *const c_void,
            size: input.len(),
            pos: 0,
        };
        let mode = if last { ZSTD_E_END } else { ZSTD_E_CONTINUE };
        loop {
            let mut sink = OutBuffer {
                dst: self.output.as_mut_ptr() as *mut c_void,
                size: self.output.len(),
                pos: 0,
            };
            let left = unsafe { (self.zstd.compress_stream2)(self.context, &mut sink, &mut source, mode) };
            let left = self.zstd.check(left, "compress").map_err(&failed)?;
            if sink.pos > 0 {
                put(&self.output[..sink.pos])?;
            }
            // Continue: done once the input is taken. End: done when nothing is left to flush.
            let done = if last {
                left == 0
            } else {
                source.pos == source.size
            };
            if done {
                return Ok(());
            }
        }
    }
}

impl Drop for ZstdStream {
    fn drop(&mut self) {
        unsafe {
            (self.zstd.free)(self.context);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(zstd: &Zstd, data: &[u8], workers: usize, piece: usize) -> Vec<u8> {
        let mut stream = zstd.stream(3, workers, data.len() as u64).unwrap();
        let mut out = Vec::new();
        let pieces: Vec<&[u8]> = data.chunks(piece).collect();
        for (i, chunk) in pieces.iter().enumerate() {
            stream
                .compress(
                    chunk,
                    i + 1 == pieces.len(),
                    &mut |bytes: &[u8]| -> Result<(), String> {
                        out.extend_from_slice(bytes);
                        Ok(())
                    },
                    |e| e,
                )
                .unwrap();
        }
        out
    }

    #[test]
    fn the_frame_does_not_depend_on_the_worker_count() {
        let zstd = match Zstd::load() {
            Ok(zstd) => zstd,
            Err(reason) => panic!("{}", reason),
        };
        let data: Vec<u8> = (0..20_000_000u32).map(|i| ((i / 7) ^ (i >> 13)) as u8).collect();
        let one = compress(&zstd, &data, 1, 1 << 20);
        let four = compress(&zstd, &data, 4, 1 << 20);
        assert!(
            one == four,
            "1 and 4 workers: {} and {} bytes",
            one.len(),
            four.len()
        );
        let path = std::env::temp_dir().join(format!("dit-native-zstd-{}", std::process::id()));
        std::fs::write(&path, &one).unwrap();
        let back = std::process::Command::new("zstd").arg("-dc").arg(&path).output();
        std::fs::remove_file(&path).unwrap();
        if let Ok(back) = back {
            assert!(
                back.status.success() && back.stdout == data,
                "zstd -dc gives the data back"
            );
        }
    }
}
