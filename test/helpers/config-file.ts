// warden config files written from plain objects, so a test states only the keys it is about.
import { writeFileSync } from 'node:fs';

type TomlValue = string | number | boolean | string[];
/** Config sections by table name (`backoff.startup_error` for nested tables). */
export type ConfigSections = Record<string, Record<string, TomlValue>>;

/** `base` with each table of `overrides` merged over the table of the same name. */
export function mergeSections(base: ConfigSections, overrides: ConfigSections): ConfigSections {
  const out: ConfigSections = { ...base };
  for (const [name, values] of Object.entries(overrides)) out[name] = { ...(out[name] ?? {}), ...values };
  return out;
}

export function toToml(sections: ConfigSections): string {
  const value = (v: TomlValue): string =>
    Array.isArray(v) ? `[${v.map((s) => JSON.stringify(s)).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v);
  return Object.entries(sections)
    .map(
      ([name, kv]) =>
        `[${name}]\n${Object.entries(kv)
          .map(([k, v]) => `${k} = ${value(v)}`)
          .join('\n')}\n`,
    )
    .join('\n');
}

export function writeConfigFile(path: string, sections: ConfigSections): void {
  writeFileSync(path, toToml(sections));
}
