// A Node.js application with an npm dependency (ms), installed with npm in the build stage.
const ms = require('ms');
const zlib = require('node:zlib');

console.log(`an hour is ${ms(60 * 60 * 1000, { long: true })}`);
console.log(`2 days in ms: ${ms('2 days')}`);
console.log(`gzip round trip: ${zlib.gunzipSync(zlib.gzipSync('scratch')).toString()}`);
if (process.argv.includes('--check')) console.log('check ok');
