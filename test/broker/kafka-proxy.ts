import { createServer, connect, type Server, type Socket } from 'node:net';

/** A Kafka request as the proxy sees it go by: its header and, for a few APIs, what it is about. */
export interface SeenRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** FindCoordinator (v0-v3): the group or transactional id looked up. */
  readonly coordinatorKey?: string;
}

/** What the proxy does with a request: forward it, close the connection, or sit on it (as a frozen broker does). */
export type RequestVerdict = 'pass' | 'drop' | 'hold';

/** Kafka API keys the tests name. */
export const apiKeys = { produce: 0, fetch: 1, metadata: 3, findCoordinator: 10, joinGroup: 11, heartbeat: 12, leaveGroup: 13, syncGroup: 14, initProducerId: 22, endTxn: 26 } as const;

/**
 * A TCP proxy in front of a broker listener that reads the Kafka request framing going by, so a
 * test can fail exactly the request it means: close the connection when a client looks up its
 * group coordinator (as a broker restarting under it does), hold a JoinGroup for ever (a frozen
 * coordinator), refuse new connections (a broker that is down), or drop every connection at once.
 * Responses are passed through untouched.
 */
export class KafkaProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  /** Decides each request; `pass` unless set. */
  rule: (request: SeenRequest) => RequestVerdict = () => 'pass';
  readonly seen: SeenRequest[] = [];

  private constructor(
    readonly port: number,
    private readonly upstream: { readonly host: string; readonly port: number },
  ) {}

  /** Listens on `port` (on 127.0.0.1) and forwards to `upstream`. */
  static async start(port: number, upstream: { readonly host: string; readonly port: number }): Promise<KafkaProxy> {
    const proxy = new KafkaProxy(port, upstream);
    await proxy.accept();
    return proxy;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops accepting connections (clients then get ECONNREFUSED), or starts again; open ones stay. */
  async refuse(refusing: boolean): Promise<void> {
    if (refusing) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    } else if (this.server === undefined) {
      await this.accept();
    }
  }

  /** Closes every open connection, both ways. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await this.refuse(true);
  }

  private accept(): Promise<void> {
    const server = createServer((client) => this.forward(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  private forward(client: Socket): void {
    const broker = connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client);
    this.sockets.add(broker);
    const end = (): void => {
      client.destroy();
      broker.destroy();
      this.sockets.delete(client);
      this.sockets.delete(broker);
    };
    client.on('error', end).on('close', end);
    broker.on('error', end).on('close', end);
    broker.on('data', (chunk: Buffer) => client.write(chunk));
    let pending = Buffer.alloc(0);
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      if (holding) return;
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) return;
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        const request = parseRequest(frame);
        this.seen.push(request);
        const verdict = this.rule(request);
        if (verdict === 'drop') {
          end();
          return;
        }
        if (verdict === 'hold') {
          holding = true;
          return;
        }
        broker.write(frame);
      }
    });
  }
}

function parseRequest(frame: Buffer): SeenRequest {
  const apiKey = frame.readInt16BE(4);
  const apiVersion = frame.readInt16BE(6);
  const clientIdLength = frame.readInt16BE(12);
  const clientId = clientIdLength < 0 ? null : frame.toString('utf8', 14, 14 + clientIdLength);
  let at = 14 + Math.max(0, clientIdLength);
  if (apiKey === apiKeys.findCoordinator && apiVersion <= 3) {
    if (apiVersion === 3) at += 1; // flexible header: no tagged fields in a client request header beyond a 0 count
    const keyLength = apiVersion === 3 ? frame.readUInt8(at) - 1 : frame.readInt16BE(at);
    const keyAt = apiVersion === 3 ? at + 1 : at + 2;
    return { apiKey, apiVersion, clientId, coordinatorKey: frame.toString('utf8', keyAt, keyAt + keyLength) };
  }
  return { apiKey, apiVersion, clientId };
}
