// SPDX-License-Identifier: MIT
/**
 * Persistent checkpoints (the pcp plugin), end to end. pcpwork is recorded once; checkpoints
 * are created along its trace, and a replay from each of them must print exactly what the
 * replay from the start prints after that event, leave the process in the same state
 * (registers and every mapping's contents, compared with the state-dumper fixture plugin) and
 * end the same way. A moved trace keeps its checkpoints. A third-party plugin (the
 * devnull-monitor fixture) adds a file-monitor kind and its serializer; a checkpoint that holds
 * such a monitor needs that plugin to be restored and says so when it is missing.
 */
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readState } from '../../plugins/pcp/checkpointFormat.js';
import { decodeMapping } from '../../plugins/pcp/serializers/mappings.js';
import { BIND_NOW, ROOT, bytesWritten, compile, describeRun, dumpEvents, tempDir, tsrr, type DumpEvent, type Run } from './helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'pcp');
const DUMPER = join(FIXTURES, 'state-dumper.mjs');
const DEVNULL = join(FIXTURES, 'devnull-monitor.mjs');
/** Events between checkpoints: pcpwork's trace has about 560 events, so about 7 checkpoints. */
const INTERVAL = 80;
/** How far past a checkpoint the short replays go. */
const PAST = 3;
const PCP = ['--plugin', 'pcp'];
const NR_OPENAT = 257;
const NR_CLOSE = 3;
const O_WRONLY = 1;

/** One row of `tsrr checkpoints --json`. */
interface CheckpointRow {
  event: number;
  stored: number;
  memory: number;
  kinds: string[];
}

/** What the state-dumper fixture writes. */
interface StateDump {
  frame: number;
  kind: string;
  regs: Record<string, string>;
  mappings: { start: string; end: string; prot: string; readable: number; sha256: string }[];
}

let tmp: string;
let trace: string;
let events: DumpEvent[];
/** The last frame of the trace (the exit). */
let last: number;
/** What a replay from the start prints. */
let fullOut: Buffer;
let created: Run;
/** The frames with a checkpoint, ascending. */
let frames: number[];

/** Bytes frames in (from, to] wrote to `fd` (write and writev; their results are what was written). */
const written = (fd: number, from: number, to: number): number => bytesWritten(events, fd, from, to);

/** The stdout a replay that starts after frame `from` and stops after `to` prints. */
const stdoutBetween = (from: number, to: number): Buffer => fullOut.subarray(written(1, 0, from), written(1, 0, to));

function listCheckpoints(dir: string, plugins = PCP): CheckpointRow[] {
  const r = tsrr([...plugins, 'checkpoints', '--json', dir]);
  assert.equal(r.status, 0, describeRun('checkpoints --json', r));
  return JSON.parse(r.stdout.toString()) as CheckpointRow[];
}

const kindsOf = (row: CheckpointRow) => row.kinds.map((k) => k.replace(/@\d+$/, ''));

const startLine = (frame: number) => `tsrr: starting from the checkpoint at event ${frame}\n`;

/** A replay with pcp that must start from checkpoint `from`, stop at `to` and print what the
 * full replay printed in between. */
function assertReplayFrom(what: string, r: Run, from: number, to: number): void {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, info);
  assert.equal(r.status, 0, info);
  assert.ok(r.stderr.includes(startLine(from)), `${what} did not start from the checkpoint at event ${from}\n${info}`);
  assert.equal(r.stderr.match(/starting from the checkpoint/g)?.length, 1, info);
  if (to !== last) assert.ok(r.stderr.includes(`tsrr: reached event ${to}\n`), info);
  const want = stdoutBetween(from, to);
  assert.ok(r.stdout.equals(want), `${what}: stdout differs from the full replay's bytes ${written(1, 0, from)}..${written(1, 0, to)}\n` +
    `got (${r.stdout.length} bytes):\n${r.stdout.toString()}\nwant (${want.length} bytes):\n${want.toString()}\n${info}`);
}

/** Replays `dir` to `goto` with the state dumper dumping at `goto`; returns the run and the dump. */
function replayDumping(dir: string, goto: number, extra: string[], name: string): { run: Run; dump?: StateDump } {
  const file = join(tmp, `${name}.json`);
  rmSync(file, { force: true });
  const run = tsrr([...PCP, '--plugin', DUMPER, ...extra, 'replay', '-a', '-g', String(goto), dir], {
    env: { ...process.env, DUMP_AT_FRAME: String(goto), DUMP_FILE: file },
  });
  return { run, dump: existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StateDump) : undefined };
}

/** What differs between two state dumps, readably. */
function stateDiff(a: StateDump, b: StateDump): string {
  const out: string[] = [];
  for (const k of Object.keys({ ...a.regs, ...b.regs })) if (a.regs[k] !== b.regs[k]) out.push(`register ${k}: ${a.regs[k]} vs ${b.regs[k]}`);
  const line = (m: StateDump['mappings'][number]) => `${m.start}-${m.end} ${m.prot} readable ${m.readable} sha256 ${m.sha256.slice(0, 16)}`;
  const as = new Set(a.mappings.map(line));
  const bs = new Set(b.mappings.map(line));
  for (const l of as) if (!bs.has(l)) out.push(`only with pcp:        ${l}`);
  for (const l of bs) if (!as.has(l)) out.push(`only with --ignore-pcp: ${l}`);
  return out.join('\n');
}

function assertSameState(what: string, withPcp: StateDump | undefined, without: StateDump | undefined): void {
  assert.ok(withPcp, `${what}: the state dumper wrote nothing with pcp`);
  assert.ok(without, `${what}: the state dumper wrote nothing with --ignore-pcp`);
  assert.ok(without.mappings.length > 5, `${what}: implausibly few mappings dumped`);
  const diff = stateDiff(withPcp, without);
  if (diff) assert.fail(`${what}: the state replayed from a checkpoint differs from the state replayed from the start:\n${diff}`);
  assert.deepEqual(withPcp, without, `${what}: the state dumps differ`);
}

/** Whether the trace's chunk store holds chunk `hash`: a file chunks/HH/HASH, or, where
 * chunks are packed, an entry of a packs/NAME.idx (which holds the raw hashes). */
function chunkStored(hash: string): boolean {
  if (existsSync(join(trace, 'checkpoints', 'chunks', hash.slice(0, 2), hash))) return true;
  const packs = join(trace, 'checkpoints', 'packs');
  if (!existsSync(packs)) return false;
  const raw = Buffer.from(hash, 'hex');
  return readdirSync(packs).some((f) => f.endsWith('.idx') && !f.startsWith('.') && readFileSync(join(packs, f)).includes(raw));
}

/** A copy of the trace (without checkpoints with `bare`) at a fresh path. */
function copyTrace(name: string, bare = false): string {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(trace, dir, { recursive: true, filter: (src) => !bare || src !== join(trace, 'checkpoints') });
  return dir;
}

describe('persistent checkpoints (pcp)', () => {
  before(() => {
    tmp = realpathSync(tempDir('tsrr-pcp-'));
    const program = compile('pcpwork', BIND_NOW);
    const work = join(tmp, 'work');
    mkdirSync(work);
    // The file pcpwork maps read-only: 300000 deterministic, not all-zero bytes.
    const input = Buffer.alloc(300_000);
    let x = 12345;
    for (let i = 0; i < input.length; i++) input[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    writeFileSync(join(tmp, 'input.bin'), input);
    trace = join(tmp, 'trace');
    const rec = tsrr(['record', '-o', trace, program, work, join(tmp, 'input.bin')]);
    assert.equal(rec.status, 0, describeRun('record', rec));
    assert.match(rec.stdout.toString(), /^mapped 300000 bytes checksum [0-9a-f]{8}\n(step \d\d .*\n){60}done\n$/);
    const rep = tsrr(['replay', '-a', trace]);
    assert.equal(rep.status, 0, describeRun('replay from the start', rep));
    assert.ok(rep.stdout.equals(rec.stdout), 'the replay prints what the recording printed');
    fullOut = rep.stdout;
    events = dumpEvents(trace);
    last = events[events.length - 1]!.frame;
    assert.equal(events[events.length - 1]!.kind, 'exit');
    assert.equal(written(1, 0, last), fullOut.length, 'the writes to fd 1 in the trace add up to the output');
    created = tsrr([...PCP, 'create-checkpoints', '-i', String(INTERVAL), trace]);
    frames = existsSync(join(trace, 'checkpoints'))
      ? readdirSync(join(trace, 'checkpoints')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b)
      : [];
  });

  test('create-checkpoints makes several checkpoints and checkpoints --json lists them', () => {
    const info = describeRun('create-checkpoints', created);
    assert.equal(created.status, 0, info);
    assert.equal(created.stdout.length, 0, `create-checkpoints echoed the program's output\n${info}`);
    const m = /^tsrr: created (\d+) checkpoints in (.+)$/m.exec(created.stderr);
    assert.ok(m, info);
    assert.equal(realpathSync(m[2]!), join(trace, 'checkpoints'), info);
    assert.ok(frames.length >= 4, `only ${frames.length} checkpoints\n${info}`);
    assert.equal(Number(m[1]), frames.length, info);
    const rows = listCheckpoints(trace);
    assert.deepEqual(rows.map((r) => r.event), frames);
    assert.ok(frames[0]! >= INTERVAL, `the first checkpoint is at ${frames[0]}, before one interval`);
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]! - frames[i - 1]! >= INTERVAL, `checkpoints ${frames[i - 1]} and ${frames[i]} are closer than ${INTERVAL}`);
    assert.ok(frames[frames.length - 1]! > last - INTERVAL, `no checkpoint in the last interval (last at ${frames[frames.length - 1]}, trace ends at ${last})`);
    for (const row of rows) {
      const e = events[row.event - 1]!;
      assert.equal(e.frame, row.event);
      assert.ok(['syscall', 'rdtsc', 'cpuid'].includes(e.kind), `checkpoint at a ${e.kind} event ${row.event}`);
      const kinds = kindsOf(row);
      // The heap exists once main runs (its first line is out); how many events ld.so takes
      // before that depends on the CPU (cpuid faulting adds events).
      const heap = written(1, 0, row.event) > 0 ? ['core/heap'] : [];
      for (const k of ['core/task', 'core/stdio', 'core/trace-position', 'core/stack', ...heap, 'core/file', 'core/anonymous']) {
        assert.ok(kinds.includes(k), `the checkpoint at ${row.event} lacks kind ${k}: ${row.kinds.join(' ')}`);
      }
      for (const k of row.kinds) assert.match(k, /^[a-z]+\/[a-z-]+@\d+$/);
      assert.ok(row.memory > 0 && row.stored > 0, JSON.stringify(row));
      // On disk: TRACE/checkpoints/FRAME/{manifest,state,chunks}; FRAME/chunks lists the sha256
      // of each memory chunk it uses, which the store shared by all checkpoints holds.
      const cpDir = join(trace, 'checkpoints', String(row.event));
      for (const f of ['manifest', 'state', 'chunks']) assert.ok(existsSync(join(cpDir, f)), `${cpDir}/${f} is missing`);
      const hashes = readFileSync(join(cpDir, 'chunks'), 'utf8').split('\n').filter(Boolean);
      assert.ok(hashes.length > 0, `${cpDir}/chunks lists no chunks`);
      for (const h of hashes) {
        assert.match(h, /^[0-9a-f]{64}$/);
        assert.ok(chunkStored(h), `chunk ${h} of the checkpoint at ${row.event} is not in the chunk store`);
      }
    }
    const table = tsrr([...PCP, 'checkpoints', trace]);
    assert.equal(table.status, 0, describeRun('checkpoints', table));
    const lines = table.stdout.toString().trim().split('\n');
    assert.match(lines[0]!, /^EVENT\tSTORED\tMEMORY\tKINDS$/);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split('\t')[0])), frames);
  });

  test('replay -g LAST starts from the last checkpoint and prints the rest', () => {
    const r = tsrr([...PCP, 'replay', '-a', '-g', String(last), trace]);
    assertReplayFrom(`replay -g ${last}`, r, frames[frames.length - 1]!, last);
  });

  test('replay -g a few events past each checkpoint: the output and the state match the replay from the start', async (t: TestContext) => {
    for (const f of frames) {
      const g = Math.min(f + PAST, last - 1);
      if (g <= f) continue;
      const withPcp = replayDumping(trace, g, [], `past-${f}`);
      const without = replayDumping(trace, g, ['--ignore-pcp'], `past-${f}-ignore`);
      await t.test(`from ${f} to ${g}: output`, () => {
        assertReplayFrom(`replay -g ${g}`, withPcp.run, f, g);
        const info = describeRun(`--ignore-pcp replay -g ${g}`, without.run);
        assert.equal(without.run.status, 0, info);
        assert.doesNotMatch(without.run.stderr, /starting from the checkpoint/, info);
        assert.ok(without.run.stdout.equals(stdoutBetween(0, g)), info);
      });
      await t.test(`from ${f} to ${g}: registers and memory`, () => assertSameState(`-g ${g}`, withPcp.dump, without.dump));
    }
  });

  test('replay -g at a checkpoint itself stops there at once', () => {
    const f = frames[1]!;
    const r = tsrr([...PCP, 'replay', '-a', '-g', String(f), trace]);
    assertReplayFrom(`replay -g ${f}`, r, f, f);
    assert.equal(r.stdout.length, 0);
  });

  test('replay -g N near the end: registers and memory equal with and without pcp', () => {
    const n = [last - 2, last - 3].find((x) => !frames.includes(x))!;
    const from = frames.filter((f) => f <= n).pop()!;
    assert.ok(from < n, `precondition: a checkpoint before ${n}`);
    const withPcp = replayDumping(trace, n, [], 'near-end');
    const without = replayDumping(trace, n, ['--ignore-pcp'], 'near-end-ignore');
    assertReplayFrom(`replay -g ${n}`, withPcp.run, from, n);
    assert.equal(without.run.status, 0, describeRun('--ignore-pcp', without.run));
    assert.ok(without.run.stdout.equals(stdoutBetween(0, n)));
    assertSameState(`-g ${n}`, withPcp.dump, without.dump);
  });

  test('replaying to the end from each checkpoint prints exactly the rest of the output', async (t: TestContext) => {
    for (const f of frames) {
      await t.test(`from ${f}`, () => {
        const copy = copyTrace(`only-${f}`);
        try {
          const others = frames.filter((o) => o !== f);
          const rm = tsrr([...PCP, 'rm-checkpoints', ...others.flatMap((o) => ['-g', String(o)]), copy]);
          assert.equal(rm.status, 0, describeRun('rm-checkpoints', rm));
          assert.equal(rm.stderr, `tsrr: removed ${others.length} checkpoints\n`);
          assert.deepEqual(listCheckpoints(copy).map((r) => r.event), [f]);
          const r = tsrr([...PCP, 'replay', '-a', '-g', String(last), copy]);
          assertReplayFrom(`replay -g ${last} from ${f}`, r, f, last);
        } finally {
          rmSync(copy, { recursive: true, force: true });
        }
      });
    }
  });

  test('a moved trace still uses its checkpoints (they hold no absolute paths)', () => {
    // The paths a checkpoint names (raw bytes would not do: saved registers can hold pieces of
    // any string the program handled, its absolute arguments included).
    for (const f of frames) {
      const state = readState(join(trace, 'checkpoints', String(f), 'state'));
      const paths = state.processes.flatMap((p) => [p.executable, ...p.sections.mappings.map((e) => decodeMapping(e.payload).file).filter(Boolean)]);
      for (const p of paths) assert.ok(p.startsWith('files/'), `checkpoints/${f}/state names ${p}, not a path inside the trace`);
    }
    const moved = join(tmp, 'moved', 'elsewhere');
    mkdirSync(join(tmp, 'moved'));
    renameSync(copyTrace('to-move'), moved);
    try {
      assert.ok(!existsSync(join(tmp, 'to-move')));
      assert.deepEqual(listCheckpoints(moved).map((r) => r.event), frames);
      const r = tsrr([...PCP, 'replay', '-a', '-g', String(last), moved]);
      assertReplayFrom('replay of the moved trace', r, frames[frames.length - 1]!, last);
      const g = frames[1]! + 10;
      const mid = tsrr([...PCP, 'replay', '-a', '-g', String(g), moved]);
      assertReplayFrom(`replay -g ${g} of the moved trace`, mid, frames[1]!, g);
    } finally {
      rmSync(join(tmp, 'moved'), { recursive: true, force: true });
    }
  });

  test('a third-party file-monitor kind: saved, restored, and required', () => {
    const dir = copyTrace('third-party', true);
    const both = [...PCP, '--plugin', DEVNULL];
    const made = tsrr([...both, 'create-checkpoints', '-i', String(INTERVAL), dir]);
    assert.equal(made.status, 0, describeRun('create-checkpoints with devnull-monitor', made));
    // /dev/null is the file pcpwork opens O_WRONLY; it stays open until near the end.
    const open = events.find((e) => e.kind === 'syscall' && e.number === NR_OPENAT && Number(e.args![2]) === O_WRONLY)!;
    assert.ok(open && BigInt(open.result!) >= 0n, 'the trace has the openat of /dev/null');
    const fd = Number(open.result);
    const close = events.find((e) => e.frame > open.frame && e.kind === 'syscall' && e.number === NR_CLOSE && Number(e.args![0]) === fd)!;
    assert.ok(close, 'the trace has the close of /dev/null');
    const rows = listCheckpoints(dir);
    assert.deepEqual(rows.map((r) => r.event), frames, 'the same checkpoints as without the plugin');
    for (const row of rows) {
      const open_ = row.event >= open.frame && row.event < close.frame;
      assert.equal(kindsOf(row).includes('acme/devnull'), open_, `checkpoint ${row.event}: ${row.kinds.join(' ')} (/dev/null open in ${open.frame}..${close.frame})`);
    }
    const withDevnull = rows.filter((r) => kindsOf(r).includes('acme/devnull')).map((r) => r.event);
    assert.ok(withDevnull.length >= 2, `only ${withDevnull.length} checkpoints hold an acme/devnull monitor`);
    // A goal whose nearest checkpoint holds the monitor, with writes to /dev/null after it.
    const from = withDevnull[withDevnull.length - 1]!;
    const next = frames.find((f) => f > from);
    const g = Math.min(next === undefined ? last : next - 1, close.frame - 1);
    assert.ok(written(fd, from, g) > 0, `precondition: pcpwork writes to /dev/null between ${from} and ${g}`);

    const log = join(tmp, 'devnull.json');
    const env = { ...process.env, DEVNULL_LOG: log };
    rmSync(log, { force: true });
    const ok = tsrr([...both, 'replay', '-a', '-g', String(g), dir], { env });
    assertReplayFrom('replay with pcp and devnull-monitor', ok, from, g);
    assert.ok(existsSync(log), 'the restored acme/devnull monitor saw no write');
    assert.deepEqual(JSON.parse(readFileSync(log, 'utf8')), { [fd]: written(fd, from, g) }, 'the restored monitor saw the writes to /dev/null after the checkpoint');

    // Without the plugin, the checkpoints that hold its monitor are passed over, saying why...
    const fallback = tsrr([...PCP, 'replay', '-a', '-g', String(g), dir]);
    const finfo = describeRun('replay without devnull-monitor', fallback);
    assert.equal(fallback.status, 0, finfo);
    const why = new RegExp(`^tsrr: the checkpoint at event ${from} cannot be used \\(.*"acme/devnull".*devnull-monitor.*\\)(; nor can \\d+ earlier ones?)?; starting from (the checkpoint at event (\\d+)|the beginning of the trace)\n`).exec(fallback.stderr);
    assert.ok(why, `no line saying why the checkpoint at event ${from} cannot be used\n${finfo}`);
    const start = Number(why[3] ?? 0);
    assert.ok(start < from, finfo);
    assert.ok(fallback.stdout.equals(stdoutBetween(start, g)), `not what the full replay printed after event ${start}\n${finfo}`);
    // ... and with --strict-pcp the replay is refused.
    const missing = tsrr([...PCP, '--strict-pcp', 'replay', '-a', '-g', String(g), dir]);
    const info = describeRun('replay --strict-pcp without devnull-monitor', missing);
    assert.equal(missing.signal, null, info);
    assert.notEqual(missing.status, 0, info);
    assert.notEqual(missing.status, null, info);
    assert.equal(missing.stdout.length, 0, info);
    assert.doesNotMatch(missing.stderr, /^\s+at /m, `stack trace on stderr\n${info}`);
    const lines = missing.stderr.split('\n');
    assert.equal(lines.length, 2, `stderr must be exactly one line\n${info}`);
    assert.ok(lines[0]!.startsWith('tsrr: ') && lines[1] === '', info);
    assert.ok(lines[0]!.includes('acme/devnull'), `the error does not name the kind\n${info}`);
    assert.ok(lines[0]!.includes('devnull-monitor'), `the error does not name the plugin\n${info}`);

    const ignored = tsrr([...PCP, '--ignore-pcp', 'replay', '-a', '-g', String(g), dir]);
    const iinfo = describeRun('replay --ignore-pcp without devnull-monitor', ignored);
    assert.equal(ignored.status, 0, iinfo);
    assert.doesNotMatch(ignored.stderr, /starting from the checkpoint/, iinfo);
    assert.ok(ignored.stderr.includes(`tsrr: reached event ${g}\n`), iinfo);
    assert.ok(ignored.stdout.equals(stdoutBetween(0, g)), iinfo);

    // The plugin's monitor works in a replay from the start too.
    rmSync(log, { force: true });
    const plain = tsrr([...both, '--ignore-pcp', 'replay', '-a', '-g', String(g), dir], { env });
    assert.equal(plain.status, 0, describeRun('replay --ignore-pcp with devnull-monitor', plain));
    assert.deepEqual(JSON.parse(readFileSync(log, 'utf8')), { [fd]: written(fd, 0, g) });
    rmSync(dir, { recursive: true, force: true });
  });
  test('checkpoints made while recording (record --checkpoint-interval) restore the same state', () => {
    const dir = join(tmp, 'recorded-with-checkpoints');
    const work = join(tmp, 'work-2');
    mkdirSync(work);
    const rec = tsrr([...PCP, 'record', '--checkpoint-interval', String(INTERVAL), '-o', dir, compile('pcpwork', BIND_NOW), work, join(tmp, 'input.bin')]);
    assert.equal(rec.status, 0, describeRun('record --checkpoint-interval', rec));
    const made = listCheckpoints(dir).map((r) => r.event);
    assert.ok(made.length >= 4, `record made ${made.length} checkpoints`);
    const end = Number(tsrr(['dump', dir]).stdout.toString().trim().split('\n').pop()!.split(' ')[0]);
    // The dumper dumps at an event replayed after the restore: there must be one.
    for (const f of made.filter((m) => m + PAST < end)) {
      const n = f + PAST;
      const withPcp = replayDumping(dir, n, [], `rec-${f}`);
      const without = replayDumping(dir, n, ['--ignore-pcp'], `rec-${f}-ignore`);
      assert.equal(withPcp.run.stderr, `${startLine(f)}tsrr: reached event ${n}\n`, describeRun(`replay -g ${n}`, withPcp.run));
      assert.equal(without.run.status, 0, describeRun('--ignore-pcp', without.run));
      assertSameState(`recorded checkpoint ${f}, -g ${n}`, withPcp.dump, without.dump);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  test('checkpoints made while recording a file changing under its mappings restore the file and the mappings', () => {
    const dir = join(tmp, 'sharedwrites-checkpoints');
    const rec = tsrr([...PCP, 'record', '--checkpoint-interval', '8', '-o', dir, compile('sharedwrites', BIND_NOW), 'alone']);
    assert.equal(rec.status, 0, describeRun('record --checkpoint-interval 8', rec));
    const events = dumpEvents(dir);
    const end = events.at(-1)!.frame;
    // Made after the file is mapped: the mappings that follow its changes are in them.
    const NR_MMAP = 9;
    const MAP_SHARED = 1n;
    const mapped = events.find((e) => e.kind === 'syscall' && e.number === NR_MMAP && BigInt(e.args![3]!) === MAP_SHARED)!.frame;
    const made = listCheckpoints(dir).map((r) => r.event).filter((f) => f > mapped && f + PAST < end);
    assert.ok(made.length >= 3, `record made ${made.length} checkpoints after the file was mapped`);
    for (const f of made) {
      const n = f + PAST;
      const withPcp = replayDumping(dir, n, [], `shared-${f}`);
      const without = replayDumping(dir, n, ['--ignore-pcp'], `shared-${f}-ignore`);
      assert.equal(withPcp.run.stderr, `${startLine(f)}tsrr: reached event ${n}\n`, describeRun(`replay -g ${n}`, withPcp.run));
      assertSameState(`recorded checkpoint ${f}, -g ${n}`, withPcp.dump, without.dump);
    }
    const last = Math.max(...listCheckpoints(dir).map((r) => r.event).filter((f) => f < end));
    const rest = tsrr([...PCP, 'replay', '-a', '-g', String(end), dir]);
    assert.ok(rest.stderr.includes(startLine(last)), describeRun('replay -a', rest));
    assert.ok(rest.stdout.equals(rec.stdout.subarray(bytesWritten(events, 1, 0, last))), `from ${last}: got\n${rest.stdout}\nrecorded\n${rec.stdout}`);
    rmSync(dir, { recursive: true, force: true });
  });
  test('a checkpoint made while recording at a trapped rdtsc or cpuid holds the state after the instruction', () => {
    const dir = join(tmp, 'rdtsc-checkpoints');
    const rec = tsrr([...PCP, 'record', '--checkpoint-interval', '2', '-o', dir, compile('rdtsc')]);
    assert.equal(rec.status, 0, describeRun('record --checkpoint-interval 2', rec));
    const trapped = dumpEvents(dir).filter((e) => e.kind === 'rdtsc' || e.kind === 'cpuid');
    const made = new Set(listCheckpoints(dir).map((r) => r.event));
    // Replays to the next event start from this checkpoint when that event has none.
    const at = trapped.filter((e) => made.has(e.frame) && !made.has(e.frame + 1));
    assert.ok(at.length >= 3, `only ${at.length} checkpoints at rdtsc or cpuid events`);
    for (const e of at) {
      const r = tsrr([...PCP, 'replay', '-a', '-g', String(e.frame + 1), dir]);
      assert.equal(r.status, 0, describeRun(`replay -g ${e.frame + 1} from the checkpoint at ${e.kind} event ${e.frame}`, r));
      assert.ok(r.stderr.includes(startLine(e.frame)), describeRun(`replay -g ${e.frame + 1}`, r));
    }
    const end = tsrr([...PCP, 'replay', '-a', dir]);
    assert.equal(end.status, 0, describeRun('replay to the end from the last checkpoint', end));
    rmSync(dir, { recursive: true, force: true });
  });
  test('a checkpoint made again at an event keeps every checkpoint restorable', () => {
    const dir = copyTrace('remade');
    const f = frames[1]!;
    // Its directory gone but its memory still in the packs, as after a crash or a careless rm.
    rmSync(join(dir, 'checkpoints', String(f)), { recursive: true });
    const r = tsrr([...PCP, 'create-checkpoints', '-s', String(f), '-e', String(f), dir]);
    assert.equal(r.status, 0, describeRun('create-checkpoints again', r));
    assert.deepEqual(listCheckpoints(dir).map((c) => c.event), frames);
    for (const c of frames.filter((c) => c + PAST < last)) {
      const g = c + PAST;
      assertReplayFrom(`replay -g ${g} after remaking ${f}`, tsrr([...PCP, 'replay', '-a', '-g', String(g), dir]), c, g);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

test('checkpoints at each of the last events of time.c (its calls through the vsyscall page included) restore and replay to the end', () => {
  const dir = join(tempDir(), 'trace');
  const rec = tsrr(['record', '-o', dir, compile('time')]);
  assert.equal(rec.status, 0, describeRun('record', rec));
  const last = dumpEvents(dir).length;
  const c = tsrr([...PCP, 'create-checkpoints', '-s', String(Math.max(1, last - 8)), '-e', String(last), '-i', '1', dir], { timeout: 120_000 });
  assert.equal(c.status, 0, describeRun('create-checkpoints', c));
  // Each replay starts from the latest checkpoint left, which is then removed.
  const frames = readdirSync(join(dir, 'checkpoints')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => b - a);
  assert.ok(frames.length >= 5, `only ${frames.length} checkpoints made\n${c.stderr}`);
  for (const frame of frames) {
    const r = tsrr([...PCP, 'replay', '-a', '-g', String(last), '--strict-pcp', dir]);
    assert.equal(r.status, 0, describeRun(`replay -g ${last} from the checkpoint at ${frame}`, r));
    assert.match(r.stderr, new RegExp(`starting from the checkpoint at event ${frame}\n`));
    // What the recording printed after the checkpoint.
    assert.ok(rec.stdout.subarray(rec.stdout.length - r.stdout.length).equals(r.stdout), describeRun('replay', r));
    const rm = tsrr([...PCP, 'rm-checkpoints', '-g', String(frame), dir]);
    assert.equal(rm.status, 0, describeRun('rm-checkpoints', rm));
  }
});
