//! The Node-API binding, written by hand: the `napi`/`napi-derive` crates are not packaged by Debian
//! and crates.io is out of reach, so this module declares the few C functions of Node-API it calls
//! (their ABI is stable; see Node's `js_native_api.h` and `node_api.h`) and exports
//! `napi_register_module_v1`, which Node looks up when it loads the `.node` file. Everything unsafe
//! about talking to Node lives here; `dit-native-core` (rust/core) stays plain Rust.
//!
//! Exposed to JavaScript:
//!
//! - `interfaceVersion: number`: [`INTERFACE_VERSION`], which `src/loader.ts` compares with the one it
//!   was written for; a build from older sources is refused with "rebuild it", never half used.
//! Paths cross as strings when they are UTF-8 and as Buffers of their bytes when not; both are
//! accepted as input.
//!
//! - `hashFiles(paths: Array<string | Buffer>): Promise<Array<string | number>>`: for each path in order, the
//!   SHA-256 as 64 lower-case hex digits, or the errno (a positive number) that stopped it. The work
//!   runs off the JavaScript thread (`napi_create_async_work`: one libuv pool thread hands the batch
//!   to rayon's pool and waits), so the event loop keeps turning.
//! - `walkFiles(paths: Array<string | Buffer>): { files, errors: Array<[path, errno: number]> }`:
//!   the regular files below the paths, in byte order, and what could not be stat'ed or listed (see
//!   `walk.rs`). Synchronous, like the TypeScript `walkFiles` it replaces: it takes a few
//!   milliseconds on a warm cache (2,538 files in 384 folders), too little to be worth a round trip
//!   through libuv's pool and a promise, and its caller cannot go on without the list anyway.
//! - `writeLayer(plan: Buffer, target: string | Buffer, level: number, format?: 'gzip' | 'zstd')`: the
//!   stream the plan describes (see [`plan_from_bytes`]), written to `target` as gzip at `level` (1 to
//!   9; 0: uncompressed) in the block format of `layer.rs`, or as one zstd frame at `level`
//!   (libzstd's levels), on all cores, off the JavaScript thread. Resolves to
//!   `{ digest, diffId, size }` (hex, hex, number), or to `{ error, path?, errno?, message? }` where
//!   `error` is `read`, `shrank`, `grew`, `write` or `zlib`: failures are data, which
//!   `src/layer.ts` turns into typed errors.
//! - `layerZlib(): string | null`: the version of the zlib `writeLayer` compresses with, null when
//!   the process has none (then `writeLayer` is not used). `layerZstd(): string | null`: the version
//!   of libzstd.so.1, null when it cannot be loaded.

#![allow(non_camel_case_types)]

use std::ffi::c_void;
use std::ffi::OsString;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr;

use dit_native_core::layer::{write_layer, Compression, LayerError, LayerWritten, Segment};
use dit_native_core::walk::walk_files;
use dit_native_core::{errno_of, hash_files, to_hex, Sha256Digest};

/// What this binding exports, as a number: bump it with every change of a function's name, arguments
/// or results, together with `ADDON_INTERFACE` in `src/loader.ts`.
const INTERFACE_VERSION: i32 = 4;

#[repr(C)]
pub struct napi_env__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_value__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_callback_info__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_deferred__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_async_work__ {
    _private: [u8; 0],
}

pub type napi_env = *mut napi_env__;
pub type napi_value = *mut napi_value__;
pub type napi_callback_info = *mut napi_callback_info__;
pub type napi_deferred = *mut napi_deferred__;
pub type napi_async_work = *mut napi_async_work__;
/// An enum in C; `napi_ok` is 0.
pub type napi_status = c_int;

const NAPI_OK: napi_status = 0;
/// Passed to a complete callback when the work was cancelled before it ran.
const NAPI_CANCELLED: napi_status = 11;
/// `NAPI_AUTO_LENGTH` (SIZE_MAX): the string is NUL-terminated.
const NAPI_AUTO_LENGTH: usize = usize::MAX;
/// The Node-API version this module is written against (Node 12.22+/14.17+/16+).
const NAPI_VERSION: i32 = 8;

pub type napi_callback = Option<unsafe extern "C" fn(env: napi_env, info: napi_callback_info) -> napi_value>;
pub type napi_async_execute_callback = Option<unsafe extern "C" fn(env: napi_env, data: *mut c_void)>;
pub type napi_async_complete_callback =
    Option<unsafe extern "C" fn(env: napi_env, status: napi_status, data: *mut c_void)>;

// Resolved by the dynamic loader against the `node` executable when the addon is loaded, hence no
// #[link]: a cdylib may leave symbols undefined on Linux.
extern "C" {
    fn napi_create_function(
        env: napi_env,
        utf8name: *const c_char,
        length: usize,
        cb: napi_callback,
        data: *mut c_void,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_set_named_property(
        env: napi_env,
        object: napi_value,
        utf8name: *const c_char,
        value: napi_value,
    ) -> napi_status;
    fn napi_get_cb_info(
        env: napi_env,
        cbinfo: napi_callback_info,
        argc: *mut usize,
        argv: *mut napi_value,
        this_arg: *mut napi_value,
        data: *mut *mut c_void,
    ) -> napi_status;
    fn napi_is_array(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    fn napi_get_array_length(env: napi_env, value: napi_value, result: *mut u32) -> napi_status;
    fn napi_get_element(
        env: napi_env,
        object: napi_value,
        index: u32,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_set_element(env: napi_env, object: napi_value, index: u32, value: napi_value) -> napi_status;
    fn napi_get_value_string_utf8(
        env: napi_env,
        value: napi_value,
        buf: *mut c_char,
        bufsize: usize,
        result: *mut usize,
    ) -> napi_status;
    fn napi_create_string_utf8(
        env: napi_env,
        str: *const c_char,
        length: usize,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_create_int32(env: napi_env, value: i32, result: *mut napi_value) -> napi_status;
    fn napi_get_null(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_create_double(env: napi_env, value: f64, result: *mut napi_value) -> napi_status;
    fn napi_get_value_int32(env: napi_env, value: napi_value, result: *mut i32) -> napi_status;
    fn napi_is_buffer(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    fn napi_get_buffer_info(
        env: napi_env,
        value: napi_value,
        data: *mut *mut c_void,
        length: *mut usize,
    ) -> napi_status;
    fn napi_create_buffer_copy(
        env: napi_env,
        length: usize,
        data: *const c_void,
        result_data: *mut *mut c_void,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_create_object(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_create_array_with_length(env: napi_env, length: usize, result: *mut napi_value) -> napi_status;
    fn napi_create_error(
        env: napi_env,
        code: napi_value,
        msg: napi_value,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_create_type_error(
        env: napi_env,
        code: napi_value,
        msg: napi_value,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_throw_type_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    fn napi_create_promise(
        env: napi_env,
        deferred: *mut napi_deferred,
        promise: *mut napi_value,
    ) -> napi_status;
    fn napi_resolve_deferred(env: napi_env, deferred: napi_deferred, resolution: napi_value) -> napi_status;
    fn napi_reject_deferred(env: napi_env, deferred: napi_deferred, rejection: napi_value) -> napi_status;
    fn napi_create_async_work(
        env: napi_env,
        async_resource: napi_value,
        async_resource_name: napi_value,
        execute: napi_async_execute_callback,
        complete: napi_async_complete_callback,
        data: *mut c_void,
        result: *mut napi_async_work,
    ) -> napi_status;
    fn napi_queue_async_work(env: napi_env, work: napi_async_work) -> napi_status;
    fn napi_delete_async_work(env: napi_env, work: napi_async_work) -> napi_status;
}

/// A failed Node-API call, or a JavaScript error to throw: `(code, message)`.
struct Failure(&'static str, String);

type Result<T> = std::result::Result<T, Failure>;

fn check(status: napi_status, what: &str) -> Result<()> {
    if status == NAPI_OK {
        Ok(())
    } else {
        Err(Failure(
            "DIT_NATIVE_NAPI",
            format!("{} failed (napi_status {})", what, status),
        ))
    }
}

/// A NUL-terminated copy for the C side (messages never contain NUL; if one did, it is cut there).
fn c_string(text: &str) -> Vec<u8> {
    let mut bytes: Vec<u8> = text.bytes().take_while(|&b| b != 0).collect();
    bytes.push(0);
    bytes
}

unsafe fn js_string(env: napi_env, text: &str) -> Result<napi_value> {
    let mut value = ptr::null_mut();
    check(
        napi_create_string_utf8(env, text.as_ptr() as *const c_char, text.len(), &mut value),
        "napi_create_string_utf8",
    )?;
    Ok(value)
}

/// Whether a failure becomes a TypeError rather than an Error (as Node's own ERR_INVALID_ARG_* do).
fn is_type_error(code: &str) -> bool {
    code.starts_with("ERR_INVALID_ARG")
}

/// The error object for a failure, to reject a promise with: the class and message `guard` throws.
unsafe fn js_error(env: napi_env, failure: &Failure) -> Result<napi_value> {
    let code = js_string(env, failure.0)?;
    let message = js_string(env, &failure.1)?;
    let mut error = ptr::null_mut();
    if is_type_error(failure.0) {
        check(
            napi_create_type_error(env, code, message, &mut error),
            "napi_create_type_error",
        )?;
    } else {
        check(
            napi_create_error(env, code, message, &mut error),
            "napi_create_error",
        )?;
    }
    Ok(error)
}

/// The UTF-8 bytes of a JavaScript string, or a TypeError saying `what` was expected.
unsafe fn string_bytes_from_js(env: napi_env, value: napi_value, what: &str) -> Result<Vec<u8>> {
    let mut length = 0usize;
    if napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut length) != NAPI_OK {
        return Err(Failure("ERR_INVALID_ARG_TYPE", what.into()));
    }
    let mut bytes = vec![0u8; length + 1];
    let mut written = 0usize;
    check(
        napi_get_value_string_utf8(
            env,
            value,
            bytes.as_mut_ptr() as *mut c_char,
            bytes.len(),
            &mut written,
        ),
        "napi_get_value_string_utf8",
    )?;
    bytes.truncate(written);
    Ok(bytes)
}

/// A JavaScript array of paths as bytes: a string as its UTF-8 bytes (as Node's own `fs` converts
/// paths), a Buffer as it is (a name that is not UTF-8); or a TypeError naming `function`.
unsafe fn paths_from_js(env: napi_env, argument: Option<napi_value>, function: &str) -> Result<Vec<Vec<u8>>> {
    let mut is_array = false;
    let list = argument.unwrap_or(ptr::null_mut());
    if argument.is_none() || napi_is_array(env, list, &mut is_array) != NAPI_OK || !is_array {
        return Err(Failure(
            "ERR_INVALID_ARG_TYPE",
            format!("{}: paths must be an array of strings or Buffers", function),
        ));
    }
    let mut length = 0u32;
    check(
        napi_get_array_length(env, list, &mut length),
        "napi_get_array_length",
    )?;
    let not_a_path = format!("{}: every path must be a string or a Buffer", function);
    let mut paths = Vec::with_capacity(length as usize);
    for index in 0..length {
        let mut element = ptr::null_mut();
        check(
            napi_get_element(env, list, index, &mut element),
            "napi_get_element",
        )?;
        let mut is_buffer = false;
        check(napi_is_buffer(env, element, &mut is_buffer), "napi_is_buffer")?;
        if is_buffer {
            paths.push(buffer_bytes_from_js(env, element)?);
        } else {
            paths.push(string_bytes_from_js(env, element, &not_a_path)?);
        }
    }
    Ok(paths)
}

/// A copy of a Buffer's bytes (the work that uses them may outlive the JavaScript call).
unsafe fn buffer_bytes_from_js(env: napi_env, value: napi_value) -> Result<Vec<u8>> {
    let mut data: *mut c_void = ptr::null_mut();
    let mut length = 0usize;
    check(
        napi_get_buffer_info(env, value, &mut data, &mut length),
        "napi_get_buffer_info",
    )?;
    if length == 0 || data.is_null() {
        return Ok(Vec::new());
    }
    Ok(std::slice::from_raw_parts(data as *const u8, length).to_vec())
}

/// A path for JavaScript: a string when its bytes are UTF-8, else a Buffer of them, so that a name
/// in Latin-1 (say) comes back as the OS has it rather than with U+FFFD in it.
unsafe fn js_path(env: napi_env, path: &[u8]) -> Result<napi_value> {
    if let Ok(text) = std::str::from_utf8(path) {
        return js_string(env, text);
    }
    let mut value = ptr::null_mut();
    let mut data: *mut c_void = ptr::null_mut();
    check(
        napi_create_buffer_copy(
            env,
            path.len(),
            path.as_ptr() as *const c_void,
            &mut data,
            &mut value,
        ),
        "napi_create_buffer_copy",
    )?;
    Ok(value)
}

/// A new JavaScript array of `length` elements, each made by `element` from its index.
unsafe fn js_array(
    env: napi_env,
    length: usize,
    mut element: impl FnMut(usize) -> Result<napi_value>,
) -> Result<napi_value> {
    let mut array = ptr::null_mut();
    check(
        napi_create_array_with_length(env, length, &mut array),
        "napi_create_array_with_length",
    )?;
    for index in 0..length {
        check(
            napi_set_element(env, array, index as u32, element(index)?),
            "napi_set_element",
        )?;
    }
    Ok(array)
}

unsafe fn js_int32(env: napi_env, number: i32) -> Result<napi_value> {
    let mut value = ptr::null_mut();
    check(napi_create_int32(env, number, &mut value), "napi_create_int32")?;
    Ok(value)
}

/// The first argument of a JavaScript call, or None when it was called without one.
unsafe fn first_argument(env: napi_env, info: napi_callback_info) -> Result<Option<napi_value>> {
    let mut argc = 1usize;
    let mut argv = [ptr::null_mut(); 1];
    check(
        napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        ),
        "napi_get_cb_info",
    )?;
    Ok(if argc < 1 { None } else { Some(argv[0]) })
}

/// Runs a callback's body, turning a failure into a thrown JavaScript error and a panic into one too
/// (unwinding into Node's C++ frames would be undefined behaviour).
unsafe fn guard(env: napi_env, body: impl FnOnce() -> Result<napi_value>) -> napi_value {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|panic| Err(Failure("DIT_NATIVE_PANIC", panic_message(&panic))));
    match outcome {
        Ok(value) => value,
        Err(Failure(code, message)) => {
            let throw = if is_type_error(code) {
                napi_throw_type_error
            } else {
                napi_throw_error
            };
            let code = c_string(code);
            let message = c_string(&message);
            throw(
                env,
                code.as_ptr() as *const c_char,
                message.as_ptr() as *const c_char,
            );
            ptr::null_mut()
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        format!("panic in dit-native: {}", text)
    } else if let Some(text) = panic.downcast_ref::<String>() {
        format!("panic in dit-native: {}", text)
    } else {
        "panic in dit-native".to_string()
    }
}

// -------------------------------------------------------------------------------------------------
// Promises: work on a libuv pool thread, settled on the JavaScript thread

/// One asynchronous call in flight, owned by its async work from queueing to completion.
struct AsyncCall<T> {
    /// The JavaScript name of the call, for the async resource and for errors.
    name: &'static str,
    /// The work; taken by `execute_async` on a pool thread.
    run: Option<Box<dyn FnOnce() -> T + Send>>,
    /// What `run` returned, or a panic's message; None if it never ran.
    outcome: Option<std::result::Result<T, String>>,
    /// Back on the JavaScript thread: the value to resolve with, or the failure to reject with.
    settle: unsafe fn(napi_env, T) -> Result<napi_value>,
    deferred: napi_deferred,
    work: napi_async_work,
}

/// A promise for `run`, which goes to a libuv pool thread (`napi_create_async_work`) so the event
/// loop keeps turning; `settle` then makes the resolution from its value on the JavaScript thread.
/// The promise is rejected when `settle` fails, when either panics, or when the work does not run.
unsafe fn promise_for<T: Send + 'static>(
    env: napi_env,
    name: &'static str,
    run: impl FnOnce() -> T + Send + 'static,
    settle: unsafe fn(napi_env, T) -> Result<napi_value>,
) -> Result<napi_value> {
    let resource_name = js_string(env, &format!("dit-native:{}", name))?;
    let mut promise = ptr::null_mut();
    let mut deferred = ptr::null_mut();
    check(
        napi_create_promise(env, &mut deferred, &mut promise),
        "napi_create_promise",
    )?;
    let call = Box::into_raw(Box::new(AsyncCall {
        name,
        run: Some(Box::new(run)),
        outcome: None,
        settle,
        deferred,
        work: ptr::null_mut(),
    }));
    let queued = check(
        napi_create_async_work(
            env,
            ptr::null_mut(),
            resource_name,
            Some(execute_async::<T>),
            Some(complete_async::<T>),
            call as *mut c_void,
            &mut (*call).work,
        ),
        "napi_create_async_work",
    )
    .and_then(|()| check(napi_queue_async_work(env, (*call).work), "napi_queue_async_work"));
    if let Err(failure) = queued {
        // Nothing will call complete: take the call back, settle the promise here.
        let call = Box::from_raw(call);
        if !call.work.is_null() {
            napi_delete_async_work(env, call.work);
        }
        napi_reject_deferred(env, call.deferred, js_error(env, &failure)?);
    }
    Ok(promise)
}

/// On a libuv pool thread: no JavaScript and no `env` here.
unsafe extern "C" fn execute_async<T>(_env: napi_env, data: *mut c_void) {
    let call = &mut *(data as *mut AsyncCall<T>);
    if let Some(run) = call.run.take() {
        call.outcome = Some(catch_unwind(AssertUnwindSafe(run)).map_err(|p| panic_message(&p)));
    }
}

/// Back on the JavaScript thread: settle the promise, whatever happened.
unsafe extern "C" fn complete_async<T>(env: napi_env, status: napi_status, data: *mut c_void) {
    let call = Box::from_raw(data as *mut AsyncCall<T>);
    napi_delete_async_work(env, call.work);
    let AsyncCall {
        name,
        outcome,
        settle,
        deferred,
        ..
    } = *call;
    let settled = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let resolution = match (status, outcome) {
            (NAPI_OK, Some(Ok(value))) => settle(env, value),
            (NAPI_OK, Some(Err(panic))) => Err(Failure("DIT_NATIVE_PANIC", panic)),
            _ => {
                let what = if status == NAPI_CANCELLED {
                    "cancelled"
                } else {
                    "did not run"
                };
                Err(Failure("DIT_NATIVE_NAPI", format!("{}: the work {}", name, what)))
            }
        };
        match resolution {
            Ok(value) => check(
                napi_resolve_deferred(env, deferred, value),
                "napi_resolve_deferred",
            ),
            Err(failure) => check(
                napi_reject_deferred(env, deferred, js_error(env, &failure)?),
                "napi_reject_deferred",
            ),
        }
    }));
    if let Err(panic) | Ok(Err(Failure(_, panic))) = settled.map_err(|p| panic_message(&p)) {
        // Last resort: the promise must not stay pending forever.
        if let Ok(error) = js_error(env, &Failure("DIT_NATIVE_NAPI", panic)) {
            napi_reject_deferred(env, deferred, error);
        }
    }
}

// -------------------------------------------------------------------------------------------------
// hashFiles

/// `hashFiles(paths: Array<string | Buffer>): Promise<Array<string | number>>`: one pool thread hands the batch to
/// rayon and waits.
unsafe extern "C" fn hash_files_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let paths: Vec<PathBuf> = paths_from_js(env, first_argument(env, info)?, "hashFiles")?
            .into_iter()
            .map(|bytes| PathBuf::from(OsString::from_vec(bytes)))
            .collect();
        promise_for(env, "hashFiles", move || hash_files(&paths), hashes_to_js)
    })
}

/// The digests as hex, the failures as their errno.
unsafe fn hashes_to_js(env: napi_env, results: Vec<std::io::Result<Sha256Digest>>) -> Result<napi_value> {
    js_array(env, results.len(), |index| match &results[index] {
        Ok(digest) => js_string(env, &to_hex(digest)),
        Err(error) => js_int32(env, errno_of(error)),
    })
}

// -------------------------------------------------------------------------------------------------
// walkFiles

/// `walkFiles(paths): { files: Array<string | Buffer>, errors: Array<[string | Buffer, number]> }`, synchronous
/// (see the module comment); `src/walk-files-native.ts` turns the errnos into `{ code, error }`.
unsafe extern "C" fn walk_files_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let paths = paths_from_js(env, first_argument(env, info)?, "walkFiles")?;
        let walked = walk_files(&paths);
        let files = js_array(env, walked.files.len(), |index| {
            js_path(env, &walked.files[index])
        })?;
        let errors = js_array(env, walked.errors.len(), |index| {
            let (path, errno) = &walked.errors[index];
            let pair = [js_path(env, path)?, js_int32(env, *errno)?];
            js_array(env, 2, |index| Ok(pair[index]))
        })?;
        let mut result = ptr::null_mut();
        check(napi_create_object(env, &mut result), "napi_create_object")?;
        for (name, value) in [("files\0", files), ("errors\0", errors)] {
            check(
                napi_set_named_property(env, result, name.as_ptr() as *const c_char, value),
                "napi_set_named_property",
            )?;
        }
        Ok(result)
    })
}

// -------------------------------------------------------------------------------------------------
// writeLayer

/// The plan as `src/layer.ts` encodes it: records one after the other, each a tag byte and then
/// `0`: a u32 length and that many literal bytes; `1`: a u64 file size, a u32 length and the path's
/// bytes (all little-endian).
fn plan_from_bytes(bytes: &[u8]) -> std::result::Result<Vec<Segment>, String> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> std::result::Result<&'a [u8], String> {
        if bytes.len() < n {
            return Err("writeLayer: the plan is cut short".into());
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head)
    }
    fn u32_of(bytes: &mut &[u8]) -> std::result::Result<usize, String> {
        let mut word = [0u8; 4];
        word.copy_from_slice(take(bytes, 4)?);
        Ok(u32::from_le_bytes(word) as usize)
    }
    let mut rest = bytes;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let tag = take(&mut rest, 1)?[0];
        match tag {
            0 => {
                let length = u32_of(&mut rest)?;
                segments.push(Segment::Literal(take(&mut rest, length)?.to_vec()));
            }
            1 => {
                let mut word = [0u8; 8];
                word.copy_from_slice(take(&mut rest, 8)?);
                let size = u64::from_le_bytes(word);
                let length = u32_of(&mut rest)?;
                let path = PathBuf::from(OsString::from_vec(take(&mut rest, length)?.to_vec()));
                segments.push(Segment::File { path, size });
            }
            other => return Err(format!("writeLayer: unknown plan record {}", other)),
        }
    }
    Ok(segments)
}

/// `writeLayer(plan, target, level)`: see the module comment.
unsafe extern "C" fn write_layer_js(env: napi_env, info: napi_callback_info) -> napi_value {
    guard(env, || {
        let mut argc = 4usize;
        let mut argv = [ptr::null_mut(); 4];
        check(
            napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()),
            "napi_get_cb_info",
        )?;
        let mut is_buffer = false;
        if argc < 3 || napi_is_buffer(env, argv[0], &mut is_buffer) != NAPI_OK || !is_buffer {
            return Err(Failure(
                "ERR_INVALID_ARG_TYPE",
                "writeLayer(plan: Buffer, target: string | Buffer, level: number, format?: string)".into(),
            ));
        }
        let plan = plan_from_bytes(&buffer_bytes_from_js(env, argv[0])?)
            .map_err(|message| Failure("ERR_INVALID_ARG_VALUE", message))?;
        let target = paths_from_js_value(env, argv[1], "writeLayer: target")?;
        // The format: 'gzip' when left out; anything else but 'zstd' is refused.
        let zstd = if argc >= 4 {
            match string_bytes_from_js(env, argv[3], "writeLayer: format must be 'gzip' or 'zstd'")?.as_slice() {
                b"gzip" => false,
                b"zstd" => true,
                _ => {
                    return Err(Failure(
                        "ERR_INVALID_ARG_VALUE",
                        "writeLayer: format must be 'gzip' or 'zstd'".into(),
                    ))
                }
            }
        } else {
            false
        };
        let highest = if zstd { 19 } else { 9 };
        let mut level = 0i32;
        if napi_get_value_int32(env, argv[2], &mut level) != NAPI_OK || !(0..=highest).contains(&level) {
            return Err(Failure(
                "ERR_INVALID_ARG_VALUE",
                format!("writeLayer: level must be 0 (no compression) to {}", highest),
            ));
        }
        let compression = if level == 0 {
            Compression::None
        } else if zstd {
            Compression::Zstd(level)
        } else {
            Compression::Gzip(level)
        };
        let target = PathBuf::from(OsString::from_vec(target));
        promise_for(
            env,
            "writeLayer",
            move || write_layer(&plan, &target, compression),
            layer_to_js,
        )
    })
}

/// `layerZlib(): string | null`: the version of the zlib `writeLayer` would use (the process's:
/// Node's own, whose `process.versions.zlib` it should equal), or null when the process has none.
unsafe extern "C" fn layer_zlib_js(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || match dit_native_core::layer::Zlib::from_process() {
        Ok(zlib) => js_string(env, &zlib.version()),
        Err(_) => {
            let mut null = ptr::null_mut();
            check(napi_get_null(env, &mut null), "napi_get_null")?;
            Ok(null)
        }
    })
}

/// `layerZstd(): string | null`: libzstd's version, or null when libzstd.so.1 cannot be loaded.
unsafe extern "C" fn layer_zstd_js(env: napi_env, _info: napi_callback_info) -> napi_value {
    guard(env, || match dit_native_core::zstd::Zstd::load() {
        Ok(zstd) => js_string(env, &zstd.version()),
        Err(_) => {
            let mut null = ptr::null_mut();
            check(napi_get_null(env, &mut null), "napi_get_null")?;
            Ok(null)
        }
    })
}

/// A path argument (string or Buffer) as bytes.
unsafe fn paths_from_js_value(env: napi_env, value: napi_value, what: &str) -> Result<Vec<u8>> {
    let mut is_buffer = false;
    check(napi_is_buffer(env, value, &mut is_buffer), "napi_is_buffer")?;
    if is_buffer {
        buffer_bytes_from_js(env, value)
    } else {
        string_bytes_from_js(env, value, &format!("{} must be a string or a Buffer", what))
    }
}

unsafe fn layer_to_js(
    env: napi_env,
    outcome: std::result::Result<LayerWritten, LayerError>,
) -> Result<napi_value> {
    let mut result = ptr::null_mut();
    check(napi_create_object(env, &mut result), "napi_create_object")?;
    let mut fields: Vec<(&str, napi_value)> = Vec::new();
    let double = |number: f64| -> Result<napi_value> {
        let mut value = ptr::null_mut();
        check(napi_create_double(env, number, &mut value), "napi_create_double")?;
        Ok(value)
    };
    match outcome {
        Ok(written) => {
            fields.push(("digest\0", js_string(env, &to_hex(&written.digest))?));
            fields.push(("diffId\0", js_string(env, &to_hex(&written.diff_id))?));
            fields.push(("size\0", double(written.size as f64)?));
        }
        Err(LayerError::Read { path, errno }) => {
            fields.push(("error\0", js_string(env, "read")?));
            fields.push(("path\0", js_path(env, path.as_os_str().as_encoded_bytes_compat())?));
            fields.push(("errno\0", js_int32(env, errno)?));
        }
        Err(LayerError::Changed { path, grew }) => {
            fields.push(("error\0", js_string(env, if grew { "grew" } else { "shrank" })?));
            fields.push(("path\0", js_path(env, path.as_os_str().as_encoded_bytes_compat())?));
        }
        Err(LayerError::Write { errno }) => {
            fields.push(("error\0", js_string(env, "write")?));
            fields.push(("errno\0", js_int32(env, errno)?));
        }
        Err(LayerError::Zlib(message)) => {
            fields.push(("error\0", js_string(env, "zlib")?));
            fields.push(("message\0", js_string(env, &message)?));
        }
    }
    for (name, value) in fields {
        check(
            napi_set_named_property(env, result, name.as_ptr() as *const c_char, value),
            "napi_set_named_property",
        )?;
    }
    Ok(result)
}

/// The bytes of an OS string (`as_encoded_bytes` needs a newer Rust than Debian's 1.63).
trait OsBytes {
    fn as_encoded_bytes_compat(&self) -> &[u8];
}
impl OsBytes for std::ffi::OsStr {
    fn as_encoded_bytes_compat(&self) -> &[u8] {
        std::os::unix::ffi::OsStrExt::as_bytes(self)
    }
}

// -------------------------------------------------------------------------------------------------
// Registration

unsafe fn export(env: napi_env, exports: napi_value, name: &str, callback: napi_callback) -> Result<()> {
    let c_name = c_string(name);
    let mut function = ptr::null_mut();
    check(
        napi_create_function(
            env,
            c_name.as_ptr() as *const c_char,
            NAPI_AUTO_LENGTH,
            callback,
            ptr::null_mut(),
            &mut function,
        ),
        "napi_create_function",
    )?;
    check(
        napi_set_named_property(env, exports, c_name.as_ptr() as *const c_char, function),
        "napi_set_named_property",
    )
}

/// Called by Node when the `.node` file is loaded (`process.dlopen`).
///
/// # Safety
/// Only Node calls this, with a valid `env` and `exports` object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    guard(env, || {
        let version = js_int32(env, INTERFACE_VERSION)?;
        check(
            napi_set_named_property(env, exports, "interfaceVersion\0".as_ptr() as *const c_char, version),
            "napi_set_named_property",
        )?;
        export(env, exports, "hashFiles", Some(hash_files_js))?;
        export(env, exports, "walkFiles", Some(walk_files_js))?;
        export(env, exports, "writeLayer", Some(write_layer_js))?;
        export(env, exports, "layerZlib", Some(layer_zlib_js))?;
        export(env, exports, "layerZstd", Some(layer_zstd_js))?;
        Ok(exports)
    })
}

/// Which Node-API version the module expects (Node 20 asks; older Node assumes 8).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    NAPI_VERSION
}
