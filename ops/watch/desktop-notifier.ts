/** Hands a message to the desktop's notifier when one is installed (`notify-send` on Linux, `osascript` on macOS). */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Shows a desktop notification; returns false when no notifier is available. */
export type DesktopNotifier = (title: string, message: string) => boolean;

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** The notifier of this machine, or undefined when none is installed. */
export function desktopNotifier(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): DesktopNotifier | undefined {
  const notifySend = platform !== 'darwin' ? onPath('notify-send', env) : undefined;
  if (notifySend) {
    return (title, message) => {
      execFile(notifySend, ['--app-name=ada', title, message], () => undefined);
      return true;
    };
  }
  const osascript = platform === 'darwin' ? onPath('osascript', env) : undefined;
  if (osascript) {
    const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    return (title, message) => {
      execFile(osascript, ['-e', `display notification ${quote(message)} with title ${quote(title)}`], () => undefined);
      return true;
    };
  }
  return undefined;
}
