import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../../service/config";

const VALID = { SERVICE_NAME: "swiftdeploy", APP_VERSION: "1.0.0", APP_MODE: "canary" };

describe("readConfig", () => {
  it("fills in the default ports, chaos switch and bind address", () => {
    expect(readConfig(VALID)).toEqual({
      serviceName: "swiftdeploy",
      version: "1.0.0",
      mode: "canary",
      appPort: 3000,
      adminPort: 9100,
      chaosEnabled: true,
      listenHost: "0.0.0.0",
    });
  });

  it("reads every variable when all are set", () => {
    const env = {
      ...VALID,
      APP_MODE: "stable",
      APP_PORT: "8080",
      ADMIN_PORT: "9200",
      CHAOS_ENABLED: "false",
      LISTEN_HOST: "127.0.0.1",
    };
    expect(readConfig(env)).toMatchObject({
      mode: "stable",
      appPort: 8080,
      adminPort: 9200,
      chaosEnabled: false,
      listenHost: "127.0.0.1",
    });
  });

  it.each([
    [{ SERVICE_NAME: undefined }, "SERVICE_NAME must be a non-empty string, got nothing (unset)"],
    [{ SERVICE_NAME: "  " }, 'SERVICE_NAME must be a non-empty string, got "  "'],
    [{ APP_VERSION: "" }, 'APP_VERSION must be a non-empty string, got ""'],
    [{ APP_MODE: undefined }, "APP_MODE must be canary or stable, got nothing (unset)"],
    [{ APP_MODE: "blue" }, 'APP_MODE must be canary or stable, got "blue"'],
    [{ APP_MODE: "Canary" }, 'APP_MODE must be canary or stable, got "Canary"'],
    [{ APP_PORT: "0" }, 'APP_PORT must be an integer port 1-65535, got "0"'],
    [{ APP_PORT: "65536" }, 'APP_PORT must be an integer port 1-65535, got "65536"'],
    [{ APP_PORT: "30.5" }, 'APP_PORT must be an integer port 1-65535, got "30.5"'],
    [{ APP_PORT: " 3000" }, 'APP_PORT must be an integer port 1-65535, got " 3000"'],
    [{ APP_PORT: "" }, 'APP_PORT must be an integer port 1-65535, got ""'],
    [{ ADMIN_PORT: "http" }, 'ADMIN_PORT must be an integer port 1-65535, got "http"'],
    [{ ADMIN_PORT: "3000" }, 'ADMIN_PORT must be different from APP_PORT (3000), got "3000"'],
    [{ CHAOS_ENABLED: "yes" }, 'CHAOS_ENABLED must be true or false, got "yes"'],
    [{ CHAOS_ENABLED: "TRUE" }, 'CHAOS_ENABLED must be true or false, got "TRUE"'],
    [{ LISTEN_HOST: "localhost" }, 'LISTEN_HOST must be an IP address, got "localhost"'],
  ])("refuses %o with a message naming the variable and the value", (change, message) => {
    const env = { ...VALID, ...change };
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
