import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { MemoryStorage } from '../../src/storage/memory/memoryStorage.ts';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqliteStorage.ts';
import { storageContract } from './storage.contract.ts';

storageContract({ name: 'memory', create: async () => new MemoryStorage(), reopen: null });

let path = '';
let db: DatabaseSync | null = null;
const open = async () => {
  db?.close();
  db = openDatabase(path);
  return new SqliteStorage(db);
};
storageContract({
  name: 'sqlite',
  create: async () => {
    path = join(mkdtempSync(join(tmpdir(), 'attune-storage-')), 'test.db');
    return open();
  },
  reopen: open,
});
