import { Instrumentation } from '../../../processors/instrumentation/events';
import { opsEndpoints } from '../../../processors/ops/endpoints';

describe('ops endpoints from instrumentation events', () => {
  test('ready only when every processor runs and every owned partition is restored; a restoring partition shows its progress, a failed one its error', () => {
    const instrumentation = new Instrumentation();
    const ops = opsEndpoints(instrumentation, ['crm']);
    expect(ops.live()).toEqual({ ok: true, processors: { crm: 'starting' } });
    expect(ops.ready()).toMatchObject({ ok: false, partitions: {} });
    instrumentation.emit('partitions.assigned', { processor: 'crm', partitions: [0, 1] });
    instrumentation.emit('processor.started', { processor: 'crm', group: 'g', inputs: ['in'], diffs: 'd', rejections: 'r' });
    instrumentation.emit('restore.started', { processor: 'crm', partition: 1, from: 0, to: 1000 });
    instrumentation.emit('restore.progress', { processor: 'crm', partition: 1, records: 400, position: 400, to: 1000, recordsPerSecond: 200, etaSeconds: 2.2 });
    instrumentation.emit('task.ready', { processor: 'crm', partition: 0, seconds: 0.1 });
    expect(ops.ready()).toEqual({
      ok: false,
      processors: { crm: 'running' },
      partitions: { 'crm/0': { state: 'ready' }, 'crm/1': { state: 'restoring', records: 400, position: 400, to: 1000, etaSeconds: 3 } },
    });
    instrumentation.emit('task.ready', { processor: 'crm', partition: 1, seconds: 5 });
    expect(ops.ready().ok).toBe(true);
    instrumentation.emit('task.failed', { processor: 'crm', partition: 1, error: new Error('broker gone'), failures: 1, retryInMs: 500 });
    expect(ops.ready()).toMatchObject({ ok: false, partitions: { 'crm/1': { state: 'failed', error: 'broker gone', retryInSeconds: 1 } } });
    instrumentation.emit('partitions.assigned', { processor: 'crm', partitions: [0] });
    expect(ops.ready()).toMatchObject({ ok: true, partitions: { 'crm/0': { state: 'ready' } } });
    instrumentation.emit('processor.failed', { processor: 'crm', error: new Error('bad') });
    expect(ops.live()).toEqual({ ok: false, processors: { crm: 'failed' } });
    expect(ops.ready().ok).toBe(false);
    ops.close();
  });

  test('standby replicas and followers: a standby partition is listed with its position and lag, readiness does not wait for it; a follower is ready once its partitions are caught up', async () => {
    const instrumentation = new Instrumentation();
    const ops = opsEndpoints(instrumentation, ['crm', 'copy']);
    instrumentation.emit('partitions.assigned', { processor: 'crm', partitions: [0] });
    instrumentation.emit('processor.started', { processor: 'crm', group: 'g', inputs: ['in'], diffs: 'd', rejections: 'r' });
    instrumentation.emit('task.ready', { processor: 'crm', partition: 0, seconds: 0.1 });
    instrumentation.emit('standby.opened', { processor: 'crm', partition: 1, position: 40, end: 100 });
    instrumentation.emit('partitions.assigned', { processor: 'copy', partitions: [0, 1] });
    instrumentation.emit('restore.started', { processor: 'copy', partition: 0, from: 0, to: 50 });
    instrumentation.emit('task.ready', { processor: 'copy', partition: 1, seconds: 0 });
    instrumentation.emit('follower.started', { follower: 'copy', diffs: 'd', partitions: 2, group: 'gf' });
    expect(ops.ready()).toEqual({
      ok: false,
      processors: { crm: 'running', copy: 'running' },
      partitions: { 'crm/0': { state: 'ready' }, 'crm/1': { state: 'standby', position: 40, behind: 60 }, 'copy/0': { state: 'restoring', records: 0, position: 0, to: 50 }, 'copy/1': { state: 'ready' } },
    });
    instrumentation.emit('task.ready', { processor: 'copy', partition: 0, seconds: 1 });
    instrumentation.emit('standby.progress', { processor: 'crm', partition: 1, position: 100, behind: 0 });
    expect(ops.ready()).toMatchObject({ ok: true, partitions: { 'crm/1': { state: 'standby', position: 100, behind: 0 } } });
    instrumentation.emit('follow.batch', { follower: 'copy', partition: 0, records: 7, position: 57, highWatermark: 60, oldestTimestamp: Date.now() - 2_000, newestTimestamp: Date.now() });
    const { body } = await ops.metrics();
    expect(body).toContain('graphfold_standby_lag_records{processor="crm",partition="1"} 0');
    expect(body).toContain('graphfold_follower_lag_records{follower="copy",partition="0"} 3');
    expect(body).toContain('graphfold_follower_records_total{follower="copy"} 7');
    expect(body).toMatch(/graphfold_follower_lag_seconds\{follower="copy",partition="0"\} 2(\.\d+)?/);
    // The standby taken over by the partition's task: no longer listed as a standby.
    instrumentation.emit('standby.closed', { processor: 'crm', partition: 1, position: 100, why: 'taken' });
    instrumentation.emit('partitions.assigned', { processor: 'crm', partitions: [0, 1] });
    expect(ops.ready()).toMatchObject({ ok: false, partitions: { 'crm/1': { state: 'opening' } } });
    expect((await ops.metrics()).body).not.toContain('graphfold_standby_lag_records{processor="crm",partition="1"}');
    ops.close();
  });

  test('metrics count what the events report, lag as measured, in Prometheus text', async () => {
    const instrumentation = new Instrumentation();
    const ops = opsEndpoints(instrumentation, ['crm']);
    instrumentation.emit('batch.committed', { processor: 'crm', partition: 0, records: 5, applied: 3, rejected: 1, skipped: 1, nextOffset: 5, lag: 0, milliseconds: 40, commitMilliseconds: 8 });
    instrumentation.emit('record.rejected', { processor: 'crm', topic: 'in', partition: 0, offset: 2, code: 'CONFLICT', message: 'm' });
    instrumentation.emit('partition.lag', { processor: 'crm', partitions: [{ partition: 0, end: 120, committed: 5, lag: 115 }] });
    instrumentation.emit('connection.lost', { processor: 'crm', error: new Error('gone') });
    const { contentType, body } = await ops.metrics();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('graphfold_records_total{processor="crm",outcome="applied"} 3');
    expect(body).toContain('graphfold_records_total{processor="crm",outcome="skipped"} 1');
    expect(body).toContain('graphfold_rejections_total{processor="crm",code="CONFLICT"} 1');
    expect(body).toContain('graphfold_partition_lag{processor="crm",partition="0"} 115');
    expect(body).toContain('graphfold_connected{processor="crm"} 0');
    expect(body).toContain('graphfold_batch_duration_seconds_count{processor="crm"} 1');
    expect(body).toContain('graphfold_commit_duration_seconds_sum{processor="crm"} 0.008');
    expect(body).toContain('process_cpu_user_seconds_total');
    ops.close();
  });
});
