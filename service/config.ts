// The service's configuration comes only from the environment, and is checked once at start: a container
// with a typo in its env should die at once with the variable's name, not serve the wrong mode.
import { isIP } from "node:net";
import { APP_ENV, type AppSettings } from "../lib/app-environment";
import { isMode, MODES, type Mode } from "../lib/modes";

export interface ServiceConfig extends AppSettings {
  /** Address both listeners bind; 0.0.0.0 in the container, 127.0.0.1 in tests. */
  listenHost: string;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function describe(value: string | undefined): string {
  return value === undefined ? "nothing (unset)" : JSON.stringify(value);
}

function fail(name: string, rule: string, value: string | undefined): never {
  throw new ConfigError(`${name} must be ${rule}, got ${describe(value)}`);
}

function requiredString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") fail(name, "a non-empty string", value);
  return value;
}

function mode(env: Env): Mode {
  const value = env[APP_ENV.mode];
  return isMode(value) ? value : fail(APP_ENV.mode, MODES.join(" or "), value);
}

function port(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined) return fallback;
  const parsed = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(parsed >= 1 && parsed <= 65535)) fail(name, "an integer port 1-65535", value);
  return parsed;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined) return fallback;
  if (value !== "true" && value !== "false") fail(name, "true or false", value);
  return value === "true";
}

function host(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined) return fallback;
  if (isIP(value) === 0) fail(name, "an IP address", value);
  return value;
}

/** Reads and validates the environment; throws a ConfigError naming the first bad variable and its value. */
export function readConfig(env: Env): ServiceConfig {
  const config: ServiceConfig = {
    serviceName: requiredString(env, APP_ENV.serviceName),
    version: requiredString(env, APP_ENV.version),
    mode: mode(env),
    appPort: port(env, APP_ENV.appPort, 3000),
    adminPort: port(env, APP_ENV.adminPort, 9100),
    chaosEnabled: flag(env, APP_ENV.chaosEnabled, true),
    listenHost: host(env, "LISTEN_HOST", "0.0.0.0"),
  };
  if (config.adminPort === config.appPort) {
    fail(APP_ENV.adminPort, `different from ${APP_ENV.appPort} (${config.appPort})`, env[APP_ENV.adminPort]);
  }
  return config;
}
