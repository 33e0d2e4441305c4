// `npm run audit`: writes audit_report.md from the stack's history.jsonl and Pulumi's update history.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { readPulumiHistory, type PulumiHistory } from "./pulumi-history";
import { renderAuditReport } from "./report";
import { runPulumi } from "../../lib/pulumi-cli";
import { historyPath, readHistory } from "../../lib/history";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");

const USAGE = `Usage: npm run audit -- [--stack NAME] [--history FILE] [--out FILE] [--no-pulumi]

  --stack NAME    the stack whose history is reported (default: the selected stack)
  --history FILE  history.jsonl to read (default: .swiftdeploy/<stack>/history.jsonl)
  --out FILE      where the report goes (default: audit_report.md)
  --no-pulumi     leave out Pulumi's update history (the report says so)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      history: { type: "string" },
      out: { type: "string", default: path.join(PROJECT_DIR, "audit_report.md") },
      "no-pulumi": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  // Pulumi is asked for the selected stack only when the history file or the update history needs it.
  const needsStack = !values.history || !values["no-pulumi"];
  const selected = values.stack
    ? { stack: values.stack }
    : needsStack
      ? await selectedStack()
      : { reason: "no stack named" };
  if (!("stack" in selected) && !values.history) {
    throw new Error(`${selected.reason}; pass --stack NAME or --history FILE`);
  }
  const historyFile = values.history ?? historyPath(PROJECT_DIR, (selected as { stack: string }).stack);
  const { events, skipped } = readHistory(historyFile);
  for (const s of skipped)
    console.error(`audit: ${historyFile}:${s.line}: skipped, ${s.reason}: ${s.excerpt}`);
  const pulumi: PulumiHistory = values["no-pulumi"]
    ? { available: false, reason: "left out on request (--no-pulumi)" }
    : "stack" in selected
      ? await readPulumiHistory(selected.stack, PROJECT_DIR)
      : { available: false, reason: selected.reason };
  if (!pulumi.available) console.error(`audit: Pulumi's update history left out: ${pulumi.reason}`);
  fs.writeFileSync(values.out, renderAuditReport(events, skipped, pulumi, new Date()));
  console.log(
    `audit: wrote ${values.out} (${events.length} events from ${historyFile}, ${skipped.length} lines skipped)`,
  );
}

/** The selected stack, or why Pulumi cannot say (no CLI, no backend): the report is written all the same. */
async function selectedStack(): Promise<{ stack: string } | { reason: string }> {
  try {
    const stack = (await runPulumi(["stack", "--show-name"], PROJECT_DIR)).trim();
    return stack ? { stack } : { reason: "no Pulumi stack is selected" };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

main().catch((err: unknown) => {
  console.error(`audit: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
