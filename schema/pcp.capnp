@0xe40ec82dbc52e8e3;
# The tsrr persistent-checkpoint format.
#
# Checkpoints live next to their trace, in TRACE/checkpoints/:
#   packs/NAME.pack  memory contents, content-addressed: chunks named by the sha256 of their
#                    bytes, shared by every checkpoint of the trace. Each chunk is a header byte
#                    (0 raw, 1 deflate-raw, 2 zstd) and the data; a checkpoint's new chunks go
#                    into one pack
#   packs/NAME.idx   where each chunk of NAME.pack is: 16-byte prefix (magic "TPCX", length,
#                    crc32, count), then per chunk its sha256, offset (u64), stored length (u32)
#                    and the crc32 of its stored bytes (u32)
#   FRAME/manifest   a Manifest message; FRAME/state a State message; FRAME/chunks the hashes
#                    the state refers to, one per line. Manifest and state are framed like the
#                    trace's files: a 16-byte prefix (magic, length, crc32, reserved), so damage
#                    is found before anything is trusted
# A checkpoint directory appears under its final name only when complete (it is written under
# a temporary name and renamed), so a crash never leaves a half checkpoint that loads.
#
# Every saved item is an Envelope: the kind of the serializer that wrote it, that serializer's
# own version, and a payload only that serializer reads. Kinds are strings ("core/stack",
# "acme/socket"); the manifest lists those a checkpoint needs so that a missing one is found
# before any tracee is touched. Rules as for trace.capnp: add fields, never renumber.

struct Manifest {
  formatVersion @0 :UInt32;
  traceUuid @1 :Text;        # Header.uuid of the trace this checkpoint belongs to
  frame @2 :UInt64;          # the event replay had completed when the state was saved
  createdNs @3 :UInt64;
  needs @4 :List(KindUse);
  memoryBytes @5 :UInt64;    # bytes of non-zero memory the checkpoint describes
  storedBytes @6 :UInt64;    # bytes this checkpoint added to the packs when it was written
  partWay @7 :Bool;          # the state is part way to the event after `frame` (where a debugger
                             # stopped), not right after `frame`
  chunkList @8 :Data;        # sha256 of the checkpoint's chunks file (format 4 on; empty before)
}

struct KindUse {
  section @0 :Text;          # a State field: "mappings", "fileMonitors", ..., "extensions"
  kind @1 :Text;
  version @2 :UInt32;
  plugin @3 :Text;           # the plugin that registered the serializer
  optional @4 :Bool;         # without that plugin the checkpoint restores all but this kind's state
}

struct State {
  # Format 1 held one process in fields 0-4; format 2 writes `processes` and leaves them empty.
  executable @0 :Text;       # the program the process runs, relative to the trace directory
  mappings @1 :List(Envelope);
  fileMonitors @2 :List(Envelope);
  syscallBuffers @3 :List(Envelope);
  tasks @4 :List(Envelope);
  trace @5 :List(Envelope);
  extensions @6 :List(Envelope);  # data plugins save once per checkpoint
  processes @7 :List(Process);    # format 2: every process of the replay
}

struct Process {
  tgid @0 :Int32;            # its id in the trace
  executable @1 :Text;       # the program it runs, relative to the trace directory
  mappings @2 :List(Envelope);
  fileMonitors @3 :List(Envelope);
  syscallBuffers @4 :List(Envelope);
  tasks @5 :List(Envelope);  # one per thread, in `threads` order
  threads @6 :List(Thread);
  limits @7 :List(Limit);    # its resource limits that replay reproduces (format 3)
}

struct Limit {               # as getrlimit(2) gives it (a format of its own: see trace.capnp)
  resource @0 :UInt32;
  soft @1 :UInt64;
  hard @2 :UInt64;
}

struct Thread {
  tid @0 :Int32;             # its id in the trace
  held @1 :Bool;             # stopped at the entry of a syscall a later event completes; its
                             # registers are those before the syscall instruction
}

struct Envelope {
  kind @0 :Text;
  version @1 :UInt32;
  payload @2 :Data;
}

# Payloads of the built-in serializers.

struct MappingPayload {      # every core mapping kind
  start @0 :UInt64;
  end @1 :UInt64;
  prot @2 :UInt32;           # PROT_* bits
  shared @3 :Bool;
  file @4 :Text;             # for core/file: the file's copy, relative to the trace directory
  offset @5 :UInt64;         # for core/file: offset in that file
  chunks @6 :List(ChunkRef); # contents that differ from zero (or from the file)
  patchedSites @7 :List(PatchedSite); # version 2: instructions tsrr patched to trap in it
  fileSize @8 :UInt64;       # core/shared-file: the size of the file (`file` is its identity)
  fileChunks @9 :List(ChunkRef); # core/shared-file: its bytes that differ from zero, by file offset
}

struct PatchedSite {
  offset @0 :UInt64;         # from the mapping's start
  instruction @1 :Text;      # rdtsc, rdtscp, cpuid (core/trapPatching.ts)
}

struct ChunkRef {
  offset @0 :UInt64;         # from the mapping's start
  length @1 :UInt32;
  hash @2 :Data;             # sha256 of the bytes: the chunk's name in the packs
}

struct TaskPayload {         # core/task
  regs @0 :Data;             # user_regs_struct
  xstate @1 :Data;           # NT_X86_XSTATE area
  name @2 :Text;             # PR_SET_NAME
  sigmask @3 :UInt64;
  sigactions @4 :List(SigAction);
  altstackSp @5 :UInt64;
  altstackFlags @6 :Int32;
  altstackSize @7 :UInt64;
  brk @8 :UInt64;            # the program break
  clearChildTid @9 :UInt64;  # version 2: set_tid_address
  robustList @10 :UInt64;    # version 2: set_robust_list head and length
  robustListLen @11 :UInt64;
}

struct SigAction {
  signo @0 :UInt32;
  handler @1 :UInt64;
  flags @2 :UInt64;
  restorer @3 :UInt64;
  mask @4 :UInt64;
}

struct StdioPayload {        # core/stdio
  fd @0 :Int32;
  target @1 :Int32;          # tsrr's own fd the output goes to
}

struct ProcFilePayload {     # core/proc-mem, core/proc-status
  fd @0 :Int32;
  target @1 :Int32;          # the task whose memory or status the fd is, as the trace knows it
}

struct MmappedFilePayload {  # core/mmapped-file
  fd @0 :Int32;
  identity @1 :Text;         # the file's "device:inode"
}

struct SyscallBufferPayload { # core/syscall-buffer
  buffers @0 :List(TaskBuffer); # the buffers of the process's threads that registered one
}

struct TaskBuffer {
  tid @0 :Int32;             # the thread's id in the trace
  address @1 :UInt64;
}

struct TracePositionPayload { # core/trace-position
  frame @0 :UInt64;
}

struct SysvSegmentsPayload { # core/sysv-segments: the System V segments the program made
  segments @0 :List(SysvSegmentState);
}

struct SysvSegmentState {
  recorded @0 :Int64;        # the segment's id in the trace
  size @1 :UInt64;           # what its shmget asked for
  made @2 :Bool;             # whether a segment stands for it (else a later shmat makes one)
  chunks @3 :List(ChunkRef); # its bytes that differ from zero
}
