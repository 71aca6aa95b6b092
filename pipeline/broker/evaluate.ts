/** Health of a broker from its folded health state plus what the machine and the connectors report. */
import type { AdaConfig } from '../../config/index.ts';
import { evaluateHealth } from '../projections/health/health.ts';
import type { HealthReport, HealthState } from '../projections/health/health.ts';
import { timerSpecs } from '../scheduler/timers.ts';
import { diskUse, loadNow } from './health-inputs.ts';
import type { BrokerConnectors } from './types.ts';

/** What a health evaluation reads. */
export interface BrokerHealthInputs {
  config: AdaConfig;
  dataDir: string;
  state: HealthState;
  head: number;
  /** Position of each projection whose lag is reported. */
  projections: Record<string, number>;
  timersActive: boolean;
  connectors: Pick<BrokerConnectors, 'healthChecks'>;
}

/** Evaluates health now. */
export async function evaluateBrokerHealth(inputs: BrokerHealthInputs): Promise<HealthReport> {
  const now = new Date();
  return evaluateHealth(inputs.state, {
    config: inputs.config, specs: timerSpecs(inputs.config), now, timersActive: inputs.timersActive,
    head: inputs.head, projections: inputs.projections,
    disk: await diskUse(inputs.dataDir), load: loadNow(),
    connectorChecks: await inputs.connectors.healthChecks({ dataDir: inputs.dataDir, now }),
  });
}
