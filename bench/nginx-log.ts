// Reading nginx's access log (templates/nginx.conf.liquid, log_format swiftdeploy): nginx's own time per
// request, `$request_time` minus `$upstream_response_time`, for the lines of the requests a bench sent.

/**
 * nginx's own time of one access-log line in ms, or undefined when the line has no upstream time (`urt=-`:
 * nginx answered itself) or is no access-log line. A request tried on more than one upstream server logs
 * one time per try (`0.001, 0.002`; ` : ` across internal redirects); they are summed. Both times have ms
 * resolution, so the difference is a whole number of ms, and can be -1 when the two clocks round apart.
 */
export function nginxOwnTimeMs(line: string): number | undefined {
  const m = / rt=(\d+\.\d+) urt=(.+?) set=/.exec(line);
  if (!m) return undefined;
  const tries = m[2].split(/\s*[,:]\s*/);
  if (tries.some((t) => !/^\d+\.\d+$/.test(t))) return undefined;
  const upstreamMs = tries.reduce((sum, t) => sum + Math.round(Number(t) * 1000), 0);
  return Math.round(Number(m[1]) * 1000) - upstreamMs;
}

/** nginx's own times (ms) of the lines whose request line is `"GET <target> `, and how many had none. */
export function nginxOwnTimes(
  lines: string[],
  target: string,
): { timesMs: number[]; withoutUpstream: number } {
  const request = `"GET ${target} `;
  const timesMs: number[] = [];
  let withoutUpstream = 0;
  for (const line of lines) {
    if (!line.includes(request)) continue;
    const ms = nginxOwnTimeMs(line);
    if (ms === undefined) withoutUpstream++;
    else timesMs.push(ms);
  }
  return { timesMs, withoutUpstream };
}
