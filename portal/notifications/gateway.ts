/**
 * The notification gateway as a fastify plugin: `GET /ws/notifications` (websocket; protocol in
 * docs/notifications.md) fed by one shared live stream of the event log, and the admin-only
 * `POST /api/notifications`.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { registerDispatchRoute } from './dispatch-route.ts';
import { NotificationHub } from './hub.ts';
import type { GatewayStats, HubDeps } from './hub.ts';

/** What the gateway is built from: the log, the configuration, and the access functions of the caller. */
export type NotificationGatewayDeps = HubDeps;

/** The plugin, plus handles for the server's lifecycle and the access projection. */
export type NotificationGatewayPlugin = FastifyPluginAsync & {
  /** Closes every socket (1001) and stops the live stream; also runs on the app's `preClose`. */
  closeAll(): Promise<void>;
  /** Closes every socket of a user with 4003 (use `revoked$` or call this); returns how many. */
  disconnectUser(name: string, reason?: string): number;
  stats(): GatewayStats;
};

/** Builds the gateway plugin; register it once, without a prefix. */
export function notificationGateway(deps: NotificationGatewayDeps): NotificationGatewayPlugin {
  const hub = new NotificationHub(deps);
  const plugin: FastifyPluginAsync = async (app: FastifyInstance) => {
    const options = hub.options;
    // The app may already have registered @fastify/websocket (one upgrade handler per server).
    if (!app.hasDecorator('websocketServer')) {
      await app.register(websocket, {
        // Only the small auth message comes from clients; ws closes a bigger message with 1009.
        options: { maxPayload: options.maxClientMessageBytes, perMessageDeflate: false },
        errorHandler: (error, socket, request) => {
          request.log.info(`notifications: socket error: ${error.message}`);
          socket.terminate();
        },
        // Replaces the default, which closes every socket without a code before ours say 1001.
        preClose: async function (this: FastifyInstance) {
          await hub.closeAll();
          this.websocketServer.close();
        },
      });
    }
    app.addHook('preClose', async () => hub.closeAll());

    app.route({
      method: 'GET',
      url: '/ws/notifications',
      handler: async (_req, reply) => reply.code(426).header('upgrade', 'websocket').send({ statusCode: 426, error: 'Upgrade Required', message: 'this endpoint speaks websocket, see docs/notifications.md' }),
      wsHandler: (socket, req) => hub.accept(socket, req.raw.socket, req.ip),
    });

    registerDispatchRoute(app, { log: deps.log, authenticate: deps.authenticate, bodyLimit: options.dispatchBodyLimit });

    hub.start({ info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) });
  };
  return Object.assign(plugin, {
    closeAll: () => hub.closeAll(),
    disconnectUser: (name: string, reason?: string) => hub.disconnectUser(name, reason),
    stats: () => hub.stats(),
  });
}
