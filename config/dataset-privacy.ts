/** Which datasets are private: the rule the manifest, the files route and the notification gateway share. */
import type { DatasetConfig } from './types.ts';

/** The datasets of `instance.yaml` (and those connectors declare), as the privacy rule reads them. */
export type DatasetPrivacyConfig = Readonly<Record<string, Pick<DatasetConfig, 'private' | 'requires'>>>;

/**
 * Whether only privileged analysts and admins may have a dataset's files: an unknown dataset (a disabled
 * connector's files go with it), a private one, or one requiring a private one (transitively).
 */
export function datasetIsPrivate(datasets: DatasetPrivacyConfig, dataset: string): boolean {
  const seen = new Set<string>();
  const privateIn = (key: string): boolean => {
    if (seen.has(key)) return false;
    seen.add(key);
    const d = Object.hasOwn(datasets, key) ? datasets[key] : undefined;
    return !d || d.private === true || d.requires.some(privateIn);
  };
  return privateIn(dataset);
}
