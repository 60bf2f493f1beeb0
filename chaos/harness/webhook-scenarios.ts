/**
 * Admission webhook faults (the CVC's validating webhook server killed mid-request, an expired
 * serving certificate): not written yet. The list is empty until they are.
 */
import type { Scenario } from './scenario.ts';

export const WEBHOOK_SCENARIOS: readonly Scenario[] = [];
