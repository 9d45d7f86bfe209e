// Both routes, asked from inside the container's network namespace.
import { askInside } from '../inside.mjs';

export function check({ image, podman }) {
  const get = (path) =>
    `new Promise((ok, fail) => require('http').get('http://127.0.0.1:8000${path}', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => (r.statusCode < 400 ? ok(b) : fail(new Error('HTTP ' + r.statusCode)))); }).on('error', fail))`;
  const script = `Promise.all([${get('/')}, ${get('/items/3')}]).then(([page, item]) => process.stdout.write(page + item + '\\n'), (e) => { console.error(e.message); process.exit(1); });`;
  return askInside({ image, podman, script });
}
