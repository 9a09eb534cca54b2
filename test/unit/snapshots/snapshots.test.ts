import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphTransaction } from '../../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../../processors/instrumentation/events';
import { manifestName } from '../../../processors/snapshots/manifest';
import { DirectorySnapshotStore } from '../../../processors/snapshots/snapshot-store';
import { Snapshots } from '../../../processors/snapshots/snapshots';
import { foldInto } from '../../support/fold-loop';
import { dumpStore } from '../../support/store-dump';
import { openTempStore, type TempStore } from '../../support/temp-store';

const rocks = { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 };
const topic = 'crm-diffs';
const personUid = (n: number): string => n.toString(16).padStart(32, '0');

function tx(n: number): GraphTransaction {
  return {
    graph: `g${n % 3}`,
    txId: `t${n}`,
    instructions: [
      { op: 'CreateEntity', uid: personUid(n), type: 'Person' },
      ...(n > 3 ? [{ op: 'CreateRelation' as const, type: 'Knows', source: { uid: personUid(n) }, target: { uid: personUid(n - 3) } }] : []),
    ],
  };
}

/** Folds transactions `from..to` into the store and commits them at changelog offset `to + 1`. */
async function fill(temp: TempStore, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n += 1) {
    const result = await foldInto(temp.store, tx(n), { source: { topic: 'in', partition: 0, offset: n }, recordTime: 0, maxInstructions: 10 });
    if (result.outcome !== 'applied') throw new Error(`transaction ${n} was not applied: ${JSON.stringify(result)}`);
  }
  await temp.store.commit({ changelog: to + 1, inputs: { in: to + 1 }, rejections: 0 });
}

describe('Snapshots in a directory snapshot store', () => {
  let work: string;
  let events: { event: keyof GraphfoldEvents; payload: unknown }[];
  let instrumentation: Instrumentation;
  const snapshotsIn = (dir: string, retain = 3, role: 'owner' | 'follower' = 'owner'): Snapshots =>
    new Snapshots(topic, { store: new DirectorySnapshotStore(dir), retain, staging: join(work, 'staging'), rocks, writer: { role, application: 'app', name: 'crm', instance: 'test-1' }, instrumentation });

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'graphfold-snapshots-'));
    events = [];
    instrumentation = new Instrumentation();
    for (const event of ['snapshot.taken', 'snapshot.skipped', 'snapshot.restored', 'snapshot.pruned'] as const) instrumentation.on(event, (payload) => events.push({ event, payload }));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('a restore equals the store as it was when the snapshot was taken, key for key, while writes went on', async () => {
    const temp = await openTempStore();
    try {
      await fill(temp, 1, 60);
      const snapshots = snapshotsIn(join(work, 'snapshots'));
      const before = await temp.dump();
      const taking = snapshots.take(0, temp.store);
      await fill(temp, 61, 70);
      const manifest = await taking;
      expect(manifest).toMatchObject({ topic, partition: 0, changelogOffset: 61, checkpoint: { changelog: 61, inputs: { in: 61 }, rejections: 0 }, layoutVersion: 2, writer: { role: 'owner', name: 'crm' } });
      expect(manifest.files.length).toBeGreaterThan(2);
      expect(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
      const taken = events.find((e) => e.event === 'snapshot.taken')?.payload as GraphfoldEvents['snapshot.taken'];
      expect(taken).toMatchObject({ changelogOffset: 61, entries: before.length });
      expect(taken.longestStepMs).toBeGreaterThanOrEqual(0);
      expect(await readdir(join(work, 'staging'))).toEqual([]);

      const target = join(work, 'restored', 'crm', '0');
      const restored = await snapshots.restore(0, target, { changelogEnd: 71, above: -1, roles: ['owner'] });
      expect(restored?.id).toBe(manifest.id);
      expect(await dumpStore(target)).toEqual(before);
      expect(events.some((e) => e.event === 'snapshot.restored')).toBe(true);
    } finally {
      await temp.close();
    }
  });

  test('a damaged snapshot is skipped with the reason, and the older one is restored; with none valid, nothing is', async () => {
    const temp = await openTempStore();
    try {
      const snapshots = snapshotsIn(join(work, 'snapshots'));
      await fill(temp, 1, 30);
      const older = await snapshots.take(0, temp.store);
      const olderDump = await temp.dump();
      await fill(temp, 31, 50);
      const newer = await snapshots.take(0, temp.store);
      // Flip one byte of the newer snapshot's largest file.
      const largest = [...newer.files].sort((a, b) => b.bytes - a.bytes)[0]?.name as string;
      const file = join(work, 'snapshots', topic, '0', newer.id, largest);
      const bytes = await readFile(file);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0xff;
      await writeFile(file, bytes);

      const target = join(work, 'restored');
      const restored = await snapshots.restore(0, target, { changelogEnd: 51, above: -1, roles: ['owner'] });
      expect(restored?.id).toBe(older.id);
      expect(await dumpStore(target)).toEqual(olderDump);
      const skipped = events.filter((e) => e.event === 'snapshot.skipped').map((e) => e.payload as GraphfoldEvents['snapshot.skipped']);
      expect(skipped).toEqual([expect.objectContaining({ id: newer.id, reason: expect.stringMatching(new RegExp(`its file ${largest.replace('.', '\\.')} is damaged \\([0-9]+ bytes with SHA-256 [0-9a-f]{12}\\.\\.\\., the manifest says`)) })]);

      // The older one's manifest damaged too: nothing valid is left, and the target is left alone.
      const manifestFile = join(work, 'snapshots', topic, '0', older.id, manifestName);
      await writeFile(manifestFile, (await readFile(manifestFile, 'utf8')).replace('"changelogOffset":31', '"changelogOffset":32'));
      await rm(target, { recursive: true });
      expect(await snapshots.restore(0, target, { changelogEnd: 51, above: -1, roles: ['owner'] })).toBeUndefined();
      expect(events.filter((e) => e.event === 'snapshot.skipped').map((e) => (e.payload as { reason: string }).reason).slice(-1)).toEqual(['its manifest is damaged (its SHA-256 does not match)']);
      await expect(readdir(target)).rejects.toThrow(/ENOENT/);
    } finally {
      await temp.close();
    }
  });

  test('a snapshot beyond the changelog, of another layout, not ahead of the local store or of another role is not restored', async () => {
    const temp = await openTempStore();
    try {
      const dir = join(work, 'snapshots');
      await fill(temp, 1, 20);
      const owner = await snapshotsIn(dir).take(0, temp.store);
      const target = join(work, 'restored');
      expect(await snapshotsIn(dir).restore(0, target, { changelogEnd: 15, above: -1, roles: ['owner'] })).toBeUndefined();
      expect(events.at(-1)?.payload).toMatchObject({ reason: 'it reflects the changelog up to offset 21, but the changelog ends at 15 (the snapshot belongs to another history of the topic)' });
      expect(await snapshotsIn(dir).restore(0, target, { changelogEnd: 21, above: 21, roles: ['owner'] })).toBeUndefined();
      expect(await snapshotsIn(dir).restore(0, target, { changelogEnd: 21, above: -1, roles: ['follower'] })).toBeUndefined();
      expect(await snapshotsIn(dir).restore(1, target, { changelogEnd: 21, above: -1, roles: ['owner'] })).toBeUndefined();

      const manifestFile = join(dir, topic, '0', owner.id, manifestName);
      const outer = JSON.parse(await readFile(manifestFile, 'utf8')) as { sha256: string; manifest: Record<string, unknown> };
      const manifest = { ...outer.manifest, layoutVersion: 1 };
      await writeFile(manifestFile, JSON.stringify({ sha256: createHash('sha256').update(JSON.stringify(manifest)).digest('hex'), manifest }));
      expect(await snapshotsIn(dir).restore(0, target, { changelogEnd: 21, above: -1, roles: ['owner', 'follower'] })).toBeUndefined();
      expect(events.at(-1)?.payload).toMatchObject({ reason: 'it holds a store of layout version 1; this graphfold reads layout version 2' });
    } finally {
      await temp.close();
    }
  });

  test('retention keeps the newest snapshots of each role; an abandoned half-written one goes too', async () => {
    const temp = await openTempStore();
    try {
      const dir = join(work, 'snapshots');
      const ids: string[] = [];
      for (let round = 0; round < 4; round += 1) {
        await fill(temp, round * 10 + 1, round * 10 + 10);
        ids.push((await snapshotsIn(dir, 2).take(0, temp.store)).id);
      }
      const followerId = (await snapshotsIn(dir, 2, 'follower').take(0, temp.store)).id;
      const abandoned = '0000000000000005-000000001-abcdef';
      await mkdir(join(dir, topic, '0', abandoned), { recursive: true });
      await writeFile(join(dir, topic, '0', abandoned, '000001.sst'), 'partial');
      await snapshotsIn(dir, 2).prune(0);
      expect((await readdir(join(dir, topic, '0'))).sort()).toEqual([ids[2], ids[3], followerId].sort());
    } finally {
      await temp.close();
    }
  });
});
