import { describe, expect, it } from 'vitest';
import {
  annotationPath,
  flagNames,
  parseFdArg,
  parseQuoted,
  parseResult,
  parseStringArray,
  splitCall,
  unescapeStrace,
} from './strace-text.js';

describe('splitCall', () => {
  it('splits top-level arguments, leaving strings, structs and annotations whole', () => {
    const call = splitCall(
      'newfstatat(3</usr/lib/x86_64-linux-gnu/libc.so.6>, "", {st_mode=S_IFREG|0755, st_size=1926232, ...}, AT_EMPTY_PATH) = 0',
    );
    expect(call).toEqual({
      name: 'newfstatat',
      args: [
        '3</usr/lib/x86_64-linux-gnu/libc.so.6>',
        '""',
        '{st_mode=S_IFREG|0755, st_size=1926232, ...}',
        'AT_EMPTY_PATH',
      ],
      result: '0',
    });
  });

  it('is not fooled by commas, parentheses and brackets inside strings and annotations', () => {
    const call = splitCall(
      'openat(AT_FDCWD</tmp/a,b)>, "x, \\"y\\") [z", O_RDONLY)   = 3</tmp/a,b)/x, "y") [z>',
    );
    expect(call?.args).toEqual(['AT_FDCWD</tmp/a,b)>', '"x, \\"y\\") [z"', 'O_RDONLY']);
    expect(call?.result).toBe('3</tmp/a,b)/x, "y") [z>');
  });

  it('handles no arguments, comments, and clone3 with its `=>` output', () => {
    expect(splitCall('vfork()                                 = 23987')).toEqual({
      name: 'vfork',
      args: [],
      result: '23987',
    });
    expect(splitCall('execve("/bin/true", ["true"], 0x7ffd /* 39 vars */) = 0')?.args[2]).toBe(
      '0x7ffd /* 39 vars */',
    );
    const clone3 = splitCall(
      'clone3({flags=CLONE_VM|CLONE_FS|CLONE_THREAD, child_tid=0x7f, exit_signal=0} => {parent_tid=[23522]}, 88) = 23522',
    );
    expect(clone3?.args).toHaveLength(2);
    expect(clone3?.result).toBe('23522');
  });

  it('rejects what is not a call', () => {
    expect(splitCall('+++ exited with 0 +++')).toBeNull();
    expect(splitCall('openat(AT_FDCWD, "/x"')).toBeNull();
  });
});

describe('strings', () => {
  it('decodes C escapes, octal and hex, as UTF-8 bytes', () => {
    expect(unescapeStrace('a\\"b\\nc\\td\\\\e')).toBe('a"b\nc\td\\e');
    expect(unescapeStrace('caf\\303\\251')).toBe('café');
    expect(unescapeStrace('caf\\xc3\\xa9')).toBe('café');
    expect(unescapeStrace('we\\74i\\76rd')).toBe('we<i>rd');
    expect(unescapeStrace('\\0010')).toBe('\u00010'); // at most three octal digits
    expect(unescapeStrace('bad\\351\\377')).toBe('bad\uFFFD\uFFFD');
  });

  it('parses quoted strings, truncated ones and non-strings', () => {
    expect(parseQuoted('"/etc/passwd"')).toEqual({ value: '/etc/passwd', truncated: false });
    expect(parseQuoted('"/very/lo"...')).toEqual({ value: '/very/lo', truncated: true });
    expect(parseQuoted('""')).toEqual({ value: '', truncated: false });
    expect(parseQuoted('NULL')).toBeNull();
    expect(parseQuoted('0x7ffd12')).toBeNull();
  });

  it('parses argv arrays', () => {
    expect(parseStringArray('["sh", "-c", "echo \\"hi\\", there"]')).toEqual([
      'sh',
      '-c',
      'echo "hi", there',
    ]);
    expect(parseStringArray('["/bin/ech"..., "1", ...]')).toEqual(['/bin/ech', '1']);
    expect(parseStringArray('[]')).toEqual([]);
    expect(parseStringArray('NULL')).toBeNull();
  });
});

describe('fds and results', () => {
  it('takes -y annotations apart', () => {
    expect(parseFdArg('AT_FDCWD</usr/share>')).toEqual({ fd: 'AT_FDCWD', annotation: '/usr/share' });
    expect(parseFdArg('3</tmp/we\\74i\\76rd>')).toEqual({ fd: '3', annotation: '/tmp/we<i>rd' });
    expect(parseFdArg('AT_FDCWD')).toEqual({ fd: 'AT_FDCWD', annotation: null });
    expect(annotationPath('pipe:[181496]')).toBeNull();
    expect(annotationPath('socket:[1]')).toBeNull();
    expect(annotationPath('/tmp/x (deleted)')).toBe('/tmp/x');
    expect(annotationPath('/dev/null')).toBe('/dev/null');
  });

  it('parses results: fds, errors, unknown', () => {
    expect(parseResult('3</etc/ld.so.cache>')).toEqual({
      value: 3,
      annotation: '/etc/ld.so.cache',
      errno: null,
    });
    expect(parseResult('-1 ENOENT (No such file or directory)')).toEqual({
      value: -1,
      annotation: null,
      errno: 'ENOENT',
    });
    expect(parseResult('?')).toEqual({ value: null, annotation: null, errno: null });
    expect(parseResult('? ERESTARTSYS (To be restarted if SA_RESTART is set)').errno).toBe('ERESTARTSYS');
    expect(parseResult('0x1 (flags FD_CLOEXEC)').value).toBe(1);
    expect(parseResult('7</tmp/del.txt>(deleted)')).toMatchObject({ value: 7, annotation: '/tmp/del.txt' });
    expect(parseResult('-1 (errno 18446744073709551359)')).toEqual({
      value: -1,
      annotation: null,
      errno: null,
    });
  });

  it('reads flag sets, also inside structs', () => {
    expect(flagNames('O_RDONLY|O_CLOEXEC|O_DIRECTORY').has('O_DIRECTORY')).toBe(true);
    const how = '{flags=O_WRONLY|O_CREAT, resolve=RESOLVE_NO_SYMLINKS, mode=0644}';
    expect([...flagNames(how, 'flags')]).toEqual(['O_WRONLY', 'O_CREAT']);
    expect([...flagNames(how, 'resolve')]).toEqual(['RESOLVE_NO_SYMLINKS']);
  });
});
