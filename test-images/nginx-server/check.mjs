// The final image is a server: start it with no network, fetch the page from inside its network
// namespace, stop it, and hand the page to the harness to compare.
import { askInside, httpGet } from '../inside.mjs';

export function check({ image, podman }) {
  return askInside({ image, podman, script: httpGet('http://127.0.0.1:8080/') });
}
