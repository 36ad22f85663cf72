import { safeDecode } from "./body.js";
import type { Route } from "./types.js";

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

/** Method + path matching with `:param` segments; nothing more is needed for a dozen paths. */
export class Router {
  readonly #routes: CompiledRoute[] = [];

  add(...routes: Route[]): void {
    for (const route of routes) {
      const names: string[] = [];
      const source = route.pattern.replace(/[.+*?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_, name) => {
        names.push(name);
        return "([^/]+)";
      });
      this.#routes.push({ route, regex: new RegExp(`^${source}$`), names });
    }
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const { route, regex, names } of this.#routes) {
      if (route.method !== method) continue;
      const found = regex.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = safeDecode(found[i + 1] ?? "");
      });
      return { route, params };
    }
    return undefined;
  }
}
