import { createHmac, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

/**
 * What a user would write instead of running imgate, for `npm run bench` to compare with: fastify,
 * the wechat-pad signature checked (hex HMAC-SHA256 of `timestamp:body`, timestamp within 5
 * minutes), `JSON.parse`, one INSERT per callback into better-sqlite3 (WAL, `synchronous = FULL`, so
 * the 200 means the row is on disk, as imgate's does), 200. No deduplication, no unified event, no
 * delivery. Usage: `plain-receiver.ts <database file> <secret>`; prints `{"port":N}` when ready.
 */
const [databasePath, secret] = process.argv.slice(2);
if (!databasePath || !secret) throw new Error('usage: plain-receiver.ts <database file> <secret>');

const db = new Database(databasePath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, type TEXT, from_user TEXT, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO events (received_at, type, from_user, body) VALUES (?, ?, ?, ?)');

interface PadCallback {
  TypeName?: string;
  Data?: { FromUserName?: { string?: string } };
}

const app = Fastify();
// The signature covers the exact bytes, so the body is kept as a Buffer and parsed after the check.
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

app.post('/hooks/:channel', async (request, reply) => {
  const timestamp = request.headers['x-webhook-timestamp'];
  const signature = request.headers['x-webhook-signature'];
  const body = request.body as Buffer;
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return reply.code(401).send({ ok: false });
  const expected = createHmac('sha256', secret).update(`${timestamp}:`).update(body).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send({ ok: false });
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return reply.code(401).send({ ok: false });

  // The raw text is what is stored: JSON.parse rounds the NewMsgId (above 2^53).
  const text = body.toString('utf8');
  const callback = JSON.parse(text) as PadCallback;
  insert.run(Date.now(), callback.TypeName ?? null, callback.Data?.FromUserName?.string ?? null, text);
  return { ok: true };
});

// On SIGTERM the bench counts the rows, so the server closes and the database with it.
process.once('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);
