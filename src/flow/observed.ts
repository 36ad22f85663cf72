import type { AuthTx, AuthUnitOfWork, Clock, NewAuthEvent } from "../domain/ports.js";
import type { Route } from "../http/server.js";
import type { CardActionHandler } from "../lark/card-callback.js";
import type { SessionMetrics } from "../telemetry/session-metrics.js";
import { createSessionTraces, withEntrySpan } from "../telemetry/session-traces.js";
import { ATTR } from "../telemetry/tracing.js";

const FINAL = new Set(["AUTHORIZED", "DECLINED", "EXPIRED", "FAILED", "CANCELLED"]);

/**
 * The unit of work, observed: every session event a transaction appends is counted (created,
 * finished by state and reason, time to consent) and ties the current span to its session, once
 * the transaction has committed. One place sees every session change, whichever use case, job or
 * replica part made it.
 */
export function observedUnitOfWork(
  uow: AuthUnitOfWork,
  deps: { readonly metrics?: SessionMetrics; readonly clock: Clock },
): AuthUnitOfWork {
  const traces = createSessionTraces();
  const record = (event: NewAuthEvent) => {
    const session = event.session;
    if (!session) return;
    const flow = session.flow.toLowerCase();
    if (event.type === "SESSION_CREATED") {
      deps.metrics?.created(session.appId, flow);
      traces.started(session.id);
    } else if (FINAL.has(event.type)) {
      const seconds =
        event.type === "AUTHORIZED"
          ? Math.max(0, (deps.clock.now().getTime() - session.createTime.getTime()) / 1000)
          : undefined;
      deps.metrics?.finished(session.appId, flow, event.type, event.reason ?? "none", seconds);
      traces.changed(session.id);
    }
  };
  return {
    run: async <T>(work: (tx: AuthTx) => Promise<T>) => {
      const appended: NewAuthEvent[] = [];
      const result = await uow.run((tx) =>
        work({
          ...tx,
          appendEvent: async (event) => {
            await tx.appendEvent(event);
            appended.push(event);
          },
        }),
      );
      for (const event of appended) record(event);
      return result;
    },
  };
}

/**
 * A page as a SERVER span named by its route. Only the path template is recorded: the OAuth
 * callback's query holds the authorization code and state.
 */
export function tracedPage(route: string, page: Route): Route {
  const attributes = { "http.request.method": "GET", "http.route": route };
  return (req, res) => withEntrySpan(`GET ${route}`, attributes, req.headers, async () => page(req, res));
}

/** A card action from Lark as a SERVER span; the session it changes is named by the unit of work. */
export function tracedCardActions(handler: CardActionHandler): CardActionHandler {
  return (action) =>
    withEntrySpan(
      "lark card.action.trigger",
      { [ATTR.appId]: action.appId, "messaging.system": "lark" },
      undefined,
      () => handler(action),
    );
}
