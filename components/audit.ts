import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { HistoryEventType } from "../lib/history-events";

export interface AuditRecordArgs {
  /** The stack's history.jsonl. */
  historyFile: string;
  stack: string;
  /** The project folder (its node_modules has sucrase, components/audit-append.ts the history CLI). */
  projectDir: string;
  /** What a deploy event records; a change records a new deploy. */
  deployed: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Deploys and teardowns in the audit trail, through the project's one history writer: a deploy event
 * when what runs changes (create/update), a teardown event when the stack is destroyed (delete).
 */
export class AuditRecord extends pulumi.ComponentResource {
  constructor(name: string, args: AuditRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:AuditRecord", name, {}, opts);
    // The CLI beside this file, named relative to the folder the command runs in.
    const cli = path.relative(args.projectDir, path.join(__dirname, "audit-append.ts"));
    const append = (type: HistoryEventType, fields: string) =>
      `node --require sucrase/register/ts ${cli} "$HISTORY_FILE" "$STACK" ${type} ${fields}`;
    const deployed = pulumi.output(args.deployed);
    new command.local.Command(
      `${name}-events`,
      {
        create: append("deploy", `"$DEPLOYED"`),
        update: append("deploy", `"$DEPLOYED"`),
        delete: append("teardown", "'{}'"),
        dir: args.projectDir,
        environment: {
          HISTORY_FILE: args.historyFile,
          STACK: args.stack,
          DEPLOYED: deployed.apply((d) => JSON.stringify(d)),
        },
        logging: "stderr",
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
