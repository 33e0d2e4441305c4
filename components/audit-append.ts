// Appends one event to a history.jsonl through lib/history, for shell scripts and local.Command steps:
//   node --require sucrase/register/ts components/audit-append.ts <file> <stack> <type> [json-fields]
// (or tsx components/audit-append.ts ...), e.g. with .swiftdeploy/dev/history.jsonl dev teardown '{}'.
// The stack's audit record runs it with sucrase, as the program itself runs: 0.1 s where tsx takes 0.3 s.
import { appendHistory } from "../lib/history";
import { HISTORY_EVENT_TYPES, isHistoryEventType, type NewHistoryEvent } from "../lib/history-events";

const USAGE =
  "usage: node --require sucrase/register/ts components/audit-append.ts <file> <stack> <type> [json-fields]";

function parseFields(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === "") return {};
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch (err) {
    throw new Error(`json-fields is not valid JSON (${(err as Error).message}), got ${JSON.stringify(text)}`);
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new Error(`json-fields must be a JSON object, got ${JSON.stringify(text)}`);
  }
  return fields as Record<string, unknown>;
}

function main(argv: string[]): number {
  const [file, stack, type, json, ...extra] = argv;
  if (file === undefined || stack === undefined || type === undefined || extra.length > 0) {
    console.error(USAGE);
    return 2;
  }
  try {
    if (!isHistoryEventType(type)) {
      throw new Error(`type must be one of ${HISTORY_EVENT_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    }
    // The fields come from the command line: the writer checks what it can (stack, type, no v or ts).
    appendHistory(file, { ...parseFields(json), stack, type } as NewHistoryEvent);
    return 0;
  } catch (err) {
    console.error(`history-append: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
