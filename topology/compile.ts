import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { GraphSchema } from '../processors/engine/schema';
import { Secret } from '../processors/runtime/secret';
import type { KafkaSpec, ProcessorSpec, QuerySpec, RegistrySpec, TlsSpec, Topology } from '../processors/runtime/topology';
import type { ProcessorWithDefaults, QueryWithDefaults, TlsWithDefaults, TopologyWithDefaults } from './defaults';
import { readGraphSchema } from './graph-schema';
import { collisionKey } from './kafka-names';
import { ProblemList } from './problems';
import { problemAt, type ReadContext } from './reader';
import { formatPath, YamlSource, type Path } from './yaml-source';

/** What compiling needs besides the topology: where it came from, to place messages and resolve paths. */
export interface CompileContext extends ReadContext {
  /** The topology file as the user named it, for messages and `Topology.origin`. */
  readonly origin: string;
  /** The absolute directory relative paths resolve against: the topology file's. */
  readonly baseDir: string;
}

/**
 * Stage three of three: checks the rules that span options (unique names, one owner per output
 * topic, agreeing partition counts), resolves paths, reads the TLS and graph-schema files, and
 * returns the frozen {@link Topology}; or undefined, with every problem in `context.problems`.
 */
export function compileTopology(topology: TopologyWithDefaults, context: CompileContext): Topology | undefined {
  const before = context.problems.size;
  checkProcessors(topology.processors, context);
  checkFollowers(topology, context);
  const kafka = compileKafka(topology.kafka, context);
  const registry = compileRegistry(topology.registry, context);
  const processors = topology.processors.map((processor, index): ProcessorSpec => {
    const schema = compileSchema(processor, index, context);
    return {
      name: processor.name,
      inputs: processor.inputs,
      diffs: processor.diffs,
      rejections: processor.rejections,
      partitions: processor.partitions,
      replicationFactor: processor.replicationFactor,
      ...(schema === undefined ? {} : { schema }),
      maxInstructions: processor.maxInstructions,
      maxRecordBytes: processor.maxRecordBytes,
      concurrency: processor.concurrency,
      sessionTimeoutMs: processor.sessionTimeoutMs,
      standbys: processor.standbys,
      taskTimeoutMs: processor.taskTimeoutMs,
      partitioner: processor.partitioner,
      carryHeaders: [...processor.carryHeaders],
    };
  });
  if (context.problems.size !== before) return undefined;
  return deepFreeze({
    application: topology.application,
    kafka,
    registry,
    store: { ...topology.store, dir: resolve(context.baseDir, topology.store.dir) },
    processors,
    ...(topology.query === undefined ? {} : { query: compileQuery(topology.query) }),
    ...(topology.snapshots === undefined ? {} : { snapshots: { ...topology.snapshots, dir: resolve(context.baseDir, topology.snapshots.dir) } }),
    followers: topology.followers.map((f) => ({ ...f })),
    ...(topology.ops === undefined ? {} : { ops: compileListen(topology.ops.listen) }),
    origin: context.origin,
  });
}

/** Where a topic of a processor is named, and what it is to that processor. */
interface TopicUse {
  readonly topic: string;
  readonly index: number;
  readonly processor: ProcessorWithDefaults;
  readonly role: 'inputs' | 'diffs' | 'rejections';
  readonly path: Path;
}

function checkProcessors(processors: readonly ProcessorWithDefaults[], context: CompileContext): void {
  const names = new Map<string, number>();
  const outputs = new Map<string, TopicUse>();
  const uses: TopicUse[] = [];
  const where = (use: TopicUse): string => `processor ${use.processor.name} (${formatPath(use.path)})`;
  const written = (use: TopicUse): string => (use.role !== 'inputs' && !context.source.has(use.path) ? ` (the default, <name>-${use.role})` : '');

  processors.forEach((processor, index) => {
    const at: Path = ['processors', index];
    const first = names.get(processor.name);
    if (first === undefined) names.set(processor.name, index);
    else problemAt(context, [...at, 'name'], `processor name '${processor.name}' is taken by processors[${first}]; names must be unique (they name consumer groups and stores)`);

    processor.inputs.forEach((topic, i) => uses.push({ topic, index, processor, role: 'inputs', path: [...at, 'inputs', i] }));
    for (const role of ['diffs', 'rejections'] as const) {
      const topic = processor[role];
      const use: TopicUse = { topic, index, processor, role, path: [...at, role] };
      uses.push(use);
      const input = processor.inputs.indexOf(topic);
      if (input >= 0) {
        problemAt(context, use.path, `'${topic}'${written(use)} is also an input of this processor (inputs[${input}]); a processor cannot read its own ${role}: name another topic`);
        continue;
      }
      const owner = outputs.get(topic);
      if (owner !== undefined) {
        problemAt(context, use.path, `'${topic}'${written(use)} is already the ${owner.role} topic of ${where(owner)}; every output topic has one writer: name another topic`);
        continue;
      }
      outputs.set(topic, use);
    }
  });

  for (const use of uses) {
    const owner = outputs.get(use.topic);
    if (use.role === 'inputs' && owner?.role === 'rejections') {
      problemAt(context, use.path, `'${use.topic}' is the rejections topic of ${where(owner)}; rejections are not transactions, so a processor cannot read them`);
    }
  }

  const settings = new Map<string, TopicUse>();
  const reported = new Set<string>();
  const collisions = new Map<string, { topic: string; use: TopicUse }>();
  for (const use of uses) {
    const { topic } = use;
    const first = settings.get(topic);
    if (first === undefined) {
      settings.set(topic, use);
    } else if (first.processor !== use.processor) {
      for (const [setting, label] of [['partitions', 'partition count'], ['replicationFactor', 'replication factor'], ['partitioner', 'partitioner']] as const) {
        const key = `${topic}\0${use.index}\0${setting}`;
        if (first.processor[setting] === use.processor[setting] || reported.has(key)) continue;
        reported.add(key);
        problemAt(
          context,
          ['processors', use.index, setting],
          `topic '${topic}' is shared with ${where(first)}, which gives it ${setting} ${first.processor[setting]}; this processor gives ${use.processor[setting]}: a topic has one ${label}, so make them equal`,
        );
      }
    }
    const key = collisionKey(topic);
    const other = collisions.get(key);
    if (other === undefined) collisions.set(key, { topic, use });
    else if (other.topic !== topic) {
      problemAt(context, use.path, `'${topic}' and '${other.topic}' of ${where(other.use)} differ only in '.' versus '_', which Kafka refuses (they collide in metric names): rename one`);
    }
  }
}

/** Follower names are unique among processors and followers (they name stores and the query API's `processor=`). */
function checkFollowers(topology: TopologyWithDefaults, context: CompileContext): void {
  const taken = new Map<string, string>(topology.processors.map((p, i) => [p.name, `processors[${i}]`]));
  topology.followers.forEach((follower, index) => {
    const first = taken.get(follower.name);
    if (first !== undefined) problemAt(context, ['followers', index, 'name'], `name '${follower.name}' is taken by ${first}; a follower's name must differ from every processor's and follower's (it names stores and the query API's processor=)`);
    else taken.set(follower.name, `followers[${index}]`);
  });
}

/** `host:port` (IPv6 hosts in brackets) as the address to bind. */
function compileListen(listen: string): { readonly host: string; readonly port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(colon + 1)) };
}

function compileQuery(query: QueryWithDefaults): QuerySpec {
  const colon = query.listen.lastIndexOf(':');
  const host = query.listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: Number(query.listen.slice(colon + 1)),
    ...(query.advertise === undefined ? {} : { advertise: query.advertise.replace(/\/+$/, '') }),
    ...(query.token === undefined ? {} : { token: new Secret(query.token) }),
    maxHops: query.maxHops,
    maxLimit: query.maxLimit,
    maxStreams: query.maxStreams,
    maxWaitMs: query.maxWaitMs,
    requestTimeoutMs: query.requestTimeoutMs,
  };
}

function compileKafka(kafka: TopologyWithDefaults['kafka'], context: CompileContext): KafkaSpec {
  const { sasl } = kafka;
  const password = sasl === undefined ? undefined : compilePassword(sasl, ['kafka', 'sasl'], context);
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    ssl: kafka.tls === false ? false : compileTls(kafka.tls, ['kafka', 'tls'], context),
    ...(sasl === undefined || password === undefined ? {} : { sasl: { mechanism: sasl.mechanism, username: sasl.username, password } }),
    connectionTimeoutMs: kafka.connectionTimeoutMs,
    requestTimeoutMs: kafka.requestTimeoutMs,
  };
}

function compileRegistry(registry: TopologyWithDefaults['registry'], context: CompileContext): RegistrySpec {
  const { username } = registry;
  const password = username === undefined ? undefined : compilePassword(registry, ['registry'], context);
  return {
    url: registry.url.replace(/\/+$/, ''),
    ...(username === undefined || password === undefined ? {} : { auth: { username, password } }),
    ...(registry.tls === undefined ? {} : { tls: compileTls(registry.tls, ['registry', 'tls'], context) }),
  };
}

function compileTls(tls: TlsWithDefaults, path: Path, context: CompileContext): TlsSpec {
  const pem = (option: 'ca' | 'cert' | 'key'): { ca?: string; cert?: string; key?: string } => {
    const given = tls[option];
    if (given === undefined) return {};
    const text = readPem(given, option, [...path, option], context);
    return text === undefined ? {} : { [option]: text };
  };
  return { rejectUnauthorized: tls.rejectUnauthorized, ...pem('ca'), ...pem('cert'), ...pem('key') };
}

/**
 * The password of `at` (kafka.sasl or registry): from the environment already, or read from its
 * passwordFile, whose final line break is not part of it. Messages name the file, never its text.
 */
function compilePassword(options: { readonly password?: string; readonly passwordFile?: string }, at: Path, context: CompileContext): Secret | undefined {
  if (options.password !== undefined) return new Secret(options.password);
  if (options.passwordFile === undefined) return undefined;
  const path: Path = [...at, 'passwordFile'];
  const file = resolve(context.baseDir, options.passwordFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    problemAt(context, path, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; write the path of a file holding the password (relative to the topology file)`);
    return undefined;
  }
  if (text === '') {
    problemAt(context, path, `${file} is empty; it should hold the password`);
    return undefined;
  }
  if (text.includes('\n')) {
    problemAt(context, path, `${file} holds more than one line; it should hold the password alone`);
    return undefined;
  }
  return new Secret(text);
}

/** PEM text given inline, or read from a file; checked to parse as a certificate or a private key. */
function readPem(given: string, option: 'ca' | 'cert' | 'key', path: Path, context: CompileContext): string | undefined {
  const inline = given.includes('-----BEGIN');
  const file = inline ? undefined : resolve(context.baseDir, given);
  let text = given;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      problemAt(context, path, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; write the path of a PEM file (relative to the topology file) or the PEM text`);
      return undefined;
    }
  }
  const what = file === undefined ? 'the PEM text' : file;
  try {
    if (option === 'key') createPrivateKey(text);
    else new X509Certificate(text);
  } catch (error) {
    const expected = option === 'key' ? 'an unencrypted PEM private key' : 'a PEM certificate';
    problemAt(context, path, `${what} is not ${expected} (${(error as Error).message})`);
    return undefined;
  }
  return text;
}

function compileSchema(processor: ProcessorWithDefaults, index: number, context: CompileContext): GraphSchema | undefined {
  if (typeof processor.schema !== 'string') return processor.schema;
  const path: Path = ['processors', index, 'schema'];
  const file = resolve(context.baseDir, processor.schema);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problemAt(context, path, `cannot read the graph schema ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; write the path of a YAML or JSON file (relative to the topology file) or the schema itself`);
    return undefined;
  }
  const shown = isAbsolute(processor.schema) ? processor.schema : join(dirname(context.origin), processor.schema);
  const problems = new ProblemList();
  const source = YamlSource.parse(text, shown, problems);
  const root = source.root;
  let schema: GraphSchema | undefined;
  if (problems.size === 0) {
    if (root === undefined) problems.add(source.position(0), '', 'the graph schema file is empty; write entities, relations and enums');
    else schema = readGraphSchema(root, [], { source, problems, env: context.env });
  }
  for (const problem of problems.all) context.problems.add(problem, problem.path, problem.message);
  return schema;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
