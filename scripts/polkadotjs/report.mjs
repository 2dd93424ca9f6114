// How the Polkadot.js checks report: `ok   what held` per check, `FAIL what did not` and
// exit status 1 at the first that fails.

export function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
  console.log(`ok   ${message}`);
}
