// The scanner records of a Dockerfile-flow export, judged by dpkg itself in the build stage (issue
// 13): dit writes /var/lib/dpkg/status.d/NAME (and NAME.md5sums) for every package that owns an
// exported file, so that Trivy, Grype or Syft see the image's packages. Three claims, each checked
// against the build stage's own dpkg database, not against dit's reading of it:
//
//   1. the packages recorded in status.d are exactly those owning at least one exported file, by
//      `dpkg -S` of every exported file (and symlink);
//   2. each record's fields are those `dpkg -s NAME` prints;
//   3. `dpkg-query --admindir=D -W` lists them all when D/status is the records put together, so a
//      tool that reads them as a status file finds every one.
//
// The final image has no shell and no dpkg, so one script runs in the build stage container (its
// /export is the export the final stage copies) and prints the raw answers; this module compares.

import { performance } from 'node:perf_hooks';

/**
 * The script run inside the build stage. Its output is sections, each opened by a `@@ NAME` line.
 * dpkg's database lists a file under the name its package shipped (/bin/bash, /lib/...), while on a
 * merged-/usr system the export may hold it under the other name (/usr/bin/bash), or the reverse:
 * every exported path is asked under both names. `dpkg -S` takes patterns: *, ?, [ and \ are escaped
 * so that each path is matched literally. Diversions are listed so that a diverted file is owned by
 * the package whose file it is (see owners() below), and every diversion's source is asked too.
 */
const SCRIPT = String.raw`
set -u
E=${'$'}{E:-/export}
W=$(mktemp -d)
echo '@@ files'
(cd "$E" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) | tee "$W/files"
echo '@@ recorded'
ls "$E/var/lib/dpkg/status.d" 2>/dev/null | grep -v '\.md5sums$' | sort | tee "$W/recorded"
echo '@@ diversions'
dpkg-divert --list | tee "$W/diversions"
sed -n 's/^.*diversion of \(.*\) to .*$/\1/p' "$W/diversions" >> "$W/files"
# Both names of each path under a merged-/usr folder.
{ cat "$W/files"
  sed -n 's#^/usr/\(bin\|sbin\|lib\|lib32\|lib64\|libx32\)/#/\1/#p' "$W/files"
  sed -n 's#^/\(bin\|sbin\|lib\|lib32\|lib64\|libx32\)/#/usr/\1/#p' "$W/files"
} | sort -u | sed 's/[][*?\\]/\\&/g' | tr '\n' '\0' > "$W/queries"
echo '@@ search'
xargs -0 dpkg -S < "$W/queries" 2>/dev/null
# An exported link to a folder (/lib -> usr/lib, a doc folder linked to its source package's): each
# is printed alone, then with every package that lists something below it, under both names.
echo '@@ below'
(cd "$E" && find . -type l -xtype d | sed 's|^\.||') | while read -r link; do
  printf '%s\t\n' "$link"
  for name in "$link" $(echo "$link" | sed -n 's#^/usr/\(bin\|sbin\|lib\|lib32\|lib64\|libx32\)\(/\|$\)#/\1\2#p; s#^/\(bin\|sbin\|lib\|lib32\|lib64\|libx32\)\(/\|$\)#/usr/\1\2#p'); do
    dpkg -S "$(printf '%s' "$name" | sed 's/[][*?\\]/\\&/g')/*" 2>/dev/null | sed 's/: .*//' | tr ',' '\n' | sed "s|^ *|$link\t|"
  done
done | sort -u
echo '@@ dpkg-s'
while read -r name; do echo "@@@ $name"; dpkg -s "$name"; done < "$W/recorded"
echo '@@ records'
while read -r name; do echo "@@@ $name"; cat "$E/var/lib/dpkg/status.d/$name"; done < "$W/recorded"
echo '@@ dpkg-query'
mkdir "$W/admin"
while read -r name; do cat "$E/var/lib/dpkg/status.d/$name"; echo; done < "$W/recorded" > "$W/admin/status"
dpkg-query --admindir="$W/admin" -W -f '${'$'}{Package}\n' 2>&1
status=$?
echo '@@ end'
echo "$status"
`;

/**
 * Lines grouped under the marker lines that open them (`MARKER NAME`), NAME -> the lines after it:
 * the script's `@@ SECTION`s, and the `@@@ PACKAGE` blocks inside a section.
 */
function groups(lines, marker) {
  const result = new Map();
  let current = null;
  for (const line of lines) {
    if (line.startsWith(marker)) {
      current = [];
      result.set(line.slice(marker.length), current);
    } else if (current !== null) current.push(line);
  }
  return result;
}

/** A stanza's fields, name -> value (continuation lines kept with their field). */
function fields(lines) {
  const result = new Map();
  let last = null;
  for (const line of lines) {
    if (line === '') continue;
    if (/^\s/.test(line) && last !== null) result.set(last, `${result.get(last)}\n${line}`);
    else {
      const colon = line.indexOf(':');
      last = line.slice(0, colon);
      result.set(last, line.slice(colon + 1).trim());
    }
  }
  return result;
}

const MERGED = /^\/(usr\/)?(bin|sbin|lib|lib32|lib64|libx32)\//;
/** The /usr name of a path under a merged-/usr folder (/bin/sh -> /usr/bin/sh), else the path. */
function canonical(path) {
  const match = MERGED.exec(path);
  return match === null || match[1] !== undefined ? path : `/usr${path}`;
}

/** A package name without dpkg's `:ARCH` qualifier (status.d names carry it only when two architectures share a name). */
const bare = (name) => name.replace(/:[a-z0-9]+$/, '');

/**
 * The packages owning the exported files. `dpkg -S` answers `pkg1, pkg2: PATH` for each path its
 * database lists. A diversion (`diversion of FROM to TO by PKG`) means the file at FROM is PKG's
 * (the other package's copy was moved to TO), and the file at TO is the other package's, which its
 * list names FROM.
 */
function owners(files, search, diversions, below) {
  const listed = new Map(); // canonical path -> owners as dpkg -S lists them
  for (const line of search) {
    if (line.startsWith('diversion by ')) continue;
    const split = line.indexOf(': ');
    if (split < 0) continue;
    const path = canonical(line.slice(split + 2));
    const set = listed.get(path) ?? new Set();
    for (const name of line.slice(0, split).split(', ')) set.add(bare(name));
    listed.set(path, set);
  }
  const divertedFrom = new Map();
  const divertedTo = new Map();
  for (const line of diversions) {
    const match = /diversion of (.+) to (.+) by (\S+)$/.exec(line);
    if (match === null) continue;
    divertedFrom.set(canonical(match[1]), match[3]);
    divertedTo.set(canonical(match[2]), { from: canonical(match[1]), by: match[3] });
  }
  // dpkg's lists name folders as well as files, and do not say which is which. An exported link to
  // a folder is a package's file only when that package alone lists the name and lists nothing
  // below it (libatomic1's /usr/share/doc/libatomic1 -> gcc-12-base); a name many packages list is
  // a folder in their lists (/lib, which on a merged-/usr system is a link no package ships; cpp
  // lists it with nothing below, its /lib/cpp being update-alternatives' work).
  const folderLinks = new Map(); // exported link to a folder -> packages with files below it
  for (const line of below) {
    const [link, name] = line.split('\t');
    if (name === undefined) continue;
    const set = folderLinks.get(link) ?? new Set();
    if (name !== '') set.add(bare(name));
    folderLinks.set(link, set);
  }
  const result = new Map(); // package -> one exported file it owns (for messages)
  for (const file of files) {
    const path = canonical(file);
    let found = [...(listed.get(path) ?? [])];
    const folder = folderLinks.get(file);
    if (folder !== undefined) found = found.length === 1 && !folder.has(found[0]) ? found : [];
    if (divertedFrom.has(path)) found = found.filter((name) => name === divertedFrom.get(path));
    const to = divertedTo.get(path);
    if (to !== undefined) found = [...(listed.get(to.from) ?? [])].filter((name) => name !== to.by);
    for (const name of found) if (!result.has(name)) result.set(name, file);
  }
  return result;
}

/**
 * Runs the three checks for the export in `buildImage` (the build stage, /export inside it).
 * Returns { passed, packages, problems }: the recorded package names, and what disagrees.
 */
export function packagesCheck({ buildImage, podman, before = '' }) {
  const output = podman(['run', '--rm', '--network', 'none', buildImage, 'sh', '-c', `${before}\n${SCRIPT}`]);
  const parts = groups(output.split('\n'), '@@ ');
  const files = (parts.get('files') ?? []).filter(Boolean);
  const recorded = (parts.get('recorded') ?? []).filter(Boolean).map(bare);
  const problems = [];

  // 1. status.d against dpkg -S of every exported file.
  const owning = owners(
    files,
    parts.get('search') ?? [],
    parts.get('diversions') ?? [],
    parts.get('below') ?? [],
  );
  const unrecorded = [...owning.keys()].filter((name) => !recorded.includes(name)).sort();
  const unowned = recorded.filter((name) => !owning.has(name));
  if (unrecorded.length > 0) {
    problems.push(
      `own exported files but have no status.d record: ${unrecorded.map((name) => `${name} (${owning.get(name)})`).join(', ')}`,
    );
  }
  if (unowned.length > 0) {
    problems.push(`recorded in status.d but own no exported file: ${unowned.join(', ')}`);
  }

  // 2. each record's fields against dpkg -s.
  const dpkgS = groups(parts.get('dpkg-s') ?? [], '@@@ ');
  const records = groups(parts.get('records') ?? [], '@@@ ');
  for (const name of recorded) {
    const want = fields(dpkgS.get(name) ?? []);
    const have = fields(records.get(name) ?? []);
    const differ = [...new Set([...want.keys(), ...have.keys()])].filter(
      (field) => want.get(field) !== have.get(field),
    );
    if (want.size === 0) problems.push(`${name}: dpkg -s knows no such package`);
    else if (differ.length > 0)
      problems.push(`${name}: status.d differs from dpkg -s in ${differ.join(', ')}`);
  }

  // 3. the records as one status file, read by dpkg-query.
  const queried = parts.get('dpkg-query') ?? [];
  const listedByQuery = queried.filter(Boolean).map(bare);
  const missed = recorded.filter((name) => !listedByQuery.includes(name));
  const extra = listedByQuery.filter((name) => !recorded.includes(name));
  if (missed.length > 0 || extra.length > 0) {
    problems.push(
      `dpkg-query --admindir over the records: ${missed.length ? `missing ${missed.join(', ')}` : ''}${extra.length ? ` unexpected: ${extra.join(' / ')}` : ''}`,
    );
  }
  const status = parts.get('end')?.[0];
  if (status === undefined) problems.push('the script in the build stage did not finish');
  else if (status !== '0') problems.push(`dpkg-query --admindir over the records exited with ${status}`);
  const tampered = (parts.get('tampered') ?? [''])[0].split(' ');
  return { passed: problems.length === 0, packages: recorded, files: files.length, problems, tampered };
}

/** The self-test's result row. */
export const SELF_TEST = 'status.d check catches a wrong record';

/**
 * The check must catch a wrong status.d, or its passes prove nothing. In a copy of a build stage's
 * export: the last record removed (a package that owns exported files, since the real check
 * passed), a record added for an installed package that owns none, the first record's Version
 * changed, and a record without a Package field (which dpkg-query refuses). Returns a result row.
 */
export function packagesCheckSelfTest({ buildImage, podman }) {
  const before = String.raw`
set -e
cp -a /export /tmp/tampered
E=/tmp/tampered
D="$E/var/lib/dpkg/status.d"
records=$(ls "$D" | grep -v '\.md5sums$' | sort)
last=$(echo "$records" | tail -n 1)
first=$(echo "$records" | head -n 1)
extra=$(dpkg-query -W -f '${'$'}{Package}
' | grep -vxF "$records" | head -n 1)
rm "$D/$last"
dpkg -s "$extra" > "$D/$extra"
sed -i 's/^Version: .*/Version: 0.0-tampered/' "$D/$first"
printf 'Status: install ok installed
Version: 1
' > "$D/zz-no-package"
echo "@@ tampered"
echo "$last $extra $first"
set +e`;
  const started = performance.now();
  const name = SELF_TEST;
  try {
    const { problems, tampered } = packagesCheck({ buildImage, podman, before });
    const [removed, added, changed] = tampered;
    const text = problems.join('\n');
    const expected = [
      `have no status.d record: ${removed} (`,
      `own no exported file: ${added}`,
      `${changed}: status.d differs from dpkg -s in Version`,
      'dpkg-query --admindir over the records exited with',
    ];
    const missed = expected.filter((part) => !text.includes(part));
    return {
      name,
      passed: missed.length === 0,
      ...(missed.length > 0 ? { error: `not reported: ${missed.join(' | ')}; reported:\n${text}` } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return { name, passed: false, error: error.message, seconds: (performance.now() - started) / 1000 };
  }
}
