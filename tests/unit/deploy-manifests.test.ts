import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { parseConfig } from "../../src/config/index.js";
import { envSchema } from "../../src/config/schema.js";
import { REPO_ROOT } from "../support/service-process.js";

const DIR = join(REPO_ROOT, "deploy", "kubernetes");

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

/** Every document of every YAML file in deploy/kubernetes, with the file it came from. */
function manifests(): { file: string; doc: Manifest }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
        return { file, doc: d.toJS() as Manifest };
      }),
    );
}

/** The Kubernetes API models (their JSON schemas come from the API's OpenAPI document). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/ConfigMap": ConfigMap as never,
  "v1/Secret": Secret as never,
  "v1/Service": Service as never,
  "v1/ServiceAccount": ServiceAccount as never,
  "apps/v1/Deployment": Deployment as never,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as never,
};

function one(kind: string, name?: string): Manifest {
  const found = manifests().filter((m) => m.doc.kind === kind && (!name || m.doc.metadata.name === name));
  expect(found, `${kind} ${name ?? ""}`).toHaveLength(1);
  return (found[0] as { doc: Manifest }).doc;
}

const deployment = () =>
  one("Deployment") as unknown as {
    spec: {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          terminationGracePeriodSeconds: number;
          containers: {
            env: {
              name: string;
              value?: string;
              valueFrom?: { secretKeyRef: { name: string; key: string } };
            }[];
            envFrom: { configMapRef: { name: string } }[];
            ports: { name: string; containerPort: number }[];
            livenessProbe: { grpc: { port: number; service?: string } };
            readinessProbe: { grpc: { port: number; service?: string } };
            startupProbe: { grpc: { port: number; service?: string } };
            lifecycle: { preStop: { sleep: { seconds: number } } };
          }[];
        };
      };
    };
  };

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("deploy/kubernetes", () => {
  it("every manifest is valid against the Kubernetes API schema of its kind", () => {
    const all = manifests().filter((m) => m.file !== "kustomization.yaml");
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of all) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: no model for ${doc.apiVersion}/${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc as never).validate(), file).not.toThrow();
    }
  });

  it("the schema check has teeth: a misspelt or mistyped field is refused", () => {
    const bad = structuredClone(deployment()) as unknown as { spec: Record<string, unknown> };
    bad.spec.replicas = "three";
    expect(() => new Deployment(bad as never).validate()).toThrow();
  });

  it("kustomization lists every manifest but the example Secret", () => {
    const k = one("Kustomization") as unknown as { resources: string[] };
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== "secret.example.yaml").sort());
  });

  it("runs three replicas with native gRPC probes: liveness on the overall status, readiness per service", () => {
    const d = deployment();
    expect(d.spec.replicas).toBe(3);
    const [c] = d.spec.template.spec.containers;
    expect(c?.ports.map((p) => p.containerPort).sort((a, b) => a - b)).toEqual([8080, 50051]);
    expect(c?.livenessProbe.grpc).toEqual({ port: 50051 });
    expect(c?.startupProbe.grpc).toEqual({ port: 50051 });
    expect(c?.readinessProbe.grpc).toEqual({ port: 50051, service: AuthService.typeName });
  });

  it("gives shutdown more time than the service's grace period plus its bounded close and the preStop pause", () => {
    const d = deployment();
    const c = d.spec.template.spec.containers[0];
    const graceMs = envSchema.shape.LARK_AUTH_SHUTDOWN_GRACE_MS.parse(
      (one("ConfigMap") as unknown as { data: Record<string, string> }).data.LARK_AUTH_SHUTDOWN_GRACE_MS,
    );
    const closeLimitMs = 5_000; // CLOSE_LIMIT_MS in src/app.ts
    const needed = (c?.lifecycle.preStop.sleep.seconds ?? 0) * 1000 + graceMs + closeLimitMs;
    expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(needed);
  });

  it("exposes both ports and selects the Deployment's pods; the budget keeps two of three", () => {
    const labels = deployment().spec.template.metadata.labels;
    const svc = one("Service", "lark-auth-service") as unknown as {
      spec: { selector: Record<string, string>; ports: { port: number }[] };
    };
    expect(svc.spec.ports.map((p) => p.port).sort((a, b) => a - b)).toEqual([8080, 50051]);
    expect(labels).toMatchObject(svc.spec.selector);
    expect(labels).toMatchObject(deployment().spec.selector.matchLabels);
    const pdb = one("PodDisruptionBudget") as unknown as {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBe(2);
  });

  it("takes every secret by reference, never inline", () => {
    const secretKeys = Object.keys(
      (one("Secret") as unknown as { stringData: Record<string, string> }).stringData,
    );
    const env = deployment().spec.template.spec.containers[0]?.env ?? [];
    for (const name of ["DATABASE_URL", "LARK_AUTH_CALLER_KEYS", "LARK_AUTH_ENCRYPTION_KEYS"]) {
      const e = env.find((v) => v.name === name);
      expect(e?.value, name).toBeUndefined();
      expect(e?.valueFrom?.secretKeyRef.name, name).toBe("lark-auth-secrets");
    }
    for (const e of env.filter((v) => v.valueFrom))
      expect(secretKeys).toContain(e.valueFrom?.secretKeyRef.key);
    const config = (one("ConfigMap") as unknown as { data: Record<string, string> }).data;
    expect(JSON.stringify(config)).not.toMatch(/secret"\s*:|key_sha256|postgres:\/\//i);
  });

  it("hands the service a configuration it accepts (ConfigMap + Secret as the pod sees them)", () => {
    const config = (one("ConfigMap") as unknown as { data: Record<string, string> }).data;
    const dir = mkdtempSync(join(tmpdir(), "lark-auth-k8s-"));
    tempDirs.push(dir);
    writeFileSync(join(dir, "config.json"), config["config.json"] ?? "");
    // What a real Secret would hold (the example's placeholders are not valid values on purpose).
    const secret: Record<string, string> = {
      DATABASE_URL: "postgres://lark_auth:pw@postgres:5432/lark_auth",
      LARK_APP_SECRET_DOCS: "s3cret",
      LARK_AUTH_CALLER_KEYS: `docs-bot=${"a".repeat(64)}`,
      LARK_AUTH_ENCRYPTION_KEYS: `k1=${randomBytes(32).toString("base64")}`,
    };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) if (k !== "config.json") env[k] = v;
    for (const e of deployment().spec.template.spec.containers[0]?.env ?? [])
      env[e.name] = e.value ?? secret[e.valueFrom?.secretKeyRef.key ?? ""] ?? "";
    env.LARK_AUTH_CONFIG = join(dir, "config.json");
    const c = parseConfig(env);
    expect(c.sandbox.enabled).toBe(false);
    expect(c.apps.map((a) => a.appId)).toEqual(["cli_0123456789abcdef"]);
    expect(c.bindHost).toBe("0.0.0.0");
  });
});
