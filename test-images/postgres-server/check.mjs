// PostgreSQL's protocol from inside the container's network namespace: an SSLRequest (length 8,
// code 80877103) is answered with one byte, N, by a server without TLS.
import { askInside, tcpExchange } from '../inside.mjs';

export function check({ image, podman }) {
  return askInside({
    image,
    podman,
    script: tcpExchange('127.0.0.1', 5432, '\x00\x00\x00\x08\x04\xd2\x16\x2f'),
  });
}
