// Where the bench finds the project: its root (package.json, manifest.yaml, scripts/) and bench/plain.
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");
export const PLAIN_DIR = path.join(ROOT, "bench", "plain");
