// The app's images: one resource per version's build, tagged <repository>:<version>-<content hash>, kept as
// long as the release state keeps the version (stable, canary or retained for a rollback). A version always
// runs the image it was first built to: the build context is a folder of its own
// (program/host-files.ts writes it once), so service/ may hold newer code meanwhile.
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Named after its whole tag: an input that changed in place would replace the image, and with it, first,
 * every container that runs it. Without keepLocally, the engine removes the image when the release state
 * lets it go (after the containers that used it) and at `pulumi destroy`.
 */
export function appImage(
  tag: string,
  buildContext: string,
  opts: pulumi.CustomResourceOptions,
): docker.RemoteImage {
  return new docker.RemoteImage(
    `app-image-${tag.slice(tag.lastIndexOf(":") + 1)}`,
    { name: tag, build: { context: buildContext } },
    opts,
  );
}
