import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { loadTopology } from '../../../topology/loader';
import { clusterFailure } from '../../admin/cluster-failure';
import { headerText } from '../../codec/headers';
import { TerminalError } from '../../errors';
import { refusalSignal } from '../../runtime/access-refusal';
import { kafkaClient } from '../../runtime/kafka-client';
import { SchemaCatalog } from '../../runtime/schema-catalog';
import type { Topology } from '../../runtime/topology';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, type Command, type CommandIo } from '../command';
import { prettyRecord, recordJson } from '../pretty';
import { RecordDecoder } from '../record-decoder';
import { topologyOption } from '../topology-option';

const options = {
  topology: topologyOption,
  'from-beginning': { kind: 'boolean', description: 'read the topic from its start (default: only records that arrive from now on)' },
  max: { kind: 'integer', value: '<n>', min: 1, description: 'stop after n records' },
  'timeout-ms': { kind: 'integer', value: '<ms>', min: 1, description: 'stop after this long without a new record (counted from joining)' },
  json: { kind: 'boolean', description: 'print the JSON form, one record per line' },
} as const;

const help = [
  'usage: graphfold tail <topic> --topology <file> [--from-beginning] [--max <n>] [--timeout-ms <ms>] [--json]',
  '',
  'Prints the records of a diffs, rejections or input topic as they arrive, reading committed',
  'records only (read_committed). Records are Confluent-framed Avro, decoded through the registry',
  'by their writer schema (GraphDiff, Rejection or GraphTransaction), or JSON transactions.',
  '  diff:        graph, slice, txId, time, origin; then one line per change',
  '  rejection:   code, graph, txId, origin; then the reason',
  '  transaction: graph, txId; then one line per instruction',
  'Runs until --max records, --timeout-ms without a record, or Ctrl-C. Exit code 1 when --max',
  'records did not come before the timeout. Commits no offsets.',
  '',
  'options:',
  optionsHelp(options),
].join('\n');

export const tailCommand: Command = {
  name: 'tail',
  summary: 'print the records of a diffs, rejections or input topic (read_committed)',
  help,
  async run(args, io) {
    const line = parseArguments(args, { command: 'graphfold tail', options, positionals: [{ name: '<topic>', description: 'the topic to read' }] });
    if (line.help) {
      io.stdout.write(`${help}\n`);
      return 0;
    }
    const topic = line.positionals[0] as string;
    const topology = loadTopology(line.options.topology);
    // A broker certificate that does not verify ends the tail at once (kafkajs would retry it).
    const refusal = refusalSignal();
    const kafka = kafkaClient(topology.kafka, 'tail', { onRefused: refusal.report });
    const tail = new Tail(kafka, topology, topic, io, {
      fromBeginning: line.options['from-beginning'],
      max: line.options.max,
      timeoutMs: line.options['timeout-ms'],
      json: line.options.json,
    });
    return Promise.race([requireTopic(kafka, topology, topic).then(() => tail.run()), refusal.refused]);
  },
};

interface TailOptions {
  readonly fromBeginning: boolean;
  readonly max: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly json: boolean;
}

type Ending = { readonly reason: 'max' | 'timeout' | 'signal' } | { readonly reason: 'failed'; readonly error: unknown };

/** One run of `graphfold tail`: a consumer in a group of its own that never commits. */
class Tail {
  private readonly catalog: SchemaCatalog;
  private readonly decoder = new RecordDecoder();
  private count = 0;
  private ending: Ending | undefined;
  private end: (ending: Ending) => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topology: Topology,
    private readonly topic: string,
    private readonly io: CommandIo,
    private readonly options: TailOptions,
  ) {
    this.catalog = new SchemaCatalog(topology.registry);
  }

  async run(): Promise<number> {
    const ended = new Promise<Ending>((resolve) => {
      this.end = (ending) => {
        if (this.ending !== undefined) return;
        this.ending = ending;
        resolve(ending);
      };
    });
    const groupId = `${this.topology.application}-tail-${randomBytes(4).toString('hex')}`;
    // A short fetch wait: stopping waits for the fetch in flight, and a tail stops on the user's time.
    const consumer = this.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    consumer.on(consumer.events.GROUP_JOIN, () => this.arm());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.end({ reason: 'failed', error: clusterFailure(payload.error, this.topology.kafka, `read ${this.topic}`) });
    });
    const onAbort = (): void => this.end({ reason: 'signal' });
    this.io.signal.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.topic, fromBeginning: this.options.fromBeginning });
        await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => this.print(partition, message.offset, message.value, message.headers) });
      } catch (error) {
        throw clusterFailure(error, this.topology.kafka, `read ${this.topic}`);
      }
      const ending = await ended;
      if (ending.reason === 'failed') throw ending.error;
      const { max, timeoutMs } = this.options;
      if (ending.reason === 'timeout' && max !== undefined && this.count < max) {
        throw new CommandFailure(`${this.count} of ${max} records from ${this.topic}, then none for ${timeoutMs ?? 0} ms`);
      }
      return 0;
    } finally {
      clearTimeout(this.timer);
      this.io.signal.removeEventListener('abort', onAbort);
      await consumer.disconnect();
    }
  }

  /** (Re)starts the idle timeout. */
  private arm(): void {
    if (this.options.timeoutMs === undefined || this.ending !== undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.end({ reason: 'timeout' }), this.options.timeoutMs);
  }

  private async print(partition: number, offset: string, value: Buffer | null, headers: IHeaders | undefined): Promise<void> {
    if (this.ending !== undefined) return;
    this.arm();
    const where = `${this.topic}/${partition}@${offset}`;
    if (value === null) {
      this.io.stderr.write(`graphfold: ${where}: a record without a value (a tombstone)\n`);
    } else {
      const contentType = headerText(headers, 'content-type');
      try {
        const schemaId = RecordDecoder.schemaIdOf(value, contentType);
        if (schemaId !== undefined) await this.catalog.fetch([schemaId]);
        const record = this.decoder.decode(value, contentType, this.catalog.known);
        this.io.stdout.write(this.options.json ? `${recordJson(record)}\n` : `${this.count > 0 ? '\n' : ''}${prettyRecord(record)}\n`);
      } catch (error) {
        if (!(error instanceof TerminalError)) {
          this.end({ reason: 'failed', error });
          return;
        }
        this.io.stderr.write(`graphfold: ${where}: cannot decode: ${error.message}\n`);
      }
    }
    this.count++;
    if (this.options.max !== undefined && this.count >= this.options.max) this.end({ reason: 'max' });
  }
}

async function requireTopic(kafka: Kafka, topology: Topology, topic: string): Promise<void> {
  const admin = kafka.admin();
  let topics: string[];
  try {
    await admin.connect();
    topics = await admin.listTopics();
  } catch (error) {
    throw clusterFailure(error, topology.kafka, 'connect');
  } finally {
    await admin.disconnect();
  }
  if (!topics.includes(topic)) {
    throw new CommandFailure(`topic ${topic} does not exist on ${topology.kafka.brokers.join(',')}; graphfold topology apply --topology ${topology.origin} creates the topology's topics`);
  }
}
