// SPDX-License-Identifier: MIT
/**
 * What of the machine tsrr uses, tried for real (native/probes.c forks a child and does it),
 * with why it fails and how to fix it. A check that fails means recording cannot work here; a
 * missing one costs speed or a feature.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { machine, release } from 'node:os';
import { strerror } from '../native/libc.js';
import { PERF_COUNT, PERF_TYPE, PROBE, PROBES_LIBRARY, loadProbes, type Probes } from '../native/probes.js';
import { zstdAvailable, zstdVersion } from '../native/zstd.js';
import { LAUNCHER } from './launch.js';
import { cpuidFaultingAvailable, hardwareWatchpoints, rdtscTrapping } from './machine.js';
import { PRELOAD_LIBRARY } from './syscallBuffer.js';

export interface Check {
  name: string;
  /** ok; missing: works without it, less well; fail: recording cannot work. */
  state: 'ok' | 'missing' | 'fail';
  detail: string;
  fix?: string;
}

const BUILD = 'build the native parts: `node native/build.mjs` in tsrr\'s directory (needs gcc and libc6-dev)';

/** A /proc/sys setting, or undefined where this kernel has none. */
function sysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const EPERM = 1;

/** A probe's answer in words. */
const why = (r: number) => (r === PROBE.NO_EFFECT ? 'no effect' : r === PROBE.NO_PTRACE ? 'ptrace failed' : strerror(r));

function kernel(): Check {
  const arch = machine();
  if (arch !== 'x86_64') return { name: 'kernel', state: 'fail', detail: `Linux ${release()} on ${arch}`, fix: 'tsrr records x86-64 programs on an x86-64 machine only' };
  return { name: 'kernel', state: 'ok', detail: `Linux ${release()} on ${arch}` };
}

function nativeParts(): Check {
  const missing = [LAUNCHER, PRELOAD_LIBRARY, PROBES_LIBRARY].filter((f) => !existsSync(f));
  if (missing.length > 0) return { name: 'native parts', state: 'fail', detail: `missing ${missing.join(', ')}`, fix: BUILD };
  return { name: 'native parts', state: 'ok', detail: 'launcher, preload and probe libraries built' };
}

function ptraceCheck(p: Probes): Check {
  const scope = sysctl('kernel/yama/ptrace_scope');
  const yama = scope === undefined ? 'no Yama' : `Yama ptrace_scope ${scope}`;
  const r = p.ptrace();
  if (r === 0) return { name: 'ptrace', state: 'ok', detail: `a child was seized and traced (${yama})` };
  let fix = 'allow ptrace of one\'s own children';
  if (scope === '3') fix = 'Yama ptrace_scope 3 forbids ptrace until reboot: set kernel.yama.ptrace_scope=1 in /etc/sysctl.d and reboot';
  else if (scope === '2') fix = 'Yama ptrace_scope 2 allows ptrace to CAP_SYS_PTRACE only: sysctl kernel.yama.ptrace_scope=1, or run tsrr with CAP_SYS_PTRACE';
  else if (r === EPERM) fix = 'a seccomp policy forbids ptrace (a container\'s?): run the container with --cap-add=SYS_PTRACE or --security-opt seccomp=unconfined';
  return { name: 'ptrace', state: 'fail', detail: `PTRACE_SEIZE of a child failed: ${why(r)} (${yama})`, fix };
}

function seccompCheck(p: Probes): Check {
  const r = p.seccomp();
  if (r === 0) return { name: 'seccomp', state: 'ok', detail: 'a SECCOMP_RET_TRACE filter stopped a traced child' };
  if (r === PROBE.NO_PTRACE) return { name: 'seccomp', state: 'fail', detail: 'not tried: it needs ptrace', fix: 'make ptrace work (above)' };
  return { name: 'seccomp', state: 'fail', detail: `a filter could not stop a traced child: ${why(r)}`, fix: 'tsrr needs a kernel with CONFIG_SECCOMP_FILTER, and a sandbox that lets processes install filters' };
}

function pagemap(p: Probes): Check {
  const r = p.pagemap();
  if (r === 0) return { name: 'pagemap', state: 'ok', detail: '/proc/PID/pagemap tells present pages (snapshots read it)' };
  return { name: 'pagemap', state: 'fail', detail: `/proc/self/pagemap: ${why(r)}`, fix: 'mount /proc with the pagemap of one\'s own processes readable' };
}

function rdtsc(): Check {
  if (rdtscTrapping()) return { name: 'rdtsc trapping', state: 'ok', detail: 'PR_SET_TSC makes rdtsc fault' };
  return { name: 'rdtsc trapping', state: 'missing', detail: 'PR_SET_TSC is ignored here (some virtual machines): tsrr patches rdtsc instructions to trap instead' };
}

function cpuid(p: Probes): Check {
  const r = p.cpuidFaulting();
  const flag = cpuidFaultingAvailable() ? 'cpuid_fault in /proc/cpuinfo' : 'no cpuid_fault in /proc/cpuinfo';
  if (r === 0) return { name: 'CPUID faulting', state: 'ok', detail: `arch_prctl(ARCH_SET_CPUID, 0) makes cpuid fault (${flag})` };
  return { name: 'CPUID faulting', state: 'missing', detail: `arch_prctl(ARCH_SET_CPUID, 0): ${why(r)} (${flag}): tsrr patches cpuid instructions to trap instead` };
}

function watchpoints(ptraceWorks: boolean): Check {
  if (!ptraceWorks) return { name: 'debug registers', state: 'missing', detail: 'not tried: it needs ptrace' };
  if (hardwareWatchpoints()) return { name: 'debug registers', state: 'ok', detail: 'a hardware watchpoint stopped a traced child (gdb watch is fast)' };
  return { name: 'debug registers', state: 'missing', detail: 'hardware watchpoints do not fire here: gdb write watchpoints single-step, read watchpoints are refused' };
}

function perf(p: Probes): Check {
  const paranoid = sysctl('kernel/perf_event_paranoid');
  const sw = p.perf(PERF_TYPE.SOFTWARE, PERF_COUNT.CONTEXT_SWITCHES);
  const hw = p.perf(PERF_TYPE.HARDWARE, PERF_COUNT.INSTRUCTIONS);
  const counters = `hardware counters ${hw === 0 ? 'present' : `absent (${why(hw)})`}, which tsrr does not need`;
  const setting = `perf_event_paranoid ${paranoid ?? 'absent'}`;
  if (sw === 0) return { name: 'perf events', state: 'ok', detail: `software events open (${setting}); ${counters}` };
  return { name: 'perf events', state: 'missing', detail: `software events: ${why(sw)} (${setting}); ${counters}; tsrr does not use them yet`, fix: 'sysctl kernel.perf_event_paranoid=2' };
}

function dirtyPages(p: Probes): Check {
  const uffd = p.userfaultfd();
  const scan = p.pagemapScan();
  const detail = `userfaultfd with async write-protect: ${uffd === 0 ? 'yes' : why(uffd)}; PAGEMAP_SCAN: ${scan === 0 ? 'yes' : why(scan)} (dirty-page tracking, not used by tsrr yet)`;
  return { name: 'dirty pages', state: uffd === 0 && scan === 0 ? 'ok' : 'missing', detail, ...(scan === 0 ? {} : { fix: 'PAGEMAP_SCAN needs Linux 6.7 or later' }) };
}

function zstd(): Check {
  if (zstdAvailable) return { name: 'libzstd', state: 'ok', detail: `libzstd ${zstdVersion()} compresses traces and checkpoints` };
  return { name: 'libzstd', state: 'missing', detail: 'no libzstd.so.1: traces are left uncompressed, checkpoints use zlib', fix: 'install libzstd (Debian: apt-get install libzstd1)' };
}

function gdb(): Check {
  const r = spawnSync('gdb', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) return { name: 'gdb', state: 'ok', detail: r.stdout.split('\n')[0]! };
  const detail = r.error ? `gdb cannot be run: ${(r.error as NodeJS.ErrnoException).code}` : `gdb --version exited with ${r.status ?? r.signal}`;
  return { name: 'gdb', state: 'missing', detail: `${detail}; replay with a debugger starts gdb`, fix: 'install gdb (Debian: apt-get install gdb), or serve another debugger with replay -s PORT' };
}

function privileges(): Check {
  const capEff = BigInt('0x' + (/^CapEff:\s*(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
  const admin = (capEff & (1n << 21n)) !== 0n; // CAP_SYS_ADMIN
  return {
    name: 'privileges',
    state: 'ok',
    detail: admin ? 'CAP_SYS_ADMIN: tracees are not given no_new_privs' : 'unprivileged: tracees get no_new_privs (seccomp needs it) and mapped code is read by its path',
  };
}

/** Every check, in the order they are shown. */
export function runChecks(): Check[] {
  const checks = [kernel(), nativeParts()];
  let probes: Probes | undefined;
  try {
    probes = loadProbes();
  } catch {
    return checks; // nativeParts says what is missing
  }
  const ptrace = ptraceCheck(probes);
  return [...checks, ptrace, seccompCheck(probes), pagemap(probes), rdtsc(), cpuid(probes), watchpoints(ptrace.state === 'ok'), perf(probes), dirtyPages(probes), zstd(), gdb(), privileges()];
}
