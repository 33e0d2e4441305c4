// The app container's environment: the program (components/app.ts) and the bench's Compose baseline write
// it, the service (service/config.ts) reads and validates it. The variable names live here only.
import type { Mode } from "./modes";

/** What the service needs to know at start. */
export interface AppSettings {
  serviceName: string;
  version: string;
  mode: Mode;
  /** Public listener (the ingress proxies to it). */
  appPort: number;
  /** Admin listener: /metrics, /chaos, /healthz. Never exposed through the ingress. */
  adminPort: number;
  chaosEnabled: boolean;
}

/** The environment variable that carries each setting. */
export const APP_ENV: Record<keyof AppSettings, string> = {
  serviceName: "SERVICE_NAME",
  version: "APP_VERSION",
  mode: "APP_MODE",
  appPort: "APP_PORT",
  adminPort: "ADMIN_PORT",
  chaosEnabled: "CHAOS_ENABLED",
};

/** `NAME=value` lines, as Docker's `Env` and Compose's `environment` take them. */
export function appEnvironment(settings: AppSettings): string[] {
  return (Object.keys(APP_ENV) as (keyof AppSettings)[]).map((key) => `${APP_ENV[key]}=${settings[key]}`);
}
