/**
 * For checkpointer.test.ts: writes rows into the database at argv[2], with the
 * checkpointer running, and prints the highest committed id after each commit
 * until it is killed.
 */
import { startCheckpointer } from "./checkpointer.ts";
import { openStore } from "./sqlite.ts";

const path = process.argv[2]!;
const db = openStore(path, { migrations: [{ version: 1, name: "rows", sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" }] });
const checkpointer = startCheckpointer(db, path, { intervalMs: 20 });
await checkpointer.ready;
const insert = db.prepare("INSERT INTO rows (id, body) VALUES (?1, ?2)");
const body = "x".repeat(200);
const writeBatch = db.transaction((from: number, count: number) => {
  for (let id = from; id < from + count; id++) insert.run(id, body);
});
let next = 1;
for (;;) {
  writeBatch(next, 50);
  next += 50;
  process.stdout.write(`${next - 1}\n`);
  await Bun.sleep(0);
}
