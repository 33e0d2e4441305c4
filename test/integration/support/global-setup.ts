// Runs once before the integration tests: removes what an earlier, killed run left behind (test stacks'
// containers, networks and images, labelled throwaway containers, project copies, port locks), so that it
// cannot hold a port or a name this run needs. Whatever a live process owns stays (test/support/test-objects.ts).
import { sweepLeftovers } from "../../support/test-objects";

export default async function setup(): Promise<void> {
  const swept = await sweepLeftovers();
  const found = Object.entries(swept).filter(([, items]) => items.length > 0);
  if (found.length === 0) return;
  console.log(
    `integration set-up: removed what an earlier run left: ${found.map(([kind, items]) => `${kind} ${items.join(", ")}`).join("; ")}`,
  );
}
