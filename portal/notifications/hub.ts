/**
 * The fan-out hub behind the websocket route: the connected sockets, ONE shared live stream of the
 * log for all of them, a per-socket catch-up for clients that resume with `since`, per-socket
 * buffer limits, pings, and disconnection of revoked users.
 */
import type { Observable, Subscription } from 'rxjs';
import type { WebSocket, RawData } from 'ws';
import type { AppendResult, NewEvent, ReadOptions, RecordedEvent } from '../../events/index.ts';
import { datasetPrivacy, NOTIFYING_EVENTS, tablePrivacy, toNotification, visibleTo } from '../../pipeline/index.ts';
import type { IsPrivate, Notification, NotificationConfig, Principal } from '../../pipeline/index.ts';
import { CloseCode, CloseReason, isPrincipal, parseAuthMessage } from './protocol.ts';
import type { Authenticate, AuthErrorMessage, AuthMessage, AuthOkMessage, Credential } from './protocol.ts';

/** What the gateway needs of the event log (an `EventLog` fits). */
export interface NotificationLog {
  append(event: NewEvent): Promise<AppendResult>;
  /** Catch-up from `from`, then live, with no gap and no duplicate (of `options.types` only, when given). */
  follow$(from?: number, options?: ReadOptions): Observable<RecordedEvent>;
  /** Every record from `from` to the head at subscription time. */
  read$(from?: number): Observable<RecordedEvent>;
  /** Position of the last durable record. */
  readonly head: number;
}

/** Limits and timings of the gateway; every one can be injected (tests use short ones). */
export interface GatewayOptions {
  /** The first message must authenticate within this time (UPSTREAM: 10 s). */
  authTimeoutMs: number;
  /** A ping frame goes to every socket this often (UPSTREAM: 30 s). */
  pingIntervalMs: number;
  /** A socket that left this many pings in a row unanswered is closed (UPSTREAM: 3). */
  maxMissedPongs: number;
  /** Connections one user may hold at once (UPSTREAM: 5): a few tabs and a script, not a leak. */
  maxConnectionsPerUser: number;
  /**
   * Bytes a socket may have waiting to be written before it counts as a slow consumer: 1 MiB is
   * ~3,000 typical notifications (~300 B), far more than a reading client ever lags, and caps
   * the memory 1,000 stuck clients can hold at ~1 GiB.
   */
  maxBufferedBytes: number;
  /** Live messages the gateway may hold for a socket while it replays the log before it counts as slow (~300 kB at ~300 B each). */
  maxQueuedMessages: number;
  /** After the server's close frame, a client that does not complete the close handshake is cut off after this. */
  closeGraceMs: number;
  /** Each authenticated socket's credential is checked again this often (role changes, expiry); 0 disables. */
  revalidateMs: number;
  /** A resume replays at most this many log events (the newest); older `since` values start there. */
  maxCatchUpEvents: number;
  /** Largest message a client may send: only the auth message exists, and it is small. */
  maxClientMessageBytes: number;
  /** Largest body of `POST /api/notifications` (title + message are a few kB at most). */
  dispatchBodyLimit: number;
  /**
   * Sockets that have not authenticated yet, all addresses together. A client authenticates within
   * milliseconds, so 1,000 at once means a flood (or a fleet reconnecting after a restart, which retries
   * with backoff); each pending socket holds buffers and a timer, so this bounds what a flood can hold.
   */
  maxPendingAuth: number;
  /**
   * Sockets one remote address may have waiting to authenticate: an office behind one NAT reconnecting
   * after a restart stays well under 50, while one host opening thousands cannot starve the others.
   */
  maxPendingAuthPerAddress: number;
}

/** Defaults of `GatewayOptions`. */
export const DEFAULT_GATEWAY_OPTIONS: Readonly<GatewayOptions> = Object.freeze({
  authTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  maxMissedPongs: 3,
  maxConnectionsPerUser: 5,
  maxBufferedBytes: 1024 * 1024,
  maxQueuedMessages: 1_000,
  closeGraceMs: 5_000,
  revalidateMs: 60_000,
  maxCatchUpEvents: 100_000,
  maxClientMessageBytes: 4 * 1024,
  dispatchBodyLimit: 16 * 1024,
  maxPendingAuth: 1_000,
  maxPendingAuthPerAddress: 50,
});

/** Where the hub logs; never given a credential. */
export interface HubLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** What the hub is built from. */
export interface HubDeps {
  log: NotificationLog;
  config: NotificationConfig;
  authenticate: Authenticate;
  /** Default: `tablePrivacy(config)`. */
  isPrivate?: IsPrivate;
  /** Whether a dataset's files are private (`FilesPublished` notifications); default: `datasetPrivacy(config)`. */
  isPrivateDataset?: IsPrivate;
  /** A user whose access ended (token revoked, analyst removed, role changed): their sockets are closed with 4003. */
  revoked$?: Observable<{ name: string }>;
  options?: Partial<GatewayOptions>;
}

/** Counters of the hub, for tests, benchmarks and the portal's status page. */
export interface GatewayStats {
  connections: number;
  authenticated: number;
  catchingUp: number;
  users: number;
  /** Notifications written to sockets (live and catch-up). */
  delivered: number;
  closed: { slowConsumer: number; pingTimeout: number; revoked: number; authRefused: number; authTimeout: number; tooManyPending: number };
}

/** One live notification, encoded once and shared by every socket it goes to. */
interface Item {
  position: number;
  notification: Notification;
  /** About a private table or a private dataset's files: for privileged analysts and admins only. */
  restricted: boolean;
  frame: Buffer;
}

/** The part of a net.Socket used to coalesce writes. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Where the pending-authentication count of a socket with no known remote address is kept. */
const UNKNOWN_ADDRESS = 'unknown';

type ConnState = 'authenticating' | 'catching-up' | 'live' | 'closed';

interface Conn {
  readonly ws: WebSocket;
  state: ConnState;
  authStarted: boolean;
  principal?: Principal;
  /** Kept for revalidation only; never logged or sent. */
  credential?: Credential;
  /** Every notification up to this log position was sent or judged not for this socket. */
  position: number;
  missedPongs: number;
  /** Frames handed to ws whose write has not completed. */
  inFlight: number;
  /** Live items that arrived while this socket catches up. */
  pending: Item[];
  catchUp?: Subscription;
  /** The TCP socket under `ws`, corked while one tick's frames are written to it. */
  tcp?: Corkable;
  /** Bytes written while corked (not a backlog: they go out together at the end of the tick). */
  corkedBytes: number;
  /** The send callback (one per socket, not one per send: a fan-out makes thousands of sends). */
  written: () => void;
  /** Called once inFlight drops to 0 (the catch-up waits for it). */
  onDrained?: () => void;
  authTimer?: ReturnType<typeof setTimeout>;
  /** Remote address while the socket counts as pending authentication; cleared once it no longer does. */
  pendingFrom?: string;
}

const WS_OPEN = 1;
const WS_CLOSED = 3;
/** Upper bound of a server frame header (no mask): 2 bytes + 8 for a 64-bit length. */
const WS_HEADER_BYTES = 10;

const TEXT = { binary: false } as const;

const frameOf = (n: Notification): Buffer => Buffer.from(JSON.stringify(n));

/** Connected sockets and the one live subscription that feeds them all. */
export class NotificationHub {
  readonly options: Readonly<GatewayOptions>;
  private readonly deps: HubDeps;
  private readonly isPrivate: IsPrivate;
  private readonly isPrivateDataset: IsPrivate;
  private readonly conns = new Set<Conn>();
  private readonly authenticated = new Set<Conn>();
  /** Sockets told to close whose close handshake is not done yet (shutdown waits for them too). */
  private readonly closingSockets = new Set<WebSocket>();
  /** Sockets corked in the current tick; uncorked together on the next one. */
  private readonly corked = new Set<Conn>();
  private readonly byUser = new Map<string, Set<Conn>>();
  private readonly subscriptions: Subscription[] = [];
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private logger: HubLogger = { info: () => undefined, warn: () => undefined };
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;
  private delivered = 0;
  private readonly closedCounts = { slowConsumer: 0, pingTimeout: 0, revoked: 0, authRefused: 0, authTimeout: 0, tooManyPending: 0 };
  /** Sockets waiting to authenticate, per remote address (their sum is `pendingTotal`). */
  private readonly pendingByAddress = new Map<string, number>();
  private pendingTotal = 0;
  /**
   * A replaying socket pauses above this many buffered bytes (half the limit). read$ cannot pause,
   * so a pause ends the read and the next one rescans the segment up to where it stopped: a larger
   * step means fewer rescans, and live items wait in `pending` meanwhile, not in the socket.
   */
  private readonly catchUpHighWater: number;

  constructor(deps: HubDeps) {
    this.deps = deps;
    this.options = Object.freeze({ ...DEFAULT_GATEWAY_OPTIONS, ...deps.options });
    this.isPrivate = deps.isPrivate ?? tablePrivacy(deps.config);
    this.isPrivateDataset = deps.isPrivateDataset ?? datasetPrivacy(deps.config);
    this.catchUpHighWater = this.options.maxBufferedBytes / 2;
    const o = this.options;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`notification gateway option ${k} must be a number ≥ 0, got ${String(v)}`);
    }
    if (o.maxConnectionsPerUser < 1 || o.maxMissedPongs < 1 || o.pingIntervalMs === 0) {
      throw new Error('notification gateway: maxConnectionsPerUser and maxMissedPongs must be ≥ 1 and pingIntervalMs > 0');
    }
  }

  /** Subscribes to the live log (from the current head), to `revoked$`, and starts the timers. */
  start(logger?: HubLogger): void {
    if (this.state !== 'new') throw new Error(`the notification hub is ${this.state}: it starts once`);
    this.state = 'running';
    if (logger) this.logger = logger;
    const { log, revoked$ } = this.deps;
    // Only the types that notify are parsed (a webhook's body is not, for one).
    this.subscriptions.push(log.follow$(log.head + 1, { types: NOTIFYING_EVENTS }).subscribe({
      next: (e) => this.onLiveEvent(e),
      error: (err: unknown) => {
        this.logger.warn(`notifications: the live event stream failed: ${(err as Error)?.message ?? String(err)}; closing all sockets`);
        void this.closeAll(CloseCode.internalError, CloseReason.internalError);
      },
      complete: () => void this.closeAll(),
    }));
    if (revoked$) {
      this.subscriptions.push(revoked$.subscribe({
        next: ({ name }) => void this.disconnectUser(name),
        error: (err: unknown) => this.logger.warn(`notifications: revoked$ failed, revocations now only apply at revalidation: ${(err as Error)?.message ?? String(err)}`),
      }));
    }
    const ping = setInterval(() => this.pingAll(), this.options.pingIntervalMs);
    ping.unref();
    this.timers.push(ping);
    if (this.options.revalidateMs > 0) {
      const revalidate = setInterval(() => this.revalidateAll(), this.options.revalidateMs);
      revalidate.unref();
      this.timers.push(revalidate);
    }
  }

  /**
   * Takes over a freshly upgraded socket: it must authenticate within `authTimeoutMs`. `tcp` is the
   * socket under `ws` (the upgrade request's `socket`): frames written to it in one tick are then
   * sent with one system call instead of one each, which is most of the cost of a burst. `remoteAddress`
   * is the client's address (the request's `ip`); a socket over the pending-authentication caps, global or
   * for its address, is closed at once with 4029.
   */
  accept(ws: WebSocket, tcp?: Corkable, remoteAddress?: string): void {
    if (this.state !== 'running') {
      ws.close(CloseCode.goingAway, CloseReason.shuttingDown);
      return;
    }
    const from = remoteAddress || UNKNOWN_ADDRESS;
    const fromThere = this.pendingByAddress.get(from) ?? 0;
    if (this.pendingTotal >= this.options.maxPendingAuth || fromThere >= this.options.maxPendingAuthPerAddress) {
      this.closedCounts.tooManyPending++;
      ws.on('error', () => undefined);
      ws.close(CloseCode.tooManyConnections, CloseReason.tooManyPending);
      const cut = setTimeout(() => ws.terminate(), this.options.closeGraceMs);
      cut.unref();
      ws.once('close', () => clearTimeout(cut));
      return;
    }
    this.pendingByAddress.set(from, fromThere + 1);
    this.pendingTotal++;
    const conn: Conn = {
      ws, state: 'authenticating', authStarted: false, position: 0, missedPongs: 0, inFlight: 0, pending: [], corkedBytes: 0,
      ...(tcp ? { tcp } : {}),
      written: () => {
        conn.inFlight--;
        if (conn.inFlight === 0 && conn.onDrained) {
          const drained = conn.onDrained;
          conn.onDrained = undefined;
          drained();
        }
      },
    };
    conn.pendingFrom = from;
    this.conns.add(conn);
    conn.authTimer = setTimeout(() => {
      this.closedCounts.authTimeout++;
      this.shut(conn, CloseCode.timeout, CloseReason.authTimeout, CloseReason.authTimeout);
    }, this.options.authTimeoutMs);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.missedPongs = 0;
    });
    ws.on('close', () => this.detach(conn));
    // Socket errors (resets, oversized frames) are followed by 'close'; nothing to add.
    ws.on('error', () => undefined);
  }

  /** Closes every socket of `name` with 4003; returns how many. */
  disconnectUser(name: string, reason: string = CloseReason.revoked): number {
    const conns = [...(this.byUser.get(name) ?? [])];
    for (const conn of conns) {
      this.closedCounts.revoked++;
      this.shut(conn, CloseCode.forbidden, CloseReason.revoked, reason);
    }
    if (conns.length > 0) this.logger.info(`notifications: disconnected ${conns.length} socket(s) of ${name}: ${reason}`);
    return conns.length;
  }

  /** Current counters. */
  stats(): GatewayStats {
    let catchingUp = 0;
    for (const c of this.authenticated) if (c.state === 'catching-up') catchingUp++;
    return {
      connections: this.conns.size, authenticated: this.authenticated.size, catchingUp, users: this.byUser.size,
      delivered: this.delivered, closed: { ...this.closedCounts },
    };
  }

  /**
   * Stops the live stream and timers and closes every socket (1001 by default), waiting at most
   * `closeGraceMs` for the close handshakes before cutting the rest off. Idempotent.
   */
  closeAll(code: number = CloseCode.goingAway, reason: string = CloseReason.shuttingDown): Promise<void> {
    if (this.closing) return this.closing;
    this.state = 'closing';
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    for (const t of this.timers.splice(0)) clearInterval(t);
    const conns = [...this.conns];
    for (const c of conns) this.shut(c, code, reason);
    const sockets = [...this.closingSockets];
    const closed = sockets.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WS_CLOSED) resolve();
      else ws.once('close', () => resolve());
    }));
    this.closing = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(closed),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeGraceMs))),
      ]);
      clearTimeout(timer);
      for (const ws of sockets) if (ws.readyState !== WS_CLOSED) ws.terminate();
      this.state = 'closed';
    })();
    return this.closing;
  }

  private onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    // Only the first message means something; later ones (and any sent while it is checked) are ignored.
    if (conn.state !== 'authenticating' || conn.authStarted) return;
    conn.authStarted = true;
    const size = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((s, b) => s + b.length, 0) : data.byteLength;
    const parsed: AuthMessage | { error: string } = size > this.options.maxClientMessageBytes
      ? { error: `the auth message is over ${this.options.maxClientMessageBytes} bytes` }
      : parseAuthMessage(data, isBinary);
    if ('error' in parsed) {
      this.closedCounts.authRefused++;
      this.shut(conn, CloseCode.unauthenticated, CloseReason.badAuthMessage, parsed.error);
      return;
    }
    void this.authenticate(conn, parsed);
  }

  private async authenticate(conn: Conn, msg: AuthMessage): Promise<void> {
    const credential: Credential = { ...(msg.token !== undefined ? { token: msg.token } : {}), ...(msg.session !== undefined ? { session: msg.session } : {}) };
    let principal: unknown;
    try {
      principal = await this.deps.authenticate(credential);
    } catch (err) {
      // The error may come from anywhere in the access code: log its code only, never its input.
      this.logger.warn(`notifications: authenticate failed (${(err as { code?: string })?.code ?? (err as Error)?.name ?? 'error'})`);
      this.shut(conn, CloseCode.internalError, CloseReason.internalError, 'authentication is unavailable, try again later');
      return;
    }
    if (conn.state !== 'authenticating') return;
    if (!isPrincipal(principal)) {
      this.closedCounts.authRefused++;
      this.shut(conn, CloseCode.unauthenticated, CloseReason.badCredential, CloseReason.badCredential);
      return;
    }
    const { name, role } = principal;
    const mine = this.byUser.get(name) ?? new Set<Conn>();
    if (mine.size >= this.options.maxConnectionsPerUser) {
      this.closedCounts.authRefused++;
      this.shut(conn, CloseCode.tooManyConnections, CloseReason.tooManyConnections, CloseReason.tooManyConnections);
      return;
    }
    clearTimeout(conn.authTimer);
    this.leavePending(conn);
    conn.principal = { name, role };
    conn.credential = credential;
    mine.add(conn);
    this.byUser.set(name, mine);
    this.authenticated.add(conn);

    const head = this.deps.log.head;
    // A `since` beyond the head comes from another log (e.g. rebuilt): serve from the head.
    const asked = msg.since === undefined ? head : Math.min(msg.since, head);
    const start = Math.max(asked, head - this.options.maxCatchUpEvents);
    const ok: AuthOkMessage = { type: 'auth_ok', user: name, role, position: head, ...(msg.since !== undefined ? { since: start } : {}) };
    this.sendControl(conn, ok);
    conn.position = start;
    if (start < head) {
      conn.state = 'catching-up';
      this.readCatchUp(conn);
    } else {
      conn.state = 'live';
    }
  }

  /**
   * Replays the log after `conn.position` for one socket while its live items wait in `pending`.
   * When the socket's buffer passes `catchUpHighWater`, the read stops and restarts from where it
   * was once the socket drained, so a long replay holds little memory and never trips the
   * slow-consumer limit of a client that reads.
   */
  private readCatchUp(conn: Conn): void {
    if (conn.state !== 'catching-up') return;
    let paused = false;
    let sub: Subscription | undefined = undefined;
    sub = this.deps.log.read$(conn.position + 1).subscribe({
      next: (e) => {
        if (paused || conn.state !== 'catching-up') return;
        conn.position = e.position;
        const n = toNotification(e, this.deps.config, this.isPrivate);
        if (!n || !visibleTo(n, conn.principal!, this.isPrivate, this.isPrivateDataset)) return;
        this.write(conn, frameOf(n));
        if (conn.ws.bufferedAmount > this.catchUpHighWater) {
          paused = true;
          sub?.unsubscribe();
          conn.catchUp = undefined;
          this.whenDrained(conn, () => this.readCatchUp(conn));
        }
      },
      error: (err: unknown) => {
        this.logger.warn(`notifications: replaying the log for ${conn.principal?.name} failed: ${(err as Error)?.message ?? String(err)}`);
        this.shut(conn, CloseCode.internalError, CloseReason.internalError);
      },
      complete: () => {
        if (paused || conn.state !== 'catching-up') return;
        conn.catchUp = undefined;
        this.drainPending(conn);
      },
    });
    // read$ emits asynchronously today; should it ever emit during subscribe, a pause there lands here.
    if (paused) sub.unsubscribe();
    else if (conn.state === 'catching-up' && !sub.closed) conn.catchUp = sub;
  }

  /** After the replay: sends the live items held meanwhile (skipping those the replay covered), paced like the replay, then goes live. */
  private drainPending(conn: Conn): void {
    while (conn.state === 'catching-up' && conn.pending.length > 0) {
      if (conn.ws.bufferedAmount > this.catchUpHighWater) {
        this.whenDrained(conn, () => this.drainPending(conn));
        return;
      }
      const item = conn.pending.shift()!;
      if (item.position <= conn.position) continue;
      conn.position = item.position;
      if (visibleTo(item.notification, conn.principal!, () => item.restricted, () => item.restricted)) this.write(conn, item.frame);
    }
    if (conn.state === 'catching-up') conn.state = 'live';
  }

  /** Runs `next` once the frames written to `conn` so far are out of user space. */
  private whenDrained(conn: Conn, next: () => void): void {
    if (conn.inFlight > 0) conn.onDrained = next;
    else setImmediate(next);
  }

  private onLiveEvent(e: RecordedEvent): void {
    const n = toNotification(e, this.deps.config, this.isPrivate);
    if (!n || this.authenticated.size === 0) return;
    const restricted = (n.table !== undefined && this.isPrivate(n.table)) || (n.dataset !== undefined && this.isPrivateDataset(n.dataset));
    const item: Item = { position: e.position, notification: n, restricted, frame: frameOf(n) };
    for (const conn of this.authenticated) {
      if (conn.state === 'live') {
        this.deliver(conn, item);
      } else if (conn.state === 'catching-up') {
        if (conn.pending.length >= this.options.maxQueuedMessages) this.slow(conn);
        else conn.pending.push(item);
      }
    }
  }

  private deliver(conn: Conn, item: Item): void {
    if (item.position <= conn.position) return;
    conn.position = item.position;
    if (!visibleTo(item.notification, conn.principal!, () => item.restricted, () => item.restricted)) return;
    // Bytes ws could not hand to the kernel yet; counting sends instead would misjudge a burst
    // written in one tick, whose write callbacks all wait for the next tick.
    if (conn.ws.bufferedAmount - conn.corkedBytes >= this.options.maxBufferedBytes) {
      this.slow(conn);
      return;
    }
    this.write(conn, item.frame);
  }

  private write(conn: Conn, frame: Buffer | string, notification = true): void {
    if (conn.tcp && this.corked.size === 0) process.nextTick(() => this.uncorkAll());
    if (conn.tcp && !this.corked.has(conn)) {
      conn.tcp.cork();
      this.corked.add(conn);
    }
    if (conn.tcp) conn.corkedBytes += frame.length + WS_HEADER_BYTES;
    conn.inFlight++;
    if (notification) this.delivered++;
    conn.ws.send(frame, TEXT, conn.written);
  }

  /** Sends what each socket got in this tick: one writev per socket. */
  private uncorkAll(): void {
    for (const conn of this.corked) {
      conn.corkedBytes = 0;
      conn.tcp!.uncork();
    }
    this.corked.clear();
  }

  private slow(conn: Conn): void {
    this.closedCounts.slowConsumer++;
    this.logger.info(`notifications: closing a socket of ${conn.principal?.name ?? 'an unauthenticated client'}: slow consumer (${conn.ws.bufferedAmount} bytes, ${conn.inFlight + conn.pending.length} messages waiting)`);
    this.shut(conn, CloseCode.slowConsumer, CloseReason.slowConsumer);
  }

  private sendControl(conn: Conn, message: AuthOkMessage | AuthErrorMessage): void {
    if (conn.ws.readyState === WS_OPEN) this.write(conn, JSON.stringify(message), false);
  }

  /** Stops serving `conn` at once, optionally tells it why (auth_error), and closes it; cut off after `closeGraceMs`. */
  private shut(conn: Conn, code: number, reason: string, authError?: string): void {
    if (conn.state === 'closed') return;
    this.detach(conn);
    const ws = conn.ws;
    if (ws.readyState === WS_CLOSED) return;
    if (authError !== undefined) this.sendControl(conn, { type: 'auth_error', reason: authError });
    ws.close(code, reason);
    this.closingSockets.add(ws);
    const cut = setTimeout(() => ws.terminate(), this.options.closeGraceMs);
    cut.unref();
    ws.once('close', () => {
      clearTimeout(cut);
      this.closingSockets.delete(ws);
    });
  }

  /** `conn` no longer waits to authenticate (it did, or it is gone): its pending slot is freed. Idempotent. */
  private leavePending(conn: Conn): void {
    const from = conn.pendingFrom;
    if (from === undefined) return;
    conn.pendingFrom = undefined;
    this.pendingTotal--;
    const left = (this.pendingByAddress.get(from) ?? 1) - 1;
    if (left > 0) this.pendingByAddress.set(from, left);
    else this.pendingByAddress.delete(from);
  }

  /** Forgets `conn`: no more deliveries, catch-up stopped, its slot freed. Idempotent. */
  private detach(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    clearTimeout(conn.authTimer);
    this.leavePending(conn);
    conn.catchUp?.unsubscribe();
    conn.catchUp = undefined;
    conn.onDrained = undefined;
    conn.pending = [];
    conn.credential = undefined;
    this.conns.delete(conn);
    this.authenticated.delete(conn);
    if (conn.principal) {
      const mine = this.byUser.get(conn.principal.name);
      mine?.delete(conn);
      if (mine?.size === 0) this.byUser.delete(conn.principal.name);
    }
  }

  private pingAll(): void {
    for (const conn of [...this.conns]) {
      if (conn.missedPongs >= this.options.maxMissedPongs) {
        this.closedCounts.pingTimeout++;
        this.shut(conn, CloseCode.timeout, CloseReason.pingTimeout);
        continue;
      }
      conn.missedPongs++;
      if (conn.ws.readyState === WS_OPEN) conn.ws.ping();
    }
  }

  private revalidateAll(): void {
    for (const conn of [...this.authenticated]) {
      const credential = conn.credential;
      const before = conn.principal;
      if (!credential || !before) continue;
      Promise.resolve()
        .then(() => this.deps.authenticate(credential))
        .then((now) => {
          if (conn.state === 'closed') return;
          if (!isPrincipal(now) || now.name !== before.name) {
            this.closedCounts.revoked++;
            this.shut(conn, CloseCode.forbidden, CloseReason.revoked, CloseReason.revoked);
          } else if (now.role !== before.role) {
            conn.principal = { name: now.name, role: now.role };
          }
        }, (err: unknown) => {
          // A failing access check keeps the socket: revocations still arrive through revoked$.
          this.logger.warn(`notifications: revalidating ${before.name} failed (${(err as { code?: string })?.code ?? (err as Error)?.name ?? 'error'})`);
        });
    }
  }
}
