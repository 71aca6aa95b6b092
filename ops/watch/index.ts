/** Public face of `ada watch`. */
export { watch } from './watch.ts';
export type { Published, WatchNotification, WatchOptions } from './watch.ts';
export { desktopNotifier } from './desktop-notifier.ts';
export type { DesktopNotifier } from './desktop-notifier.ts';
