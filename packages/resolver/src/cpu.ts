import { readFileSync } from 'node:fs';

/**
 * What the loader knows about the CPU: which glibc-hwcaps subdirectories are active, the value of
 * $PLATFORM, and the legacy hwcap bits. glibc learns these from CPUID; we read the same features
 * from /proc/cpuinfo (no code is run), or take them as options to resolve for another machine.
 */
export interface CpuProfile {
  /** Active glibc-hwcaps subdirectories, best first (x86-64: a prefix-closed subset of v4, v3, v2). */
  readonly hwcaps: readonly string[];
  /** ISA level index for ld.so.cache hwcaps entries (x86: 0 baseline, 1 v2, 2 v3, 3 v4). */
  readonly isaLevel: number;
  /** $PLATFORM. */
  readonly platform: string;
  /** Legacy hwcap bits for glibc <= 2.36 cache entries and subdirectories. */
  readonly legacyHwcap: bigint;
  /** Names of the legacy hwcap bits set (2.36 and older: `avx512_1`, `x86_64`), as subdirectory names. */
  readonly legacyHwcapNames: readonly string[];
}

const X86_LEVELS: readonly { name: string; flags: readonly string[] }[] = [
  // glibc sysdeps/x86/get-isa-level.h; /proc/cpuinfo names (pni = SSE3, lahf_lm = LAHF/SAHF).
  { name: 'x86-64-v2', flags: ['cx16', 'lahf_lm', 'popcnt', 'pni', 'ssse3', 'sse4_1', 'sse4_2'] },
  // LZCNT shows as `abm`, but virtual machines often hide that flag while CPUID has it; every CPU
  // with AVX2 and BMI1 has LZCNT, so we take BMI1 as its witness.
  { name: 'x86-64-v3', flags: ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'movbe'] },
  { name: 'x86-64-v4', flags: ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'] },
];

/** The x86-64 glibc-hwcaps names glibc knows, best first. */
export const X86_64_HWCAPS = ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'] as const;

/** A CPU profile for an x86-64 machine at a given level (0 = baseline ... 3 = v4), e.g. to resolve for older hardware. */
export function x86ProfileForLevel(level: number, platform = 'x86_64'): CpuProfile {
  const clamped = Math.max(0, Math.min(3, Math.trunc(level)));
  return {
    hwcaps: X86_64_HWCAPS.slice(3 - clamped),
    isaLevel: clamped,
    platform,
    legacyHwcap: LEGACY_X86_64 | TLS_BIT,
    legacyHwcapNames: ['x86_64'],
  };
}

// sysdeps/x86/dl-hwcap.h: HWCAP_X86_SSE2 = 1 << 0, HWCAP_X86_64 = 1 << 1, HWCAP_X86_AVX512_1 = 1 << 2.
const LEGACY_X86_64 = 1n << 1n;
const LEGACY_AVX512_1 = 1n << 2n;
const TLS_BIT = 1n << 63n;

/** Profile of the CPU this process runs on, for an x86-64 target; other architectures get no hwcaps. */
export function hostCpuProfile(cpuinfo = readCpuinfo()): CpuProfile {
  if (process.arch !== 'x64') {
    return { hwcaps: [], isaLevel: 0, platform: process.arch, legacyHwcap: 0n, legacyHwcapNames: [] };
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
  const intel = /^vendor_id\s*:\s*GenuineIntel/m.test(cpuinfo);
  let level = 0;
  for (const { flags: needed } of X86_LEVELS) {
    if (!needed.every((flag) => flags.has(flag))) break;
    level++;
  }
  // sysdeps/x86/cpu-features.c (dl_init_platform): only Intel CPUs get a $PLATFORM other than x86_64.
  let platform = 'x86_64';
  let legacy = LEGACY_X86_64;
  const names = [];
  if (intel) {
    const has = (...list: string[]) => list.every((flag) => flags.has(flag));
    if (has('avx512cd')) {
      if (has('avx512er')) {
        if (has('avx512pf')) platform = 'xeon_phi';
      } else if (has('avx512bw', 'avx512dq', 'avx512vl')) {
        legacy |= LEGACY_AVX512_1;
      }
    }
    if (platform === 'x86_64' && has('avx2', 'fma', 'bmi1', 'bmi2', 'movbe', 'popcnt')) platform = 'haswell';
  }
  if ((legacy & LEGACY_AVX512_1) !== 0n) names.push('avx512_1');
  names.push('x86_64');
  return {
    ...x86ProfileForLevel(level, platform),
    legacyHwcap: legacy | TLS_BIT,
    legacyHwcapNames: names,
  };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return ''; // no /proc (a chroot): baseline, the safe answer
  }
}
