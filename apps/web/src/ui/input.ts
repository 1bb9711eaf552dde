/**
 * Collect files from a drop: plain files, and the files inside dropped folders (so a checkpoint
 * folder can be dropped as it is).
 */
export async function filesFromDrop(transfer: DataTransfer): Promise<File[]> {
  const entries = Array.from(transfer.items ?? [])
    .map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null))
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return Array.from(transfer.files ?? []);
  const files: File[] = [];
  for (const entry of entries) await collect(entry, files, 0);
  return files;
}

async function collect(entry: FileSystemEntry, out: File[], depth: number): Promise<void> {
  if (entry.isFile) {
    out.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    return;
  }
  if (!entry.isDirectory || depth > 2) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the folder in batches until it returns an empty one
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await collect(child, out, depth + 1);
  }
}

/** The first image in a paste, if any. */
export function imageFromPaste(event: ClipboardEvent): File | undefined {
  const items = Array.from(event.clipboardData?.items ?? []);
  for (const item of items) {
    if (item.kind === 'file') {
      const file = item.getAsFile();
      if (file) return file;
    }
  }
  return undefined;
}
