/**
 * @dit/paths: paths inside a root and paths as bytes, the bottom layer every other package stands
 * on. `RootFs` walks a path inside an unpacked image as the kernel would inside a chroot (absolute
 * links re-rooted, `..` stopped at the root, ELOOP after 40 links), so nothing built on it can read
 * the host by accident. `FilePath` is a name as the OS has it (a string when UTF-8, else its bytes);
 * byte-names carries such a name as a string and gives its bytes back; `printableBytes` shows them.
 * It depends on no other @dit package.
 */
export { fromByteString, fsPath, hasEscapedBytes, toByteString } from './byte-names.js';
export { type FilePath, printableBytes } from './file-path.js';
export { canonicalHostPath } from './host-path.js';
export {
  type FolderEntry,
  type FolderListing,
  type Lookup,
  type LookupError,
  RootFs,
  type SymlinkHop,
} from './root-fs.js';
