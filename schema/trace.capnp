@0xe2d2a12e38e5644e;
# The tsrr trace format.
#
# A trace is a directory:
#   header   one Header message (framed, unpacked) behind a 16-byte prefix: magic "TSRH",
#            message length, crc32 of the message, reserved
#   events   a sequence of blocks, each a 16-byte prefix (magic "TSEB", message length,
#            crc32 of the message, number of events) and one EventBlock message
#   files/   copies of the files the tracee executed or mapped
#   copies   for each copy in files/, a 16-byte prefix (magic "TSSC", length, crc32, 0) and a
#            record: the sha256 content hash of core/contentHash.ts (32 bytes), then the
#            copy's path relative to the trace (UTF-8); replay checks a copy before using it
#
# Rules: fields are only ever added, never renumbered or retyped. A change that an older reader
# cannot safely ignore bumps Header.formatVersion; readers refuse versions newer than theirs.
# Events are numbered from 1 in file order: an event's number is its frame (its event time).
# Names (paths, argv, envp) are Data, as Linux has them: bytes, not always UTF-8. They are
# written as Text is (the bytes and a NUL), the form they had while they were Text (format 5).

struct Header {
  formatVersion @0 :UInt32;
  tsrrVersion @1 :Text;
  uuid @2 :Text;             # identity of this recording; checkpoints name it
  program @3 :Data;          # as given on the command line
  executable @4 :Data;       # absolute path executed first
  argv @5 :List(Data);
  envp @6 :List(Data);
  cwd @7 :Data;
  startTimeNs @8 :UInt64;    # wall clock when recording started
  machine @9 :Machine;
  limits @10 :List(Limit);   # the first process's resource limits (getrlimit), by resource
}

struct Limit {
  resource @0 :UInt32;
  soft @1 :UInt64;
  hard @2 :UInt64;
}

struct Machine {
  kernel @0 :Text;
  cpuModel @1 :Text;
  boundCpu @2 :Int32;        # the CPU the tracees were pinned to; -1 for none
  cpuidFaulting @3 :Bool;    # cpuid trapped and recorded (else only pinned and compared)
  xcr0 @4 :UInt64;           # enabled xsave components
  xsaveSize @5 :UInt32;      # bytes of the xsave area (cpuid 0xd.0 ebx)
  cpuid @6 :List(CpuidRecord);
  patched @7 :List(Text);    # instructions patched to trap (trapPatching.ts): rdtsc, rdtscp, cpuid
}

struct CpuidRecord {
  leaf @0 :UInt32;
  subleaf @1 :UInt32;
  eax @2 :UInt32;
  ebx @3 :UInt32;
  ecx @4 :UInt32;
  edx @5 :UInt32;
}

struct EventBlock {
  firstFrame @0 :UInt64;     # frame of events[0]; Must be > 0
  events @1 :List(Event);
}

struct Event {
  tid @0 :Int32;
  union {
    exec @1 :Exec;
    syscall @2 :Syscall;
    signal @3 :Signal;
    rdtsc @4 :Rdtsc;
    cpuid @5 :CpuidRecord;
    exit @6 :Exit;
    interrupted @7 :Void;    # the user stopped the recording here; replay ends here
    syscallEntry @8 :Int64;  # the task entered this syscall and others ran before it returned;
                             # its syscall event comes later
    fork @9 :Fork;           # the task, inside fork/vfork/clone/clone3, created a task; the
                             # call's syscall event comes later
    preempt @10 :Snapshot;   # the task ran its whole time slice without a syscall and was
                             # switched out in this state
    buffered @11 :Data;      # the records of the calls the task made through its syscall
                             # buffer (native/preload.c) since its last event
  }
}

struct Fork {
  child @0 :Int32;           # the new task's tid
  flags @1 :UInt64;          # clone flags
  parentTid @2 :UInt64;      # where CLONE_PARENT_SETTID put the tid (0: nowhere)
  childTid @3 :UInt64;       # where CLONE_CHILD_SETTID put the tid in the child (0: nowhere)
  parentTidValue @4 :Int32;  # the ids written there: the new task's in its parent's PID
  childTidValue @5 :Int32;   # namespace and in its own (0 in older traces: `child`)
}

# A task's state somewhere in user code, where replay cannot stop it exactly without a branch
# counter: replay puts this state into the task instead of running it there.
struct Snapshot {
  regs @0 :Data;             # user_regs_struct
  xstate @1 :Data;           # the xsave area
  pages @2 :Data;            # (address, hash) as two little-endian UInt64 for every present
                             # page of a writable mapping of the process
  contents @3 :List(PageContent);  # the pages whose contents no earlier snapshot held
}

struct PageContent {
  hash @0 :UInt64;
  data @1 :Data;             # 4096 bytes
}

struct Exec {
  path @0 :Data;             # the file the tracee executed
  copy @1 :Text;             # its copy, relative to the trace directory
  argv @2 :List(Data);
  envp @3 :List(Data);
  regs @4 :Data;             # user_regs_struct right after exec
  stack @5 :Data;            # initial stack from rsp to its end (argv, envp, auxv, AT_RANDOM)
  becomes @6 :Int32;         # made by a thread other than the main one: the id it has from
                             # then on, the main thread's (gone); 0 otherwise
}

struct Syscall {
  number @0 :Int64;
  arg0 @1 :UInt64;
  arg1 @2 :UInt64;
  arg2 @3 :UInt64;
  arg3 @4 :UInt64;
  arg4 @5 :UInt64;
  arg5 @6 :UInt64;
  ip @7 :UInt64;             # address after the syscall instruction
  sp @8 :UInt64;
  regsCrc @9 :UInt32;        # crc32 of all registers at entry
  result @10 :Int64;
  writes @11 :List(MemWrite);
  mappedFile @12 :MappedFile;
  fileChange @13 :FileChange;  # the call changed a file that a tracee maps shared
  skipped @14 :Bool;         # tsrr did not let the call run and gave it its result (a call it
                             # refuses, an answer it hides, a seccomp filter's action)
  remoteWrites @15 :RemoteWrites;  # memory of another process the call wrote
}

# What a call wrote into another process's memory (process_vm_writev, a write to its
# /proc/PID/mem): replay writes it there too.
struct RemoteWrites {
  tid @0 :Int32;             # the process, as the trace knows it
  writes @1 :List(MemWrite);
}

struct MemWrite {
  addr @0 :UInt64;
  data @1 :Data;
}

struct MappedFile {
  path @0 :Data;             # the file the tracee mapped
  copy @1 :Text;             # its copy, relative to the trace directory; empty for /dev/zero,
                             # whose mappings are anonymous memory
  identity @2 :Text;         # "device:inode": every mapping and change of one file names it
  watched @3 :Bool;          # the trace has the file's changes (FileChange): replay maps its
                             # own copy that it keeps up to date
}

# What a file that some tracee maps shared holds after a call changed it (write, pwrite,
# ftruncate, an open with O_TRUNC, ...): replay applies it to the file its shared mappings share.
struct FileChange {
  identity @0 :Text;         # as in MappedFile
  size @1 :UInt64;           # the file's size after the call
  offset @2 :UInt64;         # where the call wrote
  data @3 :Data;             # the bytes there after the call
}

struct Signal {
  signo @0 :Int32;
  code @1 :Int32;
  regs @2 :Data;             # at the signal-delivery stop
  siginfo @3 :Data;          # 128 bytes; replay delivers a signal it did not cause with it
  snapshot @4 :Snapshot;     # set when the signal interrupted user code
  toTracer @5 :Bool;         # the task stopped here for a tracer of the program's own, which
                             # said what to deliver (its ptrace call that let the task go on)
}

struct Rdtsc {
  value @0 :UInt64;
  ip @1 :UInt64;
  aux @2 :UInt32;            # TSC_AUX for rdtscp
}

struct Exit {
  status @0 :Int32;          # raw wait status
}
