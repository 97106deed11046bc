// The [fleet] table: optional, its defaults, and the mistakes it refuses with one line each.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { MINIMAL_CONFIG } from '../../helpers/settings.ts';

const withFleet = (body: string) => parseConfigText(`${MINIMAL_CONFIG}[fleet]\n${body}\n`, 'w.toml');
const refusal = (body: string): string => {
  try {
    withFleet(body);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

test('without [fleet], the config has none: a single node', () => {
  assert.equal(parseConfigText(MINIMAL_CONFIG, 'w.toml').fleet, null);
});

test('defaults: the host name as the node, "/warden/", 30 s leases, no fleet-wide worker limit', () => {
  const f = withFleet('endpoints = ["http://10.0.0.2:2379"]').fleet;
  assert.equal(f?.node, hostname());
  assert.equal(f?.prefix, '/warden/');
  assert.equal(f?.lease_ttl, 30_000);
  assert.equal(f?.max_fleet_workers, null);
});

test('refused: no endpoint, credentials in a URL, a lease_ttl out of range, half a TLS pair, http with a CA', () => {
  assert.match(refusal('endpoints = []'), /fleet\.endpoints: expected at least one etcd endpoint/);
  assert.match(refusal('endpoints = ["http://root:pw@10.0.0.2:2379"]'), /no credentials/);
  assert.match(
    refusal('endpoints = ["http://10.0.0.2:2379"]\nlease_ttl = "1s"'),
    /fleet\.lease_ttl: expected a duration between 3s and 10m/,
  );
  assert.match(
    refusal('endpoints = ["https://10.0.0.2:2379"]\nca_file = "/etc/ca.crt"\ncert_file = "/etc/c.crt"'),
    /fleet\.key_file: set cert_file and key_file together/,
  );
  assert.match(refusal('endpoints = ["http://10.0.0.2:2379"]\nca_file = "/etc/ca.crt"'), /every endpoint must be https/);
  assert.match(
    refusal('endpoints = ["http://10.0.0.2:2379"]\nusername = "warden"'),
    /fleet\.password_file: set username and password_file together/,
  );
});
