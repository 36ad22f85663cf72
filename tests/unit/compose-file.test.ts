import { existsSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../support/service-process.js";

/**
 * docker-compose.yml checked without a Docker engine: every mount exists in the repository, and the
 * pieces name each other correctly (the service built from the Dockerfile, Prometheus scraping it
 * and loading the rules, Grafana provisioned with the dashboard and its datasource, the OTLP
 * endpoint on Jaeger). A rename on either side fails here rather than in a user's first run.
 */
interface Service {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, Service>;
};
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const readYaml = <T>(path: string): T => parse(readFileSync(join(REPO_ROOT, path), "utf8")) as T;

/** Bind mounts as [repository path, container path]; named volumes are left out. */
function bindMounts(s: Service): [string, string][] {
  return (s.volumes ?? [])
    .map((v) => v.split(":"))
    .filter(([source]) => source?.startsWith("./"))
    .map(([source, target]) => [posix.normalize(source as string), target as string]);
}

/** The repository file a container path resolves to through a service's bind mounts. */
function hostPathOf(s: Service, containerPath: string): string | undefined {
  for (const [source, target] of bindMounts(s)) {
    if (containerPath === target) return source;
    if (containerPath.startsWith(`${target}/`))
      return posix.join(source, containerPath.slice(target.length + 1));
  }
  return undefined;
}

/** Every datasource uid a dashboard's panels and variables name. */
function datasourceUids(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) datasourceUids(n, into);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      const uid = (v as { uid?: unknown } | null)?.uid;
      if (k === "datasource" && typeof uid === "string") into.add(uid);
      else datasourceUids(v, into);
    }
  }
  return into;
}

describe("docker-compose.yml, statically", () => {
  it("builds the service from the repository's Dockerfile, a Node 24 slim image", () => {
    const build = service("lark-auth").build;
    const context = typeof build === "string" ? build : (build?.context ?? ".");
    const dockerfile = typeof build === "object" && build.dockerfile ? build.dockerfile : "Dockerfile";
    const text = readFileSync(join(REPO_ROOT, context, dockerfile), "utf8");
    expect(text).toMatch(/ARG NODE_IMAGE=node:24[\w.-]*-slim/);
    expect(text).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/src\/main\.js"\]/m);
    expect(text).toMatch(/^HEALTHCHECK /m);
  });

  it("mounts only files and directories that exist in the repository", () => {
    const mounts = Object.values(services).flatMap(bindMounts);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    for (const [source] of mounts) expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
  });

  it("has Prometheus load its config and the alert rules, and scrape the service's HTTP port", () => {
    const prometheus = service("prometheus");
    const configArg = prometheus.command?.find((a) => a.startsWith("--config.file="));
    const configPath = hostPathOf(prometheus, configArg?.slice("--config.file=".length) ?? "");
    expect(configPath).toBe("docs/monitoring/prometheus/prometheus.yml");
    const config = readYaml<{
      rule_files: string[];
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    }>(configPath as string);
    expect(config.rule_files.map((f) => hostPathOf(prometheus, f))).toEqual([
      "docs/monitoring/prometheus/alerts.yml",
    ]);
    const [target] = config.scrape_configs[0]?.static_configs[0]?.targets ?? [];
    const [host, port] = (target ?? "").split(":");
    expect(services[host ?? ""], `scrape target ${target}`).toBeDefined();
    const httpPort = service(host as string).environment?.LARK_AUTH_HTTP_PORT ?? "8080";
    expect(port).toBe(httpPort);
    expect(config.scrape_configs[0]?.metrics_path ?? "/metrics").toBe("/metrics");
  });

  it("has Grafana provisioned with the dashboard and the datasource the dashboard names", () => {
    const grafana = service("grafana");
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      "docs/monitoring/grafana/provisioning/dashboards/lark-auth.yml",
    ).providers;
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? "";
    expect(home.startsWith(`${providers[0]?.options.path}/`)).toBe(true);
    const dashboardPath = hostPathOf(grafana, home);
    expect(dashboardPath).toBe("docs/monitoring/grafana/lark-auth-dashboard.json");
    expect(hostPathOf(grafana, "/etc/grafana/provisioning/datasources")).toBe(
      "docs/monitoring/grafana/provisioning/datasources",
    );
    const [datasource] = readYaml<{ datasources: { uid: string; url: string }[] }>(
      "docs/monitoring/grafana/provisioning/datasources/prometheus.yml",
    ).datasources;
    const url = new URL(datasource?.url ?? "");
    expect(services[url.hostname], datasource?.url).toBe(services.prometheus);
    expect(url.port).toBe("9090");
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, dashboardPath as string), "utf8")) as unknown;
    expect(datasourceUids(dashboard)).toEqual(new Set([datasource?.uid]));
  });

  it("sends traces over OTLP/HTTP to Jaeger, which accepts OTLP", () => {
    const env = service("lark-auth").environment ?? {};
    const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "");
    expect(endpoint.hostname).toBe("jaeger");
    expect(endpoint.port).toBe("4318"); // OTLP over HTTP; the service's exporter is exporter-trace-otlp-http.
    expect(service("jaeger").environment?.COLLECTOR_OTLP_ENABLED).toBe("true");
    expect(env.OTEL_SERVICE_NAME).toBe("lark-auth-service");
  });

  it("publishes every port on the host's loopback only, and the UIs the README names", () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    for (const p of published) expect(p, p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const hostPorts = published.map((p) => p.split(":")[1]);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    for (const [ui, port] of [
      ["Grafana", "3000"],
      ["Prometheus", "9090"],
      ["Jaeger", "16686"],
    ] as const) {
      expect(hostPorts, ui).toContain(port);
      expect(readme, ui).toContain(`http://localhost:${port}`);
    }
  });

  it("keeps the service's data and PostgreSQL's in named volumes", () => {
    for (const name of ["lark-auth", "postgres"]) {
      const named = (service(name).volumes ?? []).filter((v) => !v.startsWith("./"));
      expect(named.length, name).toBe(1);
    }
  });
});
