import { askInside, httpGet } from '../inside.mjs';

export function check({ image, podman }) {
  return askInside({ image, podman, script: httpGet('http://127.0.0.1:3000/echo/from%20inside') });
}
