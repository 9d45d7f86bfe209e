// The RESP protocol by hand from inside the container's network namespace: PING answers +PONG.
import { askInside, tcpExchange } from '../inside.mjs';

export function check({ image, podman }) {
  return askInside({ image, podman, script: tcpExchange('127.0.0.1', 6379, 'PING\r\n') });
}
