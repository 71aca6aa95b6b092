/** Public face of the notification gateway: the fastify plugin, its options and the wire protocol. */
export { notificationGateway } from './gateway.ts';
export type { NotificationGatewayDeps, NotificationGatewayPlugin } from './gateway.ts';
export { DEFAULT_GATEWAY_OPTIONS, NotificationHub } from './hub.ts';
export type { GatewayOptions, GatewayStats, HubLogger, NotificationLog } from './hub.ts';
export { CloseCode, CloseReason, parseAuthMessage } from './protocol.ts';
export type { Authenticate, AuthErrorMessage, AuthMessage, AuthOkMessage, Credential } from './protocol.ts';
export type { DispatchBody } from './dispatch-route.ts';
