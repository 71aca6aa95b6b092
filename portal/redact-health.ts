/** The health report as a viewer who may not see private tables gets it. */
import { catalogTables } from '../config/index.ts';
import type { AdaConfig } from '../config/index.ts';
import { healthForViewer } from '../pipeline/index.ts';
import type { HealthReport } from '../pipeline/index.ts';

/**
 * The health report as someone who may not see private tables gets it: problems about them are removed by
 * their `table` field and counted, their checks are left out. A table the configuration does not know is
 * treated as private.
 */
export function redactHealth(report: HealthReport, config: AdaConfig): HealthReport {
  const privacy = new Map(catalogTables(config).map((t) => [t.name, t.private]));
  return healthForViewer(report, (table) => privacy.get(table) ?? true);
}
