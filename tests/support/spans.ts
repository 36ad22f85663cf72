import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** Everything a span carries that an exporter would ship, as one string to scan. */
export function exported(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })),
    status: span.status,
    links: span.links.map((l) => l.attributes),
    resource: span.resource.attributes,
  });
}
