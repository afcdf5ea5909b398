import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLogStore } from '../../src/storage/memory/memoryLogStore.ts';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../../src/storage/sqlite/sqliteLogStore.ts';
import { logStoreContract } from './logStore.contract.ts';

logStoreContract({ name: 'memory', create: async () => new MemoryLogStore(), reopen: null });

let path = '';
const open = async () => new SqliteLogStore(openDatabase(path), { ownsDatabase: true });
logStoreContract({
  name: 'sqlite',
  create: async () => {
    path = join(mkdtempSync(join(tmpdir(), 'attune-logstore-')), 'test.db');
    return open();
  },
  reopen: open,
});
