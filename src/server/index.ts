/**
 * The server layer: the operator's HTTP endpoint for probes and scrapes (`/healthz`, `/readyz`,
 * `/metrics`) and the Prometheus metrics behind it, with controller-runtime's metric names.
 * prom-client is loaded only by `Metrics.load`, so importing this layer costs nothing until
 * metrics are enabled. This file only re-exports; each module states its own guarantees.
 */
export {
  HealthServer,
  parseBindAddress,
  readyWhen,
  reflectorCheck,
  type CheckReport,
  type CheckResult,
  type HealthCheck,
  type HealthServerOptions,
  type MetricsSource,
} from './health.ts';
export {
  Metrics,
  RECONCILE_TIME_BUCKETS,
  WORKQUEUE_DURATION_BUCKETS,
  type Exposition,
  type LeaderMetrics,
  type MetricsOptions,
  type PromClient,
  type WatchHealth,
} from './metrics.ts';
