// How long each party waits while a container leaves: written once, each longer than the one it must
// outlast. nginx gives up on a proxied request after PROXY_READ_TIMEOUT_S; the app, told to stop, finishes
// the requests in flight for at most APP_SHUTDOWN_TIMEOUT_S; Docker kills it only after
// CONTAINER_STOP_GRACE_S. So no request nginx still waits for is cut by a rollout.

/** nginx's `proxy_read_timeout`: the longest a proxied request may take. */
export const PROXY_READ_TIMEOUT_S = 15;
/** The app's graceful shutdown: requests in flight get this long to finish. */
export const APP_SHUTDOWN_TIMEOUT_S = PROXY_READ_TIMEOUT_S + 5;
/** Docker's grace between SIGTERM and SIGKILL when a container is stopped or removed. */
export const CONTAINER_STOP_GRACE_S = APP_SHUTDOWN_TIMEOUT_S + 5;
