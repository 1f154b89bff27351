#!/usr/bin/env node
// Generates src/kmip/generated/registry.ts from src/kmip/spec/registry.json.
// The JSON holds the KMIP 1.0–2.1 tag, enumeration and bit-mask tables (KMIP 1.x §9.1.3,
// KMIP 2.x §11–12) compiled from the OASIS specifications; this script only reshapes it into
// compact TypeScript so that every spec fact is declared once (STYLE.md).
//
//   node bin/gen-registry.mjs           rewrite the committed file
//   node bin/gen-registry.mjs --check   exit 1 if the committed file is stale
//
// `generate(registry)` is exported so the unit test can prove the committed file is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const registryPath = `${root}src/kmip/spec/registry.json`;
export const outputPath = `${root}src/kmip/generated/registry.ts`;

const IDENT = /^[A-Za-z_$][\w$]*$/;
const key = (k) => (IDENT.test(k) ? k : JSON.stringify(k));
const str = (s) => (s === null || s === undefined ? 'null' : JSON.stringify(s));
const hex = (n, width) => `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;
const list = (xs, f = str) => `[${xs.map(f).join(', ')}]`;

/** Render one object of `Name: value` pairs, one per line. */
function objectLiteral(entries, indent, render) {
  const pad = ' '.repeat(indent);
  return `{\n${entries.map(([k, v]) => `${pad}${key(k)}: ${render(v)},`).join('\n')}\n${' '.repeat(indent - 2)}}`;
}

/**
 * @param {object | string} registry the parsed registry.json (or its text)
 * @returns {string} the TypeScript module text
 */
export function generate(registry) {
  const reg = typeof registry === 'string' ? JSON.parse(registry) : registry;
  const versions = reg.kmip_versions;
  const tagValue = (t) => Number.parseInt(t.value, 16);
  const tags = [...reg.tags].sort((a, b) => tagValue(a) - tagValue(b));
  const tagByName = new Map(reg.tags.map((t) => [t.name, t]));
  const enumXmlByName = new Map([...reg.enums, ...reg.derived_enums].map((e) => [e.name, e.xml]));
  const maskXmlByName = new Map(reg.masks.map((m) => [m.name, m.xml]));

  const linkedEnum = (t) => {
    if (t.enum === 'Tag') return 'Tag'; // values are tag numbers (KMIP 2.x §11.56 Tag Enumeration)
    const name = t.enum ?? t.derived_enum ?? null;
    if (name === null) return null;
    const xml = enumXmlByName.get(name);
    if (!xml) throw new Error(`tag ${t.name}: unknown enumeration ${name}`);
    return xml;
  };
  const linkedMask = (t) => {
    if (!t.mask) return null;
    const xml = maskXmlByName.get(t.mask);
    if (!xml) throw new Error(`tag ${t.name}: unknown mask ${t.mask}`);
    return xml;
  };
  const tagsOf = (e) =>
    e.tags.map((n) => {
      const t = tagByName.get(n);
      if (!t) throw new Error(`${e.name}: unknown tag ${n}`);
      return hex(tagValue(t), 6);
    });

  const out = [];
  out.push(
    '// GENERATED FILE, DO NOT EDIT. Produced by bin/gen-registry.mjs from src/kmip/spec/registry.json',
    '// (OASIS KMIP 1.0–2.1: Tag values 1.x §9.1.3.1 / 2.x §11.56, enumerations 1.x §9.1.3.2 / 2.x §11,',
    '// bit masks 1.x §9.1.3.3 / 2.x §12; PKCS#11 Function / Return Code derived per 2.x §11.38 / §11.39).',
    '// Run `node bin/gen-registry.mjs` after changing the JSON. Lookups live in src/kmip/registry.ts.',
    "import type { ItemTypeName } from '../../ttlv/types.js';",
    '',
    `export const kmipVersionStrings = ${list(versions)} as const;`,
    'export type KmipVersionString = (typeof kmipVersionStrings)[number];',
    'type V = KmipVersionString;',
    '',
    '/** Tag numbers keyed by XML name, every tag of KMIP 1.0–2.1 including removed ones. */',
    `export const Tag = ${objectLiteral(tags.map((t) => [t.xml, hex(tagValue(t), 6)]), 2, (v) => v)} as const;`,
    '',
    '/**',
    ' * [value, xml name, spec name, primary item type, allowed item types (latest version), since, deprecated, removed,',
    " *  linked enumeration xml name ('Tag' = values are tag numbers), linked bit mask xml name]",
    ' */',
    'export type TagRow = readonly [number, string, string, ItemTypeName | null, readonly ItemTypeName[], V, V | null, V | null, string | null, string | null];',
    'export const tagRows: readonly TagRow[] = [',
  );
  for (const t of tags) {
    out.push(
      `  [${hex(tagValue(t), 6)}, ${str(t.xml)}, ${str(t.name)}, ${str(t.type)}, ${list(t.types)}, ${str(t.since)}, ${str(t.deprecated)}, ${str(t.removed)}, ${str(linkedEnum(t))}, ${str(linkedMask(t))}],`,
    );
  }
  out.push('];', '');

  out.push(
    '/** Earlier spellings of tag names: [alias xml or spec name, tag value, versions that used it]. */',
    'export const tagAliasRows: readonly (readonly [string, number, readonly V[]])[] = [',
  );
  for (const t of tags) {
    for (const a of t.aliases ?? []) {
      for (const n of new Set([a.xml, a.name])) out.push(`  [${str(n)}, ${hex(tagValue(t), 6)}, ${list(a.versions)}],`);
    }
  }
  out.push('];', '');

  out.push(
    '/** Tags whose allowed item types changed between versions: [value, [[versions, types], ...]]. */',
    'export const tagTypeHistoryRows: readonly (readonly [number, readonly (readonly [readonly V[], readonly ItemTypeName[]])[]])[] = [',
  );
  for (const t of tags) {
    if (!t.type_history) continue;
    const h = t.type_history.map((x) => `[${list(x.versions)}, ${list(x.types)}]`).join(', ');
    out.push(`  [${hex(tagValue(t), 6)}, [${h}]],`);
  }
  out.push('];', '');

  const enums = [...reg.enums, ...reg.derived_enums];
  out.push(
    '/** Enumeration values keyed by enumeration xml name, then value xml name (all 61 spec enumerations plus the derived PKCS#11 ones). */',
    `export const Enum = ${objectLiteral(
      enums.map((e) => [e.xml, e.values]),
      2,
      (values) => `{ ${values.map((v) => `${key(v.xml)}: ${v.value}`).join(', ')} }`,
    )} as const;`,
    '',
    '/** Bit masks keyed by mask xml name, then bit xml name. */',
    `export const Mask = ${objectLiteral(
      reg.masks.map((m) => [m.xml, m.values]),
      2,
      (values) => `{ ${values.map((v) => `${key(v.xml)}: ${hex(v.value, 8)}`).join(', ')} }`,
    )} as const;`,
    '',
    '/** [value, xml name, spec name, since, deprecated, removed, earlier spellings [xml, spec name, versions][]] */',
    'export type ValueRow = readonly [number, string, string, V, V | null, V | null, readonly (readonly [string, string, readonly V[]])[]];',
    '/** [xml name, spec name, since, removed, derived from PKCS#11 rather than tabulated, tags carrying it, values] */',
    'export type EnumRow = readonly [string, string, V, V | null, boolean, readonly number[], readonly ValueRow[]];',
  );
  const valueRow = (e, v, width) => {
    const aliases = (v.aliases ?? []).map((a) => `[${str(a.xml)}, ${str(a.name)}, ${list(a.versions)}]`).join(', ');
    const value = width ? hex(v.value, width) : String(v.value);
    // Derived (PKCS#11) values carry no per-value version: they exist as long as their enumeration.
    const since = v.since ?? e.since;
    return `    [${value}, ${str(v.xml)}, ${str(v.name)}, ${str(since)}, ${str(v.deprecated ?? null)}, ${str(v.removed ?? null)}, [${aliases}]],`;
  };
  const emitRows = (name, items, width) => {
    out.push(`export const ${name}: readonly EnumRow[] = [`);
    for (const e of items) {
      out.push(
        `  [${str(e.xml)}, ${str(e.name)}, ${str(e.since)}, ${str(e.removed ?? null)}, ${e.derived === true}, ${list(tagsOf(e), (x) => x)}, [`,
      );
      for (const v of e.values) out.push(valueRow(e, v, width));
      out.push('  ]],');
    }
    out.push('];', '');
  };
  emitRows('enumRows', enums, 0);
  emitRows('maskRows', reg.masks, 8);
  return `${out.join('\n')}`;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const text = generate(readFileSync(registryPath, 'utf8'));
  if (process.argv.includes('--check')) {
    const current = readFileSync(outputPath, 'utf8');
    if (current !== text) {
      process.stderr.write(`${outputPath} is stale: run node bin/gen-registry.mjs\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(outputPath, text);
    process.stdout.write(`wrote ${outputPath}\n`);
  }
}
