/** Public face of the notifications projection: the event → notification mapping and the audience rule. */
export { datasetPrivacy, MAX_MESSAGE_CHARS, NOTIFYING_EVENTS, tablePrivacy, toNotification, visibleTo } from './notification.ts';
export type { IsPrivate, Notification, NotificationConfig, NotificationLevel, Principal } from './notification.ts';
