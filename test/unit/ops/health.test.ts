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
