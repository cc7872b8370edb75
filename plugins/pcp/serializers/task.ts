// SPDX-License-Identifier: MIT
/**
 * core/task: the kernel state of a task that replay does not re-create by running syscalls:
 * registers (general and xsave), signal handlers, mask and alternate stack, name, program
 * break, and where the kernel clears the tid when the thread ends (set_tid_address) and finds
 * its robust futexes (set_robust_list). Handlers and break belong to the process: every thread
 * saves them, and restoring them again is harmless. Saved by asking the task itself (remote syscalls whose output goes to scratch stack
 * memory), restored the same way; registers last, since remote syscalls use them.
 */
import { readFileSync } from 'node:fs';
import { NR, Registers, TsrrError, readSignalState, type Task } from '../../../core/index.js';
import { TaskPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

const SIG_SETMASK = 2;
const PR_SET_NAME = 15;
const PR_GET_TID_ADDRESS = 40;
const SIGKILL = 9;
const SIGSTOP = 19;
const XSTATE_MAX = 1 << 14;

interface SigAction {
  signo: number;
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

function sigactions(task: Task): SigAction[] {
  const out: SigAction[] = [];
  for (let signo = 1; signo <= 64; signo++) {
    if (signo === SIGKILL || signo === SIGSTOP) continue;
    const act = task.withScratch(Buffer.alloc(32), (addr) => {
      const r = task.remoteSyscall(NR.rt_sigaction, signo, 0, addr, 8);
      return r === 0n ? task.readMem(addr, 32) : undefined;
    });
    if (!act) continue;
    const a = { signo, handler: act.readBigUInt64LE(0), flags: act.readBigUInt64LE(8), restorer: act.readBigUInt64LE(16), mask: act.readBigUInt64LE(24) };
    if (a.handler !== 0n || a.flags !== 0n || a.mask !== 0n) out.push(a);
  }
  return out;
}

/** Output of a remote syscall that writes `size` bytes at its argument `at` (the others given). */
function query(task: Task, nr: number, size: number, args: (addr: bigint) => (bigint | number)[]): Buffer {
  return task.withScratch(Buffer.alloc(size), (addr) => {
    const r = task.remoteSyscall(nr, ...args(addr));
    if (r < 0n) throw new TsrrError('TRACEE_FAILED', `task ${task.tid}: reading its state failed (syscall ${nr}: ${r})`, { tid: task.tid });
    return task.readMem(addr, size);
  });
}

function put(task: Task, nr: number, bytes: Buffer, args: (addr: bigint) => (bigint | number)[]): void {
  check(task, nr, task.withScratch(bytes, (addr) => task.remoteSyscall(nr, ...args(addr))));
}

function check(task: Task, nr: number, r: bigint): void {
  if (r < 0n) throw new TsrrError('TRACEE_FAILED', `task ${task.tid}: restoring its state failed (syscall ${nr}: ${r})`, { tid: task.tid });
}

export function registerTaskSerializer(reg: PcpRegistry): void {
  reg.tasks.register('core/task', {
    version: 2,
    plugin: 'pcp',
    save(task) {
      const regs = Buffer.from(task.getRegs().buf);
      const xstate = task.getXstate(XSTATE_MAX);
      const name = readFileSync(`/proc/${task.tid}/comm`, 'utf8').replace(/\n$/, '');
      const mask = query(task, NR.rt_sigprocmask, 8, (a) => [SIG_SETMASK, 0, a, 8]).readBigUInt64LE(0);
      const alt = query(task, NR.sigaltstack, 24, (a) => [0, a]);
      const actions = sigactions(task);
      const brk = task.remoteSyscall(NR.brk, 0);
      const clearChildTid = query(task, NR.prctl, 8, (a) => [PR_GET_TID_ADDRESS, a]).readBigUInt64LE(0);
      const robust = query(task, NR.get_robust_list, 16, (a) => [0, a, a + 8n]);
      return encodePayload(TaskPayload, (p) => {
        p._initRegs(regs.length).copyBuffer(regs);
        p._initXstate(xstate.length).copyBuffer(xstate);
        p.name = name;
        p.sigmask = mask;
        p.altstackSp = alt.readBigUInt64LE(0);
        p.altstackFlags = alt.readInt32LE(8);
        p.altstackSize = alt.readBigUInt64LE(16);
        p.brk = brk;
        p.clearChildTid = clearChildTid;
        p.robustList = robust.readBigUInt64LE(0);
        p.robustListLen = robust.readBigUInt64LE(8);
        const list = p._initSigactions(actions.length);
        actions.forEach((a, i) => Object.assign(list.get(i), a));
      });
    },
    load(payload, _version, { task }) {
      const p = decodePayload(TaskPayload, payload);
      for (let i = 0; i < p.sigactions.length; i++) {
        const a = p.sigactions.get(i);
        const act = Buffer.alloc(32);
        act.writeBigUInt64LE(a.handler, 0);
        act.writeBigUInt64LE(a.flags, 8);
        act.writeBigUInt64LE(a.restorer, 16);
        act.writeBigUInt64LE(a.mask, 24);
        put(task, NR.rt_sigaction, act, (addr) => [a.signo, addr, 0, 8]);
      }
      const alt = Buffer.alloc(24);
      alt.writeBigUInt64LE(p.altstackSp, 0);
      alt.writeInt32LE(p.altstackFlags & ~1, 8); // SS_ONSTACK is a state, not a setting
      alt.writeBigUInt64LE(p.altstackSize, 16);
      if (p.altstackSize !== 0n) put(task, NR.sigaltstack, alt, (addr) => [addr, 0]);
      const mask = Buffer.alloc(8);
      mask.writeBigUInt64LE(p.sigmask, 0);
      put(task, NR.rt_sigprocmask, mask, (addr) => [SIG_SETMASK, addr, 0, 8]);
      put(task, NR.prctl, Buffer.from(p.name.slice(0, 15) + '\0'), (addr) => [PR_SET_NAME, addr]);
      if (p.brk !== 0n) task.remoteSyscall(NR.brk, p.brk);
      // Both 0 in version 1 payloads: that version saved single-threaded processes only.
      if (p.clearChildTid !== 0n) task.remoteSyscall(NR.set_tid_address, p.clearChildTid);
      if (p.robustList !== 0n) check(task, NR.set_robust_list, task.remoteSyscall(NR.set_robust_list, p.robustList, p.robustListLen));
      task.robustList = p.robustList;
      if (p._hasXstate()) task.setXstate(Buffer.from(p.xstate.toUint8Array()));
      readSignalState(task);
      task.setRegs(new Registers(Buffer.from(p.regs.toUint8Array())));
    },
  });
}
