/**
 * A worker's HTTP endpoints: `/healthz` and `/readyz` on the health address,
 * `/metrics` on the same server unless `metrics_host`/`metrics_port` put it
 * elsewhere (or `metrics_port: 0` turns it off).
 *
 * Why `/metrics` shares the health server by default: Prometheus scrapes
 * from another host, so an exporter listens on every interface (as
 * node_exporter does on :9100), and SPEC promises `/metrics` on the health
 * port. Where task names and counts must not leave the host, move it:
 * `--metrics-host 127.0.0.1 --metrics-port 9464`.
 * @module
 */
import type { WorkerConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import {
  ALL_HEALTH_PATHS,
  createHealthHandler,
  type HealthPath,
  type HealthState,
  serveHealth,
} from "../worker/health_server.ts";
import { listenHttp, type ListenSpec } from "./http_listen.ts";

/** One server to start: where, what it serves, and the log line once it listens. */
interface PlannedServer {
  spec: ListenSpec;
  paths: readonly HealthPath[];
  name: string;
}

/** Which servers the worker config asks for (none when both ports are 0). */
export function planHealthServers(worker: WorkerConfig): PlannedServer[] {
  const servers: PlannedServer[] = [];
  const healthOn = worker.healthPort !== 0;
  const metricsPort = worker.metricsPort ?? (healthOn ? worker.healthPort : 0);
  const metricsHost = worker.metricsHost ?? worker.healthHost;
  const shared = healthOn && metricsPort !== 0 && metricsHost === worker.healthHost &&
    metricsPort === worker.healthPort;
  if (healthOn) {
    servers.push({
      spec: {
        hostname: worker.healthHost,
        port: worker.healthPort,
        given: worker.healthPortGiven,
        what: shared ? "health checks and /metrics" : "health checks",
        portOption: "--health-port",
        hostOption: "--health-host",
      },
      paths: shared ? ALL_HEALTH_PATHS : ["/healthz", "/readyz"],
      name: "Health server",
    });
  }
  if (!shared && metricsPort !== 0) {
    servers.push({
      spec: {
        hostname: metricsHost,
        port: metricsPort,
        given: worker.metricsPort !== null || worker.healthPortGiven,
        what: "/metrics",
        portOption: "--metrics-port",
        hostOption: "--metrics-host",
      },
      paths: ["/metrics"],
      name: "Metrics server",
    });
  }
  return servers;
}

/**
 * Start the planned servers; resolves to them (shut each down on exit).
 * @throws {UsageError} when one cannot listen; the ones already started are shut down first
 */
export async function startHealthServers(
  worker: WorkerConfig,
  state: HealthState,
  logger: Logger,
): Promise<Deno.HttpServer[]> {
  const started: Deno.HttpServer[] = [];
  try {
    for (const planned of planHealthServers(worker)) {
      const handler = createHealthHandler(state, { paths: planned.paths });
      const { hostname } = planned.spec;
      const server = listenHttp(
        planned.spec,
        (port) =>
          serveHealth(handler, {
            hostname,
            port,
            onListen: (addr) =>
              logger.info(`${planned.name} listening`, {
                host: addr.hostname,
                port: addr.port,
                paths: planned.paths,
              }),
          }),
        (from, to) =>
          logger.info(`${planned.name}: port ${from} is busy; using ${to}`, {
            wanted: from,
            port: to,
          }),
      );
      started.push(server);
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.shutdown()));
    throw error;
  }
  return started;
}
