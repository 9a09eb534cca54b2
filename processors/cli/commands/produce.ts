import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Message, Producer } from 'kafkajs';
import { loadTopology } from '../../../topology/loader';
import { clusterFailure } from '../../admin/cluster-failure';
import { avroTypes } from '../../codec/avro';
import { frame } from '../../codec/framing';
import { jsonContentType } from '../../codec/input';
import { transactionFromJson, transactionToJson } from '../../codec/json';
import { partitionOf } from '../../codec/partitioner';
import { transactionToAvro } from '../../codec/transaction';
import type { GraphTransaction } from '../../engine/model';
import { refusalSignal, type AccessRefusedError } from '../../runtime/access-refusal';
import { kafkaClient } from '../../runtime/kafka-client';
import { SchemaCatalog } from '../../runtime/schema-catalog';
import type { Topology } from '../../runtime/topology';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, UsageError, type Command } from '../command';
import { topologyOption } from '../topology-option';

const options = {
  topology: topologyOption,
  topic: { kind: 'string', value: '<topic>', description: 'an input topic of the topology', required: true },
  file: { kind: 'string', value: '<ndjson>', description: 'read transactions from this file instead of stdin' },
  json: { kind: 'boolean', description: 'send JSON (header content-type: application/json) instead of Avro' },
} as const;

/** Messages sent per request; each request waits for the previous one, so order per graph holds. */
const batchSize = 500;

const help = [
  'usage: graphfold produce --topology <file> --topic <topic> [--file <ndjson>] [--json]',
  '',
  'Sends graph transactions to an input topic, one per line of NDJSON (from --file, or stdin),',
  'each in the JSON form of schemas/README.md:',
  '  {"graph":"acme","txId":"tx-1","instructions":[{"op":"CreateEntity","ref":"ada","type":"Person"}]}',
  'Each is keyed by its graph id, sent to the partition the topology\'s partitioner gives it (default',
  'murmur2), as Confluent-framed Avro (GraphTransaction, registered under <topic>-value), or as JSON',
  'with --json. A line that is not a transaction is reported with its number and skipped; the exit',
  'code is then 1. Prints how many were sent.',
  '',
  'options:',
  optionsHelp(options),
].join('\n');

export const produceCommand: Command = {
  name: 'produce',
  summary: 'send NDJSON graph transactions (a file or stdin) to an input topic',
  help,
  async run(args, io) {
    const line = parseArguments(args, { command: 'graphfold produce', options });
    if (line.help) {
      io.stdout.write(`${help}\n`);
      return 0;
    }
    const { topic, file, json } = line.options;
    const topology = loadTopology(line.options.topology);
    const inputs = [...new Set(topology.processors.flatMap((p) => p.inputs))];
    if (!inputs.includes(topic)) {
      throw new UsageError('graphfold produce', `--topic ${topic} is not an input of any processor in ${topology.origin} (inputs: ${inputs.join(', ')})`);
    }
    if (file === undefined && io.stdin.isTTY === true) {
      throw new UsageError('graphfold produce', 'no transactions: give --file <ndjson>, or pipe NDJSON into stdin');
    }
    if (file !== undefined) {
      try {
        if (!statSync(file).isFile()) throw new CommandFailure(`cannot read ${file}: not a file`);
      } catch (error) {
        if (error instanceof CommandFailure) throw error;
        throw new CommandFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
      }
    }

    const encode = json ? jsonEncoder() : await avroEncoder(topology, topic);
    // A broker certificate that does not verify ends the command at once (kafkajs would retry it).
    const refusal = refusalSignal();
    const partitioner = topology.processors.find((p) => p.inputs.includes(topic))?.partitioner ?? 'murmur2';
    const producer = kafkaClient(topology.kafka, 'produce', { onRefused: refusal.report }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The topology's partitioner, which the processor checks every record against (WRONG_PARTITION).
      createPartitioner: () => ({ partitionMetadata, message }) => partitionOf(message.key ?? '', partitionMetadata.length, partitioner),
    });
    const source = file ?? 'stdin';
    let sent = 0;
    const skipped: number[] = [];
    try {
      await Promise.race([connect(producer, topology, topic, refusal.report), refusal.refused]);
      const lines = createInterface({ input: file === undefined ? io.stdin : createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
      let batch: Message[] = [];
      let number = 0;
      for await (const text of lines) {
        number++;
        if (text.trim() === '') continue;
        try {
          const tx = transactionFromJson(text);
          batch.push({ key: tx.graph, ...encode(tx) });
        } catch (error) {
          io.stderr.write(`graphfold: ${source}:${number}: ${(error as Error).message}; skipped\n`);
          skipped.push(number);
          continue;
        }
        if (batch.length >= batchSize) {
          sent += await send(producer, topology, topic, batch, sent);
          batch = [];
        }
        if (io.signal.aborted) break;
      }
      sent += await send(producer, topology, topic, batch, sent);
    } finally {
      await producer.disconnect();
    }
    io.stdout.write(`produced ${sent} transaction${sent === 1 ? '' : 's'} to ${topic} (${json ? 'JSON' : 'Avro'})\n`);
    if (skipped.length > 0) {
      const shown = skipped.length > 10 ? `${skipped.slice(0, 10).join(', ')}, ...` : skipped.join(', ');
      throw new CommandFailure(`skipped ${skipped.length} line${skipped.length === 1 ? '' : 's'} of ${source} that ${skipped.length === 1 ? 'is' : 'are'} not a transaction (line ${shown}); fix ${skipped.length === 1 ? 'it' : 'them'} and send ${skipped.length === 1 ? 'it' : 'them'} again`);
    }
    return 0;
  },
};

type Encoder = (tx: GraphTransaction) => Pick<Message, 'value' | 'headers'>;

function jsonEncoder(): Encoder {
  return (tx) => ({ value: transactionToJson(tx), headers: { 'content-type': jsonContentType } });
}

async function avroEncoder(topology: Topology, topic: string): Promise<Encoder> {
  const type = avroTypes().transaction;
  const schemaId = await new SchemaCatalog(topology.registry).register(topic, type);
  return (tx) => {
    const avro = transactionToAvro(tx);
    let invalid: string | undefined;
    type.isValid(avro, { errorHook: (path) => (invalid ??= path[0] === 'instructions' ? `$.instructions[${path[1] ?? '?'}]` : `$.${path[0] ?? ''}`) });
    if (invalid !== undefined) throw new Error(`${invalid}: a value does not fit the GraphTransaction Avro schema (an Int or Time beyond 64 bits?)`);
    return { value: frame(schemaId, type.toBuffer(avro)) };
  };
}

async function connect(producer: Producer, topology: Topology, topic: string, onRefused: (refusal: AccessRefusedError) => void): Promise<void> {
  const admin = kafkaClient(topology.kafka, 'produce-admin', { onRefused }).admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      throw new CommandFailure(`topic ${topic} does not exist on ${topology.kafka.brokers.join(',')}; create it with graphfold topology apply --topology ${topology.origin}`);
    }
    await producer.connect();
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw clusterFailure(error, topology.kafka, 'connect');
  } finally {
    await admin.disconnect();
  }
}

async function send(producer: Producer, topology: Topology, topic: string, messages: Message[], sentBefore: number): Promise<number> {
  if (messages.length === 0) return 0;
  try {
    await producer.send({ topic, messages, acks: -1 });
  } catch (error) {
    throw clusterFailure(error, topology.kafka, `send transactions ${sentBefore + 1} to ${sentBefore + messages.length} to ${topic} (the ${sentBefore} before them were sent)`, {
      doing: `write to topic ${topic}`,
      needs: `Write on topic ${topic}`,
    });
  }
  return messages.length;
}
