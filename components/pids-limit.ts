import * as command from "@pulumi/command";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Caps the number of processes and threads in a container (Docker's PidsLimit: a fork bomb or a thread leak
 * stops there, not at the host's limit). The Docker provider (5.2, upstream docker_container) has no such
 * argument, so `docker update` sets it on the container right after its creation; Docker keeps it across
 * restarts, and a new limit is set on the running container, which stays. (A resource hook would be the
 * lighter tool, but the Node.js language host this toolchain builds, sdk v3.68, proxies the engine's
 * resource monitor without RegisterResourceHook.)
 *
 * The Command bears its container's resource name (the types tell them apart), so a preview lists the two
 * together, and an update killed after the container's creation leaves a Command the next one creates.
 */
export function limitPids(
  containerResourceName: string,
  container: docker.Container,
  pidsLimit: number,
  parent: pulumi.Resource,
): command.local.Command {
  return new command.local.Command(
    containerResourceName,
    {
      create: `docker update --pids-limit "$PIDS_LIMIT" "$CONTAINER" >/dev/null`,
      environment: { CONTAINER: container.id, PIDS_LIMIT: String(pidsLimit) },
      logging: "stderr",
    },
    { parent },
  );
}
