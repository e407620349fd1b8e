// Memory that glibc's malloc keeps for a large review's TLS reads, written through before the pod is
// ready. Node hands each 16 KiB read of a TLS socket to JavaScript in a block of its own, freed only
// when a collection finds it dead, so reading a 16 MiB body grows malloc's main arena by about the
// body; the first time, the kernel clears fresh pages for it on the event loop (~30 ms of a process's
// first large review here, the host backing the virtual machine's memory as well). With the chart's
// GLIBC_TUNABLES (blocks up to 32 MiB served from the arena, up to 32 MiB freed there kept), a block
// written and freed here stays in the arena for those reads. Under glibc's defaults it is handed back
// when freed, and this costs only the writing.

type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/** Writes `bytes` of malloc's memory through and frees them: at once on Node 24 (ArrayBuffer#transfer), on Node 20 at the next collection. */
export function touchMallocArena(bytes: number): void {
  const block = Buffer.allocUnsafeSlow(bytes).fill(0);
  (block.buffer as Transferable).transfer?.(0);
}
